"""Quarterly reports still missing after the deadline plus the rule's grace, per district.

How severe an overdue alert is follows how much is missing and for how long
(`overdue_severity`): the rule's own severity is that of a middling case; a small gap only
just late is one step below it, a large gap long late is critical. A district missing 6 of
590 reports for 3 days is information; one missing 589 of 590 for 46 days is critical.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cluster.models import District
from cluster.quarters import Quarter
from enterprises.models import Enterprise, QuarterlyReport
from enterprises.selectors import REACHED_THE_CITY, deadline_of, expected_to_report

from ..choices import AlertKind, Severity
from .registry import Condition, register

# Firms named in an overdue alert; the count says how many more there are.
MAX_LISTED = 20

# How much is missing: the share of the district's expected reports, or a count that is
# large whatever the district's size.
LARGE_SHARE, LARGE_COUNT = Decimal("0.5"), 100
MIDDLE_SHARE, MIDDLE_COUNT = Decimal("0.1"), 20
# For how long: days past the deadline (not counting the grace).
LONG_DAYS, MIDDLE_DAYS = 30, 7


def overdue_severity(*, missing: int, expected: int, days_late: int, usual: int) -> int:
    """The severity of `missing` of `expected` reports `days_late` days past the deadline.

    Size and age each score 0, 1 or 2: size 2 from half the expected reports or 100 of
    them, 1 from a tenth or 20; age 2 beyond 30 days, 1 beyond 7. A score of 3 or more is
    critical; 2 is the rule's usual severity (`usual`, the steward's setting); 0 or 1 is
    one step below it (never below information)."""
    share = Decimal(missing) / expected if expected else Decimal(1)
    size = (
        2
        if share >= LARGE_SHARE or missing >= LARGE_COUNT
        else 1
        if share >= MIDDLE_SHARE or missing >= MIDDLE_COUNT
        else 0
    )
    age = 2 if days_late > LONG_DAYS else 1 if days_late > MIDDLE_DAYS else 0
    score = size + age
    if score >= 3:
        return Severity.CRITICAL
    if score == 2:
        return usual
    return max(usual - 1, Severity.INFO)


def _message(district: District, quarter: Quarter, missing: int, expected: int, days: int):
    def render() -> str:
        late = ngettext("%(days)d day overdue", "%(days)d days overdue", days) % {"days": days}
        return _(
            "%(district)s: %(quarter)s missing %(missing)d/%(expected)d reports, %(late)s "
            "(due %(deadline)s)."
        ) % {
            "district": district.name,
            "quarter": quarter,
            "missing": missing,
            "expected": expected,
            "late": late,
            "deadline": deadline_of(quarter),
        }

    return render


@register(AlertKind.REPORT_OVERDUE)
def report_overdue(rule, today):
    grace = dt.timedelta(days=rule.days or 0)
    current = Quarter.from_date(today)
    quarters = [q for q in (current - n for n in range(1, 5)) if today > deadline_of(q) + grace]
    for quarter in quarters:
        reached = QuarterlyReport.objects.filter(
            enterprise=OuterRef("pk"),
            year=quarter.year,
            quarter=quarter.quarter,
            status__in=REACHED_THE_CITY,
        )
        expected = Enterprise.objects.filter(expected_to_report(quarter))
        missing_q = ~Q(Exists(reached))
        counts = {
            row["district"]: row
            for row in expected.values("district")
            .annotate(expected=Count("pk"), missing=Count("pk", filter=missing_q))
            .filter(missing__gt=0)
            .order_by()
        }
        districts = District.objects.in_bulk(list(counts))
        days_late = (today - deadline_of(quarter)).days
        for district_id, row in counts.items():
            names = list(
                expected.filter(missing_q, district_id=district_id)
                .order_by("name_zh")
                .values_list("name_zh", flat=True)[:MAX_LISTED]
            )
            yield Condition(
                key=f"{rule.kind}:{district_id}:{quarter}",
                severity=overdue_severity(
                    missing=row["missing"],
                    expected=row["expected"],
                    days_late=days_late,
                    usual=rule.severity,
                ),
                owner_id=district_id,
                district_id=district_id,
                numbers={
                    "quarter": str(quarter),
                    "missing": row["missing"],
                    "expected": row["expected"],
                    "days_late": days_late,
                    "firms": names,
                    "deadline": str(deadline_of(quarter)),
                },
                message=_message(
                    districts[district_id], quarter, row["missing"], row["expected"], days_late
                ),
            )
