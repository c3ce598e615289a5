"""Reads of the targets engine: the latest snapshots and the explanation of a gap."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from cluster.quarters import Quarter
from enterprises.models import Enterprise

from ..choices import Basis, ScopeKind
from ..models import Metric, ProgressSnapshot, Target
from .metrics import (
    DIRECTION,
    PIPELINE_FLOOR,
    Figures,
    Scope,
    Seasonality,
    candidate_floor,
    evaluate,
    firm_totals,
    year_to_date,
)

TOP_FIRMS = 10


def latest_vintage(target: Target, quarter: Quarter, basis: str = Basis.APPROVED):
    """The newest vintage of the target's snapshots of the quarter, under its current rule."""
    return (
        ProgressSnapshot.objects.current()
        .filter(target=target, year=quarter.year, quarter=quarter.quarter, basis=basis)
        .order_by("-vintage")
        .values_list("vintage", flat=True)
        .first()
    )


def snapshots_at(
    target: Target,
    quarter: Quarter,
    *,
    basis: str = Basis.APPROVED,
    vintage: dt.datetime | None = None,
):
    """The snapshots of one target and quarter at a vintage (the newest by default), under
    the target's current rule."""
    vintage = vintage or latest_vintage(target, quarter, basis)
    return (
        ProgressSnapshot.objects.current()
        .filter(
            target=target, year=quarter.year, quarter=quarter.quarter, basis=basis, vintage=vintage
        )
        .select_related("district", "sector")
    )


@dataclass
class FirmLine:
    enterprise: Enterprise
    value: Decimal
    # What it still lacks to pass the threshold: more than that below a strict threshold.
    gap: Decimal | None = None
    needs_more_than: bool = False


@dataclass
class Explanation:
    target: Target
    quarter: Quarter
    basis: str
    vintage: dt.datetime | None
    by_district: list[ProgressSnapshot] = field(default_factory=list)
    by_direction: list[ProgressSnapshot] = field(default_factory=list)
    top_firms: list[FirmLine] = field(default_factory=list)
    pipeline: list[FirmLine] = field(default_factory=list)
    entered: list[Enterprise] = field(default_factory=list)
    left: list[Enterprise] = field(default_factory=list)


def top_firms(
    metric: Metric, quarter: Quarter, figures: Figures, scope: Scope, limit=TOP_FIRMS
) -> list[FirmLine]:
    """The firms of `scope` with the largest year-to-date figure of the metric."""
    rows = (
        year_to_date(figures, quarter, scope)
        .values("enterprise")
        .annotate(total=Sum(metric.figure))
        .order_by("-total", "enterprise")[:limit]
    )
    top = {row["enterprise"]: row["total"] for row in rows}
    names = Enterprise.objects.select_related("district").in_bulk(list(top))
    return [FirmLine(names[pk], value) for pk, value in top.items()]


def pipeline_rows(metric: Metric, quarter: Quarter, figures: Figures, scope: Scope) -> list:
    """Firms of `scope` that do not pass the metric's threshold but reach half of it or more
    on their year completed with their district's usual seasonality, with what each still
    lacks: [firm id, district id, direction id, projected year, gap], smallest gap first. A
    firm that passes, now or on its completed year, is not in the pipeline. The city's rows
    hold every district's and direction's (a firm's district and direction are on its row).
    Two aggregate queries."""
    floor = metric.threshold * PIPELINE_FLOOR
    seasons = Seasonality.of(figures, metric, quarter.year)
    candidates = firm_totals(
        figures, metric, quarter, scope, candidate_floor(metric, seasons, quarter)
    )
    lines = []
    for row in candidates:
        district = row["enterprise__district"]
        projected = row["total"] / seasons.share(district, quarter.quarter)
        if projected >= floor and not metric.passes(row["total"]) and not metric.passes(projected):
            lines.append(
                [row["enterprise"], district, row[DIRECTION], projected, metric.gap(projected)]
            )
    return sorted(lines, key=lambda line: (line[4], line[0]))


def firm_lines(metric: Metric, rows: list, user=None, district_id: int | None = None) -> list:
    """Pipeline rows as firms with their value and gap: of those `user` may see and, for a
    district, still in it (stored rows keep the district a firm had then). One query."""
    firms = Enterprise.objects.all() if user is None else Enterprise.objects.visible_to(user)
    if district_id is not None:
        firms = firms.filter(district_id=district_id)
    names = firms.select_related("district").in_bulk([row[0] for row in rows])
    return [
        FirmLine(names[pk], value, gap, needs_more_than=metric.needs_more_than_gap)
        for pk, _district, _direction, value, gap in rows
        if pk in names
    ]


def threshold_pipeline(
    metric: Metric, quarter: Quarter, figures: Figures, scope: Scope
) -> list[FirmLine]:
    """The pipeline of `scope` (pipeline_rows) with the firms' names."""
    return firm_lines(metric, pipeline_rows(metric, quarter, figures, scope))


def gap_explanation(
    target: Target, quarter: Quarter, *, basis: str = Basis.APPROVED, vintage=None
) -> Explanation:
    """Why a target stands where it does: contributions by district, focus direction and
    firm; for threshold counts the firms just below the threshold and what each needs; and
    which firms entered or left the counted group since the previous quarter."""
    vintage = vintage or latest_vintage(target, quarter, basis)
    snapshots = list(snapshots_at(target, quarter, basis=basis, vintage=vintage))
    explanation = Explanation(
        target=target,
        quarter=quarter,
        basis=basis,
        vintage=vintage,
        by_district=sorted(
            (s for s in snapshots if s.scope_kind == ScopeKind.DISTRICT), key=lambda s: -s.actual
        ),
        by_direction=sorted(
            (s for s in snapshots if s.scope_kind == ScopeKind.SECTOR), key=lambda s: -s.actual
        ),
    )
    if vintage is None:
        return explanation
    figures = Figures(basis, vintage)
    metric = target.metric
    scope = Scope.of(target)
    if metric.kind in (Metric.Kind.SUM_OUTPUT, Metric.Kind.COUNT_FIRMS_OVER):
        explanation.top_firms = top_firms(metric, quarter, figures, scope)
    if metric.kind == Metric.Kind.COUNT_FIRMS_OVER:
        explanation.pipeline = threshold_pipeline(metric, quarter, figures, scope)
    if metric.kind != Metric.Kind.SUM_OUTPUT:
        now = evaluate(target, quarter, figures).counted
        before = evaluate(target, quarter.previous(), figures).counted
        changed = (
            Enterprise.objects.in_bulk(list(now ^ before))
            if metric.kind != Metric.Kind.COUNT_PROJECTS
            else {}
        )
        explanation.entered = [changed[pk] for pk in sorted(now - before) if pk in changed]
        explanation.left = [changed[pk] for pk in sorted(before - now) if pk in changed]
    return explanation
