"""Progress against the targets: snapshots, milestones and status."""

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
from ..selectors.metrics import Evaluation, Figures, evaluate

ZERO = Decimal(0)


def meets(target: Target, value: Decimal | None) -> bool:
    if value is None:
        return False
    if target.comparison == Target.Comparison.ABOVE:
        return value > target.target_value
    return value >= target.target_value


def status_of(target: Target, quarter: Quarter, actual: Decimal, projection: Decimal | None) -> str:
    if meets(target, actual) and (
        quarter.end >= target.deadline or target.metric.kind != Metric.Kind.SUM_OUTPUT
    ):
        return Status.ACHIEVED
    if quarter.end >= target.deadline:
        return Status.OFF_TRACK
    if meets(target, projection):
        return Status.ON_TRACK
    if projection is not None and projection >= target.target_value * target.at_risk_ratio:
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
    scaled by the share of the year usually reached by then."""
    points = [(m.due_on, m.expected_value) for m in target.milestones.all()]
    if target.baseline_year is not None and target.baseline_value is not None:
        points.insert(0, (dt.date(target.baseline_year, 12, 31), target.baseline_value))
    if target.metric.kind == Metric.Kind.SUM_OUTPUT:
        annual = _interpolate(points, dt.date(quarter.year, 12, 31))
        if annual is None:
            return None
        share = seasonal_share if seasonal_share is not None else Decimal(quarter.quarter) / 4
        return (annual * share).quantize(Decimal("0.01"))
    value = _interpolate(points, quarter.end)
    return None if value is None else value.quantize(Decimal("0.01"))


@transaction.atomic
def milestones_ensure_defaults(target: Target, figures: Figures) -> None:
    """Give a target without milestones a baseline and yearly milestones, interpolated
    linearly from the baseline to the target value. The baseline is the year before the
    plan (2022) or, without data for it, the first year-end with figures."""
    if target.milestones.exists():
        return
    if target.baseline_value is None:
        start = target.cluster.plan_start_year
        for year in range(start - 1, target.deadline.year):
            evaluation = evaluate(target, Quarter(year, 4), figures)
            if evaluation.actual > 0 or year == target.deadline.year - 1:
                target.baseline_year, target.baseline_value = year, evaluation.actual
                break
        target._change_reason = "baseline from data"
        target.save(update_fields=["baseline_year", "baseline_value"])
    first, last = target.baseline_year, target.deadline.year
    milestones = []
    for year in range(first + 1, last + 1):
        due = target.deadline if year == last else dt.date(year, 12, 31)
        fraction = Decimal(year - first) / Decimal(last - first)
        value = target.baseline_value + (target.target_value - target.baseline_value) * fraction
        milestones.append(
            TargetMilestone(
                target=target, due_on=due, expected_value=value.quantize(Decimal("0.01"))
            )
        )
    TargetMilestone.objects.bulk_create(milestones)


# --- snapshots ------------------------------------------------------------------------------


def _share(value: Decimal | None, target: Target) -> Decimal | None:
    if value is None or not target.target_value:
        return None
    return (value / target.target_value).quantize(Decimal("0.0001"))


SNAPSHOT_KEY = ["target", "scope_key", "year", "quarter", "basis", "vintage"]
SNAPSHOT_VALUES = [
    "scope_kind",
    "district",
    "sector",
    "actual",
    "share_of_target",
    "milestone_expected",
    "projection",
    "run_rate_needed",
    "status",
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
        scope_kind=scope_kind,
        district_id=district_id,
        sector_id=sector_id,
        **values,
    )


def _write(snapshots: list[ProgressSnapshot]) -> None:
    """Insert the snapshots, or rewrite the ones of the same key: one statement."""
    ProgressSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=SNAPSHOT_KEY,
        update_fields=SNAPSHOT_VALUES,
    )


@dataclass(frozen=True)
class Breakdown:
    districts: tuple[int, ...]
    directions: tuple[int, ...]

    @classmethod
    def load(cls) -> Breakdown:
        return cls(
            tuple(District.objects.values_list("pk", flat=True)),
            tuple(Sector.objects.directions().values_list("pk", flat=True)),
        )


def snapshot_target(
    target: Target, quarter: Quarter, figures: Figures, breakdown: Breakdown | None = None
) -> Evaluation:
    """Compute and store one target at one quarter: its own scope with status, and for a
    city-wide target the contribution of each district and focus direction."""
    breakdown = breakdown or Breakdown.load()
    evaluation = evaluate(target, quarter, figures)
    expected = milestone_expected(target, quarter, evaluation.seasonal_share)
    status = status_of(target, quarter, evaluation.actual, evaluation.projection)
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
                "share_of_target": _share(evaluation.actual, target),
                "milestone_expected": expected,
                "projection": evaluation.projection,
                "run_rate_needed": evaluation.run_rate_needed,
                "status": status,
                "basis_note": evaluation.note,
            },
            district_id=own.get("district_id"),
            sector_id=own.get("sector_id"),
        )
    ]
    if own_kind == ScopeKind.CITY:
        # Every district and focus direction gets a row, zero included: a district that
        # contributes nothing is shown as such, and the work does not depend on the data.
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
                snapshot = _snapshot(
                    target,
                    quarter,
                    figures,
                    kind,
                    {
                        "actual": actual,
                        "share_of_target": _share(actual, target),
                        "milestone_expected": None,
                        "projection": projections.get(scope_id, actual),
                        "run_rate_needed": None,
                        "status": Status.NOT_APPLICABLE,
                        "basis_note": {},
                    },
                    **{key: scope_id},
                )
                snapshots.append(snapshot)
    _write(snapshots)
    return evaluation


def reporting_quarters(target: Target) -> list[Quarter]:
    """Quarters from the start of the plan to the newest one with reports (at most the
    deadline's)."""
    first = Quarter(target.cluster.plan_start_year, 1)
    latest = QuarterlyReport.objects.aggregate(y=Max("year"))["y"]
    if latest is None:
        return [first]
    latest_quarter = (
        QuarterlyReport.objects.filter(year=latest).aggregate(q=Max("quarter"))["q"] or 1
    )
    last = min(Quarter(latest, latest_quarter), Quarter.from_date(target.deadline))
    return list(quarter_range(first, max(first, last)))


def progress_recompute(
    *,
    target_ids: list[int] | None = None,
    quarters: list[Quarter] | None = None,
    basis: str = Basis.APPROVED,
) -> int:
    """Recompute the snapshots of the given targets (all by default) for the given quarters
    (the plan's reporting quarters by default), from the newest vintage. Idempotent: the
    same figures give the same rows. Returns the number of target-quarters computed."""
    figures = Figures.latest(basis)
    targets = Target.objects.select_related("metric", "cluster", "sector")
    if target_ids is not None:
        targets = targets.filter(pk__in=target_ids)
    breakdown = Breakdown.load()
    count = 0
    for target in targets:
        milestones_ensure_defaults(target, figures)
        for quarter in quarters or reporting_quarters(target):
            with transaction.atomic():
                snapshot_target(target, quarter, figures, breakdown)
            count += 1
    return count


def targets_touched_by_reports() -> list[int]:
    """Targets whose figures come from quarterly reports (sums and thresholds)."""
    return list(
        Target.objects.filter(
            metric__kind__in=[Metric.Kind.SUM_OUTPUT, Metric.Kind.COUNT_FIRMS_OVER]
        ).values_list("pk", flat=True)
    )
