"""Alert evaluation and the alert lifecycle (the rules themselves are in targets.alert_rules).

Each rule yields the conditions that hold now, keyed by a deduplication key. Evaluation
opens an alert for a new key, refreshes the numbers of an active one, and resolves an
active alert whose condition no longer holds; running it twice changes nothing. The rule
row is locked while its alerts are reconciled, so two workers never open the same alert.
Notifications go out only when an alert opens, escalates or resolves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Q,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from cluster.access import Role, scope_of
from cluster.jobs import enqueue_on_commit

from ..alert_rules import RULES, Condition
from ..choices import AlertEvent, AlertState
from ..models import Alert, AlertRule, Notification


def _text(render: Callable[[], str]) -> tuple[str, str]:
    out = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            out.append(render())
    return out[0], out[1]


# --- evaluation and lifecycle -------------------------------------------------------------


@dataclass
class EvaluationResult:
    opened: int = 0
    refreshed: int = 0
    resolved: int = 0
    escalated: int = 0


def _recipients(owner_id: int | None) -> list:
    User = get_user_model()
    stewards = Q(groups__name=Role.CITY_STEWARD)
    officers = Q(groups__name=Role.DISTRICT_OFFICER, membership__district_id=owner_id)
    wanted = stewards | officers if owner_id else stewards
    return list(User.objects.filter(wanted, is_active=True).distinct())


def _notify(alerts: list[Alert], event: str) -> None:
    notices = [
        Notification(user=user, alert=alert, event=event)
        for alert in alerts
        for user in _recipients(alert.owner_id)
    ]
    created = Notification.objects.bulk_create(notices, ignore_conflicts=True)
    if created:
        enqueue_on_commit("targets.send_notifications", [alert.pk for alert in alerts], event)


def _apply(alert: Alert, condition: Condition, now) -> None:
    alert.numbers = condition.numbers
    alert.message_zh, alert.message_en = _text(condition.message)
    alert.last_seen_at = now


def alerts_evaluate(*, today: dt.date | None = None) -> EvaluationResult:
    today = today or timezone.localdate()
    now = timezone.now()
    result = EvaluationResult()
    for rule in AlertRule.objects.filter(enabled=True):
        with transaction.atomic():
            AlertRule.objects.select_for_update().get(pk=rule.pk)
            conditions = {c.key: c for c in RULES[rule.kind](rule, today)}
            active = {a.dedup_key: a for a in Alert.objects.filter(rule=rule).active()}
            resolved = [a for key, a in active.items() if key not in conditions]
            for alert in resolved:
                alert.state = AlertState.RESOLVED
                alert.resolved_at = now
                alert.resolved_automatically = True
            escalated, refreshed = [], []
            for key, alert in active.items():
                condition = conditions.get(key)
                if condition is None:
                    continue
                if condition.severity > alert.severity:
                    alert.severity = condition.severity
                    escalated.append(alert)
                elif condition.severity < alert.severity:
                    # Calmer as reports come in (an overdue alert follows what is missing);
                    # only a rise notifies.
                    alert.severity = condition.severity
                if alert.state == AlertState.SNOOZED and alert.snoozed_until < today:
                    alert.state = AlertState.OPEN
                    alert.snoozed_until = None
                if (
                    rule.escalate_after_days
                    and alert.owner_id
                    and alert.state == AlertState.OPEN
                    and alert.opened_at.date() + dt.timedelta(days=rule.escalate_after_days) < today
                ):
                    alert.owner_id = None
                    alert.escalated_at = now
                    escalated.append(alert)
                _apply(alert, condition, now)
                refreshed.append(alert)
            for alert in resolved + refreshed:
                alert._change_reason = "evaluation"
                alert.save()
            opened = []
            for key, condition in conditions.items():
                if key in active:
                    continue
                alert = Alert(
                    rule=rule,
                    severity=condition.severity,
                    owner_id=condition.owner_id,
                    target_id=condition.target_id,
                    enterprise_id=condition.enterprise_id,
                    designation_id=condition.designation_id,
                    district_id=condition.district_id or condition.owner_id,
                    dedup_key=key,
                    opened_at=now,
                    last_seen_at=now,
                )
                _apply(alert, condition, now)
                opened.append(alert)
            bulk_create_with_history(opened, Alert, default_change_reason="evaluation")
            _notify(opened, AlertEvent.OPENED)
            _notify(list({a.pk: a for a in escalated}.values()), AlertEvent.ESCALATED)
            _notify(resolved, AlertEvent.RESOLVED)
            result.opened += len(opened)
            result.resolved += len(resolved)
            result.escalated += len({a.pk for a in escalated})
            result.refreshed += len(refreshed)
    return result


def _acting(actor, alert_id: int) -> Alert:
    """The alert, locked, if `actor`'s role may act on alerts (cluster.access) and the alert
    is in their scope; PermissionDenied otherwise, before anything typed is looked at."""
    if not scope_of(actor).can_act_on_alerts:
        raise PermissionDenied
    alert = Alert.objects.visible_to(actor).select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise PermissionDenied
    return alert


@transaction.atomic
def alert_acknowledge(*, actor, alert_id: int, comment: str) -> Alert:
    alert = _acting(actor, alert_id)
    if not comment.strip():
        raise ValidationError({"comment": _("Say what is being done about it.")})
    if alert.state == AlertState.RESOLVED:
        raise ValidationError(_("The alert is already resolved."))
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert.comment = comment.strip()
    alert.snoozed_until = None
    alert._history_user = actor
    alert.save()
    return alert


@transaction.atomic
def alert_snooze(*, actor, alert_id: int, until: dt.date, comment: str = "") -> Alert:
    alert = _acting(actor, alert_id)
    if until <= timezone.localdate():
        raise ValidationError({"until": _("Snooze until a date after today.")})
    if alert.state == AlertState.RESOLVED:
        raise ValidationError(_("The alert is already resolved."))
    alert.state = AlertState.SNOOZED
    alert.snoozed_until = until
    if comment.strip():
        alert.comment = comment.strip()
    alert._history_user = actor
    alert.save()
    return alert


@transaction.atomic
def alert_resolve(*, actor, alert_id: int, comment: str = "") -> Alert:
    alert = _acting(actor, alert_id)
    if alert.state == AlertState.RESOLVED:
        return alert
    alert.state = AlertState.RESOLVED
    alert.resolved_at = timezone.now()
    alert.resolved_by = actor
    if comment.strip():
        alert.comment = comment.strip()
    alert._history_user = actor
    alert.save()
    _notify([alert], AlertEvent.RESOLVED)
    return alert


BULK_ACTIONS = ("acknowledge", "snooze", "resolve")


@transaction.atomic
def alerts_act(
    *,
    actor,
    alert_ids: list[int],
    action: str,
    comment: str = "",
    until: dt.date | None = None,
) -> int:
    """Acknowledge, snooze or resolve the selected alerts with one comment, each through its
    own service above (the same rights, scope and checks); all or nothing."""
    if not scope_of(actor).can_act_on_alerts:
        raise PermissionDenied
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Choose acknowledge, snooze or resolve.")})
    if not alert_ids:
        raise ValidationError({"alert": _("Select the alerts to act on.")})
    for alert_id in sorted(set(alert_ids)):
        if action == "acknowledge":
            alert_acknowledge(actor=actor, alert_id=alert_id, comment=comment)
        elif action == "snooze":
            if until is None:
                raise ValidationError({"until": _("Give the date to snooze until (YYYY-MM-DD).")})
            alert_snooze(actor=actor, alert_id=alert_id, until=until, comment=comment)
        else:
            alert_resolve(actor=actor, alert_id=alert_id, comment=comment)
    return len(set(alert_ids))


def notifications_send(alert_ids: list[int], event: str) -> int:
    """E-mail the notifications of these alerts and event that were not e-mailed yet. Each
    notification is claimed with a conditional update first, so a task run twice (or two
    workers) never sends one twice."""
    from django.core.mail import send_mail

    sent = 0
    pending = Notification.objects.filter(
        alert_id__in=alert_ids, event=event, emailed_at__isnull=True
    ).select_related("user", "alert")
    for notice in pending:
        claimed = Notification.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed or not notice.user.email:
            continue
        subject = f"[{AlertEvent(event).label}] {notice.alert.message_zh}"[:150]
        body = f"{notice.alert.message_zh}\n\n{notice.alert.message_en}\n\n{notice.alert.numbers}"
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email])
        sent += 1
    return sent
