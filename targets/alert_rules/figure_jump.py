"""Output value jumping against the previous quarter or the same quarter last year."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
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


@register(AlertKind.FIGURE_JUMP)
def figure_jump(rule, today):
    quarter = latest_quarter()
    if quarter is None:
        return
    threshold = (rule.threshold_percent or Decimal(50)) / 100
    amount_field = DecimalField(max_digits=18, decimal_places=2)
    for label, other in (("qoq", quarter.previous()), ("yoy", quarter.same_quarter_last_year())):
        before = QuarterlyReport.objects.filter(
            enterprise=OuterRef("enterprise"), year=other.year, quarter=other.quarter
        ).values("output_value")[:1]
        jumps = (
            QuarterlyReport.objects.for_quarter(quarter)
            .annotate(before=Subquery(before, output_field=amount_field))
            .filter(before__gt=0, output_value__isnull=False)
            .filter(
                Q(
                    output_value__gt=ExpressionWrapper(
                        F("before") * (1 + threshold), output_field=amount_field
                    )
                )
                | Q(
                    output_value__lt=ExpressionWrapper(
                        F("before") * (1 - threshold), output_field=amount_field
                    )
                )
            )
            .select_related("enterprise")
        )
        for report in jumps:
            change = (report.output_value / report.before - 1) * 100
            yield Condition(
                key=f"{rule.kind}:{label}:{report.pk}",
                severity=rule.severity,
                owner_id=report.enterprise.district_id,
                enterprise_id=report.enterprise_id,
                numbers={
                    "quarter": str(quarter),
                    "compared_with": str(other),
                    "value": money(report.output_value),
                    "before": money(report.before),
                    "change_percent": money(change),
                    "note": report.anomaly_note,
                },
                message=lambda r=report, c=change, o=other: (
                    _("%(firm)s: output value %(change)+.1f%% against %(other)s.")
                    % {"firm": r.enterprise.name, "change": c, "other": o}
                ),
            )
