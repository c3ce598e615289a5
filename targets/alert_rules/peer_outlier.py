"""Output per employee far above the average of the firm's peers."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
)
from django.utils.translation import gettext as _

from enterprises.models import QuarterlyReport

from ..choices import AlertKind
from .registry import Condition, latest_quarter, money, register


@register(AlertKind.PEER_OUTLIER)
def peer_outlier(rule, today):
    """Output per employee far above the average of the firms of the same material: a
    figure (or a head count) probably entered wrongly."""
    quarter = latest_quarter()
    if quarter is None:
        return
    factor = (rule.threshold_percent or Decimal(500)) / 100
    amount_field = DecimalField(max_digits=24, decimal_places=4)
    reports = (
        QuarterlyReport.objects.for_quarter(quarter)
        .filter(output_value__gt=0, employees__gt=0)
        .annotate(
            per_head=ExpressionWrapper(
                F("output_value") / F("employees"), output_field=amount_field
            )
        )
    )
    averages = {
        row["enterprise__primary_sector"]: row["average"]
        for row in reports.values("enterprise__primary_sector")
        .annotate(average=Avg("per_head"), peers=Count("pk"))
        .filter(peers__gte=5)
    }
    if not averages:
        return
    outside = Q()
    for sector, average in averages.items():
        outside |= Q(enterprise__primary_sector=sector, per_head__gt=average * factor)
    for report in reports.filter(outside).select_related("enterprise__primary_sector"):
        average = averages[report.enterprise.primary_sector_id]
        yield Condition(
            key=f"{rule.kind}:{report.pk}",
            severity=rule.severity,
            owner_id=report.enterprise.district_id,
            enterprise_id=report.enterprise_id,
            numbers={
                "quarter": str(quarter),
                "per_employee": money(report.per_head),
                "sector_average": money(average),
                "employees": report.employees,
            },
            message=lambda r=report, a=average: (
                _(
                    "%(firm)s: output per employee %(value)s yuan is %(times).0f times the "
                    "average of its sector (%(sector)s)."
                )
                % {
                    "firm": r.enterprise.name,
                    "value": money(r.per_head),
                    "times": r.per_head / a,
                    "sector": r.enterprise.primary_sector.name,
                }
            ),
        )
