"""Reads behind the dashboard pages and the quarterly brief.

One `Board` serves the three scopes a reader looks at in a cluster: the whole city, one
district and one focus direction. What it shows follows the quarter's phase (selectors.plans):
while a plan is in force, its targets' stored progress snapshots (nothing is recomputed for a
page), picked "as of" a quarter and a data vintage, so any past dashboard can be reproduced; at
an ended plan's deadline quarter, its final evaluation; between plans, the monitored figures
without targets. The breakdowns, the threshold pipelines and the firms each threshold target
counts are parts the progress job stored (selectors.stored), computed from the same report rows
the progress service counts; a page computes a part itself only where the store is not current
for its vintage. Every read is a fixed number of queries whatever the number of firms.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from cluster.access import scope_of
from cluster.errors import InvalidParameter
from cluster.formatting import percent, yuan_as_yi
from cluster.models import Cluster, District, Plan, Sector
from cluster.quarters import Quarter
from enterprises.choices import DesignationType, MilestoneKind, ReportStatus
from enterprises.models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportingPolicy,
    ReportRevision,
)
from enterprises.selectors import CompletenessCell, completeness

from ..choices import WATCHED_DESIGNATIONS, Basis, ScopeKind, Severity, Status
from ..models import (
    Alert,
    ApprovalCount,
    Metric,
    ProgressSnapshot,
    Release,
    RuleVersion,
    StoredFirmRow,
    Target,
)
from .explanation import FirmLine, firm_lines, pipeline_rows
from .metrics import (
    IPO_PIPELINE_DAYS,
    MATERIAL,
    Figures,
    Scope,
    counted_firms,
    counting,
    evaluate,
    year_to_date_by_material,
)
from .plans import (
    Coverage,
    Phase,
    coverage,
    coverage_counts,
    official_quarters,
    phase_of,
    picker_quarters,
)
from .schedule import year_goal
from .stored import COVERAGE, StoredParts, decimal, money, stored_completeness

ZERO = Decimal(0)
ALERTS_SHOWN = 8
PIPELINE_SHOWN = 10
EXPIRY_WATCHED = (DesignationType.GAZELLE, DesignationType.UNICORN_CULTIVATION)


def output_target(targets: list[Target]) -> Target | None:
    """The target the board's output figures follow: the first whose metric is a sum (its
    figure, 口径, is the one the breakdowns and the firms' output use)."""
    return next((t for t in targets if t.metric.kind == Metric.Kind.SUM_OUTPUT), None)


# --- "as of": which quarter, which figures, which vintage ------------------------------------


@dataclass(frozen=True)
class DataVersion:
    """An entry of the data-version picker: the figures as known at `vintage` (the newest
    of its day) and how many reports were approved since the entry before it. `approvals`
    is None where the figures are not a sequence of approvals (preview, between plans, a
    moment asked for by address), and the entry then shows its date and time."""

    vintage: dt.datetime
    approvals: int | None = None
    # Set on the entries that lead the picker: the steward's official releases.
    release: Release | None = None

    @property
    def label(self) -> str:
        if self.release is not None:
            return self.release.label
        moment = timezone.localtime(self.vintage)
        if self.approvals is None:
            return date_format(moment, "DATETIME_FORMAT")
        return ngettext(
            "%(day)s: %(count)s report approved",
            "%(day)s: %(count)s reports approved",
            self.approvals,
        ) % {"day": date_format(moment, "DATE_FORMAT"), "count": f"{self.approvals:,}"}


@dataclass(frozen=True)
class AsOf:
    """The point a page shows: the end of `quarter`, on `basis`, with the figures known at
    `vintage` (None: no snapshot yet)."""

    quarter: Quarter
    basis: str = Basis.APPROVED
    vintage: dt.datetime | None = None
    newest: bool = True  # the vintage is the newest there is for the quarter
    # The quarter's data versions, newest first, for the page's selector.
    versions: tuple[DataVersion, ...] = field(default=(), compare=False)

    @property
    def choices(self) -> list[tuple[DataVersion, bool, bool]]:
        """(version, selected, newest) for the picker: one entry selected even where a
        release and a day share the vintage shown (the release, which comes first)."""
        newest = next((v.vintage for v in self.versions if v.release is None), None)
        selected = next((v for v in self.versions if v.vintage == self.vintage), None)
        return [
            (v, v is selected, v.release is None and v.vintage == newest) for v in self.versions
        ]

    @property
    def basis_label(self) -> str:
        return str(Basis(self.basis).label)

    @property
    def is_preview(self) -> bool:
        return self.basis == Basis.PREVIEW

    def params(self) -> str:
        """The query string that reproduces this view; links carry it so that every number
        can be traced to the page it comes from."""
        parts = [f"period={self.quarter}"]
        if self.is_preview:
            parts.append(f"basis={self.basis}")
        if self.vintage and not self.newest:
            parts.append(f"vintage={self.vintage.isoformat()}")
        return "&".join(parts)

    @cached_property
    def figures(self) -> Figures:
        return Figures(self.basis, self.vintage or timezone.now())


def _city_snapshots(plan: Plan, quarter: Quarter, basis: str):
    return ProgressSnapshot.objects.current().filter(
        target__plan=plan,
        scope_kind=ScopeKind.CITY,
        basis=basis,
        year=quarter.year,
        quarter=quarter.quarter,
    )


def data_versions(
    plan: Plan, quarter: Quarter, basis: str = Basis.APPROVED, limit: int = 40
) -> list[DataVersion]:
    """The data versions of the plan's city snapshots of a quarter, newest first: one per
    day (every approval makes a vintage, so a day of review makes dozens), the day's newest,
    with the number of reports approved since the day before it: the differences of the
    counts the progress job recorded at those vintages (else counted). Two queries."""
    days = list(
        _city_snapshots(plan, quarter, basis)
        .annotate(day=TruncDate("vintage", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(last=Max("vintage"))
        .order_by("-day")[: limit + 1]
    )
    ends = [row["last"] for row in days]
    if basis != Basis.APPROVED:
        return [DataVersion(end) for end in ends[:limit]]
    since = [*ends[1:], None]
    # The counts the progress job recorded at its vintages: differences, one query.
    recorded = dict(
        ApprovalCount.objects.filter(vintage__in=ends).values_list("vintage", "approvals")
    )
    if all(end in recorded for end in ends):
        return [
            DataVersion(end, recorded[end] - (recorded[start] if start else 0))
            for end, start in zip(ends[:limit], since[:limit], strict=True)
        ]
    counts = (
        ReportRevision.objects.aggregate(
            **{
                f"v{i}": Count(
                    "pk",
                    filter=Q(approved_at__lte=end)
                    & (Q(approved_at__gt=start) if start else Q(approved_at__isnull=False)),
                )
                for i, (end, start) in enumerate(zip(ends[:limit], since[:limit], strict=True))
            }
        )
        if ends
        else {}
    )
    return [DataVersion(end, counts[f"v{i}"]) for i, end in enumerate(ends[:limit])]


def snapshot_vintage_at(
    plan: Plan, quarter: Quarter, basis: str, moment: dt.datetime
) -> dt.datetime | None:
    """The newest vintage of the quarter's city snapshots known at `moment`."""
    return (
        _city_snapshots(plan, quarter, basis)
        .filter(vintage__lte=moment)
        .order_by("-vintage")
        .values_list("vintage", flat=True)
        .first()
    )


def version_in_force(
    phase: Phase, quarter: Quarter, moment: dt.datetime | None
) -> dt.datetime | None:
    """The approved data version of `quarter` in force at `moment` (None: the newest): the
    newest of the plan's city snapshots known then or, between plans, the last approval by
    then. None before any."""
    if phase.shows_targets:
        if moment is not None:
            return snapshot_vintage_at(phase.plan, quarter, Basis.APPROVED, moment)
        versions = _city_snapshots(phase.plan, quarter, Basis.APPROVED)
        return versions.aggregate(last=Max("vintage"))["last"]
    approvals = ReportRevision.objects.filter(approved_at__isnull=False)
    if moment is not None:
        approvals = approvals.filter(approved_at__lte=moment)
    return approvals.aggregate(last=Max("approved_at"))["last"]


def _key(part: str, target: Target) -> str:
    """A target's stored part, under the counting rule it follows now: a changed rule makes
    the page compute it until the job stores it again."""
    return f"{part}:{target.pk}:{target.rule_version}"


def pending_changes(cluster_id: int, basis: str, vintage: dt.datetime, quarter: Quarter) -> int:
    """Reports of the cluster's firms up to `quarter` (a later quarter's figures do not move
    it) whose figures changed after `vintage`: approved since (or, in preview, submitted or
    changed since)."""
    if basis == Basis.APPROVED:
        rows = ReportRevision.objects.filter(approved_at__gt=vintage)
    else:
        # A report sent back leaves the preview: a change too.
        rows = QuarterlyReport.objects.filter(
            status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED, ReportStatus.RETURNED],
            updated_at__gt=vintage,
        )
    return (
        rows.filter(Q(year__lt=quarter.year) | Q(year=quarter.year, quarter__lte=quarter.quarter))
        # The cluster's firms by their memberships alone: joining the firms too made the
        # planner hash every firm of the city for a handful of changed reports.
        .filter(
            enterprise_id__in=ClusterMembership.objects.filter(cluster_id=cluster_id).values(
                "enterprise_id"
            )
        )
        .values("enterprise", "year", "quarter")
        .distinct()
        .count()
    )


def parse_vintage(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:  # well formed, but no such day or hour (2025-02-30T10:00)
        moment = None
    if moment is None:
        raise InvalidParameter(
            "vintage", _("This is not a date and time; write it like 2025-07-10T09:30.")
        )
    moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    try:
        # The database keeps moments in UTC: one whose UTC falls outside years 1–9999
        # (0001-01-01T00:00+14:00) cannot be compared with anything stored.
        moment.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidParameter(
            "vintage", _("This moment is outside the years the monitor keeps.")
        ) from None
    return moment


@dataclass(frozen=True)
class Reading:
    """What a page of a cluster reads: the quarter and figures (`as_of`), the quarter's phase,
    the quarters the page offers (newest first) and the coverage of the quarter shown."""

    as_of: AsOf
    phase: Phase
    quarters: list[Quarter]
    coverage: Coverage
    # The official release whose vintage is shown, if it is one.
    release: Release | None = None


def quarter_releases(cluster: Cluster, quarter: Quarter) -> list[Release]:
    """The official releases of the cluster's quarter, the latest made first. One query."""
    return list(
        Release.objects.filter(cluster=cluster, year=quarter.year, quarter=quarter.quarter)
        .select_related("cluster")
        .order_by("-made_at", "-vintage")
    )


def resolve_as_of(
    params, *, cluster: Cluster, today: dt.date, prefer_release: bool = False
) -> Reading:
    """The view of a cluster asked for by a query string (period, basis, vintage) on `today`.
    Without a period: the cluster's official quarter (selectors.plans.official_quarters);
    without a vintage: the newest, or with `prefer_release` the quarter's latest official
    release. The data versions offered lead with the quarter's releases. A period that is not
    a quarter or not offered (after the quarter being reported, before the register's first
    year), or a vintage that is not a moment, is refused (InvalidParameter naming it)."""
    basis = Basis.PREVIEW if params.get("basis") == Basis.PREVIEW else Basis.APPROVED
    policy = ReportingPolicy.current()
    quarters = picker_quarters(today, policy=policy)
    asked_quarter = params.get("period", "")
    official = None
    if not asked_quarter:
        official = official_quarters([cluster], today, policy=policy)[cluster.pk]
        quarter = official.quarter
    else:
        try:
            quarter = Quarter.parse(asked_quarter)
        except ValueError as bad:
            raise InvalidParameter("period", str(bad)) from None
        if quarter not in quarters:
            raise InvalidParameter(
                "period",
                _("%(quarter)s is not offered; choose a quarter from the list.")
                % {"quarter": quarter.label()},
            )
    asked = parse_vintage(params.get("vintage", ""))
    releases = quarter_releases(cluster, quarter) if basis == Basis.APPROVED else []
    if asked is None and prefer_release and releases:
        asked = releases[0].vintage
    phase = phase_of(cluster, quarter, today)
    if phase.shows_targets:
        versions = data_versions(phase.plan, quarter, basis)
        newest_vintage = versions[0].vintage if versions else None
        # A moment in between two vintages reproduces the older: what was known then; one
        # before them all, the newest.
        vintage = (
            asked and snapshot_vintage_at(phase.plan, quarter, basis, asked)
        ) or newest_vintage
    else:
        # Between plans there are no snapshots: the figures are read as known at the moment
        # asked for, else at the newest approval (or change, in preview).
        newest_vintage = Figures.latest(basis).vintage
        vintage = asked or newest_vintage
        versions = [DataVersion(newest_vintage)]
    newest = vintage == newest_vintage
    offered = {v.vintage for v in versions} | {r.vintage for r in releases}
    if vintage is not None and vintage not in offered:
        # Neither a release nor the newest of its day: offered too, so that the picker shows
        # what is shown (once: a release's own entry stands for its vintage).
        versions.append(DataVersion(vintage))
        versions.sort(key=lambda version: version.vintage, reverse=True)
    versions = [DataVersion(r.vintage, release=r) for r in releases] + versions
    release = next((r for r in releases if r.vintage == vintage), None)
    as_of = AsOf(quarter, basis, vintage, newest=newest, versions=tuple(versions))
    if official is None or official.quarter != quarter:
        moment = vintage or timezone.now()
        official = coverage({cluster.pk: [quarter]}, needed=policy.official_share, moment=moment)[
            (cluster.pk, quarter)
        ]
    return Reading(as_of, phase, quarters, official, release)


def newest_at(queryset, vintage: dt.datetime | None):
    """Snapshots reduced to the newest vintage known at `vintage`, per target, scope,
    quarter, basis and rule version (one correlated subquery on the unique index)."""
    newest = ProgressSnapshot.objects.filter(
        target=OuterRef("target"),
        scope_key=OuterRef("scope_key"),
        year=OuterRef("year"),
        quarter=OuterRef("quarter"),
        basis=OuterRef("basis"),
        rule_version=OuterRef("rule_version"),
    )
    if vintage is not None:
        newest = newest.filter(vintage__lte=vintage)
    return queryset.filter(vintage=Subquery(newest.order_by("-vintage").values("vintage")[:1]))


# --- scope of a page -------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardScope:
    """What a page shows: one cluster, in the whole city or one district or focus direction."""

    cluster: Cluster
    kind: str = ScopeKind.CITY
    district: District | None = None
    direction: Sector | None = None

    @property
    def key(self) -> str:
        if self.kind == ScopeKind.DISTRICT:
            return f"district:{self.district.pk}"
        if self.kind == ScopeKind.SECTOR:
            return f"sector:{self.direction.pk}"
        return "city"

    @property
    def metrics_scope(self) -> Scope:
        return Scope(
            cluster_id=self.cluster.pk,
            district_id=self.district.pk if self.district else None,
            direction_id=self.direction.pk if self.direction else None,
        )

    @property
    def is_city(self) -> bool:
        return self.kind == ScopeKind.CITY

    @property
    def name(self) -> str:
        if self.district:
            return self.district.name
        if self.direction:
            return self.direction.name
        return str(_("Whole city"))

    @property
    def subject(self) -> str:
        """The scope as the subject of a sentence: "the city" / 全市."""
        return self.name if (self.district or self.direction) else str(_("the city"))


# --- the cards -------------------------------------------------------------------------------


def _ratio(value, whole) -> Decimal | None:
    if value is None or not whole:
        return None
    return Decimal(value) / Decimal(whole)


@dataclass
class Card:
    """One target as the page shows it for its scope."""

    target: Target
    snapshot: ProgressSnapshot | None
    previous: ProgressSnapshot | None = None
    year_ago: ProgressSnapshot | None = None
    city: ProgressSnapshot | None = None  # on a district or sector page, the city's figure
    # The change that made the rule the figure follows, when it is not the first version.
    rule_change: RuleVersion | None = None
    scope_kind: str = ScopeKind.CITY

    @property
    def counting_rule(self) -> str:
        return self.target.metric.counting_rule()

    @property
    def baseline_missing(self) -> bool:
        return self.target.baseline_value is None

    @property
    def actual(self) -> Decimal | None:
        return self.snapshot.actual if self.snapshot else None

    @property
    def is_money(self) -> bool:
        return self.target.unit == Target.Unit.YUAN

    @property
    def is_city(self) -> bool:
        return self.scope_kind == ScopeKind.CITY

    @property
    def own_target(self) -> Decimal | None:
        """The target the card measures against: the city's on the city's page; on a
        district's or direction's, the part the steward gave the scope (任务分解) as the
        progress service applied it, else None: the scope has no target of its own."""
        if self.is_city:
            return self.target.target_value
        return self.snapshot.scope_target if self.snapshot else None

    @property
    def goal_text(self) -> str:
        """The goal the card measures against, as the plan states goals ("> 1,000 亿元");
        "—" for a scope without a target of its own."""
        if self.is_city:
            return self.target.display_goal()
        if self.own_target is None:
            return "—"
        return self.target.display_goal(self.own_target)

    @property
    def share(self) -> Decimal | None:
        """Share of the target reached (0–1, may exceed 1): of the scope's own target; None
        for a scope without one (never the city's target as if it were the scope's)."""
        return _ratio(self.actual, self.own_target)

    @property
    def milestone_share(self) -> Decimal | None:
        if not self.snapshot:
            return None
        return _ratio(self.snapshot.milestone_expected, self.own_target)

    @property
    def projection_share(self) -> Decimal | None:
        if not self.snapshot:
            return None
        return _ratio(self.snapshot.projection, self.own_target)

    @property
    def share_of_city(self) -> Decimal | None:
        """The scope's part of the city's figure, as the progress service stored it."""
        return self.snapshot.share_of_city if self.snapshot and not self.is_city else None

    @property
    def city_gap(self) -> Decimal | None:
        """What the city's figure still lacks to reach the city's target (the year's goal,
        for a yearly flow); zero once reached."""
        if self.city is None or self.target.is_qualitative:
            return None
        goal = self.target.target_value
        if self.target.metric.count_mode == Metric.CountMode.YEARLY:
            goal = year_goal(self.target, self.city.year) or goal
        return max(goal - self.city.actual, ZERO)

    @property
    def added_this_quarter(self) -> Decimal | None:
        """What the scope added to its figure in the quarter shown: a year-to-date sum's
        quarter (all of it in a first quarter), a count's change since the quarter before."""
        if self.snapshot is None:
            return None
        year_to_date = self.target.metric.kind in (Metric.Kind.SUM_OUTPUT, Metric.Kind.RATIO)
        if year_to_date and self.snapshot.quarter == 1:
            return self.snapshot.actual
        if self.previous is None:
            return None
        return self.snapshot.actual - self.previous.actual

    @property
    def status(self) -> str:
        return self.snapshot.status if self.snapshot else ""

    @property
    def status_label(self) -> str:
        if not self.snapshot:
            return str(_("no data"))
        if self.target.is_qualitative:
            # Nothing is counted: the status is the steward's latest assessment, if any.
            return str(Status(self.status).label) if self.status else str(_("not assessed yet"))
        if not self.status or self.status == Status.NOT_APPLICABLE:
            # A scope without a target of its own contributes to the city's: no status.
            return _("%(share)s of the city") % {"share": percent(self.share_of_city)}
        return str(Status(self.status).label)

    @property
    def change(self) -> Decimal | None:
        """Change of the actual value since the previous quarter."""
        if not self.snapshot or not self.previous:
            return None
        return self.snapshot.actual - self.previous.actual

    @property
    def projection_change(self) -> Decimal | None:
        if not self.snapshot or not self.previous:
            return None
        if self.snapshot.projection is None or self.previous.projection is None:
            return None
        return self.snapshot.projection - self.previous.projection

    @property
    def year_on_year(self) -> Decimal | None:
        """For an annual sum: year to date against the same period last year, in percent."""
        if not self.is_money or not self.snapshot or not self.year_ago:
            return None
        if not self.year_ago.actual:
            return None
        return (self.snapshot.actual / self.year_ago.actual - 1) * 100

    @property
    def basis_text(self) -> str:
        if not self.snapshot or not self.snapshot.basis_note:
            return ""
        note = self.snapshot.basis_note
        return note.get("en") if (get_language() or "").startswith("en") else note.get("zh")

    @property
    def achieved(self) -> bool | None:
        """At an evaluated deadline: whether the figure reaches the target (Target.meets)."""
        return None if self.snapshot is None else self.target.meets(self.snapshot.actual)

    @property
    def schedule(self) -> ScheduleBand | None:
        """序时进度: the time elapsed, the way covered and the plan's band for the gap."""
        snapshot = self.snapshot
        if snapshot is None or snapshot.time_elapsed is None or snapshot.completion is None:
            return None
        bands = {band["key"]: band for band in self.target.plan.schedule_bands or []}
        band = bands.get(snapshot.schedule_band, {})
        english = (get_language() or "").startswith("en")
        return ScheduleBand(
            time_elapsed=snapshot.time_elapsed,
            completion=snapshot.completion,
            key=snapshot.schedule_band,
            name=band.get("name_en" if english else "name_zh") or band.get("name_zh", ""),
            colour=band.get("colour", ""),
        )


@dataclass(frozen=True)
class ScheduleBand:
    time_elapsed: Decimal
    completion: Decimal
    key: str
    name: str
    colour: str


# --- the board -------------------------------------------------------------------------------


@dataclass
class Contribution:
    """A district's or sector's part of the scope's output, year to date."""

    key: object
    label: str
    actual: Decimal = ZERO
    year_ago: Decimal = ZERO
    share: Decimal | None = None
    counts: dict = field(default_factory=dict)  # target key → snapshot actual
    count_row: list = field(default_factory=list)  # the counts in the order of the columns

    @property
    def year_on_year(self) -> Decimal | None:
        if not self.year_ago:
            return None
        return (self.actual / self.year_ago - 1) * 100


@dataclass
class TrendPoint:
    quarter: Quarter
    actual: Decimal | None
    milestone: Decimal | None
    projection: Decimal | None


@dataclass
class Monitored:
    """A figure monitored without a target: at the quarter's end and a year before."""

    key: str
    label: str
    value: Decimal
    year_ago: Decimal | None = None
    is_money: bool = False

    @property
    def year_on_year(self) -> Decimal | None:
        if self.year_ago is None or not self.year_ago:
            return None
        return (self.value / self.year_ago - 1) * 100

    @property
    def change(self) -> Decimal | None:
        return None if self.year_ago is None else self.value - self.year_ago

    def _shown(self, value) -> str:
        if value is None:
            return "—"
        if self.is_money:
            return yuan_as_yi(value)
        return ngettext("%(n)s firm", "%(n)s firms", value) % {"n": value}

    @property
    def shown(self) -> str:
        return self._shown(self.value)

    @property
    def shown_year_ago(self) -> str:
        return self._shown(self.year_ago)

    @property
    def change_text(self) -> str:
        """A count's change on a year before, signed: +2, −1, 0."""
        change = self.change
        if change is None:
            return "—"
        return f"+{change}" if change > 0 else (f"−{-change}" if change < 0 else "0")


class Board:
    """Everything a dashboard page shows for a scope, as of a quarter and vintage, in the
    quarter's phase."""

    def __init__(self, user, scope: BoardScope, as_of: AsOf, phase: Phase, *, today: dt.date):
        self.user = user
        self.scope = scope
        self.as_of = as_of
        self.phase = phase
        self.today = today

    # -- the plan and its targets

    @property
    def plan(self) -> Plan | None:
        """The plan whose targets the quarter shows (None between plans)."""
        return self.phase.plan

    @cached_property
    def targets(self) -> list[Target]:
        if not self.phase.shows_targets:
            return []
        return list(
            Target.objects.filter(plan=self.plan)
            .select_related("metric", "plan")
            .order_by("sort_order", "key")
        )

    @cached_property
    def evaluation(self):
        """At an ended plan's deadline quarter: its final evaluation (the city's lines)."""
        if not self.phase.evaluation:
            return None
        from .evaluation import evaluation_of

        return evaluation_of(self.plan)

    @cached_property
    def count_targets(self) -> list[Target]:
        """The targets that count firms, for the columns of the district table."""
        return [
            t
            for t in self.targets
            if t.metric.kind
            not in (
                Metric.Kind.SUM_OUTPUT,
                Metric.Kind.COUNT_PROJECTS,
                Metric.Kind.RATIO,
                Metric.Kind.QUALITATIVE,
            )
        ]

    @cached_property
    def _rule_changes(self) -> dict[tuple[int, int], RuleVersion]:
        """The changes behind the rule versions the targets follow now. One query."""
        wanted = Q()
        for target in self.targets:
            if target.rule_version > 1:
                wanted |= Q(target_id=target.pk, version=target.rule_version)
        if not wanted:
            return {}
        return {(v.target_id, v.version): v for v in RuleVersion.objects.filter(wanted)}

    @cached_property
    def _series(self) -> dict[tuple[str, int, Quarter], ProgressSnapshot]:
        """Snapshots of this scope (and the city) for every quarter up to the one shown, at
        the newest vintage known then. One query."""
        if not self.targets:
            return {}
        keys = {self.scope.key, "city"}
        quarter = self.as_of.quarter
        rows = newest_at(
            ProgressSnapshot.objects.current()
            .filter(
                target__plan=self.plan,
                scope_key__in=keys,
                basis=self.as_of.basis,
                year__lte=quarter.year,
            )
            .exclude(year=quarter.year, quarter__gt=quarter.quarter),
            self.as_of.vintage,
        )
        return {(s.scope_key, s.target_id, Quarter(s.year, s.quarter)): s for s in rows}

    def _at(self, target: Target, quarter: Quarter, key: str | None = None):
        return self._series.get((key or self.scope.key, target.pk, quarter))

    @cached_property
    def cards(self) -> list[Card]:
        quarter = self.as_of.quarter
        return [
            Card(
                target=target,
                snapshot=self._at(target, quarter),
                previous=self._at(target, quarter.previous()),
                year_ago=self._at(target, quarter.same_quarter_last_year()),
                city=None if self.scope.is_city else self._at(target, quarter, "city"),
                rule_change=self._rule_changes.get((target.pk, target.rule_version)),
                scope_kind=self.scope.kind,
            )
            for target in self.targets
        ]

    @cached_property
    def output_target(self) -> Target | None:
        return output_target(self.targets)

    @cached_property
    def figure_metric(self) -> Metric | None:
        """The sum whose figure (口径) the output breakdowns follow: the output target's;
        between plans, the one of the plan that ended (else the next plan's)."""
        if self.output_target is not None:
            return self.output_target.metric
        if self.phase.shows_targets:
            return None
        plans = [p for p in (self.phase.previous, self.phase.following) if p is not None]
        if not plans:
            return None
        metrics = {
            m.plan_id: m
            for m in Metric.objects.filter(plan__in=plans, kind=Metric.Kind.SUM_OUTPUT).order_by(
                "-pk"
            )
        }
        return next((metrics[p.pk] for p in plans if p.pk in metrics), None)

    @property
    def figure(self) -> str:
        return self.figure_metric.figure if self.figure_metric else Metric.Figure.OUTPUT_VALUE

    @property
    def figure_name(self) -> str:
        return Metric(figure=self.figure).figure_name()

    @cached_property
    def trend(self) -> list[TrendPoint]:
        """The output quarter by quarter. With a plan: the output target's actual year to
        date, the milestone expected by then (city) and the projection to the deadline made
        at that quarter (while the plan is in force). Between plans: the year to date of this
        year and last of the firms counted now."""
        target = self.output_target
        if target is None:
            return self._monitored_trend
        quarters = sorted(
            q for key, pk, q in self._series if key == self.scope.key and pk == target.pk
        )
        points = []
        for quarter in quarters:
            snapshot = self._at(target, quarter)
            city = self._at(target, quarter, "city")
            points.append(
                TrendPoint(
                    quarter,
                    snapshot.actual,
                    city.milestone_expected if self.scope.is_city and city else None,
                    snapshot.projection if self.phase.shows_projection else None,
                )
            )
        return points

    @cached_property
    def _monitored_trend(self) -> list[TrendPoint]:
        if self.as_of.vintage is None:
            return []
        part = self.stored.get(f"trend:{self.figure}", self._trend_part)
        totals: dict[tuple[int, int], Decimal] = {}
        for year, quarter, district, material, total in part:
            if self._in_scope(district, self._direction_id(material)):
                totals[year, quarter] = totals.get((year, quarter), ZERO) + (decimal(total) or ZERO)
        points, running = [], {}
        for (year, quarter), total in sorted(totals.items()):
            running[year] = running.get(year, ZERO) + total
            points.append(TrendPoint(Quarter(year, quarter), running[year], None, None))
        return points

    def _trend_part(self) -> list[list]:
        """Each quarter's output of this year (to the quarter shown) and last of the firms
        the city counts at the quarter's end, by district and material: [year, quarter,
        district, material, total] (the trend of a page without an output target, each scope
        taking its rows)."""
        return [[*key, money(total)] for key, total in self._output_by_quarter]

    @cached_property
    def _output_by_quarter(self) -> list[tuple[tuple, Decimal | None]]:
        """((year, quarter, district, material), total) of the trend's quarters: one
        aggregate query over the rows the progress service counts, which also gives the
        year-to-date output part of a page that shows the trend."""
        quarter = self.as_of.quarter
        rows = (
            self.as_of.figures.rows()
            .filter(
                counting(quarter.end, self._city, "enterprise__"),
                year__in=[quarter.year - 1, quarter.year],
            )
            .exclude(year=quarter.year, quarter__gt=quarter.quarter)
            .values("year", "quarter", "enterprise__district", MATERIAL)
            .annotate(total=Sum(self.figure))
        )
        return [
            ((r["year"], r["quarter"], r["enterprise__district"], r[MATERIAL]), r["total"])
            for r in rows
        ]

    @property
    def projection_band(self) -> tuple[Decimal, Decimal] | None:
        """The range of the projections to the deadline made over the last four quarters: how
        far the outlook has moved recently."""
        values = [p.projection for p in self.trend[-4:] if p.projection is not None]
        return (min(values), max(values)) if values else None

    @cached_property
    def breakdown(self) -> list[ProgressSnapshot]:
        """For the city: every target's district and focus-direction snapshots at the quarter
        shown. One query."""
        if not self.scope.is_city or not self.targets:
            return []
        quarter = self.as_of.quarter
        return list(
            newest_at(
                ProgressSnapshot.objects.current().filter(
                    target__plan=self.plan,
                    scope_kind__in=[ScopeKind.DISTRICT, ScopeKind.SECTOR],
                    basis=self.as_of.basis,
                    year=quarter.year,
                    quarter=quarter.quarter,
                ),
                self.as_of.vintage,
            ).select_related("target")
        )

    # -- the parts read from the store (selectors.stored), city-wide, a scope taking its rows

    @cached_property
    def stored(self) -> StoredParts:
        return StoredParts(
            self.scope.cluster.pk, self.as_of.quarter, self.as_of.basis, self.as_of.vintage
        )

    def _stored_at(self, quarter: Quarter) -> StoredParts:
        if quarter == self.as_of.quarter:
            return self.stored
        if quarter not in self._other_quarters:
            self._other_quarters[quarter] = StoredParts(
                self.scope.cluster.pk, quarter, self.as_of.basis, self.as_of.vintage
            )
        return self._other_quarters[quarter]

    @cached_property
    def _other_quarters(self) -> dict[Quarter, StoredParts]:
        return {}

    def _in_scope(self, district_id: int | None, direction_id: int | None) -> bool:
        if self.scope.district is not None and district_id != self.scope.district.pk:
            return False
        return self.scope.direction is None or direction_id == self.scope.direction.pk

    def _direction_id(self, material_id: int | None) -> int | None:
        sector = self._sectors.get(material_id)
        if sector is None:
            return None
        return sector.parent_id or sector.pk

    @property
    def _city(self) -> Scope:
        return Scope(cluster_id=self.scope.cluster.pk)

    @property
    def _shows_output(self) -> bool:
        return self.as_of.vintage is not None and not (
            self.phase.shows_targets and not self.output_target
        )

    def _output_part(self) -> list[list]:
        """Year-to-date output of the city's counted firms by district and material, this
        year and last: [year, district, material, total]. One aggregate query over the rows
        the progress service counts."""
        quarter = self.as_of.quarter
        if self.output_target is None:
            # The trend's quarters are read anyway: their sums to the quarter shown.
            totals: dict[tuple, Decimal | None] = {}
            for (year, number, district, material), total in self._output_by_quarter:
                if number <= quarter.quarter:
                    key = (year, district, material)
                    before = totals.get(key)
                    totals[key] = total if before is None else before + (total or ZERO)
            return [[*key, money(total)] for key, total in totals.items()]
        this_year = year_to_date_by_material(
            self.as_of.figures, quarter, self.scope.cluster.pk, self.figure
        )
        # This year's sums where the targets' pass read them already (the jobs: one query
        # less a stored quarter), last year's of the firms counted now.
        years = [quarter.year - 1] if this_year is not None else [quarter.year, quarter.year - 1]
        rows = (
            self.as_of.figures.rows()
            .filter(
                counting(quarter.end, self._city, "enterprise__"),
                year__in=years,
                quarter__lte=quarter.quarter,
            )
            .values("year", "enterprise__district", MATERIAL)
            .annotate(total=Sum(self.figure))
        )
        return [
            *(
                [quarter.year, district, material, money(total)]
                for district, material, total in this_year or ()
            ),
            *(
                [row["year"], row["enterprise__district"], row[MATERIAL], money(row["total"])]
                for row in rows
            ),
        ]

    def _pipeline_part(self, target: Target) -> list[list]:
        rows = pipeline_rows(target.metric, self.as_of.quarter, self.as_of.figures, self._city)
        return [
            [pk, district, direction, money(v), money(g)] for pk, district, direction, v, g in rows
        ]

    def _counted_part(self, target: Target, quarter: Quarter) -> list[int]:
        return sorted(evaluate(target, quarter, self.as_of.figures).counted)

    def parts_to_store(self) -> dict[str, list]:
        """Every part the pages read from the store, computed from this (city) board's
        figures: what the progress job stores for the cluster's quarter."""
        if self.as_of.vintage is None:
            return {}
        parts = {}
        if self.as_of.basis == Basis.APPROVED:
            pair = (self.scope.cluster.pk, self.as_of.quarter)
            parts[COVERAGE] = list(coverage_counts([pair], self.as_of.vintage)[pair])
        if self._shows_output:
            parts[f"output:{self.figure}"] = self._output_part()
        if not self.phase.shows_targets:
            # Between plans (no snapshots: stored under the figures' own vintage). A plan in
            # force without an output target shows this trend too, computed: its stored rows
            # go under the vintage of snapshots these figures may not have moved.
            parts[f"trend:{self.figure}"] = self._trend_part()
        for target in self.targets:
            if target.metric.kind == Metric.Kind.COUNT_FIRMS_OVER:
                parts[_key("pipeline", target)] = self._pipeline_part(target)
                parts[_key("counted", target)] = self._counted_part(target, self.as_of.quarter)
        return parts

    @cached_property
    def _output_rows(self) -> list[dict]:
        """Year-to-date output of the scope's counted firms by district and material, this
        year and last (the city's stored part, the scope's rows of it)."""
        if not self._shows_output:
            return []
        part = self.stored.get(f"output:{self.figure}", self._output_part)
        return [
            {
                "year": year,
                "enterprise__district": district,
                MATERIAL: material,
                "total": decimal(total),
            }
            for year, district, material, total in part
            if self._in_scope(district, self._direction_id(material))
        ]

    def counted(self, target: Target, quarter: Quarter) -> frozenset[int]:
        """The firms a threshold target counts at the end of `quarter`, city-wide (the
        stored part)."""
        part = self._stored_at(quarter).get(
            _key("counted", target), lambda: self._counted_part(target, quarter)
        )
        return frozenset(part)

    @cached_property
    def pending_changes(self) -> int:
        """Changes of the cluster's figures after the newest vintage shown that the progress
        job has not counted yet (approvals; in preview, submissions too): the page says so
        rather than show its figures as the latest. Zero when the page shows a past vintage
        or is between plans (read as known now). One query on the index of the moments."""
        if not self.as_of.newest or self.as_of.vintage is None or not self.phase.shows_targets:
            return 0
        return pending_changes(
            self.scope.cluster.pk, self.as_of.basis, self.as_of.vintage, self.as_of.quarter
        )

    @cached_property
    def firm_lines_stored(self) -> bool:
        """The firm table of this page is stored: the newest vintage, held by the store, and
        among the quarters whose tables are kept (the newest)."""
        if not (self.as_of.newest and self.stored.held):
            return False
        quarter = self.as_of.quarter
        return StoredFirmRow.objects.filter(
            cluster=self.scope.cluster,
            year=quarter.year,
            quarter=quarter.quarter,
            basis=self.as_of.basis,
            figure=self.figure,
        ).exists()

    @property
    def computed_on_the_fly(self) -> list[str]:
        """The parts this page computed itself: the store was not current for its vintage."""
        return [
            *self.stored.computed,
            *(p for parts in self._other_quarters.values() for p in parts.computed),
        ]

    def _contributions(self, key: str, labels: dict) -> list[Contribution]:
        year = self.as_of.quarter.year
        parts: dict = {}
        for row in self._output_rows:
            part_key = key(row) if callable(key) else row[key]
            part = parts.setdefault(part_key, Contribution(part_key, labels.get(part_key, "—")))
            if row["year"] == year:
                part.actual += row["total"] or ZERO
            else:
                part.year_ago += row["total"] or ZERO
        total = sum((p.actual for p in parts.values()), ZERO)
        for part in parts.values():
            part.share = _ratio(part.actual, total)
        return sorted(parts.values(), key=lambda p: (-p.actual, str(p.label)))

    @cached_property
    def _sectors(self) -> dict[int, Sector]:
        return Sector.objects.filter(cluster=self.scope.cluster).in_bulk()

    @cached_property
    def _districts(self) -> dict[int, District]:
        return District.objects.in_bulk()

    @cached_property
    def by_district(self) -> list[Contribution]:
        parts = self._contributions("enterprise__district", self._districts)
        counts = defaultdict(dict)
        for snapshot in self.breakdown:
            if snapshot.scope_kind == ScopeKind.DISTRICT:
                counts[snapshot.district_id][snapshot.target.key] = snapshot.actual
        known = {p.key for p in parts}
        for district_id in counts.keys() - known:
            parts.append(Contribution(district_id, self._districts[district_id]))
        for part in parts:
            part.counts = counts.get(part.key, {})
            part.count_row = [part.counts.get(t.key, ZERO) for t in self.count_targets]
        return parts

    def _direction_of(self, row) -> int | None:
        sector = self._sectors.get(row[MATERIAL])
        if sector is None:
            return None
        return sector.parent_id or sector.pk

    @cached_property
    def by_direction(self) -> list[Contribution]:
        return self._contributions(self._direction_of, self._sectors)

    @cached_property
    def by_material(self) -> list[Contribution]:
        return self._contributions(MATERIAL, self._sectors)

    @property
    def output_total(self) -> Decimal:
        return sum((p.actual for p in self.by_district), ZERO)

    @property
    def output_year_ago(self) -> Decimal:
        return sum((p.year_ago for p in self.by_district), ZERO)

    # -- between plans: the monitored figures

    def _firm_counts(self, day: dt.date) -> dict[str, int]:
        """Firms in the scope on `day`, and those holding each watched designation or listed
        then. Two queries."""
        scope = self.scope.metrics_scope
        firms = counted_firms(day, scope)
        counts = {"firms": firms.values("pk").distinct().count()}
        designations = (
            Designation.objects.valid_on(day)
            .filter(type__in=WATCHED_DESIGNATIONS, enterprise__in=firms.values("pk"))
            .values("type")
            .annotate(n=Count("enterprise", distinct=True))
            .order_by()
        )
        counts.update({row["type"]: row["n"] for row in designations})
        counts["listed"] = (
            Listing.objects.listed_on(day)
            .filter(enterprise__in=firms.values("pk"))
            .values("enterprise")
            .distinct()
            .count()
        )
        return counts

    @cached_property
    def monitored(self) -> list[Monitored]:
        """Between plans: output year to date (same firms a year before), firms in the
        cluster, firms holding each watched designation and listed firms, now and a year
        before. A fixed number of queries."""
        if self.phase.shows_targets:
            return []
        quarter = self.as_of.quarter
        now, before = (
            self._firm_counts(quarter.end),
            self._firm_counts(quarter.same_quarter_last_year().end),
        )
        figures = [
            Monitored(
                "output",
                _("%(figure)s, year to date") % {"figure": self.figure_name},
                self.output_total,
                self.output_year_ago,
                is_money=True,
            ),
            Monitored("firms", _("Firms in the cluster"), now["firms"], before["firms"]),
            Monitored("listed", _("Listed firms"), now["listed"], before["listed"]),
        ]
        for designation in WATCHED_DESIGNATIONS:
            figures.append(
                Monitored(
                    designation,
                    _("Firms holding a valid designation: %(type)s")
                    % {"type": DesignationType(designation).label},
                    now.get(designation, 0),
                    before.get(designation, 0),
                )
            )
        return figures

    # -- pipelines

    @cached_property
    def threshold_pipelines(self) -> list[tuple[Target, list[FirmLine]]]:
        """For each threshold target, the firms at half the threshold or more but not over
        it, with the gap each needs on their year completed with the usual seasonality (at
        the deadline quarter the year is complete: the gap is the one left); the city's
        stored part, the scope's rows of it."""
        if self.as_of.vintage is None:
            return []
        pipelines = []
        for target in self.targets:
            if target.metric.kind != Metric.Kind.COUNT_FIRMS_OVER:
                continue
            part = self.stored.get(
                _key("pipeline", target), lambda target=target: self._pipeline_part(target)
            )
            rows = [
                [pk, district, direction, decimal(value), decimal(gap)]
                for pk, district, direction, value, gap in part
                if self._in_scope(district, direction)
            ]
            district = self.scope.district.pk if self.scope.district else None
            pipelines.append((target, firm_lines(target.metric, rows, self.user, district)))
        return pipelines

    def _firms(self):
        return counted_firms(self.as_of.quarter.end, self.scope.metrics_scope).visible_to(self.user)

    @cached_property
    def ipo_filings(self) -> list[Milestone]:
        """Firms with an IPO filing accepted in the last two years and not listed yet."""
        day = self.as_of.quarter.end
        listed = Listing.objects.listings().filter(
            enterprise=OuterRef("enterprise"), listed_on__lte=day
        )
        return list(
            Milestone.objects.filter(
                kind=MilestoneKind.IPO_FILING_ACCEPTED,
                occurred_on__gt=day - dt.timedelta(days=IPO_PIPELINE_DAYS),
                occurred_on__lte=day,
                enterprise__in=self._firms().values("pk"),
            )
            .exclude(Exists(listed))
            .select_related("enterprise__district")
            .order_by("occurred_on", "pk")[:PIPELINE_SHOWN]
        )

    @property
    def expiry_horizon(self) -> dt.date:
        """Designations expiring before this date are watched: the plan's deadline while it
        is in force, else a year from the quarter's end."""
        day = self.as_of.quarter.end
        if self.phase.shows_projection and self.targets:
            return max(t.deadline for t in self.targets)
        return day + dt.timedelta(days=365)

    @cached_property
    def expiring_designations(self) -> list[Designation]:
        """Gazelle and unicorn-cultivation designations valid now that expire before the
        horizon: firms that drop out of the count unless renewed."""
        day = self.as_of.quarter.end
        renewed = Designation.objects.filter(
            enterprise=OuterRef("enterprise"),
            type=OuterRef("type"),
            valid_from__gt=day,
        )
        return list(
            Designation.objects.valid_on(day)
            .filter(
                type__in=EXPIRY_WATCHED,
                valid_to__lt=self.expiry_horizon,
                enterprise__in=self._firms().values("pk"),
            )
            .exclude(Exists(renewed))
            .select_related("enterprise__district")
            .order_by("valid_to", "pk")
        )

    # -- alerts and completeness

    def alerts_queryset(self):
        cluster = self.scope.cluster
        # The cluster's firms among those with an alert: the planner hashes the set an OR
        # tests, and every member of a national cluster cost more than the alerts.
        alerted = Alert.objects.active().filter(enterprise__isnull=False).values("enterprise_id")
        of_cluster = ClusterMembership.objects.filter(
            cluster=cluster, enterprise_id__in=alerted
        ).values("enterprise_id")
        # Another cluster's target alerts, and alerts on firms outside this cluster, belong to
        # the other cluster's pages; district-wide alerts (reports overdue) to every one.
        alerts = (
            Alert.objects.visible_to(self.user)
            .active()
            .filter(Q(target__isnull=True) | Q(target__plan__cluster=cluster))
            .filter(Q(enterprise__isnull=True) | Q(enterprise_id__in=of_cluster))
        )
        if self.scope.district:
            district_id = self.scope.district.pk
            alerts = alerts.filter(Q(owner_id=district_id) | Q(district_id=district_id))
        if self.scope.direction:
            direction_id = self.scope.direction.pk
            in_direction = ClusterMembership.objects.filter(
                enterprise=OuterRef("enterprise"),
                cluster=cluster,
                sector__parent_id=direction_id,
            )
            alerts = alerts.filter(Exists(in_direction))
        return alerts

    @cached_property
    def alerts(self) -> list[Alert]:
        return first_alerts(
            self.alerts_queryset().filter(
                Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=self.today)
            ),
            ALERTS_SHOWN,
        )

    @cached_property
    def alert_counts(self) -> dict[int, int]:
        counts = {
            row["severity"]: row["n"]
            for row in self.alerts_queryset().values("severity").annotate(n=Count("pk"))
        }
        return {severity: counts.get(severity, 0) for severity in reversed(Severity.values)}

    @property
    def alerts_total(self) -> int:
        return sum(self.alert_counts.values())

    @cached_property
    def completeness(self) -> list[CompletenessCell]:
        """Reporting of the quarter shown, per district in scope (a firm reports once,
        whatever the number of its clusters)."""
        quarter = self.as_of.quarter
        counts = stored_completeness(quarter)
        cells = [row[0] for row in completeness(self.user, [quarter], self.today, counts=counts)]
        if self.scope.district:
            cells = [c for c in cells if c.district.pk == self.scope.district.pk]
        return cells

    @property
    def completeness_total(self) -> CompletenessCell:
        total = CompletenessCell(district=None, quarter=self.as_of.quarter)
        for cell in self.completeness:
            for name in ("expected", "entered", "submitted", "approved", "returned"):
                setattr(total, name, getattr(total, name) + getattr(cell, name))
            total.past_deadline = cell.past_deadline
            total.deadline = cell.deadline
        return total


# --- the firms behind the numbers ------------------------------------------------------------

FIRM_ORDERINGS = {
    "name": ("name_zh", "pk"),
    "-name": ("-name_zh", "-pk"),
    "output": ("ytd", "pk"),
    "-output": ("-ytd", "pk"),
    "growth": (F("growth").asc(nulls_first=True), "pk"),
    "-growth": (F("growth").desc(nulls_last=True), "pk"),
    "district": ("district__sort_order", "name_zh", "pk"),
}


def _with_sums(firms, as_of: AsOf, figure: str):
    """Firms with their year-to-date `figure` at the quarter shown (`ytd`), last year's for
    the same period (`ytd_last`) and the growth: one join of the firms to their rows of the
    two years (the figures' vintage in the join's condition), grouped by firm."""
    quarter = as_of.quarter
    money = DecimalField(max_digits=20, decimal_places=2)
    name, rows = as_of.figures.of_firm(
        year__in=[quarter.year - 1, quarter.year], quarter__lte=quarter.quarter
    )

    def ytd(year):
        return Coalesce(
            Sum(f"{name}__{figure}", filter=Q(**{f"{name}__year": year})),
            Value(ZERO),
            output_field=money,
        )

    return (
        firms.annotate(**{name: rows})
        .annotate(ytd=ytd(quarter.year), ytd_last=ytd(quarter.year - 1))
        .annotate(
            # In floating point: SQLite would divide the stored decimals as integers.
            growth=ExpressionWrapper(
                Cast("ytd", FloatField()) * 100.0 / NullIf(Cast("ytd_last", FloatField()), 0.0)
                - 100.0,
                output_field=FloatField(),
            )
        )
    )


ALERT_ORDER = ("-severity", "-opened_at", "-pk")


def first_alerts(alerts, count: int, related=("rule", "owner", "enterprise", "target")):
    """The `count` most severe (then newest) of `alerts`, with what they name. Picked on the
    alert table alone, then joined: joined first, the planner hashed every firm of the city
    to keep eight alerts."""
    shown = alerts.order_by(*ALERT_ORDER).values("pk")[:count]
    return list(Alert.objects.filter(pk__in=shown).select_related(*related).order_by(*ALERT_ORDER))


# A stored line of the firm table (StoredFirmRow's fields) and what each is read from.
FIRM_ROW = {
    "enterprise": "pk",
    "district": "district_id",
    "direction": "memberships__sector__parent",
    "ytd": "ytd",
    "ytd_last": "ytd_last",
    "growth": "growth",
}


def firm_rows_firms(cluster: Cluster, as_of: AsOf, enterprise_ids=None):
    """The firms with a line in the city's firm table: every counted firm (or those given
    among them)."""
    firms = counted_firms(as_of.quarter.end, Scope(cluster_id=cluster.pk))
    if enterprise_ids is not None:
        firms = firms.filter(pk__any=enterprise_ids)
    return firms


def firm_rows_part(cluster: Cluster, as_of: AsOf, figure: str, enterprise_ids=None):
    """The city's lines of the firm table: every counted firm (or those given) with its
    year-to-date figure, last year's and the growth — values_list(*FIRM_ROW.values()) are
    StoredFirmRow's FIRM_ROW fields. A queryset: the job stores it without reading it."""
    return _with_sums(firm_rows_firms(cluster, as_of, enterprise_ids), as_of, figure)


def firms_behind(
    user,
    scope: BoardScope,
    as_of: AsOf,
    *,
    figure: str,
    search: str = "",
    order: str = "",
    stored: bool = False,
):
    """The firms of a scope counted at the quarter shown, each with its year-to-date
    `figure` (the board's: its 口径), last year's for the same period and the growth;
    sortable and searchable. `stored`: the cluster's figures are stored through the newest
    vintage shown, and the lines are read from the store (StoredFirmRow: an index gives a
    scope's largest firms first); otherwise the sums are computed (_with_sums). Either way a
    page of firms costs one query whatever their number, and their number another."""
    quarter = as_of.quarter
    base = counted_firms(quarter.end, scope.metrics_scope).visible_to(user)
    if stored:
        lines = {
            "stored_rows__cluster": scope.cluster,
            "stored_rows__year": quarter.year,
            "stored_rows__quarter": quarter.quarter,
            "stored_rows__basis": as_of.basis,
            "stored_rows__figure": figure,
        }
        if scope.district:
            lines["stored_rows__district"] = scope.district
        if scope.direction:
            lines["stored_rows__direction"] = scope.direction
        base = Enterprise.objects.visible_to(user).filter(**lines)
        firms = base.annotate(
            ytd=F("stored_rows__ytd"),
            ytd_last=F("stored_rows__ytd_last"),
            growth=F("stored_rows__growth"),
        )
    else:
        firms = _with_sums(base, as_of, figure)
    firms = firms.select_related("district").annotate(
        material=Subquery(
            ClusterMembership.objects.valid_on(quarter.end)
            .filter(enterprise=OuterRef("pk"), cluster=scope.cluster)
            .values(
                "sector__name_en" if (get_language() or "").startswith("en") else "sector__name_zh"
            )[:1]
        )
    )
    if search:
        found = Q(name_zh__icontains=search) | Q(name_en__icontains=search) | Q(uscc=search.upper())
        firms, base = firms.filter(found), base.filter(found)
    rows = firms.order_by(*FIRM_ORDERINGS.get(order, FIRM_ORDERINGS["-output"]))
    if stored and not search:
        # One stored line a firm (stored_firm_unique): their number is read on the lines'
        # index, without the firms.
        counted = scope_of(user).filter(
            StoredFirmRow.objects.filter(
                **{name.removeprefix("stored_rows__"): value for name, value in lines.items()}
            ),
            "enterprise__district",
        )
        return FirmRows(rows, counted)
    return FirmRows(rows, base.values("pk").distinct())


@dataclass
class FirmRows:
    """The firms behind a scope's numbers, for a paginator: the grouped rows, sliced for a
    page, and their number counted apart (`counted`: the same firms, without the sums)."""

    rows: object
    counted: object
    ordered = True

    def count(self) -> int:
        return self.counted.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        return self.rows[key]

    def __iter__(self):
        return iter(self.rows)
