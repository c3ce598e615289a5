"""The enterprise profile: the register's record of a firm with what the monitor knows of
it (figures over time, designations on a timeline, revisions, open alerts)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.shortcuts import render

from cluster import clock
from cluster.access import get_visible_or_404, scope_of
from cluster.quarters import Quarter
from enterprises.models import (
    ClusterMembership,
    Designation,
    Enterprise,
    QuarterlyReport,
    ReportRevision,
)

from .. import charts
from ..models import Alert

HISTORY_SHOWN = 50


@dataclass
class ValiditySpan:
    designation: Designation
    left: float  # percent of the timeline
    width: float
    current: bool


def validity_spans(designations: list[Designation], today: dt.date):
    """Designations placed on one timeline from the earliest start to the latest end (or
    today), in percent, with today's position."""
    if not designations:
        return [], None, None, None
    start = min(d.valid_from for d in designations)
    end = max([today] + [d.valid_to for d in designations if d.valid_to])
    days = max((end - start).days, 1)
    spans = []
    for d in designations:
        until = d.valid_to or end
        spans.append(
            ValiditySpan(
                d,
                left=(d.valid_from - start).days / days * 100,
                width=max((until - d.valid_from).days / days * 100, 0.5),
                current=d.valid_from <= today and (d.valid_to is None or today <= d.valid_to),
            )
        )
    return spans, start, end, (today - start).days / days * 100


def output_series(reports: list[QuarterlyReport]) -> list[dict]:
    """Each quarter's output (oldest first) with its change on the same quarter last year."""
    by_quarter = {Quarter(r.year, r.quarter): r for r in reports}
    rows = []
    for quarter in sorted(by_quarter):
        report = by_quarter[quarter]
        before = by_quarter.get(quarter.same_quarter_last_year())
        yoy = None
        if before and before.output_value and report.output_value is not None:
            yoy = (report.output_value / before.output_value - 1) * 100
        rows.append(
            {
                "label": quarter.label(),
                "report": report,
                "output": report.output_value,
                "yoy": None if yoy is None else Decimal(yoy).quantize(Decimal("0.1")),
            }
        )
    return rows


def enterprise_profile(request, pk: int):
    enterprise = get_visible_or_404(
        Enterprise.objects.select_related("district", "park"),
        request.user,
        pk=pk,
    )
    today = clock.today()
    reports = list(enterprise.reports.order_by("year", "quarter"))
    series = output_series(reports)
    designations = list(enterprise.designations.order_by("valid_from", "pk"))
    spans, span_start, span_end, today_at = validity_spans(designations, today)
    # The district crumb leads to the district's page in the firm's cluster of today.
    home = (
        ClusterMembership.objects.valid_on(today)
        .filter(enterprise=enterprise)
        .select_related("cluster")
        .order_by("cluster__sort_order", "cluster__key")
        .first()
    )
    return render(
        request,
        "dashboard/enterprise.html",
        {
            "enterprise": enterprise,
            "home_cluster": home.cluster if home else None,
            "memberships": enterprise.memberships.select_related("cluster", "sector__parent")
            .prefetch_related("further_sectors")
            .order_by("cluster__sort_order", "joined_on", "pk"),
            "membership_history": ClusterMembership.history.filter(enterprise_id=enterprise.pk)
            .select_related("history_user", "cluster")
            .order_by("-history_date")[:HISTORY_SHOWN],
            "spans": spans,
            "span_start": span_start,
            "span_end": span_end,
            "today_at": today_at,
            "listings": enterprise.listings.order_by("listed_on"),
            "milestones": enterprise.milestones.order_by("-occurred_on", "-pk"),
            "series": list(reversed(series)),
            "output_chart": charts.enterprise_output_chart(series),
            "revisions": ReportRevision.objects.filter(enterprise=enterprise)
            .select_related("approved_by")
            .order_by("-year", "-quarter", "-revision"),
            "alerts": Alert.objects.visible_to(request.user)
            .active()
            .filter(enterprise=enterprise)
            .select_related("rule"),
            "history": enterprise.history.select_related("history_user")[:HISTORY_SHOWN],
            "report_history": QuarterlyReport.history.filter(enterprise_id=enterprise.pk)
            .select_related("history_user")
            .order_by("-history_date")[:HISTORY_SHOWN],
            "can_edit": scope_of(request.user).can_edit,
            "section": "enterprises",
        },
    )
