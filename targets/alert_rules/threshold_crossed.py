"""Firms whose figure for last year passes the threshold of a counting metric it did not pass
the year before. Every metric that counts firms over a threshold is watched, with its own
figure, threshold and comparison: the rule has no threshold of its own."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from cluster.clock import now
from cluster.formatting import yuan_as_yi
from cluster.quarters import Quarter
from enterprises.models import Enterprise, ReportRevision

from ..choices import AlertKind
from ..models import Comparison, Metric
from .registry import Condition, money, register


def _annual_totals(metric: Metric, year: int, *, passing: bool = False, firms=None):
    """Each firm's figure of the metric for a complete year, from the approved figures known
    now; with `passing`, only the firms that pass the metric's threshold."""
    rows = ReportRevision.objects.as_of(now()).filter(year=year).order_by()
    if firms is not None:
        rows = rows.filter(enterprise__in=firms)
    rows = rows.values("enterprise").annotate(total=Sum(metric.figure), quarters=Count("pk"))
    rows = rows.filter(quarters=4)
    if passing:
        rows = rows.filter(metric.passing("total"))
    return {row["enterprise"]: row["total"] for row in rows}


def _message(firm: Enterprise, metric: Metric, year: int, total, previous):
    def render() -> str:
        values = {
            "firm": firm.name,
            "metric": metric.name,
            "year": year,
            "figure": metric.figure_name(),
            "total": yuan_as_yi(total),
            "threshold": yuan_as_yi(metric.threshold),
            "previous": yuan_as_yi(previous),
        }
        if metric.comparison == Comparison.AT_LEAST:
            return (
                _(
                    "%(firm)s entered “%(metric)s” in %(year)s: %(figure)s %(total)s, at least "
                    "%(threshold)s (%(previous)s the year before)."
                )
                % values
            )
        return (
            _(
                "%(firm)s entered “%(metric)s” in %(year)s: %(figure)s %(total)s, above "
                "%(threshold)s (%(previous)s the year before)."
            )
            % values
        )

    return render


@register(AlertKind.THRESHOLD_CROSSED)
def threshold_crossed(rule, today):
    year = Quarter.from_date(today).year - 1
    for metric in Metric.objects.filter(kind=Metric.Kind.COUNT_FIRMS_OVER).order_by("key"):
        passing = _annual_totals(metric, year, passing=True)
        if not passing:
            continue
        before = _annual_totals(metric, year - 1, firms=list(passing))
        crossed = {
            firm_id: total
            for firm_id, total in passing.items()
            if before.get(firm_id) is not None and not metric.passes(before[firm_id])
        }
        firms = Enterprise.objects.in_bulk(list(crossed))
        for firm_id, total in crossed.items():
            firm, previous = firms[firm_id], before[firm_id]
            yield Condition(
                key=f"{rule.kind}:{metric.key}:{firm_id}:{year}",
                severity=rule.severity,
                owner_id=firm.district_id,
                enterprise_id=firm_id,
                numbers={
                    "year": year,
                    "metric": metric.key,
                    "figure": metric.figure,
                    "comparison": metric.comparison,
                    "threshold": money(metric.threshold),
                    "total": money(total),
                    "previous": money(previous),
                },
                message=_message(firm, metric, year, total, previous),
            )
