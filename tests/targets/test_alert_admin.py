"""The admin changes alerts only through the lifecycle services: its actions ask for what the
service needs on an intermediate page (a comment, a date), the state fields are read-only,
and nothing a steward posts there answers 500."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from targets.choices import AlertState
from targets.models import Alert, AlertRule, Notification

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:targets_alert_changelist"


def make_alert(owner, key="designation_expiring:1", **fields):
    now = timezone.now()
    return Alert.objects.create(
        rule=AlertRule.objects.get(kind="designation_expiring"),
        severity=2,
        owner=owner,
        dedup_key=key,
        message_zh="甲公司瞪羚企业资质将于2026-12-31到期",
        message_en="Alpha's gazelle designation expires on 2026-12-31",
        opened_at=now,
        last_seen_at=now,
        **fields,
    )


@pytest.fixture(params=["city_steward", "steward"])
def admin_user(request):
    """A city steward of the group, and a superuser."""
    return request.getfixturevalue(request.param)


def act(client, action, alerts, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [a.pk for a in alerts], **data},
    )


def test_alert_fields_are_read_only_and_reopening_a_resolved_alert_is_no_500(
    client, admin_user, sip
):
    """A resolved alert whose key is active again: setting it open would break the one-active-
    alert-per-key constraint. The admin has no way to set the state."""
    resolved = make_alert(sip, state=AlertState.RESOLVED, resolved_at=timezone.now())
    make_alert(sip)
    client.force_login(admin_user)
    url = reverse("admin:targets_alert_change", args=[resolved.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="state"' not in page.content.decode()
    assert 'name="comment"' not in page.content.decode()
    posted = client.post(url, {"state": "open", "comment": "重新打开"})
    assert posted.status_code == 403
    resolved.refresh_from_db()
    assert (resolved.state, resolved.comment) == (AlertState.RESOLVED, "")


def test_acknowledge_asks_for_the_comment_and_goes_through_the_service(client, admin_user, sip):
    alerts = [make_alert(sip, key="k:1"), make_alert(sip, key="k:2")]
    client.force_login(admin_user)
    asked = act(client, "acknowledge_alerts", alerts)
    assert asked.status_code == 200
    body = asked.content.decode()
    assert body.count("甲公司瞪羚企业资质将于2026-12-31到期") == 2
    refused = act(client, "acknowledge_alerts", alerts, comment="  ", apply="1")
    assert refused.status_code == 200
    assert "请说明处理情况。" in refused.content.decode()  # the service's rule and words
    assert set(Alert.objects.values_list("state", flat=True)) == {AlertState.OPEN}
    done = act(client, "acknowledge_alerts", alerts, comment="已通知企业", apply="1")
    assert done.status_code == 302
    assert (
        list(Alert.objects.values_list("state", "comment", "acknowledged_by"))
        == [(AlertState.ACKNOWLEDGED, "已通知企业", admin_user.pk)] * 2
    )
    history = Alert.objects.get(pk=alerts[0].pk).history.first()
    assert history.history_user == admin_user


def test_snooze_needs_a_later_date(client, admin_user, sip, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC))
    alert = make_alert(sip)
    client.force_login(admin_user)
    for until in ("", "2026-11-30", "2026-02-30"):
        response = act(client, "snooze_alerts", [alert], until=until, apply="1")
        assert response.status_code == 200
        assert 'class="errorlist' in response.content.decode()
    alert.refresh_from_db()
    assert (alert.state, alert.snoozed_until) == (AlertState.OPEN, None)
    act(client, "snooze_alerts", [alert], until="2026-12-15", comment="月中复核", apply="1")
    alert.refresh_from_db()
    assert (alert.state, alert.snoozed_until, alert.comment) == (
        AlertState.SNOOZED,
        dt.date(2026, 12, 15),
        "月中复核",
    )


def test_resolve_notifies_and_one_bad_alert_stops_the_whole_action(
    client, admin_user, sip, officer_sip
):
    already = make_alert(
        sip, key="k:done", state=AlertState.RESOLVED, resolved_at=timezone.now(), comment="旧"
    )
    alert = make_alert(sip, key="k:open")
    client.force_login(admin_user)
    refused = act(client, "acknowledge_alerts", [alert, already], comment="处理中", apply="1")
    assert "该预警已解除。" in refused.content.decode()
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN  # all or nothing
    act(client, "resolve_alerts", [alert], comment="企业已完成复审", apply="1")
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by, alert.comment) == (
        AlertState.RESOLVED,
        admin_user,
        "企业已完成复审",
    )
    assert Notification.objects.filter(alert=alert, event="resolved", user=officer_sip).exists()


def test_alerts_are_never_deleted_in_the_admin(client, admin_user, sip):
    alert = make_alert(sip)
    client.force_login(admin_user)
    assert client.get(reverse("admin:targets_alert_delete", args=[alert.pk])).status_code == 403
    act(client, "delete_selected", [alert], post="yes")
    assert Alert.objects.filter(pk=alert.pk).exists()
