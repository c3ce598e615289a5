"""Alert rules, their evaluation and the alert lifecycle.

Each rule yields the conditions that hold now, keyed by a deduplication key. Evaluation
opens an alert for a new key, refreshes the numbers of an active one, and resolves an
active alert whose condition no longer holds; running it twice changes nothing. The rule
row is locked while its alerts are reconciled, so two workers never open the same alert.
Notifications go out only when an alert opens, escalates or resolves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Replace
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from cluster.access import Role
from cluster.jobs import enqueue_on_commit
from cluster.models import District
from cluster.quarters import Quarter
from enterprises.choices import DesignationType, ReportStatus
from enterprises.models import Designation, Enterprise, QuarterlyReport, ReportRevision
from enterprises.selectors import deadline_of, in_cluster_during

from ..choices import AlertEvent, AlertKind, AlertState, Basis, ScopeKind, Severity, Status
from ..models import Alert, AlertRule, Notification, ProgressSnapshot, Target

YI = Decimal(100_000_000)
WATCHED_DESIGNATIONS = (
    DesignationType.GAZELLE,
    DesignationType.GAZELLE_CULTIVATION,
    DesignationType.UNICORN_CULTIVATION,
    DesignationType.LITTLE_GIANT,
    DesignationType.HIGH_TECH,
)
CROSSING_THRESHOLDS = (Decimal(1_000_000_000), Decimal(5_000_000_000))
MAX_LISTED = 20


@dataclass
class Condition:
    key: str
    severity: int
    owner_id: int | None
    message: Callable[[], str]
    numbers: dict = field(default_factory=dict)
    target_id: int | None = None
    enterprise_id: int | None = None
    designation_id: int | None = None
    district_id: int | None = None


def _text(render: Callable[[], str]) -> tuple[str, str]:
    out = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            out.append(render())
    return out[0], out[1]


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


# --- the rules ------------------------------------------------------------------------------


def _latest_city_snapshots():
    """The newest approved city snapshot of each target (newest quarter, newest vintage)."""
    latest = (
        ProgressSnapshot.objects.filter(
            target=OuterRef("pk"), scope_kind=ScopeKind.CITY, basis=Basis.APPROVED
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
                "actual": _money(snapshot.actual),
                "projection": _money(snapshot.projection or 0),
                "target": _money(target.target_value),
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


def _off_track(rule, today):
    return _target_status(rule, today, Status.OFF_TRACK)


def _at_risk(rule, today):
    return _target_status(rule, today, Status.AT_RISK)


def _milestone_missed(rule, today):
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
                "actual": _money(snapshot.actual),
                "milestone": _money(snapshot.milestone_expected),
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


def _report_overdue(rule, today):
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


def _latest_quarter() -> Quarter | None:
    latest = (
        QuarterlyReport.objects.order_by("-year", "-quarter").values_list("year", "quarter").first()
    )
    return Quarter(*latest) if latest else None


def _figure_jump(rule, today):
    quarter = _latest_quarter()
    if quarter is None:
        return
    threshold = (rule.threshold_percent or Decimal(50)) / 100
    money = DecimalField(max_digits=18, decimal_places=2)
    for label, other in (("qoq", quarter.previous()), ("yoy", quarter.same_quarter_last_year())):
        before = QuarterlyReport.objects.filter(
            enterprise=OuterRef("enterprise"), year=other.year, quarter=other.quarter
        ).values("output_value")[:1]
        jumps = (
            QuarterlyReport.objects.for_quarter(quarter)
            .annotate(before=Subquery(before, output_field=money))
            .filter(before__gt=0, output_value__isnull=False)
            .filter(
                Q(
                    output_value__gt=ExpressionWrapper(
                        F("before") * (1 + threshold), output_field=money
                    )
                )
                | Q(
                    output_value__lt=ExpressionWrapper(
                        F("before") * (1 - threshold), output_field=money
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
                    "value": _money(report.output_value),
                    "before": _money(report.before),
                    "change_percent": _money(change),
                    "note": report.anomaly_note,
                },
                message=lambda r=report, c=change, o=other: (
                    _("%(firm)s: output value %(change)+.1f%% against %(other)s.")
                    % {"firm": r.enterprise.name, "change": c, "other": o}
                ),
            )


def _peer_outlier(rule, today):
    """Output per employee far above the average of the firms of the same material: a
    figure (or a head count) probably entered wrongly."""
    quarter = _latest_quarter()
    if quarter is None:
        return
    factor = (rule.threshold_percent or Decimal(500)) / 100
    money = DecimalField(max_digits=24, decimal_places=4)
    reports = (
        QuarterlyReport.objects.for_quarter(quarter)
        .filter(output_value__gt=0, employees__gt=0)
        .annotate(
            per_head=ExpressionWrapper(F("output_value") / F("employees"), output_field=money)
        )
    )
    averages = {
        row["enterprise__primary_sector"]: row["average"]
        for row in reports.values("enterprise__primary_sector")
        .annotate(average=Avg("per_head"), peers=Count("pk"))
        .filter(peers__gte=5)
    }
    if not averages:
        return
    outside = Q()
    for sector, average in averages.items():
        outside |= Q(enterprise__primary_sector=sector, per_head__gt=average * factor)
    for report in reports.filter(outside).select_related("enterprise__primary_sector"):
        average = averages[report.enterprise.primary_sector_id]
        yield Condition(
            key=f"{rule.kind}:{report.pk}",
            severity=rule.severity,
            owner_id=report.enterprise.district_id,
            enterprise_id=report.enterprise_id,
            numbers={
                "quarter": str(quarter),
                "per_employee": _money(report.per_head),
                "sector_average": _money(average),
                "employees": report.employees,
            },
            message=lambda r=report, a=average: (
                _(
                    "%(firm)s: output per employee %(value)s yuan is %(times).0f times the "
                    "average of its sector (%(sector)s)."
                )
                % {
                    "firm": r.enterprise.name,
                    "value": _money(r.per_head),
                    "times": r.per_head / a,
                    "sector": r.enterprise.primary_sector.name,
                }
            ),
        )


def _designation_expiring(rule, today):
    window = dt.timedelta(days=rule.days or 90)
    renewed = Designation.objects.filter(
        enterprise=OuterRef("enterprise"),
        type=OuterRef("type"),
        valid_from__gt=OuterRef("valid_from"),
    )
    # A newer award of the same type already registered means the firm renewed it.
    designations = Designation.objects.filter(
        ~Exists(renewed),
        type__in=WATCHED_DESIGNATIONS,
        valid_to__gte=today - window,
        valid_to__lte=today + window,
    )
    for designation in designations.select_related("enterprise"):
        expired = designation.valid_to < today
        yield Condition(
            key=f"{rule.kind}:{designation.pk}",
            severity=Severity.CRITICAL if expired else rule.severity,
            owner_id=designation.enterprise.district_id,
            enterprise_id=designation.enterprise_id,
            designation_id=designation.pk,
            numbers={
                "type": designation.type,
                "valid_to": str(designation.valid_to),
                "expired": expired,
            },
            message=lambda d=designation, x=expired: (
                (
                    _("%(firm)s: %(type)s expired on %(date)s.")
                    if x
                    else _("%(firm)s: %(type)s expires on %(date)s.")
                )
                % {"firm": d.enterprise.name, "type": d.get_type_display(), "date": d.valid_to}
            ),
        )


def _annual_totals(year: int, minimum: Decimal | None = None, firms=None):
    rows = ReportRevision.objects.as_of(timezone.now()).filter(year=year)
    if firms is not None:
        rows = rows.filter(enterprise__in=firms)
    rows = rows.values("enterprise").annotate(total=Sum("output_value"), quarters=Count("pk"))
    rows = rows.filter(quarters=4)
    if minimum is not None:
        rows = rows.filter(total__gt=minimum)
    return {row["enterprise"]: row["total"] for row in rows}


def _threshold_crossed(rule, today):
    year = Quarter.from_date(today).year - 1
    above = _annual_totals(year, min(CROSSING_THRESHOLDS))
    if not above:
        return
    before = _annual_totals(year - 1, firms=list(above))
    firms = Enterprise.objects.in_bulk(list(above))
    for firm_id, total in above.items():
        for threshold in CROSSING_THRESHOLDS:
            previous = before.get(firm_id)
            if total > threshold and previous is not None and previous <= threshold:
                firm = firms[firm_id]
                yield Condition(
                    key=f"{rule.kind}:{firm_id}:{threshold}:{year}",
                    severity=rule.severity,
                    owner_id=firm.district_id,
                    enterprise_id=firm_id,
                    numbers={
                        "year": year,
                        "total": _money(total),
                        "previous": _money(previous),
                        "threshold": _money(threshold),
                    },
                    message=lambda f=firm, t=total, h=threshold, y=year: (
                        _(
                            "%(firm)s passed %(threshold)s hundred-million yuan of output in "
                            "%(year)s (%(total)s hundred-million yuan)."
                        )
                        % {"firm": f.name, "threshold": h / YI, "year": y, "total": _money(t / YI)}
                    ),
                )


def _normalised_name():
    name = F("name_zh")
    for fragment, replacement in (
        ("股份有限公司", "有限公司"),
        ("（", "("),
        ("）", ")"),
        (" ", ""),
    ):
        name = Replace(name, Value(fragment), Value(replacement))
    return name


def _duplicate_firm(rule, today):
    duplicates = (
        Enterprise.objects.annotate(normalised=_normalised_name())
        .values("normalised")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in duplicates:
        firms = list(
            Enterprise.objects.annotate(normalised=_normalised_name())
            .filter(normalised=row["normalised"])
            .values("pk", "uscc", "district_id")
        )
        yield Condition(
            key=f"{rule.kind}:{row['normalised']}"[:200],
            severity=rule.severity,
            owner_id=None,
            enterprise_id=firms[0]["pk"],
            numbers={"name": row["normalised"], "usccs": [f["uscc"] for f in firms]},
            message=lambda r=row, f=firms: (
                _("%(count)d firms are registered under the name %(name)s: %(codes)s.")
                % {
                    "count": len(f),
                    "name": r["normalised"],
                    "codes": ", ".join(x["uscc"] for x in f),
                }
            ),
        )


def _unit_mistake(rule, today):
    quarter = _latest_quarter()
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
    money = DecimalField(max_digits=24, decimal_places=4)
    suspicious = (
        QuarterlyReport.objects.for_quarter(quarter)
        .annotate(usual=Subquery(usual, output_field=money))
        .filter(usual__gt=0, output_value__gt=0)
        .filter(
            Q(output_value__gte=ExpressionWrapper(F("usual") * factor, output_field=money))
            | Q(output_value__lte=ExpressionWrapper(F("usual") / factor, output_field=money))
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
                "value": _money(report.output_value),
                "usual": _money(report.usual),
            },
            message=lambda r=report: (
                _(
                    "%(firm)s: output value %(value)s is about 10,000 times off its usual "
                    "%(usual)s: yuan and 10k yuan mixed up?"
                )
                % {
                    "firm": r.enterprise.name,
                    "value": _money(r.output_value),
                    "usual": _money(r.usual),
                }
            ),
        )


EVALUATORS = {
    AlertKind.TARGET_OFF_TRACK: _off_track,
    AlertKind.TARGET_AT_RISK: _at_risk,
    AlertKind.MILESTONE_MISSED: _milestone_missed,
    AlertKind.REPORT_OVERDUE: _report_overdue,
    AlertKind.FIGURE_JUMP: _figure_jump,
    AlertKind.PEER_OUTLIER: _peer_outlier,
    AlertKind.DESIGNATION_EXPIRING: _designation_expiring,
    AlertKind.THRESHOLD_CROSSED: _threshold_crossed,
    AlertKind.DUPLICATE_FIRM: _duplicate_firm,
    AlertKind.UNIT_MISTAKE: _unit_mistake,
}


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
            conditions = {c.key: c for c in EVALUATORS[rule.kind](rule, today)}
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
    """The alert, locked, if `actor` may see it."""
    alert = Alert.objects.visible_to(actor).select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise PermissionDenied
    return alert


@transaction.atomic
def alert_acknowledge(*, actor, alert_id: int, comment: str) -> Alert:
    if not comment.strip():
        raise ValidationError({"comment": _("Say what is being done about it.")})
    alert = _acting(actor, alert_id)
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
    if until <= timezone.localdate():
        raise ValidationError({"until": _("Snooze until a date after today.")})
    alert = _acting(actor, alert_id)
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
