"""Quarterly reports still missing after the deadline plus the rule's grace."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
)
from django.utils.translation import gettext as _

from cluster.models import District
from cluster.quarters import Quarter
from enterprises.choices import ReportStatus
from enterprises.models import Enterprise, QuarterlyReport
from enterprises.selectors import deadline_of, in_cluster_during

from ..choices import AlertKind
from .registry import Condition, register

# Firms named in an overdue alert; the count says how many more there are.
MAX_LISTED = 20


@register(AlertKind.REPORT_OVERDUE)
def report_overdue(rule, today):
    grace = dt.timedelta(days=rule.days or 0)
    current = Quarter.from_date(today)
    quarters = [q for q in (current - n for n in range(1, 5)) if today > deadline_of(q) + grace]
    for quarter in quarters:
        reached = QuarterlyReport.objects.filter(
            year=quarter.year,
            quarter=quarter.quarter,
            status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED],
        ).values("enterprise")
        missing = Enterprise.objects.filter(in_cluster_during(quarter)).exclude(pk__in=reached)
        counts = dict(missing.values_list("district").annotate(n=Count("pk")))
        districts = District.objects.in_bulk(list(counts))
        for district_id, count in counts.items():
            names = list(
                missing.filter(district_id=district_id)
                .order_by("name_zh")
                .values_list("name_zh", flat=True)[:MAX_LISTED]
            )
            yield Condition(
                key=f"{rule.kind}:{district_id}:{quarter}",
                severity=rule.severity,
                owner_id=district_id,
                district_id=district_id,
                numbers={
                    "quarter": str(quarter),
                    "missing": count,
                    "firms": names,
                    "deadline": str(deadline_of(quarter)),
                },
                message=lambda q=quarter, n=count, d=districts[district_id]: (
                    _(
                        "%(district)s: %(count)d reports for %(quarter)s are overdue "
                        "(due %(deadline)s)."
                    )
                    % {"district": d.name, "count": n, "quarter": q, "deadline": deadline_of(q)}
                ),
            )
