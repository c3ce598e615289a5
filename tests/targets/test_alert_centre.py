"""The alert centre filters alerts and acts on them through the alert services; the
enterprise profile shows a firm's figures, designations and open alerts.

Who may act on an alert: a district officer on their district's alerts, a steward on every
alert, a read-only administrator on none. The same case goes through every door (the
lifecycle service, the alert centre, the API, the admin's action) and must leave the same
state; the pages offer the actions only to those who may take them."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from enterprises.choices import DesignationType
from targets.choices import AlertState
from targets.models import Alert, AlertRule
from targets.services.alerts import alert_acknowledge, alerts_evaluate

from .conftest import YI

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 2, 20)


@pytest.fixture
def alerts(designation_factory, enterprise_factory, sip, kunshan):
    """One designation-expiring alert in SIP and one in Kunshan."""
    AlertRule.objects.exclude(kind="designation_expiring").update(enabled=False)
    for district in (sip, kunshan):
        designation_factory(
            enterprise=enterprise_factory(district=district),
            type=DesignationType.GAZELLE,
            valid_from=dt.date(2024, 3, 1),
            valid_to=dt.date(2026, 3, 1),
        )
    alerts_evaluate(today=TODAY)
    return {a.owner.code: a for a in Alert.objects.select_related("owner")}


def listed(response) -> list[int]:
    return [alert.pk for alert in response.context["page"]]


def test_filters_by_state_severity_rule_and_district(client, city_viewer, alerts, sip):
    client.force_login(city_viewer)
    url = reverse("targets:alerts")
    assert sorted(listed(client.get(url))) == sorted(a.pk for a in alerts.values())
    assert listed(client.get(url, {"district": sip.pk})) == [alerts["320571"].pk]
    assert listed(client.get(url, {"rule": "target_off_track"})) == []
    assert len(listed(client.get(url, {"severity": alerts["320571"].severity}))) == 2
    assert listed(client.get(url, {"state": "resolved"})) == []


def test_acknowledge_with_a_comment_in_place(client, officer_sip, alerts):
    client.force_login(officer_sip)
    alert = alerts["320571"]
    url = reverse("targets:alert-act", args=[alert.pk, "acknowledge"])
    refused = client.post(url, {"comment": "  "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert "请说明处理情况。" in refused.content.decode()  # the service's message, translated
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN
    done = client.post(url, {"comment": "已联系企业准备复审"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert f'id="alert-{alert.pk}"' in done.content.decode()
    alert.refresh_from_db()
    assert (alert.state, alert.comment, alert.acknowledged_by) == (
        AlertState.ACKNOWLEDGED,
        "已联系企业准备复审",
        officer_sip,
    )


def test_snooze_needs_a_date_and_resolve_closes(client, city_steward, alerts):
    client.force_login(city_steward)
    alert = alerts["320583"]
    snooze = reverse("targets:alert-act", args=[alert.pk, "snooze"])
    assert client.post(snooze, {"until": ""}, HTTP_HX_REQUEST="true").status_code == 422
    until = timezone.localdate() + dt.timedelta(days=14)
    client.post(snooze, {"until": until.isoformat()}, HTTP_HX_REQUEST="true")
    alert.refresh_from_db()
    assert (alert.state, alert.snoozed_until) == (AlertState.SNOOZED, until)
    # Without htmx the form posts and comes back to the list.
    response = client.post(reverse("targets:alert-act", args=[alert.pk, "resolve"]))
    assert response.url == reverse("targets:alerts")
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, city_steward)


def test_another_districts_alert_does_not_exist(client, officer_kunshan, alerts):
    client.force_login(officer_kunshan)
    assert listed(client.get(reverse("targets:alerts"))) == [alerts["320583"].pk]
    foreign = alerts["320571"]
    url = reverse("targets:alert-act", args=[foreign.pk, "acknowledge"])
    assert client.post(url, {"comment": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == AlertState.OPEN


def test_profile_shows_output_year_on_year_designations_and_alerts(
    client, officer_sip, population, alerts
):
    client.force_login(officer_sip)
    firm = population["a"]
    response = client.get(reverse("targets:enterprise", args=[firm.pk]))
    series = {row["label"]: row for row in response.context["series"]}
    assert series["2025年第2季度"]["output"] == 12 * YI
    assert series["2025年第2季度"]["yoy"] == Decimal("20.0")  # 12 against 10
    assert series["2022年第1季度"]["yoy"] is None  # the first quarter: nothing to compare
    assert series["2023年第1季度"]["yoy"] == Decimal("0.0")
    chart = response.context["output_chart"]
    assert chart["baseOption"]["series"][0]["data"][-1] == 120000.0  # 万元
    [span] = response.context["spans"]
    assert span.designation.type == DesignationType.GAZELLE
    assert not span.current  # valid 2025-04-01 to 2025-09-30; today is later
    sip_alert = Alert.objects.create(
        rule=AlertRule.objects.get(kind="threshold_crossed"),
        severity=1,
        owner=firm.district,
        enterprise=firm,
        dedup_key="test:profile",
        message_zh="甲纳米公司产值跨过10亿元",
        message_en="Alpha Nano passed ¥1 bn",
        opened_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    response = client.get(reverse("targets:enterprise", args=[firm.pk]))
    assert list(response.context["alerts"]) == [sip_alert]
    assert "甲纳米公司产值跨过10亿元" in response.content.decode()


COMMENT = "已联系企业核实资质复审进度"


def through_service(user, alert, client):
    try:
        alert_acknowledge(actor=user, alert_id=alert.pk, comment=COMMENT)
    except PermissionDenied:
        return "refused"
    return "acted"


def through_page(user, alert, client):
    client.force_login(user)
    url = reverse("targets:alert-act", args=[alert.pk, "acknowledge"])
    return client.post(url, {"comment": COMMENT}, HTTP_HX_REQUEST="true").status_code


def through_api(user, alert, client):
    token, _ = Token.objects.get_or_create(user=user)
    response = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}").post(
        f"/api/alerts/{alert.pk}/acknowledge/", {"comment": COMMENT}, format="json"
    )
    return response.status_code


def through_admin(user, alert, client):
    """The admin's action asks for the comment on an intermediate page, then applies."""
    client.force_login(user)
    url = reverse("admin:targets_alert_changelist")
    chosen = {"action": "acknowledge_alerts", "_selected_action": [alert.pk]}
    asked = client.post(url, chosen)
    if asked.status_code != 200 or 'name="comment"' not in asked.content.decode():
        return "not offered"
    done = client.post(url, {**chosen, "comment": COMMENT, "apply": "1"})
    return done.status_code


DOORS = {
    "service": (through_service, "acted", "refused", "refused"),
    "page": (through_page, 200, 404, 403),
    "api": (through_api, 200, 404, 403),
    "admin": (through_admin, 302, "not offered", "not offered"),
}


@pytest.mark.parametrize("door", list(DOORS))
@pytest.mark.parametrize(
    ("role", "owner", "outcome"),
    [
        ("officer_sip", "320571", "acted"),
        ("officer_kunshan", "320571", "out of scope"),
        ("city_steward", "320583", "acted"),
        ("city_viewer", "320571", "read-only"),
        ("sip_viewer", "320571", "read-only"),
    ],
)
def test_who_may_acknowledge_an_alert_is_the_same_through_every_door(
    request,
    client,
    alerts,
    door,
    role,
    owner,
    outcome,
    caplog,
):
    caplog.set_level(logging.WARNING, logger="cluster.security")
    user = request.getfixturevalue(role)
    user.is_staff = True  # the admin is a door like the others
    user.save()
    alert = alerts[owner]
    send, acted, out_of_scope, read_only = DOORS[door]
    expected = {"acted": acted, "out of scope": out_of_scope, "read-only": read_only}[outcome]
    assert send(user, alert, client) == expected
    alert.refresh_from_db()
    if outcome == "acted":
        assert (alert.state, alert.comment, alert.acknowledged_by) == (
            AlertState.ACKNOWLEDGED,
            COMMENT,
            user,
        )
    else:
        assert (alert.state, alert.comment, alert.acknowledged_by) == (AlertState.OPEN, "", None)
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    # Reaching for another district's alert is logged at each door that a person uses.
    logged = outcome == "out of scope" and door != "service"
    assert [f"user={user.username}" in line for line in refusals] == ([True] if logged else [])


@pytest.mark.parametrize(
    ("role", "forms"), [("officer_sip", 4), ("city_steward", 4), ("city_viewer", 0)]
)
def test_the_alert_centre_offers_actions_only_to_those_who_may_act(
    request,
    client,
    alerts,
    role,
    forms,
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("targets:alerts"), {"district": alerts["320571"].owner_id})
    body = response.content.decode()
    assert [a.pk for a in response.context["page"]] == [alerts["320571"].pk]
    # The row's three actions folded into a small menu, and the form for the checked rows.
    assert body.count('action="/alerts/') == forms
    rows = body.split("<tbody>")[1]
    assert rows.count('<details class="menu">') == (1 if forms else 0)
    assert body.count('form="alert-bulk"') == (1 if forms else 0)
    assert ("批量处理勾选的预警" in body) == bool(forms)
    assert ('name="comment"' in body) == bool(forms)


def test_a_read_only_administrator_cannot_snooze_either(client, city_viewer, alerts):
    client.force_login(city_viewer)
    alert = alerts["320571"]
    url = reverse("targets:alert-act", args=[alert.pk, "snooze"])
    response = client.post(url, {"until": "2099-01-01"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert (alert.state, alert.snoozed_until) == (AlertState.OPEN, None)


# --- acting on the checked alerts -------------------------------------------------------------


@pytest.fixture
def three(alerts, designation_factory, enterprise_factory, sip):
    """Two SIP alerts and one Kunshan alert."""
    designation_factory(
        enterprise=enterprise_factory(district=sip),
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2024, 3, 1),
        valid_to=dt.date(2026, 3, 10),
    )
    alerts_evaluate(today=TODAY)
    return (
        list(Alert.objects.filter(owner=sip).order_by("pk")),
        alerts["320583"],
    )


def bulk(client, ids, **data):
    return client.post(
        reverse("targets:alerts-bulk"),
        {"alert": [str(pk) for pk in ids], "next": "/alerts/?severity=2", **data},
    )


def states(alerts):
    return [Alert.objects.get(pk=a.pk).state for a in alerts]


def test_an_officer_acknowledges_the_checked_alerts_with_one_comment(client, officer_sip, three):
    sip_alerts, _kunshan = three
    client.force_login(officer_sip)
    response = bulk(client, [a.pk for a in sip_alerts], action="acknowledge", comment="已通知企业")
    assert response.url == "/alerts/?severity=2"  # back to the list as it was filtered
    for alert in sip_alerts:
        alert.refresh_from_db()
        assert (alert.state, alert.comment, alert.acknowledged_by) == (
            AlertState.ACKNOWLEDGED,
            "已通知企业",
            officer_sip,
        )
    page = client.get(response.url)
    assert "已确认 2 条预警。" in page.content.decode()


def test_snooze_and_resolve_the_checked_alerts(client, city_steward, three):
    sip_alerts, kunshan = three
    client.force_login(city_steward)
    refused = bulk(client, [sip_alerts[0].pk], action="snooze", until="")
    assert states([sip_alerts[0]]) == [AlertState.OPEN]
    assert "请填写暂缓至哪一天（YYYY-MM-DD）。" in client.get(refused.url).content.decode()
    until = timezone.localdate() + dt.timedelta(days=7)
    bulk(client, [sip_alerts[0].pk, kunshan.pk], action="snooze", until=until.isoformat())
    assert states([sip_alerts[0], kunshan]) == [AlertState.SNOOZED] * 2
    bulk(client, [a.pk for a in sip_alerts], action="resolve", comment="资质已复审")
    assert states(sip_alerts) == [AlertState.RESOLVED] * 2
    assert {Alert.objects.get(pk=a.pk).resolved_by for a in sip_alerts} == {city_steward}


def test_another_districts_alert_in_the_selection_stops_everything(client, officer_sip, three):
    sip_alerts, kunshan = three
    client.force_login(officer_sip)
    response = bulk(client, [sip_alerts[0].pk, kunshan.pk], action="acknowledge", comment="已处理")
    assert response.status_code == 404
    assert states([sip_alerts[0], kunshan]) == [AlertState.OPEN] * 2


def test_one_alert_that_cannot_take_the_action_stops_everything(client, city_steward, three):
    sip_alerts, _kunshan = three
    client.force_login(city_steward)
    bulk(client, [sip_alerts[1].pk], action="resolve")
    response = bulk(client, [a.pk for a in sip_alerts], action="acknowledge", comment="已处理")
    assert states(sip_alerts) == [AlertState.OPEN, AlertState.RESOLVED]
    assert "该预警已解除。" in client.get(response.url).content.decode()


@pytest.mark.parametrize("role", ["city_viewer", "sip_viewer"])
@pytest.mark.parametrize("action", ["acknowledge", "snooze", "resolve"])
def test_an_administrator_writes_nothing_through_the_bulk_form(
    request, client, three, role, action
):
    sip_alerts, _kunshan = three
    client.force_login(request.getfixturevalue(role))
    response = bulk(
        client, [a.pk for a in sip_alerts], action=action, comment="x", until="2099-01-01"
    )
    assert response.status_code == 403
    assert states(sip_alerts) == [AlertState.OPEN] * 2


@pytest.mark.parametrize(
    "data",
    [
        {"alert": [], "action": "acknowledge", "comment": "x"},
        {"action": "delete", "comment": "x"},
        {"alert": ["99999999999999999999999"], "action": "resolve"},
        {"next": "https://evil.example/", "action": "resolve"},
    ],
)
def test_bad_bulk_input_writes_nothing_and_never_fails(client, city_steward, three, data):
    sip_alerts, _kunshan = three
    client.force_login(city_steward)
    response = client.post(
        reverse("targets:alerts-bulk"),
        {"alert": [str(a.pk) for a in sip_alerts] if "alert" not in data else data["alert"]}
        | {k: v for k, v in data.items() if k != "alert"},
    )
    # An id beyond any column is refused naming the field (cluster.errors.parse_ids).
    assert response.status_code == (
        400 if data.get("alert") == ["99999999999999999999999"] else 302
    )
    if response.status_code == 302:
        assert response.url.startswith("/alerts/")
    resolved = data.get("action") == "resolve" and "next" in data
    assert states(sip_alerts) == [AlertState.RESOLVED if resolved else AlertState.OPEN] * 2
