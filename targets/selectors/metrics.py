"""Evaluate a metric at the end of a quarter, for the city and broken down by district and
focus direction, with a projection to the target's deadline (for a yearly flow, to the end of
the year, against the year's goal).

Everything is aggregated by the database: each metric costs a handful of queries whatever the
number of firms. Python only touches the few rows above (or close to) a threshold.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import product

from django.db import connection
from django.db.models import Count, FilteredRelation, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cluster.formatting import yuan_as_yi
from cluster.quarters import Quarter
from enterprises.choices import EnterpriseStatus, MilestoneKind, ProjectStatus
from enterprises.models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportRevision,
    ResearchProject,
)

from ..choices import Basis
from ..models import Assessment, Metric, StoredSeasonality, Target, both_languages
from .schedule import year_goal

ZERO = Decimal(0)
TENTH = Decimal("0.1")
# Every figure a sum, a threshold or a ratio can read: each year-to-date pass sums them all.
FIGURES = tuple(Metric.Figure.values)
PIPELINE_FLOOR = Decimal("0.5")  # firms at half the threshold or more are "just below"
SEASONAL_YEARS = 3
# The longest a change may take from its stamp (an approval's moment, a report's updated_at)
# to its commit — a large import's: what is stored checks that far back for late commits.
LATE_COMMIT = dt.timedelta(minutes=10)
IPO_PIPELINE_DAYS = 730


@dataclass(frozen=True)
class Figures:
    """Which report figures count: the approved revisions as known at `vintage`, or, in
    preview, the current figures of submitted and approved reports."""

    basis: str
    vintage: dt.datetime
    # Aggregates already read with these figures (seasonality per statistical scope and
    # year): one recompute or one page asks for the same ones several times.
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    # A job's figures: what it reads is stored for the next (StoredSeasonality).
    keep: bool = field(default=False, compare=False)

    @classmethod
    def latest(cls, basis: str = Basis.APPROVED, *, keep: bool = False) -> Figures:
        """The newest vintage: the last approval (or, in preview, the last change of any
        report: a report sent back leaves the preview, and the vintage must move on)."""
        if basis == Basis.APPROVED:
            moment = ReportRevision.objects.aggregate(m=Max("approved_at"))["m"]
        else:
            moment = QuarterlyReport.objects.aggregate(m=Max("updated_at"))["m"]
        return cls(basis, moment or timezone.now().replace(microsecond=0), keep=keep)

    def rows(self):
        # Unordered: the models' default orderings join the firm and the report, which every
        # aggregate over these rows would pay for.
        if self.basis == Basis.APPROVED:
            return ReportRevision.objects.as_of(self.vintage).order_by()
        return QuarterlyReport.objects.filter(self.previewed()).order_by()

    def of_firm(self, **lookups) -> tuple[str, FilteredRelation]:
        """The same rows seen from the firm, narrowed by `lookups` on the rows' fields: a
        name and the FilteredRelation to annotate the firms with under it, so that an
        aggregate over a firm's rows is one join, not a subquery per firm."""
        if self.basis == Basis.APPROVED:
            relation = "approved_revisions"
            counted = ReportRevision.known_at(self.vintage, f"{relation}__")
        else:
            relation = "reports"
            counted = self.previewed(f"{relation}__")
        prefixed = Q(**{f"{relation}__{name}": value for name, value in lookups.items()})
        return f"counted_{relation}", FilteredRelation(relation, condition=counted & prefixed)

    @staticmethod
    def previewed(prefix: str = "") -> Q:
        return Q(**{f"{prefix}status__in": ["submitted", "approved"]})


@dataclass(frozen=True)
class Scope:
    """What a figure covers: one cluster, in the whole city or one district, in all its
    sectors or one focus direction."""

    cluster_id: int
    district_id: int | None = None
    direction_id: int | None = None

    @classmethod
    def of(cls, target: Target) -> Scope:
        sector = target.sector
        direction = None if sector is None else (sector.parent_id or sector.pk)
        return cls(
            cluster_id=target.plan.cluster_id,
            district_id=target.district_id,
            direction_id=direction,
        )


def counting(day: dt.date, scope: Scope, prefix: str = "") -> Q:
    """The one owner of "this firm counts in the scope on `day`": a member of the cluster
    then (joined, not yet left), active or leaving later, in the scope's district and focus
    direction. `prefix` leads from the rows filtered to the firm ("enterprise__").

    One Q for one filter() call, so that the membership it joins is the one the rows are then
    grouped by (enterprise__memberships__sector__parent is the firm's direction in this
    cluster)."""
    membership = f"{prefix}memberships__"
    condition = ClusterMembership.valid_q(day, membership) & Q(
        **{f"{membership}cluster_id": scope.cluster_id}
    )
    condition &= Q(**{f"{prefix}status": EnterpriseStatus.ACTIVE}) | Q(
        **{f"{membership}left_on__gte": day}
    )
    if scope.district_id:
        condition &= Q(**{f"{prefix}district_id": scope.district_id})
    if scope.direction_id:
        condition &= Q(**{f"{membership}sector__parent_id": scope.direction_id})
    return condition


# The firm's focus direction and material in the cluster, reached through the membership
# that `counting` joined.
DIRECTION = "enterprise__memberships__sector__parent"
MATERIAL = "enterprise__memberships__sector"


def counted_firms(day: dt.date, scope: Scope):
    """Firms that count on `day` in the scope."""
    return Enterprise.objects.filter(counting(day, scope))


@dataclass
class Evaluation:
    actual: Decimal
    projection: Decimal | None = None
    run_rate_needed: Decimal | None = None
    note: dict = field(default_factory=dict)
    by_district: dict = field(default_factory=dict)
    by_direction: dict = field(default_factory=dict)
    projection_by_district: dict = field(default_factory=dict)
    projection_by_direction: dict = field(default_factory=dict)
    counted: frozenset[int] = frozenset()
    seasonal_share: Decimal | None = None
    # A qualitative target: the steward's assessment that applies at the quarter's end.
    assessment: Assessment | None = None


def _yi(value: Decimal) -> str:
    return yuan_as_yi(value, places=1)


def _q(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def seasonal_rows(figures: Figures, year: int) -> list[dict]:
    """Every figure's totals per district and quarter of the complete years before `year`:
    one grouped query, or, for the approved figures, the stored rows (StoredSeasonality)
    while they are those of `figures` — a job's half-second query became two ranges of the
    index of approval moments. They are while the firms are unchanged (their newest change
    and number), no revision of those years was approved between the two vintages (a
    supersession always comes with an approval), and those approved in the LATE_COMMIT
    before the stored vintage are as many as when it was stored (one stamped before it and
    committed after is counted)."""
    years = {"year__gte": year - SEASONAL_YEARS, "year__lt": year}
    if figures.basis != Basis.APPROVED:
        return _seasonal_query(figures, years)
    firms = Enterprise.objects.aggregate(at=Max("updated_at"), n=Count("pk"))
    stored = StoredSeasonality.objects.filter(basis=figures.basis, year=year).first()
    if stored is not None and (stored.firms_at, stored.firms) == (firms["at"], firms["n"]):
        earlier, later = sorted((stored.vintage, figures.vintage))
        late = Q(approved_at__gt=stored.vintage - LATE_COMMIT, approved_at__lte=stored.vintage)
        between = Q(approved_at__gt=earlier, approved_at__lte=later)
        known = (
            ReportRevision.objects.filter(late | between, **years)
            .order_by()
            .aggregate(late=Count("pk", filter=late), between=Count("pk", filter=between))
        )
        if (known["late"], known["between"]) == (stored.approvals, 0):
            return [
                {
                    name: Decimal(v) if name.startswith("total_") and v is not None else v
                    for name, v in row.items()
                }
                for row in stored.rows
            ]
    # Counted before the rows: one committed in between is in the rows, not in the count,
    # and the next read computes them again (never the other way round).
    approvals = ReportRevision.objects.filter(
        **years,
        approved_at__gt=figures.vintage - LATE_COMMIT,
        approved_at__lte=figures.vintage,
    ).count()
    rows = _seasonal_query(figures, years)
    if figures.keep:
        _seasonality_keep(figures, year, firms, approvals, rows)
    return rows


def _seasonality_keep(figures: Figures, year: int, firms: dict, approvals: int, rows) -> None:
    """A job's rows stored (never a page's), by the first job to reach them: another job
    writing them holds their advisory lock to its commit, and this one leaves them to it
    rather than wait inside its transaction (it could hold locks the other waits for)."""
    if not lock_if_free("seasonality", figures.basis, year):
        return
    StoredSeasonality.objects.bulk_create(
        [
            StoredSeasonality(
                basis=figures.basis,
                year=year,
                vintage=figures.vintage,
                firms_at=firms["at"],
                firms=firms["n"],
                approvals=approvals,
                rows=rows,
            )
        ],
        update_conflicts=True,
        unique_fields=["basis", "year"],
        update_fields=["vintage", "firms_at", "firms", "approvals", "rows", "computed_at"],
    )


def lock_if_free(*key) -> bool:
    """A transaction-level advisory lock on `key`, if free (PostgreSQL; elsewhere one
    process writes at a time anyway): held to the commit, it keeps other jobs from writing
    what this one writes (they skip it rather than wait)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", ["/".join(map(str, key))])
        return cursor.fetchone()[0]


def _seasonal_query(figures: Figures, years: dict) -> list[dict]:
    return list(
        figures.rows()
        .filter(**years)
        .values("enterprise__district", "year", "quarter")
        .annotate(**{_total(figure): Sum(figure) for figure in FIGURES})
    )


class Seasonality:
    """Each district's historical share of the annual figure reached by the end of each
    quarter (cumulative), from the complete years before the one evaluated."""

    @classmethod
    def of(cls, figures: Figures, metric: Metric, year: int) -> Seasonality:
        key = ("seasonality", metric.figure, year)
        if key not in figures.memo:
            figures.memo[key] = cls(figures, metric, year)
        return figures.memo[key]

    @staticmethod
    def _rows(figures: Figures, year: int) -> list[dict]:
        """Every figure's totals per district and quarter of the complete years before
        `year`: one grouped query per year, whichever figures the targets use."""
        key = ("seasonal rows", year)
        if key not in figures.memo:
            figures.memo[key] = seasonal_rows(figures, year)
        return figures.memo[key]

    def __init__(self, figures: Figures, metric: Metric, year: int) -> None:
        by = defaultdict(lambda: defaultdict(dict))
        for row in self._rows(figures, year):
            by[row["enterprise__district"]][row["year"]][row["quarter"]] = (
                row[_total(metric.figure)] or ZERO
            )
        self.district_shares: dict[int, list[Decimal]] = {}
        city = defaultdict(lambda: [ZERO] * 5)
        self.annual_city: dict[int, Decimal] = {}
        for district, years in by.items():
            sums = [ZERO] * 5  # index 1..4: cumulative totals over complete years; 0: annual
            for year, quarters in years.items():
                if len(quarters) < 4:
                    continue
                running = ZERO
                for q in (1, 2, 3, 4):
                    running += quarters[q]
                    sums[q] += running
                    city[year][q] += running
                sums[0] += running
            if sums[0] > 0:
                self.district_shares[district] = [sums[q] / sums[0] for q in range(5)]
        for year, cumulative in city.items():
            self.annual_city[year] = cumulative[4]
        total_annual = sum(self.annual_city.values(), ZERO)
        self.city_share = [
            (sum((c[q] for c in city.values()), ZERO) / total_annual) if total_annual else None
            for q in range(5)
        ]

    def smallest_share(self, quarter: int) -> Decimal:
        """The smallest share of the year any district (or the city) usually has by the end
        of `quarter`: the firm whose year completes the most from its figure so far."""
        return min(
            [self.share(None, quarter)] + [self.share(d, quarter) for d in self.district_shares]
        )

    def share(self, district_id: int | None, quarter: int) -> Decimal:
        shares = self.district_shares.get(district_id)
        if shares and shares[quarter] > 0:
            return shares[quarter]
        if self.city_share[quarter]:
            return self.city_share[quarter]
        return Decimal(quarter) / 4

    def growth(self) -> Decimal:
        """Annual growth of the city total over the last two complete years (0 if unknown)."""
        years = sorted(self.annual_city)
        if len(years) >= 2 and self.annual_city[years[-2]] > 0:
            return self.annual_city[years[-1]] / self.annual_city[years[-2]] - 1
        return ZERO


def _years_to_deadline(quarter: Quarter, target: Target) -> int:
    return max(target.deadline.year - quarter.year, 0)


def evaluate(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    """Where the target stands at the end of `quarter` with `figures`. Kept in the figures'
    memo: the progress job's snapshots and the page parts it stores next (the firms a
    threshold target counts) read the same evaluation."""
    key = ("evaluation", target.pk, target.rule_version, quarter)
    if key not in figures.memo:
        figures.memo[key] = _evaluate(target, quarter, figures)
    return figures.memo[key]


def _evaluate(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    metric = target.metric
    handler = {
        Metric.Kind.SUM_OUTPUT: _sum_output,
        Metric.Kind.COUNT_FIRMS_OVER: _count_firms_over,
        Metric.Kind.COUNT_LISTED: _count_listed,
        Metric.Kind.COUNT_DESIGNATED: _count_designated,
        Metric.Kind.COUNT_PROJECTS: _count_projects,
        Metric.Kind.COUNT_NEW_MEMBERS: _count_new_members,
        Metric.Kind.RATIO: _ratio,
        Metric.Kind.QUALITATIVE: _qualitative,
    }[metric.kind]
    return handler(target, quarter, figures)


def year_to_date(figures: Figures, quarter: Quarter, scope: Scope):
    """The report rows of the year up to `quarter` of the firms counted at its end, joined to
    their membership of the scope's cluster (group them by DIRECTION or MATERIAL)."""
    return figures.rows().filter(
        counting(quarter.end, scope, "enterprise__"),
        year=quarter.year,
        quarter__lte=quarter.quarter,
    )


def _total(figure: str) -> str:
    """The name of the sum of `figure` (not the field's own name)."""
    return f"total_{figure}"


def _with(figure: str, other: str) -> str:
    """The name of the sum of `figure` over the reports that give `other` too."""
    return f"{figure}_with_{other}"


def _in_scope(row: dict, scope: Scope) -> bool:
    """Whether a row of the cluster's groups (or firms) belongs to the scope's district and
    focus direction."""
    return (not scope.district_id or row["enterprise__district"] == scope.district_id) and (
        not scope.direction_id or row[DIRECTION] == scope.direction_id
    )


def _year_to_date_key(quarter: Quarter, cluster_id: int) -> tuple:
    """The figures' memo key of a cluster's year-to-date sums up to `quarter`."""
    return ("year to date", quarter, cluster_id)


def year_to_date_sums(figures: Figures, quarter: Quarter, scope: Scope) -> list[dict]:
    """The year-to-date sums up to `quarter` of every figure, per district and focus
    direction of the scope's cluster, and of every two figures over the reports that give
    both (a ratio's numerator and denominator): the groups of the scope's district and
    direction. One grouped query per quarter and cluster, kept in the figures' memo, whatever
    the targets: every sum, ratio, district and direction of the cluster reads it."""
    key = _year_to_date_key(quarter, scope.cluster_id)
    if key not in figures.memo:
        sums = {_total(figure): Sum(figure) for figure in FIGURES}
        for one, other in product(FIGURES, repeat=2):
            both = Q(**{f"{one}__isnull": False, f"{other}__isnull": False})
            sums[_with(one, other)] = Sum(one, filter=both)
        # By material (each within its direction): the dashboard's output part reads this
        # year's half of its rows from here (year_to_date_by_material).
        figures.memo[key] = list(
            year_to_date(figures, quarter, Scope(scope.cluster_id))
            .values("enterprise__district", MATERIAL, DIRECTION)
            .annotate(**sums)
        )
    return [row for row in figures.memo[key] if _in_scope(row, scope)]


def year_to_date_by_material(
    figures: Figures, quarter: Quarter, cluster_id: int, figure: str
) -> list[tuple[int | None, int | None, Decimal | None]] | None:
    """(district, material, sum) of `figure` up to `quarter` of the cluster's counted firms,
    when `year_to_date_sums` read them already with these figures; None otherwise."""
    rows = figures.memo.get(_year_to_date_key(quarter, cluster_id))
    if rows is None:
        return None
    return [(row["enterprise__district"], row[MATERIAL], row[_total(figure)]) for row in rows]


def _by_district_and_direction(rows: list[dict], name: str, *, both=False) -> tuple[dict, dict]:
    """The sums `name` of the groups, by district and by focus direction. For the sums over
    the reports that give `both` figures of a ratio, a group where none does (None) is left
    out, not counted as zero."""
    by_district, by_direction = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    for row in rows:
        if both and row[name] is None:
            continue
        by_district[row["enterprise__district"]] += row[name] or ZERO
        by_direction[row[DIRECTION]] += row[name] or ZERO
    return dict(by_district), dict(by_direction)


def _sum_output(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    metric = target.metric
    by_district, by_direction = _by_district_and_direction(
        year_to_date_sums(figures, quarter, Scope.of(target)), _total(metric.figure)
    )
    actual = sum(by_district.values(), ZERO)
    seasons = Seasonality.of(figures, metric, quarter.year)
    growth = seasons.growth()
    factor = (1 + growth) ** _years_to_deadline(quarter, target)
    projection_by_district = {
        d: value / seasons.share(d, quarter.quarter) * factor for d, value in by_district.items()
    }
    projection = sum(projection_by_district.values(), ZERO)
    year_end = projection / factor
    city_share = actual / year_end if year_end else seasons.share(None, quarter.quarter)
    projection_by_direction = {
        d: value / city_share * factor if city_share else value for d, value in by_direction.items()
    }
    run_rate = None
    remaining = 4 - quarter.quarter
    if quarter.year == target.deadline.year and remaining:
        run_rate = max(target.target_value - actual, ZERO) / remaining

    def note():
        text = _(
            "Year to date %(ytd)s; with each district's usual share of the year reached by "
            "Q%(q)s (city average %(share).1f%%), the year ends near %(year_end)s."
        ) % {
            "ytd": _yi(actual),
            "q": quarter.quarter,
            "share": float(city_share or 0) * 100,
            "year_end": _yi(year_end),
        }
        if factor != 1:
            text += " " + _(
                "At the recent annual growth of %(growth).1f%%, %(year)s reaches %(value)s."
            ) % {
                "growth": float(growth) * 100,
                "year": target.deadline.year,
                "value": _yi(projection),
            }
        if run_rate is not None:
            text += " " + _("Reaching the target needs %(rate)s in each remaining quarter.") % {
                "rate": _yi(run_rate)
            }
        return text

    return Evaluation(
        actual=_q(actual),
        projection=_q(projection),
        run_rate_needed=None if run_rate is None else _q(run_rate),
        note=both_languages(note),
        by_district={k: _q(v) for k, v in by_district.items()},
        by_direction={k: _q(v) for k, v in by_direction.items()},
        projection_by_district={k: _q(v) for k, v in projection_by_district.items()},
        projection_by_direction={k: _q(v) for k, v in projection_by_direction.items()},
        seasonal_share=city_share,
    )


def candidate_floor(metric: Metric, seasons: Seasonality, quarter: Quarter) -> Decimal:
    """The one owner of "which firms can matter for a threshold": a firm whose year-to-date
    figure, completed with the most seasonal district's share of the year, stays under half
    the threshold is not in the pipeline (half the threshold or more), does not count, and
    is not projected to while the growth to the deadline at most doubles a figure (the
    projection's factor ≤ 2; past it, the count reads from its own lower floor and
    _count_firms_over takes the lower of the two). The threshold target's count and its
    pipeline read the same candidates."""
    return metric.threshold * PIPELINE_FLOOR * seasons.smallest_share(quarter.quarter)


def firm_totals(figures: Figures, metric: Metric, quarter: Quarter, scope: Scope, floor: Decimal):
    """Year-to-date totals of the scope's firms at `floor` or above (candidates, not the
    rule): a few rows, aggregated by the database. One query per quarter, cluster and figure
    at the lowest floor asked so far (kept in the figures' memo): the city's, the
    districts' and the directions' targets and pipelines of the figure share it."""
    key = ("firm totals", quarter, scope.cluster_id, metric.figure)
    held = figures.memo.get(key)
    if held is None or held[0] > floor:
        rows = list(
            year_to_date(figures, quarter, Scope(scope.cluster_id))
            .values("enterprise", "enterprise__district", DIRECTION)
            .annotate(total=Sum(metric.figure))
            .filter(total__gte=floor)
        )
        figures.memo[key] = held = (floor, rows)
    return [row for row in held[1] if row["total"] >= floor and _in_scope(row, scope)]


def _count_firms_over(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    metric = target.metric
    threshold = metric.threshold
    seasons = Seasonality.of(figures, metric, quarter.year)
    factor = (1 + seasons.growth()) ** _years_to_deadline(quarter, target)
    floor = threshold * seasons.smallest_share(quarter.quarter) / max(factor, Decimal(1))
    candidates = firm_totals(
        figures,
        metric,
        quarter,
        Scope.of(target),
        # With a projection factor past 2, the pipeline's floor is above the count's own.
        min(floor, candidate_floor(metric, seasons, quarter)),
    )
    counted, projected = set(), set()
    by_district, by_direction = defaultdict(int), defaultdict(int)
    projection_by_district, projection_by_direction = defaultdict(int), defaultdict(int)
    for row in candidates:
        district, direction = row["enterprise__district"], row[DIRECTION]
        if metric.passes(row["total"]):
            counted.add(row["enterprise"])
            by_district[district] += 1
            by_direction[direction] += 1
        if metric.passes(row["total"] / seasons.share(district, quarter.quarter) * factor):
            projected.add(row["enterprise"])
            projection_by_district[district] += 1
            projection_by_direction[direction] += 1
    projected |= counted
    projection = Decimal(len(projected))

    def note():
        return _(
            "%(now)d firms pass the threshold with the year-to-date figures; "
            "%(more)d more pass it when each firm's year is completed with its district's "
            "usual seasonality%(growth)s."
        ) % {
            "now": len(counted),
            "more": len(projected) - len(counted),
            "growth": "" if factor == 1 else _(" and the recent annual growth"),
        }

    return Evaluation(
        actual=Decimal(len(counted)),
        projection=projection,
        note=both_languages(note),
        by_district={k: Decimal(v) for k, v in by_district.items()},
        by_direction={k: Decimal(v) for k, v in by_direction.items()},
        projection_by_district={k: Decimal(v) for k, v in projection_by_district.items()},
        projection_by_direction={k: Decimal(v) for k, v in projection_by_direction.items()},
        counted=frozenset(counted),
    )


def _grouped_count(queryset) -> tuple[dict, dict, set]:
    """Distinct firms per district and per focus direction, and the firm ids, of a queryset
    of rows that belong to firms (listings, designations), filtered with `counting`."""
    by_district = {
        r["enterprise__district"]: Decimal(r["n"])
        for r in queryset.values("enterprise__district").annotate(
            n=Count("enterprise", distinct=True)
        )
    }
    by_direction = {
        r[DIRECTION]: Decimal(r["n"])
        for r in queryset.values(DIRECTION).annotate(n=Count("enterprise", distinct=True))
    }
    ids = set(queryset.values_list("enterprise", flat=True).distinct())
    return by_district, by_direction, ids


def _firms_in(queryset) -> Decimal:
    """The number of distinct firms behind rows that belong to firms."""
    return Decimal(queryset.values("enterprise").distinct().count())


def counted_period(metric: Metric, day: dt.date) -> tuple[dt.date, dt.date] | None:
    """The one owner of the period a flow counts over at `day`: from the metric's start date
    (flow: 累计新增, new since the plan began), or from 1 January of the day's year (yearly:
    年认定数, new within the calendar year), to the day. None for a stock."""
    if metric.count_mode == Metric.CountMode.YEARLY:
        return dt.date(day.year, 1, 1), day
    if metric.count_mode == Metric.CountMode.FLOW:
        return metric.counted_since, day
    return None


def listings_counted(metric: Metric, day: dt.date, listings=None):
    """The listings that count on `day`: listed and not delisted then (stock), or listed
    within the metric's period (flow, yearly). A 新三板 quotation is never a listing."""
    listings = (listings if listings is not None else Listing.objects.all()).listings()
    period = counted_period(metric, day)
    if period is not None:
        return listings.filter(listed_on__range=period)
    return listings.filter(
        Q(listed_on__lte=day), Q(delisted_on__isnull=True) | Q(delisted_on__gt=day)
    )


def designations_counted(metric: Metric, day: dt.date, designations=None):
    """The designations of the metric's type that count on `day`: valid then (stock), or
    awarded within the metric's period (flow, yearly)."""
    designations = (designations if designations is not None else Designation.objects).filter(
        type=metric.designation_type
    )
    period = counted_period(metric, day)
    if period is not None:
        return designations.filter(valid_from__range=period)
    return designations.valid_on(day)


def projects_counted(metric: Metric, day: dt.date, projects=None):
    """The research projects that count on `day`: major, started by then (and within the
    metric's period, or since its start date if a stock has one), not terminated."""
    projects = (projects if projects is not None else ResearchProject.objects.all()).filter(
        is_major=True, started_on__lte=day
    )
    projects = projects.exclude(status=ProjectStatus.TERMINATED)
    period = counted_period(metric, day)
    since = period[0] if period is not None else metric.counted_since
    if since:
        projects = projects.filter(started_on__gte=since)
    return projects


def members_joined(target: Target, day: dt.date, scope: Scope | None = None):
    """The firms counting in the scope on `day` whose membership of the cluster began within
    the metric's period (累计新增: since the plan began; yearly: within the year; a stock of
    new members counts since the plan's start too). A firm that joined and left again is not
    an addition the cluster has; a member from the start (no date) is never new. One filter
    call, so that the membership `counting` joins is the one whose start is compared."""
    first, last = counted_period(target.metric, day) or (target.plan.starts_on, day)
    joined = Q(memberships__joined_on__gte=first, memberships__joined_on__lte=last)
    return Enterprise.objects.filter(counting(day, scope or Scope.of(target)) & joined)


def _quarters_left(quarter: Quarter, last_day: dt.date) -> int:
    return max(Quarter.from_date(last_day) - quarter, 0)


def _per_quarter(missing: Decimal, quarters: int) -> Decimal | None:
    """What each remaining quarter must add to close `missing` (None when none remains)."""
    if not quarters:
        return None
    return (max(missing, ZERO) / quarters).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class Pace:
    projection: Decimal
    run_rate_needed: Decimal | None
    note: dict


def _year_pace(target: Target, quarter: Quarter, actual: Decimal, count_on) -> Pace:
    """A yearly flow's projection to the year's end: this year so far, plus what came in
    the rest of last year (awards come in batches, often in the fourth quarter); without a
    last year, this year's pace. `count_on(day)` counts the flow of `day`'s year by `day`."""
    year = quarter.year
    same_day_last_year = quarter.end.replace(year=year - 1)
    last_year = count_on(dt.date(year - 1, 12, 31))
    if last_year:
        rest = max(last_year - count_on(same_day_last_year), ZERO)
    else:
        rest = (actual / quarter.quarter * (4 - quarter.quarter)).quantize(
            TENTH, rounding=ROUND_HALF_UP
        )
    projection = (actual + rest).quantize(TENTH, rounding=ROUND_HALF_UP)
    goal = year_goal(target, year)
    quarters = 4 - quarter.quarter
    run_rate = None if goal is None else _per_quarter(goal - actual, quarters)

    def note():
        values = {
            "year": year,
            "now": target.display_value(actual, places=0),
            "rest": target.display_value(rest, places=1),
            "day": same_day_last_year.isoformat(),
            "projection": target.display_value(projection, places=1),
        }
        if last_year:
            text = (
                _(
                    "%(now)s in %(year)s so far; last year %(rest)s more came after %(day)s, so "
                    "the year ends near %(projection)s."
                )
                % values
            )
        else:
            text = (
                _(
                    "%(now)s in %(year)s so far; with no figures of last year, at this year's pace "
                    "the year ends near %(projection)s."
                )
                % values
            )
        if goal is not None:
            text += " " + _("The goal of %(year)s is %(goal)s.") % {
                "year": year,
                "goal": target.display_value(goal, places=0),
            }
        if run_rate:
            text += " " + _("Reaching it needs %(rate)s more in each remaining quarter.") % {
                "rate": target.display_value(run_rate, places=1)
            }
        return text

    return Pace(projection, run_rate, both_languages(note))


def _count_listed(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    day = quarter.end
    scope = Scope.of(target)

    def listings_on(on: dt.date):
        return listings_counted(
            target.metric, on, Listing.objects.filter(counting(on, scope, "enterprise__"))
        )

    by_district, by_direction, ids = _grouped_count(listings_on(day))
    actual = Decimal(len(ids))
    if target.metric.count_mode == Metric.CountMode.YEARLY:
        pace = _year_pace(target, quarter, actual, lambda on: _firms_in(listings_on(on)))
        return Evaluation(
            actual=actual,
            projection=pace.projection,
            run_rate_needed=pace.run_rate_needed,
            note=pace.note,
            by_district=by_district,
            by_direction=by_direction,
            counted=frozenset(ids),
        )
    pipeline = (
        Milestone.objects.filter(
            kind=MilestoneKind.IPO_FILING_ACCEPTED,
            occurred_on__gt=day - dt.timedelta(days=IPO_PIPELINE_DAYS),
            occurred_on__lte=day,
            enterprise__in=counted_firms(day, scope).values("pk"),
        )
        .exclude(enterprise__in=ids)
        .values("enterprise")
        .distinct()
        .count()
    )

    def note():
        return _(
            "%(now)d firms listed; %(pipeline)d more have an IPO filing accepted in the last "
            "two years and are counted in the projection. A NEEQ quotation is not a listing."
        ) % {"now": len(ids), "pipeline": pipeline}

    return Evaluation(
        actual=actual,
        projection=actual + pipeline,
        note=both_languages(note),
        by_district=by_district,
        by_direction=by_direction,
        counted=frozenset(ids),
    )


def _count_designated(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    metric = target.metric
    day = quarter.end
    scope = Scope.of(target)

    def designations_on(on: dt.date):
        return Designation.objects.filter(
            counting(on, scope, "enterprise__"), type=metric.designation_type
        )

    designations = designations_on(day)
    current = designations_counted(metric, day, designations)
    by_district, by_direction, ids = _grouped_count(current)
    if metric.count_mode == Metric.CountMode.YEARLY:
        pace = _year_pace(
            target,
            quarter,
            Decimal(len(ids)),
            lambda on: _firms_in(designations_counted(metric, on, designations_on(on))),
        )
        return Evaluation(
            actual=Decimal(len(ids)),
            projection=pace.projection,
            run_rate_needed=pace.run_rate_needed,
            note=pace.note,
            by_district=by_district,
            by_direction=by_direction,
            counted=frozenset(ids),
        )
    still_valid = set(
        designations.valid_on(target.deadline)
        .filter(valid_from__lte=day)
        .values_list("enterprise", flat=True)
        .distinct()
    )
    years_left = max((target.deadline - day).days, 0) / 365
    recent_awards = (
        designations.filter(valid_from__gt=day - dt.timedelta(days=365 * 3), valid_from__lte=day)
        .values("enterprise")
        .distinct()
        .count()
    )
    expected_new = Decimal(recent_awards) / 3 * Decimal(str(round(years_left, 3)))
    projection = (
        Decimal(len(still_valid)) + expected_new
        if metric.count_mode == Metric.CountMode.STOCK
        else Decimal(len(ids)) + expected_new
    ).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def note():
        return _(
            "%(now)d firms hold a valid designation; %(kept)d of them are still valid on "
            "%(deadline)s, and at the pace of the last three years (%(pace).1f new a year) "
            "%(new).1f more are expected by then."
        ) % {
            "now": len(ids),
            "kept": len(still_valid),
            "deadline": target.deadline,
            "pace": recent_awards / 3,
            "new": float(expected_new),
        }

    return Evaluation(
        actual=Decimal(len(ids)),
        projection=projection,
        note=both_languages(note),
        by_district=by_district,
        by_direction=by_direction,
        counted=frozenset(ids),
    )


def _count_projects(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    metric = target.metric
    day = quarter.end

    def projects_on(on: dt.date):
        projects = projects_counted(metric, on).filter(clusters=target.plan.cluster_id)
        if target.district_id:
            projects = projects.filter(district_id=target.district_id)
        return projects

    projects = projects_on(day)
    by_district = {
        r["district"]: Decimal(r["n"]) for r in projects.values("district").annotate(n=Count("pk"))
    }
    actual = sum(by_district.values(), ZERO)
    counted = frozenset(projects.values_list("pk", flat=True))
    if metric.count_mode == Metric.CountMode.YEARLY:
        pace = _year_pace(target, quarter, actual, lambda on: Decimal(projects_on(on).count()))
        return Evaluation(
            actual=actual,
            projection=pace.projection,
            run_rate_needed=pace.run_rate_needed,
            note=pace.note,
            by_district=by_district,
            counted=counted,
        )
    start = metric.counted_since or target.plan.starts_on
    elapsed = max((day - start).days, 1)
    remaining = max((target.deadline - day).days, 0)
    projection = (actual + actual / elapsed * remaining).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )

    def note():
        return _(
            "%(now)d major projects started since %(since)s; at the same pace %(projection)s "
            "by %(deadline)s."
        ) % {
            "now": int(actual),
            "since": start,
            "projection": projection,
            "deadline": target.deadline,
        }

    return Evaluation(
        actual=actual,
        projection=projection,
        run_rate_needed=_per_quarter(
            target.target_value - actual, _quarters_left(quarter, target.deadline)
        ),
        note=both_languages(note),
        by_district=by_district,
        counted=counted,
    )


def _count_new_members(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    day = quarter.end
    firms = members_joined(target, day).order_by()
    by_district = {
        r["district"]: Decimal(r["n"])
        for r in firms.values("district").annotate(n=Count("pk", distinct=True))
    }
    by_direction = {
        r["memberships__sector__parent"]: Decimal(r["n"])
        for r in firms.values("memberships__sector__parent").annotate(n=Count("pk", distinct=True))
    }
    ids = frozenset(firms.values_list("pk", flat=True).distinct())
    actual = Decimal(len(ids))
    if target.metric.count_mode == Metric.CountMode.YEARLY:
        pace = _year_pace(
            target,
            quarter,
            actual,
            lambda on: Decimal(members_joined(target, on).values("pk").distinct().count()),
        )
        return Evaluation(
            actual=actual,
            projection=pace.projection,
            run_rate_needed=pace.run_rate_needed,
            note=pace.note,
            by_district=by_district,
            by_direction=by_direction,
            counted=ids,
        )
    start = (counted_period(target.metric, day) or (target.plan.starts_on, day))[0]
    elapsed = max((day - start).days, 1)
    remaining = max((target.deadline - day).days, 0)
    projection = (actual + actual / elapsed * remaining).quantize(TENTH, rounding=ROUND_HALF_UP)
    run_rate = _per_quarter(target.target_value - actual, _quarters_left(quarter, target.deadline))

    def note():
        text = _(
            "%(now)s joined the cluster since %(since)s (%(days)s days) and are still members; "
            "at the same pace %(projection)s by %(deadline)s."
        ) % {
            "now": target.display_value(actual, places=0),
            "since": start.isoformat(),
            "days": f"{elapsed:,}",
            "projection": target.display_value(projection, places=1),
            "deadline": target.deadline.isoformat(),
        }
        if run_rate:
            text += " " + _(
                "Reaching the target needs %(rate)s more in each remaining quarter."
            ) % {"rate": target.display_value(run_rate, places=1)}
        return text

    return Evaluation(
        actual=actual,
        projection=projection,
        run_rate_needed=run_rate,
        note=both_languages(note),
        by_district=by_district,
        by_direction=by_direction,
        counted=ids,
    )


PERCENT_PLACES = Decimal("0.01")


def _percent(numerator: Decimal, denominator: Decimal) -> Decimal:
    if not denominator:
        return ZERO
    return (numerator / denominator * 100).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def _ratio(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    """The year-to-date numerator over the year-to-date denominator, in percent, over the
    reports that give both figures (a report without its R&D figure is left out of both
    sums, not counted as zero R&D). The projection is the year-to-date value: a ratio is
    not accumulated over the year."""
    metric = target.metric
    rows = year_to_date_sums(figures, quarter, Scope.of(target))
    numerators = _by_district_and_direction(
        rows, _with(metric.figure, metric.denominator), both=True
    )
    denominators = _by_district_and_direction(
        rows, _with(metric.denominator, metric.figure), both=True
    )
    numerator = sum(numerators[0].values(), ZERO)
    denominator = sum(denominators[0].values(), ZERO)
    actual = _percent(numerator, denominator)
    by_district, by_direction = (
        {k: _percent(n, denominators[i][k]) for k, n in numerators[i].items()} for i in (0, 1)
    )

    def note():
        names = {
            "numerator_name": metric.figure_name(),
            "denominator_name": metric.figure_name(metric.denominator),
        }
        if not denominator:
            return (
                _(
                    "No firm of the cluster has reported both its %(numerator_name)s and its "
                    "%(denominator_name)s this year yet."
                )
                % names
            )
        return _(
            "Year to date, in the reports that give both figures: %(numerator_name)s "
            "%(numerator)s and %(denominator_name)s %(denominator)s, a ratio of %(ratio)s%%."
        ) % {
            **names,
            "numerator": yuan_as_yi(numerator),
            "denominator": yuan_as_yi(denominator),
            "ratio": actual,
        }

    return Evaluation(
        actual=actual,
        projection=actual,
        note=both_languages(note),
        by_district=by_district,
        by_direction=by_direction,
        projection_by_district=by_district,
        projection_by_direction=by_direction,
    )


def assessment_on(target: Target, day: dt.date) -> Assessment | None:
    """The one owner of "the assessment that applies on `day`": the latest the steward made
    by then (the last one entered, when two share a date)."""
    return (
        Assessment.objects.filter(target=target, assessed_on__lte=day)
        .order_by("-assessed_on", "-pk")
        .first()
    )


def _qualitative(target: Target, quarter: Quarter, figures: Figures) -> Evaluation:
    """Nothing is counted: the card follows the steward's latest assessment made by the
    quarter's end; no projection."""
    assessment = assessment_on(target, quarter.end)

    def note():
        if assessment is None:
            return _("Qualitative target: not assessed yet by %(day)s.") % {
                "day": quarter.end.isoformat()
            }
        return _("Assessed on %(day)s: %(status)s. %(summary)s (evidence: %(evidence)s)") % {
            "day": assessment.assessed_on.isoformat(),
            "status": assessment.get_status_display(),
            "summary": assessment.summary,
            "evidence": assessment.evidence,
        }

    return Evaluation(actual=ZERO, note=both_languages(note), assessment=assessment)
