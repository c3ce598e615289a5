"""The plan's targets as data.

A Metric says what is counted and how (the counting rule); a Target says what value a
metric must reach by a deadline, for the whole city or a district or sector. The plan's
seven 2025 targets (二、主要目标) are rows of these tables, loaded by a data migration.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cluster.models import BilingualNameMixin, Cluster, District, Sector
from enterprises.choices import DesignationType

MONEY = {"max_digits": 18, "decimal_places": 2}


class Metric(BilingualNameMixin):
    class Kind(models.TextChoices):
        SUM_OUTPUT = "sum_output", _("sum of annual figures")
        COUNT_FIRMS_OVER = "count_firms_over", _("firms whose annual figure exceeds a threshold")
        COUNT_LISTED = "count_listed", _("listed firms")
        COUNT_DESIGNATED = "count_designated", _("firms holding a valid designation")
        COUNT_PROJECTS = "count_projects", _("major research projects")

    class Figure(models.TextChoices):
        OUTPUT_VALUE = "output_value", _("output value (工业总产值)")
        OPERATING_REVENUE = "operating_revenue", _("operating revenue (营业收入)")

    class CountMode(models.TextChoices):
        STOCK = "stock", _("stock: in force on the date")
        FLOW = "flow", _("flow: new since a date")

    key = models.SlugField(_("key"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    figure = models.CharField(
        _("statistical scope"),
        max_length=20,
        choices=Figure,
        blank=True,
        help_text=_("Which figure sums and thresholds use (口径)."),
    )
    threshold = models.DecimalField(
        _("threshold (yuan)"),
        null=True,
        blank=True,
        help_text=_("A firm counts when its annual figure is strictly above this."),
        **MONEY,
    )
    designation_type = models.CharField(
        _("designation type"), max_length=24, choices=DesignationType, blank=True
    )
    count_mode = models.CharField(
        _("counting mode"), max_length=8, choices=CountMode, default=CountMode.STOCK
    )
    counted_since = models.DateField(
        _("counted since"), null=True, blank=True, help_text=_("Start date of a flow count.")
    )
    description = models.TextField(_("counting rule in words"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["sum_output", "count_firms_over"]) | ~Q(figure=""),
                name="metric_sum_has_figure",
                violation_error_message=_("A sum or threshold metric needs its statistical scope."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="count_firms_over") | Q(threshold__gt=0),
                name="metric_threshold_positive",
                violation_error_message=_("A threshold metric needs a positive threshold."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="count_designated") | ~Q(designation_type=""),
                name="metric_designation_has_type",
                violation_error_message=_("A designation metric needs the designation type."),
            ),
            models.CheckConstraint(
                condition=~Q(count_mode="flow") | Q(counted_since__isnull=False),
                name="metric_flow_has_start",
                violation_error_message=_("A flow count needs the date it counts from."),
            ),
        ]

    def clean(self) -> None:
        if self.kind != self.Kind.COUNT_FIRMS_OVER and self.threshold is not None:
            raise ValidationError({"threshold": _("Only a threshold metric has a threshold.")})


class Target(BilingualNameMixin):
    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("reach at least")
        ABOVE = "gt", _("exceed")

    class Unit(models.TextChoices):
        YUAN = "yuan", _("yuan")
        FIRMS = "firms", _("firms")
        PROJECTS = "projects", _("projects")

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="targets"
    )
    key = models.SlugField(_("key"), max_length=60, unique=True)
    metric = models.ForeignKey(
        Metric, verbose_name=_("metric"), on_delete=models.PROTECT, related_name="targets"
    )
    comparison = models.CharField(
        _("comparison"), max_length=3, choices=Comparison, default=Comparison.AT_LEAST
    )
    target_value = models.DecimalField(_("target value"), **MONEY)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit)
    deadline = models.DateField(_("deadline"))
    baseline_value = models.DecimalField(_("baseline value"), null=True, blank=True, **MONEY)
    baseline_year = models.PositiveSmallIntegerField(_("baseline year"), null=True, blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district scope"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty for the whole city."),
    )
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("sector scope"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty for all sectors."),
    )
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Section of the plan.")
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["sort_order", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_value__gte=0),
                name="target_value_non_negative",
                violation_error_message=_("A target value cannot be negative."),
            ),
        ]
