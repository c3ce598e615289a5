"""Firms whose annual figure crossed a counting threshold."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Count,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from cluster.quarters import Quarter
from enterprises.models import Enterprise, ReportRevision

from ..choices import AlertKind
from .registry import YI, Condition, money, register

CROSSING_THRESHOLDS = (Decimal(1_000_000_000), Decimal(5_000_000_000))


def _annual_totals(year: int, minimum: Decimal | None = None, firms=None):
    rows = ReportRevision.objects.as_of(timezone.now()).filter(year=year)
    if firms is not None:
        rows = rows.filter(enterprise__in=firms)
    rows = rows.values("enterprise").annotate(total=Sum("output_value"), quarters=Count("pk"))
    rows = rows.filter(quarters=4)
    if minimum is not None:
        rows = rows.filter(total__gt=minimum)
    return {row["enterprise"]: row["total"] for row in rows}


@register(AlertKind.THRESHOLD_CROSSED)
def threshold_crossed(rule, today):
    year = Quarter.from_date(today).year - 1
    above = _annual_totals(year, min(CROSSING_THRESHOLDS))
    if not above:
        return
    before = _annual_totals(year - 1, firms=list(above))
    firms = Enterprise.objects.in_bulk(list(above))
    for firm_id, total in above.items():
        for threshold in CROSSING_THRESHOLDS:
            previous = before.get(firm_id)
            if total > threshold and previous is not None and previous <= threshold:
                firm = firms[firm_id]
                yield Condition(
                    key=f"{rule.kind}:{firm_id}:{threshold}:{year}",
                    severity=rule.severity,
                    owner_id=firm.district_id,
                    enterprise_id=firm_id,
                    numbers={
                        "year": year,
                        "total": money(total),
                        "previous": money(previous),
                        "threshold": money(threshold),
                    },
                    message=lambda f=firm, t=total, h=threshold, y=year: (
                        _(
                            "%(firm)s passed %(threshold)s hundred-million yuan of output in "
                            "%(year)s (%(total)s hundred-million yuan)."
                        )
                        % {"firm": f.name, "threshold": h / YI, "year": y, "total": money(t / YI)}
                    ),
                )
