"""Targets off track or at risk, and milestones missed, from the newest approved city snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import (
    F,
    OuterRef,
    Subquery,
)
from django.utils.translation import gettext as _

from ..choices import AlertKind, Basis, ScopeKind, Status
from ..models import AlertRule, ProgressSnapshot, Target
from .registry import Condition, money, register


def _latest_city_snapshots():
    """The newest approved city snapshot of each target (newest quarter, newest vintage),
    under the target's current counting rule."""
    latest = (
        ProgressSnapshot.objects.filter(
            target=OuterRef("pk"),
            rule_version=OuterRef("rule_version"),
            scope_kind=ScopeKind.CITY,
            basis=Basis.APPROVED,
        )
        .order_by("-year", "-quarter", "-vintage")
        .values("pk")[:1]
    )
    return ProgressSnapshot.objects.filter(
        pk__in=Target.objects.annotate(latest=Subquery(latest)).values("latest")
    ).select_related("target")


def _target_status(rule: AlertRule, today: dt.date, status: str) -> Iterable[Condition]:
    for snapshot in _latest_city_snapshots().filter(status=status):
        target = snapshot.target
        yield Condition(
            key=f"{rule.kind}:{target.pk}",
            severity=rule.severity,
            owner_id=target.district_id,
            target_id=target.pk,
            numbers={
                "quarter": f"{snapshot.year}Q{snapshot.quarter}",
                "actual": money(snapshot.actual),
                "projection": money(snapshot.projection or 0),
                "target": money(target.target_value),
                "vintage": snapshot.vintage.isoformat(),
            },
            message=lambda t=target, s=snapshot: (
                _(
                    "%(target)s: projection %(projection)s against the target %(value)s "
                    "(%(quarter)s, %(status)s)."
                )
                % {
                    "target": t.name,
                    "projection": t.display_value(s.projection),
                    "value": t.display_value(t.target_value),
                    "quarter": f"{s.year}Q{s.quarter}",
                    "status": Status(s.status).label,
                }
            ),
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
        _latest_city_snapshots()
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
