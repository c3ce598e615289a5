"""Who may do what, over every route the project has.

The routes are read from the URL resolver, so a new page or API route without a row in
EXPECTED fails `test_every_route_has_a_row`. Each row gives the outcome of a GET for five
callers: anonymous, the officer of district A (Suzhou Industrial Park, which owns every
object in the URLs), the officer of district B (Kunshan), a read-only city administrator and
a city steward. On top of the status, every page or API answer an officer of A receives is
searched for district B's firm: nothing of it may leak. Then officer B POSTs to every route
with A's objects, and nothing in the database may change.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from enterprises.models import Enterprise, QuarterlyReport, ResearchProject
from targets.models import Alert, AlertRule, ProgressSnapshot, Target
from tests.targets.conftest import approve, kunshan, population, sip  # noqa: F401

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "officer_a", "officer_b", "administrator", "steward")
LOGIN = "login"  # 302 to the login page

# route name → GET outcome per role, in the order of ROLES.
EXPECTED = {
    "login": (200, 200, 200, 200, 200),
    "logout": (LOGIN, 405, 405, 405, 405),  # POST only
    "password_change": (LOGIN, 200, 200, 200, 200),
    "password_change_done": (LOGIN, 200, 200, 200, 200),
    "password_reset": (200, 200, 200, 200, 200),
    "password_reset_done": (200, 200, 200, 200, 200),
    "password_reset_confirm": (200, 200, 200, 200, 200),
    "password_reset_complete": (200, 200, 200, 200, 200),
    "set_language": (302, 302, 302, 302, 302),
    "health": ("health",) * 5,
    # The schema and its docs describe the API and hold no data: public.
    "api-schema": (200, 200, 200, 200, 200),
    "api-docs": (200, 200, 200, 200, 200),
    "api-redoc": (200, 200, 200, 200, 200),
    "api-root": (401, 200, 200, 200, 200),
    "district-list": (401, 200, 200, 200, 200),
    "district-detail": (401, 200, 200, 200, 200),
    "sector-list": (401, 200, 200, 200, 200),
    "sector-detail": (401, 200, 200, 200, 200),
    "enterprise-list": (401, 200, 200, 200, 200),
    "enterprise-detail": (401, 200, 404, 200, 200),
    "quarterly-report-list": (401, 200, 200, 200, 200),
    "quarterly-report-bulk": (401, 405, 405, 405, 405),
    "quarterly-report-detail": (401, 200, 404, 200, 200),
    "quarterly-report-approve": (401, 405, 405, 405, 405),
    "quarterly-report-send-back": (401, 405, 405, 405, 405),
    "quarterly-report-submit": (401, 405, 405, 405, 405),
    "research-project-list": (401, 200, 200, 200, 200),
    "research-project-detail": (401, 200, 404, 200, 200),
    "target-list": (401, 200, 200, 200, 200),
    "target-detail": (401, 200, 200, 200, 200),
    "target-explanation": (401, 200, 200, 200, 200),
    "target-firms": (401, 200, 200, 200, 200),
    "progress-snapshot-list": (401, 200, 200, 200, 200),
    "progress-snapshot-detail": (401, 200, 404, 200, 200),
    "alert-list": (401, 200, 200, 200, 200),
    "alert-detail": (401, 200, 404, 200, 200),
    "alert-acknowledge": (401, 405, 405, 405, 405),
    "alert-resolve": (401, 405, 405, 405, 405),
    "alert-snooze": (401, 405, 405, 405, 405),
    "targets:home": (LOGIN, 302, 302, 302, 302),
    "targets:dashboard": (LOGIN, 302, 302, 200, 200),
    "targets:district": (LOGIN, 200, 404, 200, 200),
    "targets:sector": (LOGIN, 404, 404, 200, 200),
    "targets:firms": (LOGIN, 200, 200, 200, 200),
    "targets:enterprise": (LOGIN, 200, 404, 200, 200),
    "targets:alerts": (LOGIN, 200, 200, 200, 200),
    "targets:alert-act": (LOGIN, 405, 405, 405, 405),
    "targets:notifications": (LOGIN, 200, 200, 200, 200),
    "targets:notifications-read": (LOGIN, 405, 405, 405, 405),
    "targets:brief-latest": (LOGIN, 302, 302, 302, 302),
    "targets:brief": (LOGIN, 200, 200, 200, 200),
    "targets:brief-download": (LOGIN, 200, 200, 200, 200),
    "reports:completeness": (LOGIN, 200, 200, 200, 200),
    "reports:import": (LOGIN, 200, 200, 403, 200),
    "reports:import-preview": (LOGIN, 200, 404, 403, 404),
    "reports:import-confirm": (LOGIN, 405, 405, 405, 405),
    "reports:template": (LOGIN, 200, 200, 200, 200),
    "reports:worksheet": (LOGIN, 200, 404, 200, 200),
    "reports:row": (LOGIN, 200, 404, 200, 200),
    "reports:submit": (LOGIN, 405, 405, 405, 405),
    "reports:review": (LOGIN, 405, 405, 405, 405),
    "reports:export": (LOGIN, 200, 404, 200, 200),
    "enterprises:list": (LOGIN, 200, 200, 200, 200),
    "enterprises:create": (LOGIN, 200, 200, 403, 200),
    "enterprises:check-uscc": (LOGIN, 200, 200, 200, 200),
    "enterprises:export": (LOGIN, 200, 200, 200, 200),
    "enterprises:edit": (LOGIN, 200, 404, 403, 200),
}
# Admin routes (160 of them, generated per model) follow one rule: only staff get in (the
# admin's own login page or the site's, both are "login"). Object pages are covered by the
# changelists and tests/enterprises/test_admin.py.
ADMIN_EXPECTED = (LOGIN, LOGIN, LOGIN, LOGIN, "staff")
ADMIN_EXCEPTIONS = {
    "admin:login": (200, 200, 200, 200, 302),
    "admin:logout": (LOGIN, 302, 302, 302, 405),
    "admin:enterprises_enterprise_process_import": (LOGIN, LOGIN, LOGIN, LOGIN, 405),
}
QUERIES = {"target-explanation": "?quarter=2025Q2", "target-firms": "?quarter=2025Q2"}


def routes():
    """(route, name, converter names) for every URL pattern."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), namespace + (pattern.name or "")

    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def world(population, make_user, sip, kunshan):  # noqa: F811
    from cluster.access import Role

    firm = population["a"]
    other = population["b"]
    report = QuarterlyReport.objects.get(enterprise=firm, year=2025, quarter=2)
    project = ResearchProject.objects.create(
        title="甲纳米重大项目",
        lead_enterprise=firm,
        district=sip,
        level="provincial",
        is_major=True,
        started_on=timezone.localdate(),
    )
    alert = Alert.objects.create(
        rule=AlertRule.objects.get(kind="threshold_crossed"),
        severity=1,
        owner=sip,
        enterprise=firm,
        dedup_key="test:auth",
        message_zh="甲纳米公司产值跨过10亿元",
        message_en="Alpha Nano passed ¥1 bn",
        opened_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    users = {
        "anonymous": None,
        "officer_a": make_user("officer_a", Role.DISTRICT_OFFICER, "320571"),
        "officer_b": make_user("officer_b", Role.DISTRICT_OFFICER, "320583"),
        "administrator": make_user("administrator", Role.ADMINISTRATOR),
        "steward": make_user("steward_c", Role.CITY_STEWARD, staff=True),
    }
    snapshot = ProgressSnapshot.objects.filter(scope_kind="district", district=sip).first()
    return {
        "firm": firm,
        "other": other,
        "report": report,
        "project": project,
        "alert": alert,
        "snapshot": snapshot,
        "users": users,
        "sip": sip,
    }


def api_object(name: str, world) -> int:
    objects = {
        "district": world["sip"].pk,
        "sector": world["firm"].primary_sector_id,
        "enterprise": world["firm"].pk,
        "quarterly-report": world["report"].pk,
        "research-project": world["project"].pk,
        "target": Target.objects.get(key="total_output").pk,
        "progress-snapshot": world["snapshot"].pk,
        "alert": world["alert"].pk,
    }
    return next(pk for kind, pk in objects.items() if name.startswith(kind + "-"))


def url_for(route: str, name: str, world, stash_token: str) -> str:
    """A concrete URL for the route, with district A's objects in it."""
    values = {
        "pk": world["firm"].pk,
        "district_id": world["sip"].pk,
        "enterprise_id": world["firm"].pk,
        "period": "2025Q2",
        "fmt": "csv",
        "kind": "reports",
        "token": stash_token,
        "action": "acknowledge",
        "uidb64": "MQ",
        "token_reset": "set-password",
        "format": "json",
    }
    if name == "targets:district":
        values["pk"] = world["sip"].pk
    elif name == "targets:sector":
        values["pk"] = world["firm"].primary_sector.parent_id
    elif name == "targets:firms":
        values["pk"] = Target.objects.get(key="total_output").pk
    elif name == "targets:alert-act":
        values["pk"] = world["alert"].pk
    elif name == "targets:brief-download":
        values["fmt"] = "xlsx"
    elif route.startswith("api/") and "(?P<pk>" in route:
        values["pk"] = api_object(name, world)
    names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
    kwargs = {}
    for converter, group in names:
        key = converter or group
        kwargs[key] = (
            values["token_reset"] if (key == "token" and "reset" in route) else values[key]
        )
    return reverse(name, kwargs=kwargs)


def outcome(response, expected):
    if expected == "health":
        return (
            "health"
            if response.status_code in (200, 503) and "checks" in response.json()
            else response.status_code
        )
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(("/admin/login/", reverse("login"))):
            return LOGIN
    return response.status_code


@pytest.fixture
def stash_token(world, client):
    """An import file stashed by officer A (the preview URL's token)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world["users"]["officer_a"])
    response = client.post(
        reverse("reports:import"),
        {
            "kind": "reports",
            "unit": "wan",
            "mode": "quarterly",
            "file": SimpleUploadedFile("r.csv", b"uscc,period,output_value\r\n"),
        },
    )
    client.logout()
    return response["Location"].rstrip("/").split("/")[-1]


def test_every_route_has_a_row():
    names = {name for route, name in routes() if not route.startswith("admin/")}
    assert names - set(EXPECTED) == set(), "new routes need a row in EXPECTED"
    assert set(EXPECTED) - names == set(), "EXPECTED names routes that are gone"


def test_get_matrix(client, world, stash_token):
    leaks = [world["other"].name_zh, world["other"].name_en, world["other"].uscc]
    found, wanted = {}, {}
    for route, name in routes():
        admin = route.startswith("admin/")
        if admin and ("<" in route or "(" in route):
            # Object pages of the admin: the same rule, checked on the changelists.
            continue
        row = ADMIN_EXCEPTIONS.get(name, ADMIN_EXPECTED) if admin else EXPECTED[name]
        url = url_for(route, name, world, stash_token) if not admin else reverse(name)
        url += QUERIES.get(name, "")
        for role, expected in zip(ROLES, row, strict=True):
            user = world["users"][role]
            client.logout()
            if user:
                client.force_login(user)
            response = client.get(url)
            got = outcome(response, expected)
            if expected == "staff":
                # Staff get in; what they may do there is the model permissions' business.
                got = "staff" if response.status_code in (200, 403) else got
            found[(url, role)], wanted[(url, role)] = got, expected
            if role == "officer_a" and response.status_code == 200 and not admin:
                body = response.content.decode("utf-8", "replace")
                for leak in leaks:
                    assert leak not in body, f"{url} shows district B's {leak!r} to officer A"
    mismatches = {key: (found[key], wanted[key]) for key in found if found[key] != wanted[key]}
    assert mismatches == {}
    assert len(found) > 5 * len(EXPECTED)


def fingerprint():
    return (
        list(QuarterlyReport.objects.order_by("pk").values_list("pk", "version", "status")),
        list(Enterprise.objects.order_by("pk").values_list("pk", "updated_at")),
        list(Alert.objects.order_by("pk").values_list("pk", "state", "acknowledged_at")),
        get_user_model().objects.count(),
    )


def test_officer_of_another_district_cannot_write_anything(client, world, stash_token, caplog):
    caplog.set_level(logging.WARNING, logger="cluster.security")
    before = fingerprint()
    client.force_login(world["users"]["officer_b"])
    statuses = {}
    for route, name in routes():
        if route.startswith("admin/") or name in ("logout", "set_language", "login"):
            continue
        url = url_for(route, name, world, stash_token)
        response = client.post(url, {"comment": "x", "reason": "x", "output_value": "1"})
        statuses[name] = response.status_code
        assert response.status_code < 500, f"POST {url} as officer B: {response.status_code}"
    assert fingerprint() == before
    # Each refusal to reach another district's object is in the security log.
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused access")]
    assert len(refusals) >= 10
    assert all("user=officer_b" in r.getMessage() for r in refusals)
    # Every route that names one of A's objects answered "not found".
    for name in (
        "enterprise-detail",
        "quarterly-report-detail",
        "quarterly-report-approve",
        "quarterly-report-submit",
        "quarterly-report-send-back",
        "alert-acknowledge",
        "alert-resolve",
        "alert-snooze",
        "targets:alert-act",
        "targets:enterprise",
        "reports:row",
        "reports:submit",
        "reports:import-confirm",
        "enterprises:edit",
    ):
        assert statuses[name] in (404, 405), (name, statuses[name])
