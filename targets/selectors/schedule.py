"""序时进度: how far a target has come against the time gone by, banded as its plan file says.
The one owner of the time-elapsed schedule: the progress job stores what it computes here on
each snapshot of a target's own scope, and the pages read the band back from here.

- An annual figure (a year-to-date sum, a yearly flow) is measured within its year: the
  year-to-date value over the year's goal (the milestone due that year, the target value in
  the deadline year), against the share of the year's months gone by at the quarter's end.
- A stock or a count since the plan began (listed firms, designations held, threshold counts,
  projects, 累计新增) is measured over the plan: the way covered from the baseline,
  (value − baseline) / (target − baseline), against the share of the months from the plan's
  start to the deadline gone by.
- A ratio and a qualitative target have no schedule: a ratio is not accumulated over time,
  and a qualitative target is assessed, not counted.

Months, not days: 序时进度 is reported by months (the end of September is 75 % of the year).
Points behind = time elapsed − completion, in percentage points; the band is the first of the
plan's bands whose `behind_at_most` covers them, the last band takes the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

from cluster.models import Plan
from cluster.quarters import Quarter

from ..models import Metric, ProgressSnapshot, Target

SHARE = Decimal("0.0001")
POINTS = Decimal("0.01")
NO_SCHEDULE = (Metric.Kind.RATIO, Metric.Kind.QUALITATIVE)


@dataclass(frozen=True)
class Band:
    """A band of the plan file's schedule_bands: its name in both languages and its colour
    (shown with the name, never alone)."""

    key: str
    name_zh: str
    name_en: str
    colour: str
    behind_at_most: Decimal | None

    @property
    def label(self) -> str:
        """The band's name in the active language."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


@dataclass(frozen=True)
class Schedule:
    time_elapsed: Decimal  # share of the span gone by, 0 to 1
    completion: Decimal  # share of the way covered (below 0 or above 1 when so)
    band: Band | None

    @property
    def points_behind(self) -> Decimal:
        """Percentage points behind the schedule (negative: ahead of it)."""
        return ((self.time_elapsed - self.completion) * 100).quantize(POINTS)


def bands(plan: Plan) -> list[Band]:
    return [
        Band(
            key=band["key"],
            name_zh=band["name_zh"],
            name_en=band["name_en"],
            colour=band["colour"],
            behind_at_most=(
                Decimal(str(band["behind_at_most"])) if "behind_at_most" in band else None
            ),
        )
        for band in plan.schedule_bands
    ]


def band_for(plan: Plan, points_behind: Decimal) -> Band | None:
    """The first band whose limit covers `points_behind`; the last one takes the rest."""
    plan_bands = bands(plan)
    for band in plan_bands:
        if band.behind_at_most is None or points_behind <= band.behind_at_most:
            return band
    return plan_bands[-1] if plan_bands else None


def is_annual(metric: Metric) -> bool:
    """A figure that starts again each calendar year: a year-to-date sum or a yearly flow."""
    return metric.kind == Metric.Kind.SUM_OUTPUT or metric.count_mode == Metric.CountMode.YEARLY


def year_goal(target: Target, year: int) -> Decimal | None:
    """The goal of `year` for an annual figure: the target value from the deadline year on;
    before it, the milestone due within the year. Without one, a yearly flow's goal is the
    target value every year (年认定数达 N 家 is each year's goal); a sum has none."""
    if year >= target.deadline.year:
        return target.target_value
    due = [m for m in target.milestones.all() if m.due_on.year == year]
    if due:
        return max(due, key=lambda m: m.due_on).expected_value
    if target.metric.count_mode == Metric.CountMode.YEARLY:
        return target.target_value
    return None


def year_end(target: Target, year: int) -> dt.date:
    """The last day an annual figure of `year` counts toward: 31 December, or the deadline."""
    return min(dt.date(year, 12, 31), target.deadline)


def _months(first: dt.date, last: dt.date) -> int:
    """Months from the one of `first` to the one of `last`, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def time_elapsed(first: dt.date, last: dt.date, day: dt.date) -> Decimal:
    """The share of the months from `first` to `last` gone by at the end of `day`'s month."""
    total = _months(first, last)
    gone = min(max(_months(first, day), 0), total)
    return (Decimal(gone) / Decimal(total)).quantize(SHARE, rounding=ROUND_HALF_UP)


def _completion(target: Target, value: Decimal, start: Decimal, goal: Decimal) -> Decimal:
    way = goal - start
    if way <= 0:
        # Nothing left to cover from the start: done when the value reaches the goal.
        return Decimal(1) if target.meets(value, goal) else Decimal(0)
    return ((value - start) / way).quantize(SHARE, rounding=ROUND_HALF_UP)


def schedule_of(target: Target, quarter: Quarter, value: Decimal) -> Schedule | None:
    """Where `value` stands against the schedule at the end of `quarter`; None when the
    target has no schedule (a ratio, a qualitative target, an annual sum without the year's
    goal, a stock without its baseline)."""
    metric = target.metric
    if metric.kind in NO_SCHEDULE:
        return None
    if is_annual(metric):
        goal = year_goal(target, quarter.year)
        first, last, start = dt.date(quarter.year, 1, 1), year_end(target, quarter.year), None
        if goal is None or last < first:
            return None
    else:
        if target.baseline_value is None:
            return None
        goal, start = target.target_value, target.baseline_value
        first, last = target.plan.starts_on, target.deadline
    elapsed = time_elapsed(first, last, quarter.end)
    completion = _completion(target, value, start or Decimal(0), goal)
    points = ((elapsed - completion) * 100).quantize(POINTS)
    return Schedule(elapsed, completion, band_for(target.plan, points))


def snapshot_schedule(snapshot: ProgressSnapshot) -> Schedule | None:
    """The schedule stored on a snapshot, with its band's label and colour for the pages
    (select the snapshot's target__plan)."""
    if snapshot.time_elapsed is None or snapshot.completion is None:
        return None
    plan = snapshot.target.plan
    band = next((b for b in bands(plan) if b.key == snapshot.schedule_band), None)
    return Schedule(snapshot.time_elapsed, snapshot.completion, band)
