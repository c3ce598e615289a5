"""Targets off track or at risk, and milestones missed, of the plans in force today: from the
city snapshots of each cluster's official quarter, newest approved vintage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F, Q
from django.utils.translation import gettext as _

from ..choices import AlertKind, Basis, ScopeKind, Status
from ..models import AlertRule, ProgressSnapshot, Target
from ..selectors.dashboard import newest_at
from ..selectors.plans import deadline_quarter, official_quarters, plans_in_force
from .registry import Condition, money, register


def official_city_snapshots(today: dt.date):
    """The city snapshots the target alerts read: for each plan in force today
    (selectors.plans), its targets at their cluster's official quarter (never a quarter
    someone only typed into), from the newest approved vintage, under each target's current
    counting rule. Once a plan ends its targets raise no alert, and their alerts resolve."""
    plans = list(plans_in_force(today).select_related("cluster"))
    if not plans:
        return ProgressSnapshot.objects.none()
    official = official_quarters({plan.cluster for plan in plans}, today)
    wanted = Q()
    for plan in plans:
        quarter = min(official[plan.cluster_id].quarter, deadline_quarter(plan))
        wanted |= Q(target__plan=plan, year=quarter.year, quarter=quarter.quarter)
    return newest_at(
        ProgressSnapshot.objects.current().filter(
            wanted, scope_kind=ScopeKind.CITY, basis=Basis.APPROVED
        ),
        None,
    ).select_related("target")


def _message(target: Target, snapshot: ProgressSnapshot):
    def render() -> str:
        values = {
            "target": target.name,
            "actual": target.display_value(snapshot.actual),
            "projection": target.display_value(snapshot.projection),
            "value": target.display_value(target.target_value),
            "quarter": f"{snapshot.year}Q{snapshot.quarter}",
            "status": Status(snapshot.status).label,
        }
        if snapshot.projection is None:
            # A target without a projection (a ratio, an assessment) is judged on its value.
            return (
                _("%(target)s: %(actual)s against the target %(value)s (%(quarter)s, %(status)s).")
                % values
            )
        return (
            _(
                "%(target)s: projection %(projection)s against the target %(value)s "
                "(%(quarter)s, %(status)s)."
            )
            % values
        )

    return render


def _target_status(rule: AlertRule, today: dt.date, status: str) -> Iterable[Condition]:
    for snapshot in official_city_snapshots(today).filter(status=status):
        target = snapshot.target
        yield Condition(
            key=f"{rule.kind}:{target.pk}",
            severity=rule.severity,
            owner_id=target.district_id,
            target_id=target.pk,
            numbers={
                "quarter": f"{snapshot.year}Q{snapshot.quarter}",
                "actual": money(snapshot.actual),
                "projection": None if snapshot.projection is None else money(snapshot.projection),
                "target": money(target.target_value),
                "vintage": snapshot.vintage.isoformat(),
            },
            message=_message(target, snapshot),
        )


@register(AlertKind.TARGET_OFF_TRACK)
def off_track(rule, today):
    return _target_status(rule, today, Status.OFF_TRACK)


@register(AlertKind.TARGET_AT_RISK)
def at_risk(rule, today):
    return _target_status(rule, today, Status.AT_RISK)


@register(AlertKind.MILESTONE_MISSED)
def milestone_missed(rule, today):
    snapshots = (
        official_city_snapshots(today)
        .filter(milestone_expected__isnull=False, actual__lt=F("milestone_expected"))
        .exclude(status=Status.ACHIEVED)
    )
    for snapshot in snapshots:
        target = snapshot.target
        yield Condition(
            key=f"{rule.kind}:{target.pk}",
            severity=rule.severity,
            owner_id=target.district_id,
            target_id=target.pk,
            numbers={
                "quarter": f"{snapshot.year}Q{snapshot.quarter}",
                "actual": money(snapshot.actual),
                "milestone": money(snapshot.milestone_expected),
            },
            message=lambda t=target, s=snapshot: (
                _(
                    "%(target)s is behind its milestone at %(quarter)s: %(actual)s against "
                    "%(expected)s expected."
                )
                % {
                    "target": t.name,
                    "quarter": f"{s.year}Q{s.quarter}",
                    "actual": t.display_value(s.actual),
                    "expected": t.display_value(s.milestone_expected),
                }
            ),
        )
