"""Each alert rule opens an alert, does not duplicate it on re-evaluation, and resolves it
when the condition clears."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from enterprises.choices import DesignationType
from targets.choices import AlertEvent, AlertState
from targets.models import Alert, AlertRule, Notification, Target
from targets.services.alerts import (
    alert_acknowledge,
    alert_resolve,
    alert_snooze,
    alerts_evaluate,
    notifications_send,
)
from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 2, 20)
# While the nano plan 2023–2025 is in force: its targets raise status and milestone alerts.
IN_FORCE = dt.date(2025, 11, 20)


def active(kind):
    return list(Alert.objects.filter(rule__kind=kind).active().order_by("dedup_key"))


def only(kind, *keep):
    """Enable just the rules under test."""
    AlertRule.objects.exclude(kind__in=(kind, *keep)).update(enabled=False)


def cycle(kind, clear, today=TODAY):
    """Evaluate twice (one alert, not two), clear the condition, evaluate again (resolved)."""
    only(kind)
    alerts_evaluate(today=today)
    opened = active(kind)
    alerts_evaluate(today=today)
    assert [a.pk for a in active(kind)] == [a.pk for a in opened]
    clear()
    alerts_evaluate(today=today)
    assert active(kind) == []
    resolved = Alert.objects.get(pk=opened[0].pk)
    assert (resolved.state, resolved.resolved_automatically) == (AlertState.RESOLVED, True)
    return opened


def test_target_off_track(enterprise_factory, approve):
    firm = enterprise_factory()
    for q in (1, 2, 3):
        approve(firm, 2025, q, 10 * YI)
    progress_recompute(target_ids=[Target.objects.get(key="total_output").pk])

    def clear():
        Target.objects.filter(key="total_output").update(target_value=Decimal(1))
        progress_recompute(target_ids=[Target.objects.get(key="total_output").pk])

    # On 2025-11-20 the official quarter is 2025Q3: 30 so far, the year ends near 40.
    opened = cycle("target_off_track", clear, today=IN_FORCE)
    assert len(opened) == 1
    assert opened[0].numbers["actual"] == str((30 * YI).quantize(Decimal("0.01")))
    assert opened[0].message_zh == (
        "全市纳米新材料产业产值：预测值 40.0 亿元，目标 1,000.0 亿元（2025Q3，偏离目标）。"
    )
    assert opened[0].message_en == (
        "City nano new-materials output value: projection ¥4.0 bn against the target "
        "¥100.0 bn (2025Q3, off track)."
    )


def test_target_alerts_resolve_when_the_plan_ends(enterprise_factory, approve, report_factory):
    firm = enterprise_factory()
    for q in (1, 2, 3):
        approve(firm, 2025, q, 10 * YI)
    progress_recompute()
    only("target_off_track", "milestone_missed")
    alerts_evaluate(today=IN_FORCE)
    assert {a.rule.kind for a in Alert.objects.active()} == {"target_off_track", "milestone_missed"}
    # The plan ended on 2025-12-31; figures of 2026 come in, one quarter only typed in.
    approve(firm, 2025, 4, 10 * YI)
    approve(firm, 2026, 1, 10 * YI)
    report_factory(
        enterprise=firm,
        year=2026,
        quarter=3,
        output_value=0,
        status="submitted",
        submitted_at=timezone.now(),
    )
    progress_recompute()
    alerts_evaluate(today=dt.date(2026, 11, 30))
    assert Alert.objects.active().count() == 0
    assert set(Alert.objects.values_list("state", "resolved_automatically")) == {
        (AlertState.RESOLVED, True)
    }
    assert not Alert.objects.filter(message_zh__contains="预测值 0.0").exists()


def test_a_target_without_projection_is_judged_on_its_value(enterprise_factory, approve):
    """A ratio or an assessment has no projection: never "projection 0.0"."""
    from targets.models import ProgressSnapshot

    firm = enterprise_factory()
    for q in (1, 2, 3):
        approve(firm, 2025, q, 10 * YI)
    target = Target.objects.get(key="total_output")
    progress_recompute(target_ids=[target.pk])
    ProgressSnapshot.objects.filter(target=target).update(projection=None)
    only("target_off_track")
    alerts_evaluate(today=IN_FORCE)
    [alert] = active("target_off_track")
    assert alert.numbers["projection"] is None
    assert alert.message_zh == (
        "全市纳米新材料产业产值：30.0 亿元，目标 1,000.0 亿元（2025Q3，偏离目标）。"
    )


def test_report_overdue_lists_the_missing_firms(enterprise_factory, report_factory, settings):
    settings.REPORT_DEADLINE_DAYS = 15
    late = enterprise_factory(name_zh="迟报公司", joined_on=dt.date(2020, 1, 1))
    AlertRule.objects.filter(kind="report_overdue").update(days=7)
    # 2025Q4 is due 2026-01-15, +7 days grace: overdue on 2026-02-20; 2026Q1 is not yet due.
    only("report_overdue")
    alerts_evaluate(today=TODAY)
    alerts = [a for a in active("report_overdue") if a.numbers["quarter"] == "2025Q4"]
    assert len(alerts) == 1
    assert alerts[0].owner == late.district
    assert alerts[0].numbers["firms"] == ["迟报公司"]
    assert (
        alerts[0].message_zh
        == "苏州工业园区：2025Q4 缺 1/1 份报表，逾期 36 天（截止 2026-01-15）。"
    )

    def clear():
        for quarter in (1, 2, 3, 4):
            report_factory(
                enterprise=late,
                year=2025,
                quarter=quarter,
                status="submitted",
                submitted_at=timezone.now(),
            )

    clear()
    alerts_evaluate(today=TODAY)
    assert [a.numbers["quarter"] for a in active("report_overdue")] == []


def test_figure_jump_quarter_on_quarter(enterprise_factory, report_factory):
    firm = enterprise_factory()
    report_factory(enterprise=firm, year=2025, quarter=3, output_value=100 * YI)
    jump = report_factory(enterprise=firm, year=2025, quarter=4, output_value=170 * YI)

    def clear():
        jump.output_value = 140 * YI
        jump.save()

    opened = cycle("figure_jump", clear)
    assert opened[0].numbers["change_percent"] == "70.00"


def test_peer_outlier_per_employee(enterprise_factory, report_factory):
    firms = enterprise_factory.create_batch(6)
    reports = [
        report_factory(enterprise=f, year=2025, quarter=4, output_value=10 * YI, employees=100)
        for f in firms
    ]
    reports[0].employees = 1  # 100× its peers per head; 5.7× the average, itself included
    reports[0].save()

    def clear():
        reports[0].employees = 100
        reports[0].save()

    opened = cycle("peer_outlier", clear)
    assert opened[0].enterprise == firms[0]


def test_designation_expiring_then_expired_escalates_severity(designation_factory):
    designation = designation_factory(
        type=DesignationType.UNICORN_CULTIVATION,
        valid_from=dt.date(2023, 3, 1),
        valid_to=dt.date(2026, 3, 15),
    )
    only("designation_expiring")
    alerts_evaluate(today=TODAY)
    [alert] = active("designation_expiring")
    assert (alert.severity, alert.numbers["expired"]) == (2, False)
    alerts_evaluate(today=dt.date(2026, 3, 20))
    alert.refresh_from_db()
    assert (alert.severity, alert.numbers["expired"]) == (3, True)

    def clear():  # renewed
        designation_factory(
            enterprise=designation.enterprise,
            type=DesignationType.UNICORN_CULTIVATION,
            valid_from=dt.date(2026, 3, 16),
            valid_to=dt.date(2029, 3, 15),
        )

    clear()
    alerts_evaluate(today=dt.date(2026, 3, 20))
    assert active("designation_expiring") == []


def test_threshold_crossed_is_good_news(enterprise_factory, approve):
    firm = enterprise_factory()
    for q in (1, 2, 3, 4):
        approve(firm, 2024, q, 2 * YI)
        approve(firm, 2025, q, 3 * YI)  # 8 → 12 hundred-million: crossed ¥1 bn in 2025
    only("threshold_crossed")
    alerts_evaluate(today=TODAY)
    [alert] = active("threshold_crossed")
    assert alert.numbers["year"] == 2025 and alert.enterprise == firm
    alerts_evaluate(today=TODAY)
    assert len(active("threshold_crossed")) == 1


def test_duplicate_firm_candidates(enterprise_factory):
    first = enterprise_factory(name_zh="苏州甲纳米科技股份有限公司")
    second = enterprise_factory(name_zh="苏州甲纳米科技有限公司")

    def clear():
        second.name_zh = "苏州乙纳米科技有限公司"
        second.save()

    opened = cycle("duplicate_firm", clear)
    assert sorted(opened[0].numbers["usccs"]) == sorted([first.uscc, second.uscc])


def test_unit_mistake(enterprise_factory, report_factory):
    firm = enterprise_factory()
    for quarter in (1, 2, 3):
        report_factory(enterprise=firm, year=2025, quarter=quarter, output_value=Decimal(5_000_000))
    wrong = report_factory(
        enterprise=firm, year=2025, quarter=4, output_value=Decimal(50_000_000_000)
    )

    def clear():
        wrong.output_value = Decimal(5_000_000)
        wrong.save()

    cycle("unit_mistake", clear)


def test_milestone_missed(enterprise_factory, approve):
    firm = enterprise_factory()
    for q in (1, 2, 3, 4):
        approve(firm, 2022, q, 10 * YI)  # the baseline year: milestones from 40
        approve(firm, 2024, q, 10 * YI)
    approve(firm, 2025, 1, 5 * YI)
    target = Target.objects.get(key="total_output")
    progress_recompute(target_ids=[target.pk])
    only("milestone_missed")
    alerts_evaluate(today=IN_FORCE)
    assert [a.target for a in active("milestone_missed")] == [target]


def test_lifecycle_acknowledge_snooze_resolve_and_notifications(
    designation_factory, city_steward, officer_sip
):
    designation_factory(
        type=DesignationType.GAZELLE, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
    )
    city_steward.email, officer_sip.email = "steward@example.invalid", "officer@example.invalid"
    city_steward.save()
    officer_sip.save()
    only("designation_expiring")
    alerts_evaluate(today=TODAY)
    [alert] = active("designation_expiring")
    notified = set(Notification.objects.filter(alert=alert).values_list("user__username", "event"))
    assert notified == {("city_steward", "opened"), ("officer_sip", "opened")}
    assert notifications_send([alert.pk], AlertEvent.OPENED) == 2
    assert notifications_send([alert.pk], AlertEvent.OPENED) == 0  # claimed once
    assert len(mail.outbox) == 2
    alerts_evaluate(today=TODAY)
    assert Notification.objects.filter(alert=alert).count() == 2  # no repeat while unchanged

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        alert_acknowledge(actor=officer_sip, alert_id=alert.pk, comment="  ")
    alert_acknowledge(actor=officer_sip, alert_id=alert.pk, comment="已通知企业准备复审材料")
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by, alert.comment) == (
        "acknowledged",
        officer_sip,
        "已通知企业准备复审材料",
    )
    alert_snooze(
        actor=officer_sip, alert_id=alert.pk, until=timezone.localdate() + dt.timedelta(days=30)
    )
    alert.refresh_from_db()
    assert alert.state == "snoozed"
    alert_resolve(actor=city_steward, alert_id=alert.pk, comment="已复审")
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by, alert.resolved_automatically) == (
        "resolved",
        city_steward,
        False,
    )
    assert Notification.objects.filter(alert=alert, event="resolved").count() == 2


def test_other_districts_cannot_act_on_an_alert(designation_factory, officer_kunshan):
    from django.core.exceptions import PermissionDenied

    designation_factory(
        type=DesignationType.GAZELLE, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
    )
    only("designation_expiring")
    alerts_evaluate(today=TODAY)
    [alert] = active("designation_expiring")
    with pytest.raises(PermissionDenied):
        alert_acknowledge(actor=officer_kunshan, alert_id=alert.pk, comment="x")


def test_alert_open_too_long_escalates_to_the_city(designation_factory):
    designation_factory(
        type=DesignationType.GAZELLE, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
    )
    AlertRule.objects.filter(kind="designation_expiring").update(escalate_after_days=10)
    only("designation_expiring")
    alerts_evaluate(today=TODAY)
    [alert] = active("designation_expiring")
    assert alert.owner is not None
    opened = timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=30), dt.time(9)))
    Alert.objects.filter(pk=alert.pk).update(opened_at=opened)
    result = alerts_evaluate(today=TODAY)
    alert.refresh_from_db()
    assert (alert.owner, result.escalated) == (None, 1)
    assert alert.escalated_at is not None


def test_evaluating_twice_leaves_the_same_state(enterprise_factory, approve, designation_factory):
    firm = enterprise_factory()
    for q in (1, 2, 3, 4):
        approve(firm, 2025, q, 10 * YI)
    designation_factory(
        enterprise=firm, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
    )
    progress_recompute()
    alerts_evaluate(today=TODAY)

    def state():
        return sorted(Alert.objects.values_list("dedup_key", "state", "severity", "owner"))

    first, notices = state(), Notification.objects.count()
    alerts_evaluate(today=TODAY)
    assert state() == first and Notification.objects.count() == notices


def test_in_app_notifications_with_unread_count(client, designation_factory, officer_sip):
    from django.urls import reverse

    designation_factory(
        type=DesignationType.GAZELLE, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
    )
    only("designation_expiring")
    alerts_evaluate(today=TODAY)
    client.force_login(officer_sip)
    page = client.get(reverse("targets:notifications"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["unread"] == 1
    html = page.content.decode()
    assert "expires on 2026-03-01" in html
    assert 'aria-label="1 unread"' in html  # the badge in the navigation
    client.post(reverse("targets:notifications-read"))
    assert client.get(reverse("targets:notifications")).context["unread"] == 0


def test_target_at_risk(enterprise_factory, approve):
    firm = enterprise_factory()
    for q in (1, 2, 3):
        approve(firm, 2025, q, 230 * YI)  # the year ends near 920 of 1000: at risk (≥ 90%)
    target = Target.objects.get(key="total_output")
    progress_recompute(target_ids=[target.pk])

    def clear():
        Target.objects.filter(pk=target.pk).update(at_risk_ratio=Decimal("0.95"))
        progress_recompute(target_ids=[target.pk])  # now off track instead

    cycle("target_at_risk", clear, today=IN_FORCE)


def test_milestone_missed_resolves_once_caught_up(enterprise_factory, approve):
    firm = enterprise_factory()
    for q in (1, 2, 3, 4):
        approve(firm, 2022, q, 10 * YI)  # the baseline year: milestones from 40
        approve(firm, 2024, q, 10 * YI)
    approve(firm, 2025, 1, 5 * YI)
    target = Target.objects.get(key="total_output")
    progress_recompute(target_ids=[target.pk])

    def clear():
        target.milestones.update(expected_value=Decimal(1), interpolated=False)
        Target.objects.filter(pk=target.pk).update(
            baseline_value=Decimal(1), baseline_set_by_hand=True
        )
        progress_recompute(target_ids=[target.pk])

    cycle("milestone_missed", clear, today=IN_FORCE)


def test_threshold_crossed_resolves_when_the_figures_are_revised(enterprise_factory, approve):
    firm = enterprise_factory()
    for q in (1, 2, 3, 4):
        approve(firm, 2024, q, 2 * YI)
        approve(firm, 2025, q, 3 * YI)

    def clear():  # the 2025 figures are revised down below ¥1 bn
        later = timezone.now() - dt.timedelta(minutes=1)  # after the first approvals
        for q in (1, 2, 3, 4):
            approve(firm, 2025, q, 2 * YI, at=later)

    cycle("threshold_crossed", clear)


def test_tasks_run_twice_leave_the_same_state(enterprise_factory, approve, settings):
    from targets.tasks import evaluate_alerts, recompute_progress

    settings.CELERY_TASK_ALWAYS_EAGER = True
    firm = enterprise_factory()
    for q in (1, 2, 3, 4):
        approve(firm, 2025, q, 10 * YI)

    def state():
        from targets.models import ProgressSnapshot

        return (
            sorted(
                ProgressSnapshot.objects.values_list(
                    "scope_key", "year", "quarter", "basis", "vintage", "actual", "status"
                )
            ),
            sorted(Alert.objects.values_list("dedup_key", "state")),
        )

    recompute_progress.apply()
    evaluate_alerts.apply()
    first = state()
    recompute_progress.apply()
    evaluate_alerts.apply()
    assert state() == first
    assert first[0] and first[1]
