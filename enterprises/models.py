"""The firm register: enterprises, their designations, listings, milestones, quarterly
reports and the research projects that count toward the plan's 重大科研项目 target."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cluster.access import ScopedQuerySet
from cluster.models import BilingualNameMixin, Cluster, District, Park, Sector
from cluster.quarters import MAX_YEAR, MIN_YEAR, Quarter

from .choices import (
    DesignationTier,
    DesignationType,
    EnterpriseStatus,
    ListingVenue,
    MilestoneKind,
    ProjectLevel,
    ProjectStatus,
    ReportStatus,
    SizeClass,
    StatisticalScope,
)
from .uscc import USCCValidator, uscc_db_condition

# Money is Decimal yuan with fen: 18 digits hold up to ¥10^16, beyond any single firm.
MONEY_DIGITS = 18
MONEY_PLACES = 2


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        validators=[MinValueValidator(0)],
        **kwargs,
    )


def non_negative(field: str, model: str, label) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
        name=f"{model}_{field}_non_negative",
        violation_error_message=format_lazy(_("{field} cannot be negative."), field=label),
    )


def date_order(start: str, end: str, model: str, message) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": F(start)}),
        name=f"{model}_{start}_before_{end}",
        violation_error_message=message,
    )


class EnterpriseQuerySet(ScopedQuerySet):
    def member_on(self, day: dt.date, cluster=None):
        """Firms that are members of `cluster` (of any cluster when None) on `day`: active or
        not, they had joined and not yet left."""
        memberships = ClusterMembership.objects.valid_on(day).filter(enterprise=OuterRef("pk"))
        if cluster is not None:
            memberships = memberships.filter(cluster=cluster)
        return self.filter(Exists(memberships))

    def member_during(self, first: dt.date, last: dt.date, cluster=None):
        """Firms that were members of `cluster` (of any cluster) at some point from `first` to
        `last`: the firms a quarter's reports are expected from."""
        memberships = ClusterMembership.objects.overlapping(first, last).filter(
            enterprise=OuterRef("pk")
        )
        if cluster is not None:
            memberships = memberships.filter(cluster=cluster)
        return self.filter(Exists(memberships))

    def active(self):
        return self.filter(status=EnterpriseStatus.ACTIVE)


class Enterprise(BilingualNameMixin):
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[USCCValidator()],
        help_text=_("统一社会信用代码, 18 characters (GB 32100-2015)."),
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, related_name="enterprises"
    )
    park = models.ForeignKey(
        Park,
        verbose_name=_("park"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enterprises",
    )
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    size_class = models.CharField(_("size class"), max_length=10, choices=SizeClass)
    status = models.CharField(
        _("status"), max_length=12, choices=EnterpriseStatus, default=EnterpriseStatus.ACTIVE
    )
    above_designated_size = models.BooleanField(
        _("above designated size"),
        default=False,
        help_text=_("规模以上工业企业: main business revenue of ¥20 million or more."),
    )
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Created by seed_demo; not a real firm.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name_zh"]
        indexes = [
            models.Index(fields=["district", "status"], name="enterprise_district_status"),
            # The newest change of the register's firms (the stored completeness's check).
            models.Index(fields=["updated_at"], name="enterprise_updated_at"),
            # The API's keyset: each page seeks to the row after the last one by name.
            models.Index(fields=["name_zh", "id"], name="enterprise_name_keyset"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=uscc_db_condition("uscc"),
                name="enterprise_uscc_valid",
                violation_error_message=_(
                    "The unified social credit code is not valid (GB 32100-2015)."
                ),
            ),
        ]

    def clean(self) -> None:
        errors = {}
        if self.park_id and self.district_id and self.park.district_id != self.district_id:
            errors["park"] = _("The park %(park)s is not in the district %(district)s.") % {
                "park": self.park,
                "district": self.district,
            }
        if errors:
            raise ValidationError(errors)


class EnterpriseChildQuerySet(ScopedQuerySet):
    district_path = "enterprise__district"


class ClusterMembershipQuerySet(EnterpriseChildQuerySet):
    def valid_on(self, day: dt.date):
        """Memberships in force on `day`; both ends count."""
        return self.filter(ClusterMembership.valid_q(day))

    def in_sector(self, code: str):
        """Memberships whose primary sector is the material `code`, or sits under the focus
        direction `code` (in whichever cluster's tree the queryset is narrowed to)."""
        return self.filter(Q(sector__code=code) | Q(sector__parent__code=code))

    def overlapping(self, first: dt.date, last: dt.date):
        return self.filter(ClusterMembership.overlapping_q(first, last))


class ClusterMembership(models.Model):
    """A firm's membership of a cluster for a period, with its place in the cluster's sector
    tree. A firm may belong to several clusters (a photonics firm making nano materials counts
    in both); it reports its figures once, and each cluster counts them."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="memberships"
    )
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("primary sector"),
        on_delete=models.PROTECT,
        related_name="memberships",
        help_text=_("A material of the cluster's sector tree."),
    )
    further_sectors = models.ManyToManyField(
        Sector, verbose_name=_("further sectors"), blank=True, related_name="+"
    )
    joined_on = models.DateField(
        _("joined on"), null=True, blank=True, help_text=_("Empty: a member from the start.")
    )
    left_on = models.DateField(
        _("left on"), null=True, blank=True, help_text=_("Empty: still a member.")
    )
    history = HistoricalRecords(m2m_fields=[further_sectors])

    objects = ClusterMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("cluster membership")
        verbose_name_plural = _("cluster memberships")
        ordering = ["cluster__sort_order", "joined_on"]
        indexes = [
            models.Index(fields=["cluster", "joined_on", "left_on"], name="membership_validity")
        ]
        constraints = [
            date_order(
                "joined_on",
                "left_on",
                "membership",
                _("A firm cannot leave the cluster before it joined."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.cluster}"

    @staticmethod
    def valid_q(day: dt.date, prefix: str = "") -> Q:
        """The one owner of "a membership in force on `day`" (joined by then, not yet left;
        both ends count), as a condition on the fields under `prefix`."""
        return (
            Q(**{f"{prefix}joined_on__isnull": True}) | Q(**{f"{prefix}joined_on__lte": day})
        ) & (Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gte": day}))

    @staticmethod
    def overlapping_q(first: dt.date, last: dt.date, prefix: str = "") -> Q:
        """The one owner of "a membership in force on some day from `first` to `last`" (both
        ends count), as a condition on the fields under `prefix`."""
        return (
            Q(**{f"{prefix}joined_on__isnull": True}) | Q(**{f"{prefix}joined_on__lte": last})
        ) & (Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gte": first}))

    def overlaps(self, other: ClusterMembership) -> bool:
        """Both periods share a day; an empty end reaches as far as it can. The rule that a
        firm's memberships of one cluster do not overlap is the register's
        (enterprises.services.register.rules)."""
        return (self.joined_on or dt.date.min) <= (other.left_on or dt.date.max) and (
            other.joined_on or dt.date.min
        ) <= (self.left_on or dt.date.max)


class DesignationQuerySet(EnterpriseChildQuerySet):
    def valid_on(self, day: dt.date):
        """Designations in force on `day`; both ends of the validity period count."""
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class Designation(models.Model):
    """A qualification (资质) with a validity period."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="designations",
    )
    type = models.CharField(_("type"), max_length=24, choices=DesignationType)
    tier = models.CharField(_("tier"), max_length=12, choices=DesignationTier)
    issuer = models.CharField(_("issuing body"), max_length=200, blank=True)
    certificate_no = models.CharField(_("certificate number"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Empty if open-ended.")
    )
    history = HistoricalRecords()

    objects = DesignationQuerySet.as_manager()

    class Meta:
        verbose_name = _("designation")
        verbose_name_plural = _("designations")
        ordering = ["-valid_from"]
        indexes = [
            models.Index(fields=["type", "valid_from", "valid_to"], name="designation_validity")
        ]
        constraints = [
            date_order(
                "valid_from",
                "valid_to",
                "designation",
                _("A designation cannot expire before it starts: valid to precedes valid from."),
            ),
            models.UniqueConstraint(
                fields=["enterprise", "type", "tier", "valid_from"],
                name="designation_unique_award",
                violation_error_message=_(
                    "This firm already holds this designation at this tier from that date."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.get_tier_display()})"


class ListingQuerySet(EnterpriseChildQuerySet):
    def listings(self):
        """Listings proper: a 新三板 quotation does not count as a listing."""
        return self.exclude(venue__in=ListingVenue.quotations())

    def listed_on(self, day: dt.date):
        return self.listings().filter(
            Q(listed_on__lte=day), Q(delisted_on__isnull=True) | Q(delisted_on__gt=day)
        )


class Listing(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="listings"
    )
    venue = models.CharField(_("venue"), max_length=12, choices=ListingVenue)
    ticker = models.CharField(_("ticker"), max_length=20)
    listed_on = models.DateField(_("listed on"))
    delisted_on = models.DateField(_("delisted on"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ListingQuerySet.as_manager()

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ["-listed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "ticker"],
                name="listing_ticker_unique",
                violation_error_message=_("This ticker is already registered on that venue."),
            ),
            date_order(
                "listed_on",
                "delisted_on",
                "listing",
                _("A firm cannot be delisted before it was listed."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_venue_display()} {self.ticker}"

    @property
    def is_listing(self) -> bool:
        return self.venue not in ListingVenue.quotations()


class Milestone(models.Model):
    """A dated event in a firm's life, kept as a timeline."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=MilestoneKind)
    occurred_on = models.DateField(_("date"))
    amount = money_field(_("amount (yuan)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    objects = EnterpriseChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["-occurred_on"]
        constraints = [non_negative("amount", "milestone", _("Amount"))]
        # The pages' pipelines read one kind over a window of dates (IPO filings of the
        # last two years), not every firm's timeline.
        indexes = [models.Index(fields=["kind", "occurred_on"], name="milestone_kind_date")]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind == MilestoneKind.FINANCING_ROUND and self.amount is None:
            raise ValidationError({"amount": _("A financing round needs its amount.")})


# The figures a target can sum, count over a threshold or divide (targets.models.Metric.Figure):
# the year-to-date pass reads them from the period indexes of reports and revisions.
REPORT_FIGURES = ("output_value", "operating_revenue", "rd_spending")


class QuarterlyReportQuerySet(EnterpriseChildQuerySet):
    def for_quarter(self, quarter: Quarter):
        return self.filter(year=quarter.year, quarter=quarter.quarter)

    def for_year(self, year: int):
        return self.filter(year=year)


# Figures a report carries, in the order of the statistics form.
MONEY_FIGURES = ("output_value", "operating_revenue", "rd_spending")
COUNT_FIGURES = ("employees", "invention_patents", "high_value_patents")
FIGURES = MONEY_FIGURES + COUNT_FIGURES
# Short names for column headers, where the unit is shown apart.
FIGURE_LABELS = {
    "output_value": _("output value"),
    "operating_revenue": _("operating revenue"),
    "rd_spending": _("R&D spending"),
    "employees": _("employees"),
    "invention_patents": _("invention patents granted"),
    "high_value_patents": _("high-value patents"),
}


class QuarterlyReport(models.Model):
    """One firm's figures for one quarter (values of the quarter itself, not year to date)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="reports"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    output_value = money_field(
        _("output value (yuan)"), null=True, blank=True, help_text=_("工业总产值 of the quarter.")
    )
    operating_revenue = money_field(
        _("operating revenue (yuan)"),
        null=True,
        blank=True,
        help_text=_("营业收入 of the quarter."),
    )
    rd_spending = money_field(_("R&D spending (yuan)"), null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    invention_patents = models.PositiveIntegerField(
        _("invention patents granted"), null=True, blank=True
    )
    high_value_patents = models.PositiveIntegerField(_("high-value patents"), null=True, blank=True)
    statistical_scope = models.CharField(
        _("statistical scope"),
        max_length=16,
        choices=StatisticalScope,
        default=StatisticalScope.SELF_REPORTED,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus, default=ReportStatus.DRAFT
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Who entered the report and who last changed its figures: neither may review it when
    # four-eyes review is on (REPORT_FOUR_EYES). Empty for reports entered before they were
    # recorded.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    figures_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("figures last changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Raised by every save; a stale version is refused.")
    )
    revision = models.PositiveIntegerField(
        _("approved revisions"),
        default=0,
        help_text=_("How many times figures of this report have been approved."),
    )
    change_reason = models.TextField(_("reason for the change after approval"), blank=True)
    anomaly_note = models.TextField(
        _("note on an unusual change"),
        blank=True,
        help_text=_("Confirms a jump beyond the threshold against the previous quarter."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    objects = QuarterlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("quarterly report")
        verbose_name_plural = _("quarterly reports")
        ordering = ["-year", "-quarter", "enterprise__name_zh"]
        indexes = [
            # The preview's year-to-date pass (targets.selectors.metrics.year_to_date_sums)
            # and the completeness counts (selectors.completeness_counts: the key and the
            # submission time too): what they read is in the index, the table is not read
            # (PostgreSQL; the completeness of a quarter of 40,800 reports 250 → 100 ms).
            models.Index(
                fields=["year", "quarter", "status"],
                include=["enterprise", *REPORT_FIGURES, "id", "submitted_at"],
                name="report_period_figures",
            ),
            # The newest change in preview, and the changes after one (as above).
            models.Index(fields=["updated_at"], name="report_updated_at"),
            # The API's keyset (newest quarter first, then by firm): read backwards.
            models.Index(fields=["year", "quarter", "enterprise"], name="report_period_firm"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year", "quarter"],
                name="report_one_per_firm_and_quarter",
                violation_error_message=_("This firm already has a report for this quarter."),
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4),
                name="report_quarter_1_to_4",
                violation_error_message=_("The quarter must be between 1 and 4."),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR),
                name="report_year_in_range",
                violation_error_message=_("The year is out of range."),
            ),
            non_negative("output_value", "report", _("Output value")),
            non_negative("operating_revenue", "report", _("Operating revenue")),
            non_negative("rd_spending", "report", _("R&D spending")),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.RETURNED) | ~Q(return_reason=""),
                name="report_returned_has_reason",
                violation_error_message=_("A returned report needs the reason."),
            ),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.APPROVED) | Q(approved_at__isnull=False),
                name="report_approved_has_time",
                violation_error_message=_("An approved report needs its approval time."),
            ),
            models.CheckConstraint(
                condition=Q(status=ReportStatus.DRAFT) | Q(submitted_at__isnull=False),
                name="report_submitted_has_time",
                violation_error_message=_("A report past draft needs its submission time."),
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="report_version_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.APPROVED) | Q(revision__gte=1),
                name="report_approved_has_revision",
                violation_error_message=_("An approved report has at least one revision."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period}"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    def figures(self) -> dict:
        return {name: getattr(self, name) for name in FIGURES}


class ReportRevisionQuerySet(EnterpriseChildQuerySet):
    def as_of(self, moment):
        """The approved figures as they were known at `moment`: per report, the revision
        approved by then and not yet superseded (the vintage of `moment`)."""
        return self.filter(ReportRevision.known_at(moment))

    def current(self):
        """The newest revision of each report: the one nothing supersedes yet."""
        return self.filter(superseded_at__isnull=True)


class ReportRevision(models.Model):
    """The figures of a report as approved, one row per approval; never changed afterwards.

    They are what official progress counts. A change after approval creates a new revision
    when it is approved; earlier revisions stay, so any past figure "as known on date D" can
    be reproduced. Being append-only, this table is its own history.
    """

    report = models.ForeignKey(
        QuarterlyReport,
        verbose_name=_("quarterly report"),
        on_delete=models.PROTECT,
        related_name="revisions",
    )
    # Copied from the report so that aggregates over revisions need no join.
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="approved_revisions",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    revision = models.PositiveIntegerField(_("revision"))
    output_value = money_field(_("output value (yuan)"), null=True, blank=True)
    operating_revenue = money_field(_("operating revenue (yuan)"), null=True, blank=True)
    rd_spending = money_field(_("R&D spending (yuan)"), null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    invention_patents = models.PositiveIntegerField(
        _("invention patents granted"), null=True, blank=True
    )
    high_value_patents = models.PositiveIntegerField(_("high-value patents"), null=True, blank=True)
    statistical_scope = models.CharField(
        _("statistical scope"), max_length=16, choices=StatisticalScope
    )
    approved_at = models.DateTimeField(_("approved at"))
    # When the next revision of the report was approved; empty while this one is current.
    # With approved_at it bounds the interval in which these were the approved figures, so
    # "as known at V" is a range condition on one row, not a search for a newer one.
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_reason = models.TextField(_("reason for the change after approval"), blank=True)

    objects = ReportRevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("approved revision")
        verbose_name_plural = _("approved revisions")
        ordering = ["report", "-revision"]
        indexes = [
            # The index of the interval read and of the year-to-date pass: PostgreSQL scans
            # it for the quarters and the vintage and reads the end of the interval, the firm
            # and the figures from it, not from the table (an index-only scan: 243 → 101 ms
            # for a year of 42,000 firms). A read of all quarters scans the table anyway.
            models.Index(
                fields=["year", "quarter", "approved_at"],
                include=["superseded_at", "enterprise", *REPORT_FIGURES],
                name="revision_period_figures",
            ),
            # The newest vintage, and the approvals after one (a page's pending changes, the
            # stored figures' job): a range at the end of the index, not a scan of the table.
            models.Index(fields=["approved_at"], name="revision_approved_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "revision"], name="revision_unique_per_report"
            ),
            models.UniqueConstraint(
                fields=["report"],
                condition=Q(superseded_at__isnull=True),
                name="revision_one_current_per_report",
                violation_error_message=_("A report has one current approved revision."),
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="revision_positive"),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="revision_quarter_1_to_4"
            ),
            date_order(
                "approved_at",
                "superseded_at",
                "revision",
                _("A revision cannot be superseded before it was approved."),
            ),
            non_negative("output_value", "revision", _("Output value")),
            non_negative("operating_revenue", "revision", _("Operating revenue")),
            non_negative("rd_spending", "revision", _("R&D spending")),
        ]

    def __str__(self) -> str:
        return f"{self.report} r{self.revision}"

    @staticmethod
    def known_at(moment, prefix: str = "") -> Q:
        """The one owner of "these were the approved figures at `moment`": approved by then
        and not superseded by then (approved_at ≤ moment < superseded_at), as a condition on
        the fields under `prefix`."""
        return Q(**{f"{prefix}approved_at__lte": moment}) & (
            Q(**{f"{prefix}superseded_at__isnull": True})
            | Q(**{f"{prefix}superseded_at__gt": moment})
        )

    @classmethod
    def of(cls, report: QuarterlyReport) -> ReportRevision:
        """The revision recording `report` as just approved (not saved)."""
        return cls(
            report=report,
            enterprise_id=report.enterprise_id,
            year=report.year,
            quarter=report.quarter,
            revision=report.revision,
            statistical_scope=report.statistical_scope,
            approved_at=report.approved_at,
            approved_by=report.approved_by,
            change_reason=report.change_reason,
            **report.figures(),
        )


class ResearchProject(models.Model):
    """A research project; major ones count toward the plan's target of 10."""

    title = models.CharField(_("title"), max_length=300)
    lead_enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("lead enterprise"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_projects",
    )
    lead_institution = models.CharField(
        _("lead institution"),
        max_length=200,
        blank=True,
        help_text=_("A university or institute leading the project, if no enterprise leads it."),
    )
    partners = models.ManyToManyField(
        Enterprise, verbose_name=_("partner enterprises"), blank=True, related_name="projects"
    )
    partner_institutions = models.TextField(_("partner institutions"), blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    clusters = models.ManyToManyField(
        Cluster,
        verbose_name=_("clusters"),
        related_name="projects",
        help_text=_("The clusters whose plans the project counts toward."),
    )
    level = models.CharField(_("level"), max_length=12, choices=ProjectLevel)
    is_major = models.BooleanField(
        _("major project"), default=False, help_text=_("Counts toward 重大科研项目.")
    )
    funding = money_field(_("funding (yuan)"), null=True, blank=True)
    started_on = models.DateField(_("started on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProjectStatus, default=ProjectStatus.ONGOING
    )
    history = HistoricalRecords(m2m_fields=[partners, clusters])

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("research project")
        verbose_name_plural = _("research projects")
        ordering = ["-started_on"]
        constraints = [
            date_order(
                "started_on", "ends_on", "project", _("A project cannot end before it starts.")
            ),
            non_negative("funding", "project", _("Funding")),
            models.CheckConstraint(
                condition=Q(lead_enterprise__isnull=False) | ~Q(lead_institution=""),
                name="project_has_lead",
                violation_error_message=_("Name the lead enterprise or the lead institution."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ReportingPolicy(models.Model):
    """The steward's rules for which quarters are open for reporting (one row).

    A quarter is reported once it has ended; the current quarter opens for drafts on its first
    day only if the steward allows it, and is submitted after it ends. Nothing is reported for
    a quarter before the register's first year. `enterprises.periods` applies these rules for
    every door."""

    singleton = models.PositiveSmallIntegerField(default=1, editable=False, unique=True)
    first_year = models.PositiveSmallIntegerField(
        _("first year of the register"),
        validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)],
        help_text=_("No report is accepted for a quarter before this year."),
    )
    current_quarter_drafts = models.BooleanField(
        _("open the current quarter for drafts"),
        default=False,
        help_text=_(
            "Districts may enter drafts for the quarter under way from its first day; they "
            "submit once it has ended."
        ),
    )
    official_share = models.PositiveSmallIntegerField(
        _("complete enough to show (%)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Pages open on the latest quarter whose approved reports cover at least this share "
            "of the firms expected, never on the latest quarter someone typed into."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reporting policy")
        verbose_name_plural = _("reporting policy")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=1), name="reporting_policy_one_row"),
            models.CheckConstraint(
                condition=Q(first_year__gte=MIN_YEAR, first_year__lte=MAX_YEAR),
                name="reporting_policy_first_year_in_range",
                violation_error_message=_("The year is out of range."),
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> ReportingPolicy:
        """The policy in force (a data migration creates the row)."""
        return cls.objects.get(singleton=1)


class CountingChange(models.Model):
    """A write of the register that can move who counts where in a cluster (a firm's
    district or status, a membership, a moved-out milestone), written in that write's
    transaction: the targets engine's job drains these rows and stores the clusters' page
    figures again once, for every change it can see."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("change of who counts")
        verbose_name_plural = _("changes of who counts")

    def __str__(self) -> str:
        return f"{self.enterprise_id} in {self.cluster_id}"
