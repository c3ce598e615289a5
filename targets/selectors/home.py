"""What a district officer's day starts with: the quarters their district still owes, the
reports the steward returned, and the alerts waiting for an answer.

Who is expected to report and what is outstanding come from `enterprises.selectors.
completeness` and the quarters open for reporting from `enterprises.periods`, so this page
never counts by a rule of its own. A fixed number of queries whatever the number of firms,
quarters or reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cluster.models import District
from cluster.quarters import Quarter, quarter_range
from enterprises.choices import ReportStatus
from enterprises.models import QuarterlyReport
from enterprises.periods import Countdown, ReportingWindow, days_to_deadline, has_ended
from enterprises.selectors import (
    CompletenessCell,
    completeness,
    visible_districts,
)

from ..choices import AlertState
from ..models import Alert

# The newest quarters owed get a card each; older ones are counted in one line that links to
# the completeness page, so that no gap is hidden and the page stays short.
DUE_QUARTERS = 8
# The first entries of a list; the page says how many there are in all.
LISTED = 20


@dataclass(frozen=True)
class DueQuarter:
    """One district's quarter that has ended and still has firms whose report has not
    reached the city."""

    cell: CompletenessCell
    countdown: Countdown

    @property
    def district(self) -> District:
        return self.cell.district

    @property
    def quarter(self) -> Quarter:
        return self.cell.quarter

    @property
    def expected(self) -> int:
        return self.cell.expected

    @property
    def missing(self) -> int:
        return self.cell.outstanding

    @property
    def reached(self) -> int:
        return self.cell.reached


@dataclass(frozen=True)
class EarlierGaps:
    """The quarters owed before those with a card: how many, how many reports in all, and
    the newest of them (where the completeness page is to end)."""

    quarters: int
    missing: int
    last: Quarter


@dataclass(frozen=True)
class OfficerToDo:
    districts: list[District]
    window: ReportingWindow
    due: list[DueQuarter]
    earlier: EarlierGaps | None
    returned: list[QuarterlyReport]
    returned_count: int
    alerts: list[Alert]
    alerts_count: int

    @property
    def nothing_to_do(self) -> bool:
        return not (self.due or self.returned or self.alerts)


def due_quarters(window: ReportingWindow) -> list[Quarter]:
    """Every quarter open for reporting that has ended (a quarter under way may take drafts,
    but nothing is due for it yet)."""
    return [
        quarter
        for quarter in quarter_range(window.first, window.being_reported)
        if quarter in window and has_ended(quarter, window.today)
    ]


def officer_todo(user, today: dt.date) -> OfficerToDo:
    window = ReportingWindow.on(today)
    quarters = due_quarters(window)
    if quarters:
        table = completeness(user, quarters, today)
        districts = [row[0].district for row in table]
    else:
        table, districts = [], list(visible_districts(user).order_by("sort_order"))
    owed = sorted(
        (
            DueQuarter(cell=cell, countdown=days_to_deadline(cell.quarter, today))
            for row in table
            for cell in row
            if cell.outstanding
        ),
        # The longest overdue first: that is what the city chases.
        key=lambda item: (item.quarter, item.district.sort_order),
    )
    carded = set(sorted({item.quarter for item in owed})[-DUE_QUARTERS:])
    due = [item for item in owed if item.quarter in carded]
    older = [item for item in owed if item.quarter not in carded]
    earlier = (
        EarlierGaps(
            quarters=len({item.quarter for item in older}),
            missing=sum(item.missing for item in older),
            last=older[-1].quarter,
        )
        if older
        else None
    )
    returned = (
        QuarterlyReport.objects.visible_to(user)
        .filter(status=ReportStatus.RETURNED)
        .select_related("enterprise__district", "returned_by")
        .order_by("-returned_at", "-pk")
    )
    alerts = (
        Alert.objects.visible_to(user)
        .filter(state=AlertState.OPEN)
        .select_related("rule", "enterprise", "owner")
        # The alert centre's order, so that each alert listed here is on its first page.
        .order_by("-severity", "-opened_at", "-pk")
    )
    return OfficerToDo(
        districts=districts,
        window=window,
        due=due,
        earlier=earlier,
        returned=list(returned[:LISTED]),
        returned_count=returned.count(),
        alerts=list(alerts[:LISTED]),
        alerts_count=alerts.count(),
    )
