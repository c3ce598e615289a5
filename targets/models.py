"""Plans' targets as data.

A Metric says what is counted and how (the counting rule); a Target says what value a metric
must reach by its plan's deadline, for the cluster in the whole city or in a district or
sector. Plans are loaded from plan files (targets.plans, docs/plan-files.md): the nano plan's
seven 2025 targets (二、主要目标) are rows of these tables like any other plan's.
"""

import operator
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cluster.access import ScopedQuerySet
from cluster.models import BilingualNameMixin, Cluster, District, Plan, Sector
from cluster.quarters import Quarter
from enterprises.choices import DesignationType
from enterprises.models import Designation, Enterprise

from .choices import (
    AlertEvent,
    AlertKind,
    AlertState,
    Basis,
    BriefLanguage,
    DeliveryStatus,
    ScopeKind,
    Severity,
    Status,
)

MONEY = {"max_digits": 18, "decimal_places": 2}


class Comparison(models.TextChoices):
    """How a value is compared with a bound. The values are the ORM lookups, so one table
    decides both a Python comparison and a database filter."""

    ABOVE = "gt", _("strictly above")
    AT_LEAST = "gte", _("at least")

    def holds(self, value: Decimal, bound: Decimal) -> bool:
        return {"gt": operator.gt, "gte": operator.ge}[self.value](value, bound)

    def filter(self, field: str, bound: Decimal) -> Q:
        return Q(**{f"{field}__{self.value}": bound})


def both_languages(render) -> dict[str, str]:
    """A text rendered in Chinese and in English."""
    texts = {}
    for key, language in (("zh", "zh-hans"), ("en", "en")):
        with translation.override(language):
            texts[key] = render()
    return texts


def _amount_in_words(yuan: Decimal) -> str:
    """A threshold as people say it: 10 亿元 / ¥1 bn, with no more decimals than it has."""
    from cluster.formatting import BILLION, YI, yuan_as_yi

    unit = BILLION if (translation.get_language() or "").startswith("en") else YI
    places = max(0, -(yuan / unit).normalize().as_tuple().exponent)
    return yuan_as_yi(yuan, places=min(places, 4))


class Metric(BilingualNameMixin):
    class Kind(models.TextChoices):
        SUM_OUTPUT = "sum_output", _("sum of annual figures")
        COUNT_FIRMS_OVER = "count_firms_over", _("firms whose annual figure exceeds a threshold")
        COUNT_LISTED = "count_listed", _("listed firms")
        COUNT_DESIGNATED = "count_designated", _("firms holding a valid designation")
        COUNT_PROJECTS = "count_projects", _("major research projects")
        COUNT_NEW_MEMBERS = "count_new_members", _("firms that joined the cluster")
        RATIO = "ratio", _("ratio of two sums")
        QUALITATIVE = "qualitative", _("qualitative: the steward's assessment")

    class Figure(models.TextChoices):
        OUTPUT_VALUE = "output_value", _("output value (工业总产值)")
        OPERATING_REVENUE = "operating_revenue", _("operating revenue (营业收入)")
        RD_SPENDING = "rd_spending", _("R&D spending (研发投入)")

    class CountMode(models.TextChoices):
        STOCK = "stock", _("stock: in force on the date")
        FLOW = "flow", _("flow: new since a date")
        YEARLY = "yearly", _("yearly flow: new within the calendar year")

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="metrics"
    )
    key = models.SlugField(_("key"), max_length=60)
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
        help_text=_("A firm counts when its figure for the year passes this (see the comparison)."),
        **MONEY,
    )
    comparison = models.CharField(
        _("comparison with the threshold"),
        max_length=3,
        choices=Comparison,
        default=Comparison.ABOVE,
        help_text=_("超 N 亿元 is strictly above; 达到 N 亿元 is at least."),
    )
    denominator = models.CharField(
        _("denominator"),
        max_length=20,
        choices=Figure,
        blank=True,
        help_text=_("For a ratio: the figure the statistical scope is divided by."),
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
    description = models.TextField(
        _("steward's note"),
        blank=True,
        help_text=_("Background only: the rule in words is generated from the fields above."),
    )
    history = HistoricalRecords()

    # The fields that decide what is counted: a change of any of them is a new rule version.
    RULE_FIELDS = (
        "kind",
        "figure",
        "denominator",
        "threshold",
        "comparison",
        "designation_type",
        "count_mode",
        "counted_since",
    )

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["plan", "key"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="metric_key_unique_in_plan"),
            models.CheckConstraint(
                condition=~Q(kind="ratio") | (~Q(figure="") & ~Q(denominator="")),
                name="metric_ratio_has_both_figures",
                violation_error_message=_("A ratio needs its numerator and its denominator."),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["sum_output", "count_firms_over", "ratio"]) | ~Q(figure=""),
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

    # -- the threshold: the one owner of "does this value pass it"

    def passes(self, value: Decimal) -> bool:
        """Whether a firm's figure passes the threshold."""
        return Comparison(self.comparison).holds(value, self.threshold)

    def passing(self, field: str) -> Q:
        """The same decision as a database filter on `field` (a column or an annotation)."""
        return Comparison(self.comparison).filter(field, self.threshold)

    @property
    def needs_more_than_gap(self) -> bool:
        """Below a strict threshold a firm needs more than the gap; else the gap itself."""
        return self.comparison == Comparison.ABOVE

    def gap(self, value: Decimal) -> Decimal:
        """What a figure still lacks to reach the threshold (more than that when strict)."""
        return max(self.threshold - value, Decimal(0))

    # -- the rule in words, generated from the fields

    def rule(self) -> dict:
        """The fields that decide what is counted, as plain values."""
        return {
            "kind": self.kind,
            "figure": self.figure,
            "denominator": self.denominator,
            "threshold": None if self.threshold is None else f"{self.threshold:.2f}",
            "comparison": self.comparison,
            "designation_type": self.designation_type,
            "count_mode": self.count_mode,
            "counted_since": self.counted_since.isoformat() if self.counted_since else None,
        }

    def figure_name(self, figure: str | None = None) -> str:
        """The figure (口径) as a sentence names it, in the active language."""
        return {
            self.Figure.OUTPUT_VALUE: gettext("output value"),
            self.Figure.OPERATING_REVENUE: gettext("operating revenue"),
            self.Figure.RD_SPENDING: gettext("R&D spending"),
        }.get(figure or self.figure, "")

    def counting_rule(self) -> str:
        """What the metric counts, in the active language."""
        figure = self.figure_name()
        since = formats.date_format(self.counted_since) if self.counted_since else ""
        flow = self.count_mode == self.CountMode.FLOW
        yearly = self.count_mode == self.CountMode.YEARLY
        if self.kind == self.Kind.QUALITATIVE:
            return gettext("Not counted: the steward assesses the target with evidence, on a date.")
        if self.kind == self.Kind.RATIO:
            return gettext(
                "The year-to-date %(numerator)s of the firms in the cluster divided by their "
                "year-to-date %(denominator)s."
            ) % {"numerator": figure, "denominator": self.figure_name(self.denominator)}
        if self.kind == self.Kind.COUNT_NEW_MEMBERS:
            if yearly:
                return gettext("Firms that joined the cluster within the calendar year.")
            return gettext("Firms that joined the cluster from %(since)s to the date.") % {
                "since": since
            }
        if yearly and self.kind == self.Kind.COUNT_DESIGNATED:
            return gettext(
                "Firms in the cluster awarded a %(designation)s designation within the "
                "calendar year."
            ) % {"designation": DesignationType(self.designation_type).label}
        if yearly and self.kind == self.Kind.COUNT_LISTED:
            return gettext(
                "Firms in the cluster newly listed within the calendar year; a NEEQ quotation "
                "is not a listing."
            )
        if yearly and self.kind == self.Kind.COUNT_PROJECTS:
            return gettext(
                "Major research projects of the cluster started within the calendar year, "
                "terminated ones excluded."
            )
        if self.kind == self.Kind.SUM_OUTPUT:
            return gettext("Sum of the year-to-date %(figure)s of the firms in the cluster.") % {
                "figure": figure
            }
        if self.kind == self.Kind.COUNT_FIRMS_OVER:
            values = {"figure": figure, "threshold": _amount_in_words(self.threshold)}
            if self.comparison == Comparison.AT_LEAST:
                return (
                    gettext(
                        "Firms in the cluster whose year-to-date %(figure)s is at least "
                        "%(threshold)s."
                    )
                    % values
                )
            return (
                gettext(
                    "Firms in the cluster whose year-to-date %(figure)s is strictly above "
                    "%(threshold)s."
                )
                % values
            )
        if self.kind == self.Kind.COUNT_LISTED:
            if flow:
                return gettext(
                    "Firms in the cluster newly listed from %(since)s to the date; a NEEQ "
                    "quotation is not a listing."
                ) % {"since": since}
            return gettext(
                "Firms in the cluster listed, and not delisted, on the date; a NEEQ quotation "
                "is not a listing."
            )
        if self.kind == self.Kind.COUNT_DESIGNATED:
            values = {"designation": DesignationType(self.designation_type).label, "since": since}
            if flow:
                return (
                    gettext(
                        "Firms in the cluster awarded a %(designation)s designation from %(since)s "
                        "to the date."
                    )
                    % values
                )
            return (
                gettext(
                    "Firms in the cluster holding a valid %(designation)s designation on the date."
                )
                % values
            )
        if since:
            return gettext(
                "Major research projects started from %(since)s to the date, terminated ones "
                "excluded."
            ) % {"since": since}
        return gettext("Major research projects started by the date, terminated ones excluded.")

    def counting_rule_words(self) -> dict[str, str]:
        return both_languages(self.counting_rule)


class Target(BilingualNameMixin):
    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("reach at least")
        ABOVE = "gt", _("exceed")
        AROUND = "around", _("come to about (左右)")

    class Unit(models.TextChoices):
        YUAN = "yuan", _("yuan")
        FIRMS = "firms", _("firms")
        PROJECTS = "projects", _("projects")
        PERCENT = "percent", _("percent")
        ASSESSMENT = "assessment", _("the steward's assessment")

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="targets"
    )
    key = models.SlugField(_("key"), max_length=60)
    metric = models.ForeignKey(
        Metric, verbose_name=_("metric"), on_delete=models.PROTECT, related_name="targets"
    )
    comparison = models.CharField(
        _("comparison"), max_length=6, choices=Comparison, default=Comparison.AT_LEAST
    )
    target_value = models.DecimalField(_("target value"), **MONEY)
    tolerance = models.DecimalField(
        _("tolerance"),
        null=True,
        blank=True,
        help_text=_("For 左右 (about): how far from the target value still counts as met."),
        **MONEY,
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit)
    deadline = models.DateField(_("deadline"))
    baseline_year = models.PositiveSmallIntegerField(
        _("baseline year"),
        null=True,
        blank=True,
        help_text=_(
            "The year whose year-end value the milestones start from (the year before the plan)."
        ),
    )
    baseline_value = models.DecimalField(
        _("baseline value"),
        null=True,
        blank=True,
        help_text=_(
            "Computed by the progress job from the approved figures of the baseline year, "
            "unless set by hand."
        ),
        **MONEY,
    )
    baseline_set_by_hand = models.BooleanField(
        _("baseline set by hand"),
        default=False,
        help_text=_("Ticked, the progress job leaves the baseline value as the steward set it."),
    )
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
    at_risk_ratio = models.DecimalField(
        _("at-risk ratio"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.90"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_(
            "A projection at or above this share of the target is at risk; below it, off track."
        ),
    )
    rule_version = models.PositiveIntegerField(
        _("rule version"),
        default=1,
        editable=False,
        help_text=_("Raised by every change of the counting rule; snapshots record it."),
    )
    history = HistoricalRecords()

    # Besides its metric's rule, the fields that decide how a target is counted and judged.
    RULE_FIELDS = (
        "metric_id",
        "target_value",
        "comparison",
        "tolerance",
        "deadline",
        "district_id",
        "sector_id",
        "at_risk_ratio",
        "baseline_year",
        "baseline_set_by_hand",
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["plan", "sort_order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="target_key_unique_in_plan"),
            models.CheckConstraint(
                condition=~Q(comparison="around") | Q(tolerance__gte=0),
                name="target_around_has_tolerance",
                violation_error_message=_("A target of about (左右) a value needs its tolerance."),
            ),
            models.CheckConstraint(
                condition=Q(target_value__gte=0),
                name="target_value_non_negative",
                violation_error_message=_("A target value cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(baseline_set_by_hand=False) | Q(baseline_value__isnull=False),
                name="target_hand_baseline_has_value",
                violation_error_message=_("A baseline set by hand needs its value."),
            ),
        ]

    def meets(self, value: Decimal | None, goal: Decimal | None = None) -> bool:
        """Whether a value reaches the target under its comparison (the one owner). `goal`
        stands for the target value where one year has its own (a yearly flow's goal of
        that year, targets.selectors.schedule.year_goal)."""
        if value is None:
            return False
        bound = self.target_value if goal is None else goal
        if self.comparison == self.Comparison.AROUND:
            return abs(value - bound) <= (self.tolerance or 0)
        return Comparison(self.comparison).holds(value, bound)

    @property
    def cluster(self) -> Cluster:
        return self.plan.cluster

    @property
    def is_qualitative(self) -> bool:
        return self.metric.kind == Metric.Kind.QUALITATIVE

    def rule(self) -> dict:
        """The whole counting rule of the target: its metric's and its own fields and its
        breakdown by district and direction, as plain values (money with two decimals,
        whatever form the value came in)."""

        def plain(value):
            if isinstance(value, Decimal):
                return f"{value:.2f}"
            return value.isoformat() if hasattr(value, "isoformat") else value

        own = {name: plain(getattr(self, name)) for name in self.RULE_FIELDS}
        own["baseline_value"] = plain(self.baseline_value) if self.baseline_set_by_hand else None
        # The 任务分解 is part of the rule: the scopes' rows are measured against it.
        breakdown = {share.scope_key: plain(share.value) for share in self.shares.all()}
        return {
            "metric": self.metric.rule(),
            "target": own,
            "breakdown": dict(sorted(breakdown.items())),
        }

    def display_value(self, value, places: int = 1) -> str:
        """A value of this target as people read it: 亿元 (¥ bn in English) for money, the
        count with its unit otherwise."""
        from cluster.formatting import grouped, yuan_as_yi

        if value is None:
            return "—"
        if self.unit == self.Unit.YUAN:
            return yuan_as_yi(Decimal(value), places=places)
        if self.unit == self.Unit.PERCENT:
            return f"{Decimal(value):.{places}f}%"
        if self.unit == self.Unit.ASSESSMENT:
            return str(Status(value).label) if value in Status.values else "—"
        amount = Decimal(value)
        whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        n = {"n": grouped(whole, 0)}
        if amount != whole:
            # A milestone or a projection between two whole counts: nobody reads "17.98 家".
            if self.unit == self.Unit.FIRMS:
                return ngettext("about %(n)s firm", "about %(n)s firms", int(whole)) % n
            return ngettext("about %(n)s project", "about %(n)s projects", int(whole)) % n
        if self.unit == self.Unit.FIRMS:
            return ngettext("%(n)s firm", "%(n)s firms", int(whole)) % n
        return ngettext("%(n)s project", "%(n)s projects", int(whole)) % n

    def display_goal(self, value: Decimal | None = None) -> str:
        """The goal as the plan states it: "> 1,000 亿元", "≥ 15 家", "4.0% ± 0.5"; with
        `value`, a district's or direction's part of it (任务分解) stated the same way."""
        if self.unit == self.Unit.ASSESSMENT:
            return gettext("assessed by the steward")
        # A part need not be whole 亿元 (¥ 100 m) as the plan's goals are.
        places = 0 if value is None or value % 100_000_000 == 0 else 2
        value = self.display_value(self.target_value if value is None else value, places=places)
        if self.comparison == self.Comparison.AROUND:
            return f"{value} ± {self.display_value(self.tolerance)}"
        return f"{'>' if self.comparison == self.Comparison.ABOVE else '≥'} {value}"


class TargetMilestone(models.Model):
    """An interim checkpoint of a target: the value expected by a date."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="milestones"
    )
    due_on = models.DateField(_("due on"))
    expected_value = models.DecimalField(_("expected value"), **MONEY)
    interpolated = models.BooleanField(
        _("interpolated"),
        default=True,
        help_text=_("Made by linear interpolation; unticked once a steward sets it by hand."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target milestone")
        verbose_name_plural = _("target milestones")
        ordering = ["target", "due_on"]
        constraints = [
            models.UniqueConstraint(fields=["target", "due_on"], name="milestone_unique_date"),
            models.CheckConstraint(
                condition=Q(expected_value__gte=0), name="milestone_value_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.key} {self.due_on}"


class TargetShare(models.Model):
    """The part of a city-wide target a district or focus direction is to reach (the plan's
    任务分解), as the steward entered it. A scope's page and the API measure the scope against
    it; a scope without one is shown as its share of the city's figure instead. Part of the
    target's counting rule: changed through targets.services.rules only."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="shares"
    )
    scope_kind = models.CharField(
        _("scope"),
        max_length=10,
        choices=[
            (ScopeKind.DISTRICT, ScopeKind.DISTRICT.label),
            (ScopeKind.SECTOR, ScopeKind.SECTOR.label),
        ],
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, null=True, blank=True
    )
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("focus direction"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": Sector.Level.DIRECTION},
    )
    value = models.DecimalField(
        _("target value of the scope"),
        validators=[MinValueValidator(0)],
        help_text=_("In the target's unit: yuan for money, a number of firms or projects."),
        **MONEY,
    )
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("Where the figure comes from.")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target breakdown")
        verbose_name_plural = _("target breakdowns")
        ordering = ["target", "scope_kind", "district__sort_order", "sector__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "district"],
                condition=Q(scope_kind="district"),
                name="target_share_unique_district",
                violation_error_message=_("This target already has a part for this district."),
            ),
            models.UniqueConstraint(
                fields=["target", "sector"],
                condition=Q(scope_kind="sector"),
                name="target_share_unique_sector",
                violation_error_message=_(
                    "This target already has a part for this focus direction."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(scope_kind="district") & Q(district__isnull=False) & Q(sector__isnull=True)
                )
                | (Q(scope_kind="sector") & Q(sector__isnull=False) & Q(district__isnull=True)),
                name="target_share_scope_consistent",
                violation_error_message=_(
                    "A district's part names its district only; a focus direction's part its "
                    "direction only."
                ),
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="target_share_value_non_negative",
                violation_error_message=_("A target value cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.key} {self.scope_key}"

    @property
    def scope_key(self) -> str:
        """The snapshots' key of the scope: "district:<id>" or "sector:<id>"."""
        if self.scope_kind == ScopeKind.DISTRICT:
            return f"district:{self.district_id}"
        return f"sector:{self.sector_id}"

    def clean(self) -> None:
        target = self.target if self.target_id else None
        if target is None:
            return
        if target.district_id or target.sector_id:
            raise ValidationError(
                {"target": _("Only a city-wide target is broken down by district or direction.")}
            )
        if target.is_qualitative:
            raise ValidationError(
                {"target": _("A target assessed by the steward has no figure to break down.")}
            )
        if self.sector_id and (
            self.sector.level != Sector.Level.DIRECTION
            or self.sector.cluster_id != target.plan.cluster_id
        ):
            raise ValidationError(
                {"sector": _("Choose a focus direction of the target's cluster.")}
            )


class RuleVersion(models.Model):
    """A version of a target's counting rule, written by every change of it (and by the
    creation of a target): when, by whom, why, and the rule itself. The plan's targets start
    at version 1 as the data migration loaded them. Snapshots say which version they follow."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="rule_versions"
    )
    version = models.PositiveIntegerField(_("rule version"))
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason for the change"))
    rule = models.JSONField(_("the rule"))

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["target", "version"]
        constraints = [
            models.UniqueConstraint(fields=["target", "version"], name="rule_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.target.key} v{self.version}"


class Assessment(models.Model):
    """The steward's dated assessment of a qualitative target (e.g. "建成国际一流创新平台"), with
    the evidence it rests on. The card shows the latest assessment made by the date shown."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="assessments"
    )
    assessed_on = models.DateField(_("assessed on"))
    status = models.CharField(_("status"), max_length=10, choices=Status)
    summary = models.TextField(_("assessment"))
    evidence = models.TextField(
        _("evidence"), help_text=_("What the assessment rests on: documents, events, figures.")
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["target", "-assessed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(status=""), name="assessment_has_status"),
        ]

    def __str__(self) -> str:
        return f"{self.target.key} {self.assessed_on}"


class PlanEvaluation(models.Model):
    """The final evaluation (终期评估) of an ended plan: each target's official figure at the
    deadline from the approved figures, achieved or not. Open, it follows the newest approved
    vintage; once the steward closes it, its lines are frozen, and revisions approved later
    are shown beside them, never in their place."""

    plan = models.OneToOneField(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="evaluation"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    vintage = models.DateTimeField(
        _("vintage"), null=True, blank=True, help_text=_("The approved figures it rests on.")
    )
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("final evaluation")
        verbose_name_plural = _("final evaluations")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True)
                | (Q(vintage__isnull=False) & Q(closed_by__isnull=False)),
                name="evaluation_closed_has_vintage_and_steward",
            ),
        ]

    def __str__(self) -> str:
        return str(self.plan)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class EvaluatedPlan(Plan):
    """A plan seen from its final evaluation: the admin's door to close it (the same
    service as the evaluation page and the API)."""

    class Meta:
        proxy = True
        verbose_name = _("plan's final evaluation")
        verbose_name_plural = _("plans' final evaluations")


class EvaluationLine(models.Model):
    """One target's result in a closed final evaluation, as it was when the steward closed it."""

    evaluation = models.ForeignKey(
        PlanEvaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="lines"
    )
    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(_("value at the deadline"), null=True, **MONEY)
    completion = models.DecimalField(
        _("share of the target"), max_digits=20, decimal_places=4, null=True
    )
    achieved = models.BooleanField(_("achieved"))
    rule_version = models.PositiveIntegerField(_("rule version"))
    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("assessment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("evaluation line")
        verbose_name_plural = _("evaluation lines")
        ordering = ["evaluation", "target__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "target"], name="evaluation_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation} · {self.target.key}"


class ProgressSnapshotQuerySet(ScopedQuerySet):
    district_path = "district"

    def current(self):
        """The snapshots computed under their target's current counting rule."""
        return self.filter(rule_version=F("target__rule_version"))

    def visible_to(self, user):
        """City and sector snapshots are city-wide; a district user sees their district's."""
        from cluster.access import scope_of

        scope = scope_of(user)
        if scope.is_city:
            return self
        return self.filter(scope_kind=ScopeKind.DISTRICT, district_id__in=scope.district_ids)


class ProgressSnapshot(models.Model):
    """Where a target stood at the end of a quarter, computed from one vintage of figures
    under one version of the counting rule.

    Recomputing with the same figures and rule writes the same row again (idempotent);
    figures approved later give a new vintage, and a changed rule a new rule version, each a
    new row, so the old view can be reproduced.
    """

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="snapshots"
    )
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind)
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.CASCADE, null=True, blank=True
    )
    sector = models.ForeignKey(
        Sector, verbose_name=_("focus direction"), on_delete=models.CASCADE, null=True, blank=True
    )
    # "city", "district:<id>" or "sector:<id>": one non-null column for the unique key.
    scope_key = models.CharField(_("scope key"), max_length=40)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    basis = models.CharField(_("figures"), max_length=10, choices=Basis, default=Basis.APPROVED)
    vintage = models.DateTimeField(
        _("vintage"), help_text=_("The latest approval (or submission, in preview) counted.")
    )
    rule_version = models.PositiveIntegerField(
        _("rule version"), default=1, help_text=_("The version of the counting rule applied.")
    )
    actual = models.DecimalField(_("actual value"), **MONEY)
    share_of_target = models.DecimalField(
        _("share of target"), max_digits=20, decimal_places=4, null=True
    )
    milestone_expected = models.DecimalField(_("milestone expected"), null=True, **MONEY)
    # A district's or direction's row of a city-wide target: the part of the target the
    # steward gave the scope (TargetShare), which the share, milestone and status measure;
    # null, the scope has none and the row is its contribution to the city's figure.
    scope_target = models.DecimalField(_("target of the scope"), null=True, **MONEY)
    share_of_city = models.DecimalField(
        _("share of the city's figure"), max_digits=20, decimal_places=4, null=True
    )
    projection = models.DecimalField(_("projection to the deadline"), null=True, **MONEY)
    run_rate_needed = models.DecimalField(_("needed per remaining quarter"), null=True, **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=Status, blank=True)
    # 序时进度: the share of the target's span of time gone by at the quarter's end, the share
    # of the way to the target covered, and the plan's band for the difference.
    time_elapsed = models.DecimalField(
        _("time elapsed (序时进度)"), max_digits=7, decimal_places=4, null=True
    )
    completion = models.DecimalField(
        _("completion (完成进度)"), max_digits=20, decimal_places=4, null=True
    )
    schedule_band = models.CharField(_("schedule band"), max_length=40, blank=True)
    basis_note = models.JSONField(
        _("projection basis"), default=dict, help_text=_("What the projection rests on.")
    )
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    objects = ProgressSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("progress snapshot")
        verbose_name_plural = _("progress snapshots")
        ordering = ["target", "-year", "-quarter"]
        indexes = [
            models.Index(fields=["target", "scope_kind", "year", "quarter"], name="snapshot_lookup")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "target",
                    "scope_key",
                    "year",
                    "quarter",
                    "basis",
                    "vintage",
                    "rule_version",
                ],
                name="snapshot_unique_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="snapshot_quarter_1_to_4"
            ),
            models.CheckConstraint(
                condition=(Q(scope_kind="city") & Q(district__isnull=True) & Q(sector__isnull=True))
                | (Q(scope_kind="district") & Q(district__isnull=False) & Q(sector__isnull=True))
                | (Q(scope_kind="sector") & Q(sector__isnull=False) & Q(district__isnull=True)),
                name="snapshot_scope_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.key} {self.year}Q{self.quarter} {self.scope_kind}"


class StoredFigures(models.Model):
    """A part of what the pages of a cluster show at a quarter (the output by district and
    material, the threshold pipelines, the firms each threshold target counts), as the
    progress job computed it from one vintage of figures, city-wide: a district's or a focus
    direction's page takes its rows of it. A page reads the newest row known at the vintage
    it shows, valid while the cluster's figures are stored through that vintage
    (StoredThrough); rows are only added or rewritten with the same figures."""

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    basis = models.CharField(_("figures"), max_length=10, choices=Basis, default=Basis.APPROVED)
    # What the payload is, e.g. "output:output_value", "pipeline:12", "counted:12".
    part = models.CharField(_("part"), max_length=40)
    vintage = models.DateTimeField(_("vintage"))
    payload = models.JSONField(_("figures"))
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("stored figures")
        verbose_name_plural = _("stored figures")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "year", "quarter", "basis", "part", "vintage"],
                name="stored_figures_unique",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="stored_figures_quarter_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id} {self.year}Q{self.quarter} {self.basis} {self.part}"


class StoredThrough(models.Model):
    """How far a cluster's stored figures are current on a basis: every change of figures up
    to `through` (approvals; in preview, submissions and returns too) is in them. The job
    that stores them moves it, in the same transaction."""

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="+"
    )
    basis = models.CharField(_("figures"), max_length=10, choices=Basis, default=Basis.APPROVED)
    through = models.DateTimeField(_("stored through"))

    class Meta:
        verbose_name = _("stored figures mark")
        verbose_name_plural = _("stored figures marks")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "basis"], name="stored_through_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id} {self.basis} {self.through:%Y-%m-%d %H:%M:%S}"


class StoredCompleteness(models.Model):
    """The reporting completeness of a quarter, city-wide, per district
    (enterprises.selectors.completeness_counts), as the progress job counted it. Current while
    no report of the quarter and no firm has changed since (`reports_at`, `firms_at`: the
    newest change of each then); a page otherwise counts it itself."""

    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    reports_at = models.DateTimeField(_("reports as of"), null=True)
    firms_at = models.DateTimeField(_("firms as of"), null=True)
    # {district id: [expected, entered, submitted, approved, returned, on time]}
    payload = models.JSONField(_("figures"))
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("stored completeness")
        verbose_name_plural = _("stored completeness")
        constraints = [
            models.UniqueConstraint(fields=["year", "quarter"], name="stored_completeness_unique"),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4),
                name="stored_completeness_quarter_1_to_4",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"


class StoredSeasonality(models.Model):
    """The approved figures' totals per district and quarter of the complete years before
    `year` (metrics.Seasonality's rows), as known at `vintage`, of the firms as they were at
    `firms_at` (their newest change) and `firms` (their number). Read in place of the
    grouped query while they are those of the figures asked (metrics.seasonal_rows)."""

    basis = models.CharField(_("figures"), max_length=10, choices=Basis, default=Basis.APPROVED)
    year = models.PositiveSmallIntegerField(_("year"))
    vintage = models.DateTimeField(_("vintage"))
    firms_at = models.DateTimeField(_("firms as of"), null=True)
    firms = models.PositiveIntegerField(_("firms"))
    # The revisions of those years approved in the LATE_COMMIT before `vintage`, when stored.
    approvals = models.PositiveIntegerField(_("approvals"))
    # [{"enterprise__district": id, "year": y, "quarter": q, "total_<figure>": "123.45"}, ...]
    rows = models.JSONField(_("figures"), encoder=DjangoJSONEncoder)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("stored seasonality")
        verbose_name_plural = _("stored seasonality")
        constraints = [
            models.UniqueConstraint(fields=["basis", "year"], name="stored_seasonality_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.basis} {self.year}"


class StoredFirmRow(models.Model):
    """A firm's line of the table of firms behind a cluster's numbers at a quarter (the
    district and direction pages): its year-to-date figure, last year's for the same
    period and the growth, as of the newest figures the cluster is stored through. Only the
    newest state: a page of an older vintage computes its table itself."""

    # A row is written for every firm of the cluster at each store: no index that no read
    # uses (the cluster leads the composite ones; a district or a direction is deleted
    # rarely enough that its cascade may scan). A third of the insert's cost went to them.
    cluster = models.ForeignKey(
        Cluster,
        verbose_name=_("cluster"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    basis = models.CharField(_("figures"), max_length=10, choices=Basis, default=Basis.APPROVED)
    figure = models.CharField(_("figure"), max_length=20)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="stored_rows",
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    direction = models.ForeignKey(
        Sector,
        verbose_name=_("focus direction"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
    )
    ytd = models.DecimalField(_("year to date"), **MONEY)
    ytd_last = models.DecimalField(_("year to date, a year before"), **MONEY)
    growth = models.FloatField(_("growth"), null=True)

    class Meta:
        verbose_name = _("stored firm row")
        verbose_name_plural = _("stored firm rows")
        indexes = [
            # A district's or a direction's firms, largest first: a page is the top of it.
            models.Index(
                fields=["cluster", "year", "quarter", "basis", "figure", "district", "-ytd"],
                name="stored_firm_district",
            ),
            models.Index(
                fields=["cluster", "year", "quarter", "basis", "figure", "direction", "-ytd"],
                name="stored_firm_direction",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "year", "quarter", "basis", "figure", "enterprise"],
                name="stored_firm_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.year}Q{self.quarter} {self.basis} {self.figure}"


class ApprovalCount(models.Model):
    """How many approvals (approved revisions) were known at a vintage the progress job
    computed from: the data-version picker's "n reports approved" between two vintages is
    the difference of two rows, not a count over every approval."""

    vintage = models.DateTimeField(_("vintage"), unique=True)
    approvals = models.PositiveIntegerField(_("approvals"))

    class Meta:
        verbose_name = _("approval count")
        verbose_name_plural = _("approval counts")

    def __str__(self) -> str:
        return f"{self.vintage:%Y-%m-%d %H:%M:%S}: {self.approvals}"


class AlertRule(BilingualNameMixin):
    """A rule the alert job evaluates; its parameters are data the steward can edit."""

    kind = models.CharField(_("kind"), max_length=24, choices=AlertKind, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity)
    threshold_percent = models.DecimalField(
        _("threshold (%)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    days = models.PositiveIntegerField(
        _("days"), null=True, blank=True, help_text=_("Grace, look-ahead or look-back in days.")
    )
    escalate_after_days = models.PositiveIntegerField(
        _("escalate to the city after (days)"), null=True, blank=True
    )
    description = models.TextField(_("rule in words"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["kind"]


class AlertQuerySet(ScopedQuerySet):
    district_path = "owner"

    def visible_to(self, user):
        from cluster.access import scope_of

        scope = scope_of(user)
        if scope.is_city:
            return self
        return self.filter(
            Q(owner_id__in=scope.district_ids) | Q(district_id__in=scope.district_ids)
        )

    def active(self):
        return self.exclude(state=AlertState.RESOLVED)


class Alert(models.Model):
    rule = models.ForeignKey(
        AlertRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alerts"
    )
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity)
    owner = models.ForeignKey(
        District,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_alerts",
        help_text=_("The district that owns it; empty for the city."),
    )
    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, null=True, blank=True
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, null=True, blank=True
    )
    designation = models.ForeignKey(
        Designation, verbose_name=_("designation"), on_delete=models.CASCADE, null=True, blank=True
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
    )
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    numbers = models.JSONField(_("the numbers behind it"), default=dict)
    message_zh = models.TextField(_("message (Chinese)"))
    message_en = models.TextField(_("message (English)"))
    state = models.CharField(_("state"), max_length=12, choices=AlertState, default=AlertState.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_automatically = models.BooleanField(_("resolved automatically"), default=False)
    history = HistoricalRecords()

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-severity", "-opened_at"]
        indexes = [models.Index(fields=["state", "rule"], name="alert_state_rule")]
        constraints = [
            # Re-evaluation never duplicates an alert that is still active.
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=~Q(state="resolved"),
                name="alert_one_active_per_key",
            ),
            models.CheckConstraint(
                condition=~Q(state="snoozed") | Q(snoozed_until__isnull=False),
                name="alert_snooze_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | Q(resolved_at__isnull=False),
                name="alert_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        from django.utils.translation import get_language

        return self.message_en if (get_language() or "").startswith("en") else self.message_zh


class Release(models.Model):
    """A data vintage of a cluster's quarter marked by a city steward as the official release
    (e.g. the vintage the quarterly brief was issued from). Pages read a release's figures as
    known at its vintage, so later approvals never move them."""

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="releases"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    vintage = models.DateTimeField(_("data vintage"))
    # Empty: the default title, rendered in each reader's language (name).
    title = models.CharField(_("title"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    made_at = models.DateTimeField(_("released at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("official release")
        verbose_name_plural = _("official releases")
        ordering = ["-year", "-quarter", "-made_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "year", "quarter", "vintage"], name="release_unique_vintage"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="release_quarter_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def default_title(quarter: Quarter) -> str:
        """2025年第3季度季报 / Q3 2025 quarterly brief, in the active language."""
        return gettext("%(quarter)s quarterly brief") % {"quarter": quarter.label()}

    @property
    def name(self) -> str:
        """The steward's title, else the default one in the reader's language."""
        return self.title or self.default_title(self.period)

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    @property
    def label(self) -> str:
        """正式发布：2025年第三季度季报（2025年10月20日）"""
        return gettext("Official release: %(title)s (%(day)s)") % {
            "title": self.name,
            "day": formats.date_format(timezone.localtime(self.made_at), "DATE_FORMAT"),
        }


class BriefSubscription(models.Model):
    """A user, or every member of a group, receives the cluster's quarterly brief of their own
    scope when a quarter is released."""

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="brief_subscriptions",
    )
    group = models.ForeignKey(
        "auth.Group",
        verbose_name=_("group"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="brief_subscriptions",
    )
    # Users keep no language of their own: the subscription says which one the brief is in.
    language = models.CharField(
        _("language"), max_length=8, choices=BriefLanguage, default=BriefLanguage.CHINESE
    )
    attach_pdf = models.BooleanField(_("attach the PDF"), default=True)
    attach_xlsx = models.BooleanField(_("attach the Excel workbook"), default=True)
    active = models.BooleanField(pgettext_lazy("subscription", "active"), default=True)
    created_at = models.DateTimeField(_("created at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("brief subscription")
        verbose_name_plural = _("brief subscriptions")
        ordering = ["cluster", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="subscription_user_or_group",
                violation_error_message=_("Choose either a user or a group, not both."),
            ),
            models.UniqueConstraint(
                fields=["cluster", "user"],
                condition=Q(user__isnull=False),
                name="subscription_unique_user",
                violation_error_message=_("This user is already subscribed to the cluster."),
            ),
            models.UniqueConstraint(
                fields=["cluster", "group"],
                condition=Q(group__isnull=False),
                name="subscription_unique_group",
                violation_error_message=_("This group is already subscribed to the cluster."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster} → {self.user or self.group}"


class BriefDelivery(models.Model):
    """One release sent to one recipient: the record that makes each e-mail go out once."""

    release = models.ForeignKey(
        Release, verbose_name=_("release"), on_delete=models.PROTECT, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="brief_deliveries",
    )
    # The district whose brief was sent; empty for the city's (or when nothing was sent).
    district = models.ForeignKey(
        District,
        verbose_name=_("scope"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=8, choices=BriefLanguage)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("brief delivery")
        verbose_name_plural = _("brief deliveries")
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "recipient"], name="delivery_once_per_recipient"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} → {self.recipient}"

    def get_absolute_url(self) -> str:
        """The brief as sent: the release's vintage, in the recipient's scope."""
        query = {"vintage": self.release.vintage.isoformat()}
        if self.district_id:
            query["district"] = self.district_id
        path = reverse("targets:brief", args=[self.release.cluster.key, str(self.release.period)])
        return f"{path}?{urlencode(query)}"

    @property
    def scope_name(self) -> str:
        return self.district.name if self.district else gettext("Whole city")


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """In-app notice of an alert event for one user; e-mail goes out at the same time."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    delivery = models.OneToOneField(
        BriefDelivery,
        verbose_name=_("brief delivery"),
        on_delete=models.CASCADE,
        related_name="notification",
        null=True,
        blank=True,
    )
    event = models.CharField(_("event"), max_length=10, choices=AlertEvent)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            # An alert opens, escalates and resolves once: one notice per user and event.
            models.UniqueConstraint(fields=["user", "alert", "event"], name="notification_unique"),
            models.CheckConstraint(
                condition=Q(alert__isnull=False, delivery__isnull=True)
                | Q(alert__isnull=True, delivery__isnull=False, event="brief"),
                name="notification_of_alert_or_brief",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.event} {self.alert_id}"
