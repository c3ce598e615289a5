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

from cluster.models import Sector
from enterprises.models import ClusterMembership, QuarterlyReport

from ..choices import AlertKind
from .registry import Condition, latest_quarter, money, register


@register(AlertKind.PEER_OUTLIER)
def peer_outlier(rule, today):
    """Output per employee far above the average of the firms of the same material: a
    figure (or a head count) probably entered wrongly. Peers are the firms of the same
    material of a cluster's tree; a firm in two clusters is compared within each."""
    quarter = latest_quarter()
    if quarter is None:
        return
    factor = (rule.threshold_percent or Decimal(500)) / 100
    amount_field = DecimalField(max_digits=24, decimal_places=4)
    # One filter() call: the membership the rows are grouped by is the one in force.
    reports = (
        QuarterlyReport.objects.for_quarter(quarter)
        .filter(
            ClusterMembership.valid_q(quarter.end, "enterprise__memberships__"),
            output_value__gt=0,
            employees__gt=0,
        )
        .annotate(
            material=F("enterprise__memberships__sector"),
            per_head=ExpressionWrapper(
                F("output_value") / F("employees"), output_field=amount_field
            ),
        )
    )
    averages = {
        row["material"]: row["average"]
        for row in reports.values("material")
        .annotate(average=Avg("per_head"), peers=Count("pk"))
        .filter(peers__gte=5)
        .order_by()
    }
    if not averages:
        return
    outside = Q()
    for sector, average in averages.items():
        outside |= Q(material=sector, per_head__gt=average * factor)
    sectors = Sector.objects.select_related("cluster").in_bulk(list(averages))
    for report in reports.filter(outside).select_related("enterprise").order_by("pk"):
        average, sector = averages[report.material], sectors[report.material]
        yield Condition(
            key=f"{rule.kind}:{report.pk}:{sector.pk}",
            severity=rule.severity,
            owner_id=report.enterprise.district_id,
            enterprise_id=report.enterprise_id,
            numbers={
                "quarter": str(quarter),
                "per_employee": money(report.per_head),
                "sector_average": money(average),
                "employees": report.employees,
                "cluster": sector.cluster.key,
                "sector": sector.code,
            },
            message=lambda r=report, a=average, m=sector: (
                _(
                    "%(firm)s: output per employee %(value)s yuan is %(times).0f times the "
                    "average of its sector (%(sector)s)."
                )
                % {
                    "firm": r.enterprise.name,
                    "value": money(r.per_head),
                    "times": r.per_head / a,
                    "sector": m.name,
                }
            ),
        )
