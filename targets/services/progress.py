"""Progress against the targets: baselines, milestones, snapshots and status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.db import transaction
from django.db.models import Max

from cluster.models import District, Sector
from cluster.quarters import Quarter, quarter_range
from enterprises.models import QuarterlyReport

from ..choices import Basis, ScopeKind, Status
from ..models import Metric, ProgressSnapshot, Target, TargetMilestone
from ..selectors.metrics import Evaluation, Figures, counted_firms, evaluate
from ..selectors.metrics import Scope as MetricScope
from ..selectors.schedule import schedule_of, time_elapsed, year_end, year_goal

ZERO = Decimal(0)
CENT = Decimal("0.01")
# The name the progress job's own changes carry in the history (it has no user).
JOB = "progress job (targets.recompute_progress)"
REPORTED_KINDS = (Metric.Kind.SUM_OUTPUT, Metric.Kind.COUNT_FIRMS_OVER, Metric.Kind.RATIO)
# Figures that only count once their period is over: a year-to-date sum or ratio reaching the
# target in June has not reached it. A count of firms or projects that reaches it has, from
# that quarter (a later quarter's status says so if it falls back).
COMPLETE_ONLY_AT_THE_END = (Metric.Kind.SUM_OUTPUT, Metric.Kind.RATIO)


def _near(target: Target, value: Decimal | None, goal: Decimal | None) -> bool:
    """Within the target's at-risk margin of reaching it: short of the goal by at most
    (1 − at-risk ratio) of it; for 左右, that far beyond the tolerance, on either side."""
    if value is None:
        return False
    bound = target.target_value if goal is None else goal
    margin = bound * (1 - target.at_risk_ratio)
    if target.comparison == Target.Comparison.AROUND:
        return abs(value - bound) - (target.tolerance or 0) <= margin
    return value >= bound - margin


def status_of(
    target: Target,
    quarter: Quarter,
    actual: Decimal,
    projection: Decimal | None,
    *,
    assessed: str = "",
    part: Decimal | None = None,
) -> str:
    """Achieved, on track, at risk or off track at the end of `quarter` (`Target.meets` says
    what is reached). A yearly flow is judged within its year against the year's goal; a
    qualitative target is what the steward `assessed` (not applicable until assessed), and
    at its deadline only an achieved assessment is achieved. A district or direction with
    its own `part` of the target (任务分解: its target over the city's) is judged against
    that part of every goal."""
    metric = target.metric
    if metric.kind == Metric.Kind.QUALITATIVE:
        if not assessed:
            return Status.NOT_APPLICABLE
        if quarter.end >= target.deadline and assessed != Status.ACHIEVED:
            return Status.OFF_TRACK
        return assessed
    goal, over = None, quarter.end >= target.deadline
    if metric.count_mode == Metric.CountMode.YEARLY:
        goal = year_goal(target, quarter.year)
        over = quarter.end >= year_end(target, quarter.year)
    if part is not None:
        goal = (target.target_value if goal is None else goal) * part
    if target.meets(actual, goal) and (over or metric.kind not in COMPLETE_ONLY_AT_THE_END):
        return Status.ACHIEVED
    if over:
        return Status.OFF_TRACK
    if target.meets(projection, goal):
        return Status.ON_TRACK
    if _near(target, projection, goal):
        return Status.AT_RISK
    return Status.OFF_TRACK


# --- milestones -----------------------------------------------------------------------------


def _interpolate(points: list[tuple[dt.date, Decimal]], day: dt.date) -> Decimal | None:
    if not points:
        return None
    if day <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in pairwise(points):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * Decimal((day - d0).days) / Decimal((d1 - d0).days)
    return points[-1][1]


def milestone_expected(target: Target, quarter: Quarter, seasonal_share: Decimal | None):
    """The value expected at the end of `quarter`. For an annual sum, the year's milestone
    scaled by the share of the year usually reached by then; for a yearly flow, the year's
    goal scaled by the share of the year gone by (序时进度); for a ratio, the year's
    milestone itself; a qualitative target expects no value."""
    metric = target.metric
    if metric.kind == Metric.Kind.QUALITATIVE:
        return None
    if metric.count_mode == Metric.CountMode.YEARLY:
        goal = year_goal(target, quarter.year)
        if goal is None:
            return None
        share = time_elapsed(
            dt.date(quarter.year, 1, 1), dt.date(quarter.year, 12, 31), quarter.end
        )
        return (goal * share).quantize(CENT)
    points = [(m.due_on, m.expected_value) for m in target.milestones.all()]
    if target.baseline_year is not None and target.baseline_value is not None:
        points.insert(0, (dt.date(target.baseline_year, 12, 31), target.baseline_value))
    if metric.kind in COMPLETE_ONLY_AT_THE_END:
        annual = _interpolate(points, dt.date(quarter.year, 12, 31))
        if annual is None:
            return None
        if metric.kind == Metric.Kind.RATIO:
            return annual.quantize(CENT)
        share = seasonal_share if seasonal_share is not None else Decimal(quarter.quarter) / 4
        return (annual * share).quantize(CENT)
    value = _interpolate(points, quarter.end)
    return None if value is None else value.quantize(CENT)


def _baseline_from_data(target: Target, approved: Figures) -> Decimal | None:
    """The target's value at the end of its baseline year. Figures from reports count only
    when approved, and without an approved figure of that year in scope it is unknown;
    listings, designations and projects are dated in the register itself."""
    year_end = Quarter(target.baseline_year, 4)
    if target.metric.kind in REPORTED_KINDS:
        firms = counted_firms(year_end.end, MetricScope.of(target)).values("pk")
        if not approved.rows().filter(year=target.baseline_year, enterprise__in=firms).exists():
            return None
    return evaluate(target, year_end, approved).actual


def baseline_refresh(target: Target, approved: Figures) -> bool:
    """Compute the baseline of `target` from the approved figures of its baseline year,
    unless a steward set it by hand. The change is the job's: no user in its history. A
    qualitative target has none. Returns whether the value changed."""
    if (
        target.baseline_set_by_hand
        or target.baseline_year is None
        or target.metric.kind == Metric.Kind.QUALITATIVE
    ):
        return False
    value = _baseline_from_data(target, approved)
    if value == target.baseline_value:
        return False
    target.baseline_value = value
    target._history_user = None
    target._change_reason = (
        f"{JOB}: baseline from the approved figures of {target.baseline_year}"
        if value is not None
        else f"{JOB}: no approved figures of {target.baseline_year}, baseline unknown"
    )
    target.save(update_fields=["baseline_value"])
    return True


def _interpolated_milestones(target: Target, by_hand: dict[int, Decimal]) -> dict:
    """Due date → value of the yearly milestones from the baseline to the target value,
    linear between the known points: the baseline, the hand-set milestones, the target."""
    last = target.deadline.year
    points = sorted(
        {target.baseline_year: target.baseline_value, last: target.target_value, **by_hand}.items()
    )
    wanted = {}
    for year in range(target.baseline_year + 1, last + 1):
        if year in by_hand:
            continue
        (y0, v0), (y1, v1) = next((a, b) for a, b in pairwise(points) if a[0] < year <= b[0])
        due = target.deadline if year == last else dt.date(year, 12, 31)
        wanted[due] = (v0 + (v1 - v0) * Decimal(year - y0) / Decimal(y1 - y0)).quantize(CENT)
    return wanted


@transaction.atomic
def milestones_interpolate(target: Target) -> None:
    """Keep the interpolated milestones in line with the baseline and the hand-set
    milestones (which stay as the steward set them). Without a baseline nothing is
    interpolated. Writes only what changed."""
    current = list(target.milestones.all())
    by_hand = {m.due_on.year: m.expected_value for m in current if not m.interpolated}
    wanted = {}
    if target.baseline_value is not None and target.baseline_year is not None:
        wanted = _interpolated_milestones(target, by_hand)
    stale = [m for m in current if m.interpolated and wanted.get(m.due_on) != m.expected_value]
    kept = {m.due_on for m in current if m.interpolated and m not in stale}
    for milestone in stale:
        # The job's change, not the change of whoever's request happened to run the job.
        milestone._history_user = None
        milestone._change_reason = f"{JOB}: interpolated again"
        milestone.delete()
    TargetMilestone.objects.bulk_create(
        TargetMilestone(target=target, due_on=due, expected_value=value)
        for due, value in sorted(wanted.items())
        if due not in kept
    )


# --- snapshots ------------------------------------------------------------------------------


def _share(value: Decimal | None, target: Target, goal: Decimal | None = None) -> Decimal | None:
    """The share of the target (of the year's goal, for a yearly flow) a value stands at."""
    bound = target.target_value if goal is None else goal
    if value is None or not bound:
        return None
    return (value / bound).quantize(Decimal("0.0001"))


def _share_of(value: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (value / whole).quantize(Decimal("0.0001"))


def _measured_against(
    target: Target,
    quarter: Quarter,
    own_target: Decimal | None,
    actual: Decimal,
    projection: Decimal | None,
    *,
    goal: Decimal | None,
    expected: Decimal | None,
) -> dict:
    """A district's or direction's row of a city-wide target, measured against the scope's
    own target where the steward entered one (任务分解): the share of it, the city's
    milestone and status bands scaled to it. Without one the row is a contribution: no share
    of a target, no milestone, no status of its own."""
    if own_target is None:
        return {
            "scope_target": None,
            "share_of_target": None,
            "milestone_expected": None,
            "status": Status.NOT_APPLICABLE,
        }
    part = own_target / target.target_value if target.target_value else None
    scope_goal = own_target if goal is None or part is None else goal * part
    return {
        "scope_target": own_target,
        "share_of_target": _share_of(actual, scope_goal),
        "milestone_expected": (
            None if expected is None or part is None else (expected * part).quantize(CENT)
        ),
        "status": status_of(target, quarter, actual, projection, part=part)
        if part is not None
        else Status.NOT_APPLICABLE,
    }


SNAPSHOT_KEY = ["target", "scope_key", "year", "quarter", "basis", "vintage", "rule_version"]
SNAPSHOT_VALUES = [
    "scope_kind",
    "district",
    "sector",
    "actual",
    "share_of_target",
    "scope_target",
    "share_of_city",
    "milestone_expected",
    "projection",
    "run_rate_needed",
    "status",
    "time_elapsed",
    "completion",
    "schedule_band",
    "basis_note",
    "computed_at",
]


def _snapshot(target, quarter, figures, scope_kind, values: dict, district_id=None, sector_id=None):
    scope_key = {
        ScopeKind.CITY: "city",
        ScopeKind.DISTRICT: f"district:{district_id}",
        ScopeKind.SECTOR: f"sector:{sector_id}",
    }[scope_kind]
    return ProgressSnapshot(
        target=target,
        scope_key=scope_key,
        year=quarter.year,
        quarter=quarter.quarter,
        basis=figures.basis,
        vintage=figures.vintage,
        rule_version=target.rule_version,
        scope_kind=scope_kind,
        district_id=district_id,
        sector_id=sector_id,
        **values,
    )


def _write(snapshots: list[ProgressSnapshot]) -> None:
    """Insert the snapshots, or rewrite the ones of the same key (same figures, same rule
    version): one statement. Rows of another rule version are never touched."""
    ProgressSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=SNAPSHOT_KEY,
        update_fields=SNAPSHOT_VALUES,
    )


@dataclass(frozen=True)
class Breakdown:
    """The districts (the city's, shared by every cluster) and the focus directions of one
    cluster's sector tree that a city-wide target is broken down by."""

    districts: tuple[int, ...]
    directions: tuple[int, ...]

    @classmethod
    def load(cls, cluster_id: int) -> Breakdown:
        return cls(
            tuple(District.objects.values_list("pk", flat=True)),
            tuple(
                Sector.objects.directions()
                .filter(cluster_id=cluster_id)
                .values_list("pk", flat=True)
            ),
        )


def snapshot_target(
    target: Target, quarter: Quarter, figures: Figures, breakdown: Breakdown | None = None
) -> Evaluation:
    """Compute and store one target at one quarter: its own scope with status and 序时进度,
    and for a city-wide counted target the contribution of each district and focus
    direction of its cluster."""
    breakdown = breakdown or Breakdown.load(target.plan.cluster_id)
    evaluation = evaluate(target, quarter, figures)
    expected = milestone_expected(target, quarter, evaluation.seasonal_share)
    assessed = evaluation.assessment.status if evaluation.assessment else ""
    status = status_of(target, quarter, evaluation.actual, evaluation.projection, assessed=assessed)
    schedule = schedule_of(target, quarter, evaluation.actual)
    yearly = target.metric.count_mode == Metric.CountMode.YEARLY
    goal = year_goal(target, quarter.year) if yearly else None
    if target.district_id:
        own_kind, own = ScopeKind.DISTRICT, {"district_id": target.district_id}
    elif target.sector_id:
        own_kind, own = ScopeKind.SECTOR, {"sector_id": target.sector.parent_id or target.sector_id}
    else:
        own_kind, own = ScopeKind.CITY, {}
    snapshots = [
        _snapshot(
            target,
            quarter,
            figures,
            own_kind,
            {
                "actual": evaluation.actual,
                "share_of_target": (
                    None if target.is_qualitative else _share(evaluation.actual, target, goal)
                ),
                "milestone_expected": expected,
                "projection": evaluation.projection,
                "run_rate_needed": evaluation.run_rate_needed,
                "status": status,
                "time_elapsed": schedule.time_elapsed if schedule else None,
                "completion": schedule.completion if schedule else None,
                "schedule_band": schedule.band.key if schedule and schedule.band else "",
                "basis_note": evaluation.note,
            },
            district_id=own.get("district_id"),
            sector_id=own.get("sector_id"),
        )
    ]
    if own_kind == ScopeKind.CITY and not target.is_qualitative:
        # Every district and focus direction gets a row, zero included: a district that
        # contributes nothing is shown as such, and the work does not depend on the data.
        # A scope with its own part of the target (任务分解) is measured against it; the
        # others are their share of the city's figure, never measured against the city's
        # target as if it were theirs.
        own_targets = {share.scope_key: share.value for share in target.shares.all()}
        parts = (
            (
                ScopeKind.DISTRICT,
                "district_id",
                breakdown.districts,
                evaluation.by_district,
                evaluation.projection_by_district,
            ),
            (
                ScopeKind.SECTOR,
                "sector_id",
                breakdown.directions,
                evaluation.by_direction,
                evaluation.projection_by_direction,
            ),
        )
        for kind, key, scope_ids, actuals, projections in parts:
            for scope_id in scope_ids:
                actual = actuals.get(scope_id, ZERO)
                projection = projections.get(scope_id, actual)
                values = {
                    "actual": actual,
                    "share_of_city": _share_of(actual, evaluation.actual),
                    "projection": projection,
                    "run_rate_needed": None,
                    "basis_note": {},
                    **_measured_against(
                        target,
                        quarter,
                        own_targets.get(f"{kind}:{scope_id}"),
                        actual,
                        projection,
                        goal=goal,
                        expected=expected,
                    ),
                }
                snapshots.append(
                    _snapshot(target, quarter, figures, kind, values, **{key: scope_id})
                )
    _write(snapshots)
    return evaluation


def newest_reported_quarter() -> Quarter | None:
    """The newest quarter any report is for (None without reports): the end of the quarters
    the progress job computes and stores. Two queries on the period index."""
    latest = QuarterlyReport.objects.aggregate(y=Max("year"))["y"]
    if latest is None:
        return None
    return Quarter(
        latest, QuarterlyReport.objects.filter(year=latest).aggregate(q=Max("quarter"))["q"] or 1
    )


def reporting_quarters(target: Target) -> list[Quarter]:
    """The target's quarters that have figures: from the start of its plan to the newest
    quarter with reports, never past its deadline (a plan's targets are not computed for the
    quarters after it: reporting goes on, the plan does not)."""
    first = Quarter.from_date(target.plan.starts_on)
    newest = newest_reported_quarter()
    if newest is None:
        return [first]
    last = min(newest, Quarter.from_date(target.deadline))
    return list(quarter_range(first, max(first, last)))


def progress_recompute(
    *,
    target_ids: list[int] | None = None,
    quarters: list[Quarter] | None = None,
    basis: str = Basis.APPROVED,
    figures: Figures | None = None,
    baselines: bool = True,
) -> int:
    """Recompute the baselines and milestones (unless told they cannot have moved) and the
    snapshots of the given targets (all by default) for the given quarters (the plan's
    reporting quarters by default), from `figures` (the newest vintage by default), under
    each target's current rule version. Idempotent: the same figures and rules give the
    same rows. Returns the number of target-quarters computed.

    The targets go by threshold, lowest first: the year-to-date totals of a figure's
    candidate firms, read once at the lowest floor, serve the higher thresholds too."""
    figures = figures or Figures.latest(basis, keep=True)
    approved = figures if basis == Basis.APPROVED else Figures.latest(Basis.APPROVED, keep=True)
    targets = Target.objects.select_related("metric", "plan", "sector").prefetch_related("shares")
    if target_ids is not None:
        targets = targets.filter(pk__in=target_ids)
    breakdowns: dict[int, Breakdown] = {}
    count = 0
    for target in sorted(targets, key=lambda t: (t.metric.threshold or ZERO, t.pk)):
        if baselines:
            baseline_refresh(target, approved)
            milestones_interpolate(target)
        cluster_id = target.plan.cluster_id
        if cluster_id not in breakdowns:
            breakdowns[cluster_id] = Breakdown.load(cluster_id)
        for quarter in quarters or reporting_quarters(target):
            with transaction.atomic():
                snapshot_target(target, quarter, figures, breakdowns[cluster_id])
            count += 1
    return count


def targets_touched_by_reports() -> list[int]:
    """Targets whose figures come from quarterly reports (sums, thresholds, ratios)."""
    return list(Target.objects.filter(metric__kind__in=REPORTED_KINDS).values_list("pk", flat=True))
