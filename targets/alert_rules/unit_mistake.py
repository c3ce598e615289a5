"""Figures about 10,000 times off the firm's usual: 元 and 万元 mixed up."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Avg,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.utils.translation import gettext as _

from enterprises.models import QuarterlyReport

from ..choices import AlertKind
from .registry import Condition, latest_quarter, money, register


@register(AlertKind.UNIT_MISTAKE)
def unit_mistake(rule, today):
    quarter = latest_quarter()
    if quarter is None:
        return
    factor = (rule.threshold_percent or Decimal(500_000)) / 100
    start = quarter - 4
    usual = (
        QuarterlyReport.objects.filter(enterprise=OuterRef("enterprise"), output_value__gt=0)
        .filter(
            Q(year__gt=start.year) | Q(year=start.year, quarter__gte=start.quarter),
            Q(year__lt=quarter.year) | Q(year=quarter.year, quarter__lt=quarter.quarter),
        )
        .values("enterprise")
        .annotate(a=Avg("output_value"))
        .values("a")
    )
    amount_field = DecimalField(max_digits=24, decimal_places=4)
    suspicious = (
        QuarterlyReport.objects.for_quarter(quarter)
        .annotate(usual=Subquery(usual, output_field=amount_field))
        .filter(usual__gt=0, output_value__gt=0)
        .filter(
            Q(output_value__gte=ExpressionWrapper(F("usual") * factor, output_field=amount_field))
            | Q(output_value__lte=ExpressionWrapper(F("usual") / factor, output_field=amount_field))
        )
        .select_related("enterprise")
    )
    for report in suspicious:
        yield Condition(
            key=f"{rule.kind}:{report.pk}",
            severity=rule.severity,
            owner_id=report.enterprise.district_id,
            enterprise_id=report.enterprise_id,
            numbers={
                "quarter": str(quarter),
                "value": money(report.output_value),
                "usual": money(report.usual),
            },
            message=lambda r=report: (
                _(
                    "%(firm)s: output value %(value)s is about 10,000 times off its usual "
                    "%(usual)s: yuan and 10k yuan mixed up?"
                )
                % {
                    "firm": r.enterprise.name,
                    "value": money(r.output_value),
                    "usual": money(r.usual),
                }
            ),
        )
