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

from enterprises.models import (
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportingPolicy,
    ResearchProject,
)
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
    "cluster-membership-list": (401, 200, 200, 200, 200),
    "cluster-membership-detail": (401, 200, 404, 200, 200),
    "designation-list": (401, 200, 200, 200, 200),
    "designation-detail": (401, 200, 404, 200, 200),
    "listing-list": (401, 200, 200, 200, 200),
    "listing-detail": (401, 200, 404, 200, 200),
    "milestone-list": (401, 200, 200, 200, 200),
    "milestone-detail": (401, 200, 404, 200, 200),
    "quarterly-report-list": (401, 200, 200, 200, 200),
    "quarterly-report-bulk": (401, 405, 405, 405, 405),
    "quarterly-report-detail": (401, 200, 404, 200, 200),
    "quarterly-report-approve": (401, 405, 405, 405, 405),
    "quarterly-report-send-back": (401, 405, 405, 405, 405),
    "quarterly-report-submit": (401, 405, 405, 405, 405),
    "reporting-window": (401, 200, 200, 200, 200),
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
    "cluster-list": (401, 200, 200, 200, 200),
    "cluster-detail": (401, 200, 200, 200, 200),
    "plan-list": (401, 200, 200, 200, 200),
    "plan-detail": (401, 200, 200, 200, 200),
    "plan-close-evaluation": (401, 405, 405, 405, 405),
    "target-assessment-list": (401, 200, 200, 200, 200),
    # An officer starts on their to-do, the others are led to their dashboard or queue.
    "targets:home": (LOGIN, 200, 200, 302, 302),
    # The clusters' overview and a plan's final evaluation are the city's pages: an officer
    # is led to their district's page, and finds no city evaluation.
    "targets:overview": (LOGIN, 302, 302, 200, 200),
    "targets:evaluation": (LOGIN, 404, 404, 200, 200),
    "targets:evaluation-close": (LOGIN, 405, 405, 405, 405),
    "targets:plans": (LOGIN, 200, 200, 200, 200),
    "targets:plan-upload": (LOGIN, 403, 403, 403, 200),
    "targets:plan-confirm": (LOGIN, 405, 405, 405, 405),
    # The single-cluster addresses of old lead to the first cluster's pages.
    **{
        f"targets:moved-{name}": (LOGIN, 302, 302, 302, 302)
        for name in (
            "dashboard",
            "district",
            "sector",
            "firms",
            "brief-latest",
            "brief",
            "brief-download",
        )
    },
    "targets:dashboard": (LOGIN, 302, 302, 200, 200),
    "targets:district": (LOGIN, 200, 404, 200, 200),
    "targets:sector": (LOGIN, 404, 404, 200, 200),
    "targets:firms": (LOGIN, 200, 200, 200, 200),
    "targets:enterprise": (LOGIN, 200, 404, 200, 200),
    "targets:alerts": (LOGIN, 200, 200, 200, 200),
    "targets:alert-act": (LOGIN, 405, 405, 405, 405),
    "targets:alerts-bulk": (LOGIN, 405, 405, 405, 405),
    "targets:notifications": (LOGIN, 200, 200, 200, 200),
    "targets:notifications-read": (LOGIN, 405, 405, 405, 405),
    "targets:brief-latest": (LOGIN, 302, 302, 302, 302),
    "targets:brief": (LOGIN, 200, 200, 200, 200),
    "targets:brief-download": (LOGIN, 200, 200, 200, 200),
    "targets:brief-release": (LOGIN, 405, 405, 405, 405),  # POST only, a steward's
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
    # Everyone reads the queue of their own districts; only stewards act on it (POST only).
    "reports:queue": (LOGIN, 200, 200, 200, 200),
    "reports:queue-review": (LOGIN, 405, 405, 405, 405),
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
    listing = Listing.objects.create(
        enterprise=firm, venue="star", ticker="688801", listed_on=timezone.localdate()
    )
    return {
        "firm": firm,
        "other": other,
        "report": report,
        "project": project,
        "alert": alert,
        "snapshot": snapshot,
        "listing": listing,
        "users": users,
        "sip": sip,
    }


def api_object(name: str, world) -> int:
    from cluster.models import Cluster, Plan

    objects = {
        "cluster": Cluster.objects.get(key="nano").pk,
        "plan": Plan.objects.get(key="nano-2023-2025").pk,
        "district": world["sip"].pk,
        "sector": world["firm"].memberships.get().sector_id,
        "enterprise": world["firm"].pk,
        "cluster-membership": world["firm"].memberships.get().pk,
        "designation": Designation.objects.get(enterprise=world["firm"]).pk,
        "listing": world["listing"].pk,
        "milestone": Milestone.objects.get(enterprise__district=world["sip"]).pk,
        "quarterly-report": world["report"].pk,
        "research-project": world["project"].pk,
        "target": Target.objects.get(key="total_output").pk,
        "progress-snapshot": world["snapshot"].pk,
        "alert": world["alert"].pk,
    }
    # The longest kind that prefixes the name ("cluster-membership-…" is not "cluster-…").
    kinds = sorted(objects, key=len, reverse=True)
    return next(objects[kind] for kind in kinds if name.startswith(kind + "-"))


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
        "cluster": "nano",
        "plan": "nano-2023-2025",
        "target_pk": Target.objects.get(key="total_output").pk,
    }
    if name == "targets:district":
        values["pk"] = world["sip"].pk
    elif name == "targets:sector":
        values["pk"] = world["firm"].memberships.get().sector.parent_id
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
        "cluster-membership-detail",
        "designation-detail",
        "listing-detail",
        "milestone-detail",
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


# --- The admin, door by door ---------------------------------------------------------------
#
# Every admin route, object pages included, for staff users of each role: the officers of A
# and B, the read-only city administrator, the city steward (group) and a superuser. Object
# routes are filled with district A's objects (or the city's reference data), so officer B
# meets another district's object on every page.

ADMIN_ROLES = ("anonymous", "officer_a", "officer_b", "administrator", "steward", "superuser")
L = LOGIN
IN_SCOPE = (L, 200, 404, 200, 200, 200)  # A's object: read by everyone whose scope covers A
EVERYONE = (L, 200, 200, 200, 200, 200)
OFFICERS_AND_STEWARDS = (L, 200, 200, 403, 200, 200)
STEWARDS = (L, 403, 403, 403, 200, 200)
VIEWERS_AND_STEWARDS = (L, 403, 403, 200, 200, 200)
SUPERUSER = (L, 403, 403, 403, 403, 200)
NOBODY = (L, 403, 403, 403, 403, 403)
NOBODY_IN_SCOPE = (L, 403, 404, 403, 403, 403)
HISTORY = {"history": IN_SCOPE, "simple_history": IN_SCOPE}

REGISTER = {
    "changelist": EVERYONE,
    "add": OFFICERS_AND_STEWARDS,
    "change": IN_SCOPE,
    "delete": (L, 403, 404, 403, 200, 200),
    **HISTORY,
}
REFERENCE = {
    "changelist": EVERYONE,
    "add": STEWARDS,
    "change": EVERYONE,
    "delete": STEWARDS,
    "history": EVERYONE,
    "simple_history": EVERYONE,
}
THIRD_PARTY = {"changelist": SUPERUSER, "change": SUPERUSER, "history": SUPERUSER}
ADMIN_OBJECT_EXPECTED = {
    "enterprises_enterprise": {
        **REGISTER,
        "import": OFFICERS_AND_STEWARDS,
        "export": EVERYONE,
        "process_import": (L, 405, 405, 405, 405, 405),  # POST only
    },
    "enterprises_clustermembership": REGISTER,
    "enterprises_designation": REGISTER,
    "enterprises_listing": REGISTER,
    "enterprises_milestone": REGISTER,
    "enterprises_researchproject": {
        **REGISTER,
        "add": STEWARDS,
        "delete": (L, 403, 404, 403, 200, 200),
    },
    # An approved report is changed through its workflow, never deleted.
    "enterprises_quarterlyreport": {**REGISTER, "delete": NOBODY_IN_SCOPE},
    "enterprises_reportrevision": {
        "changelist": EVERYONE,
        "add": NOBODY,
        "change": IN_SCOPE,
        "delete": NOBODY_IN_SCOPE,
        "history": IN_SCOPE,
    },
    "targets_alert": {
        "changelist": EVERYONE,
        "add": NOBODY,
        "change": IN_SCOPE,
        "delete": NOBODY_IN_SCOPE,
        **HISTORY,
    },
    "targets_progresssnapshot": {
        "changelist": EVERYONE,
        "add": NOBODY,
        "change": IN_SCOPE,
        "delete": NOBODY_IN_SCOPE,
        "history": IN_SCOPE,
    },
    "targets_alertrule": {
        "changelist": VIEWERS_AND_STEWARDS,
        "add": NOBODY,
        "change": VIEWERS_AND_STEWARDS,
        "delete": NOBODY,
        "history": VIEWERS_AND_STEWARDS,
        "simple_history": VIEWERS_AND_STEWARDS,
    },
    # The one row of the reporting policy: stewards change it, everyone reads it.
    "enterprises_reportingpolicy": {**REFERENCE, "add": NOBODY, "delete": NOBODY},
    "targets_metric": REFERENCE,
    "targets_target": REFERENCE,
    # The plan's 任务分解: read by the city, changed by a steward through the rule services.
    "targets_targetshare": {
        "changelist": VIEWERS_AND_STEWARDS,
        "add": STEWARDS,
        "change": VIEWERS_AND_STEWARDS,
        "delete": STEWARDS,
        "history": VIEWERS_AND_STEWARDS,
        "simple_history": VIEWERS_AND_STEWARDS,
    },
    "cluster_cluster": REFERENCE,
    # Plans are loaded from plan files; a steward corrects the document's details here.
    "cluster_plan": {**REFERENCE, "add": NOBODY, "delete": NOBODY},
    # An assessment is kept as made: stewards add one, nobody changes or deletes one.
    # The plans' final evaluations: read by the city, closed by a steward's action.
    "targets_evaluatedplan": {
        "changelist": VIEWERS_AND_STEWARDS,
        "add": NOBODY,
        "change": VIEWERS_AND_STEWARDS,
        "delete": NOBODY,
        "history": (L, 403, 403, 302, 302, 302),  # to the plan's history page
    },
    "targets_assessment": {
        "changelist": EVERYONE,
        "add": STEWARDS,
        "change": EVERYONE,
        "delete": NOBODY,
        **dict.fromkeys(HISTORY, EVERYONE),
    },
    # Official releases: everyone reads them, a steward makes one; each is kept as made.
    "targets_release": {
        "changelist": EVERYONE,
        "add": STEWARDS,
        "change": EVERYONE,
        "delete": NOBODY,
        **dict.fromkeys(HISTORY, EVERYONE),
    },
    # Subscriptions to the brief and the record of what was sent: the stewards'.
    "targets_briefsubscription": {
        "changelist": STEWARDS,
        "add": STEWARDS,
        "change": STEWARDS,
        "delete": STEWARDS,
        **dict.fromkeys(HISTORY, STEWARDS),
    },
    "targets_briefdelivery": {
        "changelist": STEWARDS,
        "add": NOBODY,
        "change": STEWARDS,
        "delete": NOBODY,
        "history": STEWARDS,
    },
    "cluster_district": REFERENCE,
    "cluster_park": REFERENCE,
    "cluster_sector": REFERENCE,
    "auth_user": {
        "changelist": SUPERUSER,
        "add": SUPERUSER,
        "change": SUPERUSER,
        "delete": SUPERUSER,
        "history": SUPERUSER,
        "password_change": SUPERUSER,
    },
    "auth_group": {**THIRD_PARTY, "add": SUPERUSER, "delete": SUPERUSER},
    "authtoken_tokenproxy": {**THIRD_PARTY, "add": SUPERUSER, "delete": SUPERUSER},
    "axes_accessattempt": {**THIRD_PARTY, "add": NOBODY, "delete": SUPERUSER},
    "axes_accesslog": {**THIRD_PARTY, "add": NOBODY, "delete": SUPERUSER},
    "axes_accessfailurelog": {**THIRD_PARTY, "add": NOBODY, "delete": SUPERUSER},
}
ADMIN_SITE_EXPECTED = {
    "admin:index": EVERYONE,
    "admin:login": (200, 302, 302, 302, 302, 302),
    "admin:logout": (L, 405, 405, 405, 405, 405),
    "admin:password_change": EVERYONE,
    "admin:password_change_done": EVERYONE,
    "admin:jsi18n": EVERYONE,
    # Without its parameters the autocomplete names no field: refused.
    "admin:autocomplete": (L, 403, 403, 403, 403, 403),
    "admin:app_list": EVERYONE,  # of the enterprises app
    "admin:view_on_site": (L, 404, 404, 404, 404, 404),  # no model has a public page
}
ADMIN_ROUTE = re.compile(r"^admin:(?P<model>[a-z]+_[a-z]+)_(?P<kind>[a-z_]+)$")


def admin_route(name: str) -> tuple[str, str] | None:
    """(model key, route kind) of a per-model admin route, None for the site's own."""
    if name in ADMIN_SITE_EXPECTED:
        return None
    match = ADMIN_ROUTE.match(name)
    assert match, f"{name} is neither a site route nor a model route"
    return match["model"], match["kind"]


@pytest.fixture
def admin_world(world, make_user, listing_factory):
    """Staff users of each role, and district A's object (or the city's) for each admin."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from cluster.access import Role
    from cluster.models import Cluster, Park, Plan
    from enterprises.models import Designation, Milestone, ReportRevision
    from targets.models import (
        Assessment,
        BriefDelivery,
        BriefSubscription,
        Release,
        TargetShare,
    )

    users = {
        "anonymous": None,
        "officer_a": make_user("officer_a_staff", Role.DISTRICT_OFFICER, "320571", staff=True),
        "officer_b": make_user("officer_b_staff", Role.DISTRICT_OFFICER, "320583", staff=True),
        "administrator": make_user("administrator_staff", Role.ADMINISTRATOR, staff=True),
        "steward": make_user("steward_staff", Role.CITY_STEWARD, staff=True),
        "superuser": make_user("superuser_staff"),
    }
    firm, district_a = world["firm"], world["sip"]
    Token.objects.create(user=users["officer_a"])
    now = timezone.now()
    release = Release.objects.create(
        cluster=Cluster.objects.get(key="nano"),
        year=2025,
        quarter=2,
        vintage=now,
        title="2025年第二季度季报",
        made_by=users["steward"],
        made_at=now,
    )
    axes_row = {"user_agent": "pytest", "ip_address": "10.0.0.1", "username": "x", "path_info": "/"}
    objects = {
        "enterprises_enterprise": firm,
        "enterprises_designation": Designation.objects.get(enterprise=firm),
        "enterprises_listing": listing_factory(enterprise=firm, ticker="688901"),
        "enterprises_milestone": Milestone.objects.get(enterprise__district=district_a),
        "enterprises_researchproject": world["project"],
        "enterprises_quarterlyreport": world["report"],
        "enterprises_reportrevision": ReportRevision.objects.get(report=world["report"]),
        "targets_alert": world["alert"],
        "targets_progresssnapshot": world["snapshot"],
        "targets_alertrule": world["alert"].rule,
        "enterprises_reportingpolicy": ReportingPolicy.current(),
        "targets_metric": Target.objects.get(key="total_output").metric,
        "targets_target": Target.objects.get(key="total_output"),
        "targets_targetshare": TargetShare.objects.create(
            target=Target.objects.get(key="total_output"),
            scope_kind="district",
            district=district_a,
            value=40 * 10**8,
        ),
        "cluster_cluster": Cluster.objects.first(),
        "cluster_plan": Plan.objects.get(key="nano-2023-2025"),
        "targets_evaluatedplan": Plan.objects.get(key="nano-2023-2025"),
        "targets_assessment": Assessment.objects.create(
            target=Target.objects.get(key="total_output"),
            assessed_on=timezone.localdate(),
            status="on_track",
            summary="按计划推进",
            assessed_by=users["steward"],
        ),
        "targets_release": release,
        "targets_briefsubscription": BriefSubscription.objects.create(
            cluster=release.cluster, user=users["officer_a"], created_at=now
        ),
        "targets_briefdelivery": BriefDelivery.objects.create(
            release=release,
            recipient=users["officer_a"],
            district=district_a,
            language="zh-hans",
            status="sent",
            attempts=1,
            claimed_at=now,
            sent_at=now,
        ),
        "cluster_district": district_a,
        "cluster_park": Park.objects.get(district=district_a, name_zh="苏州纳米城"),
        "cluster_sector": firm.memberships.get().sector,
        "enterprises_clustermembership": firm.memberships.get(),
        "auth_user": users["officer_a"],
        "auth_group": Group.objects.get(name=Role.DISTRICT_OFFICER),
        # The token admin finds a token by its user.
        "authtoken_tokenproxy": users["officer_a"],
        "axes_accessattempt": AccessAttempt.objects.create(
            **axes_row, get_data="", post_data="", failures_since_start=1
        ),
        "axes_accesslog": AccessLog.objects.create(**axes_row),
        "axes_accessfailurelog": AccessFailureLog.objects.create(**axes_row),
    }
    for obj in objects.values():
        # Rows loaded by the data migrations have no recorded state yet: give them one.
        if hasattr(obj, "history") and not obj.history.exists():
            obj.save()
    return {"users": users, "objects": objects}


def admin_url(route: str, name: str, admin_world) -> str:
    parsed = admin_route(name)
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "enterprises"})
    if name == "admin:view_on_site":
        return reverse(name, args=[1, 1])
    if parsed is None or not ("<" in route or "(" in route):
        return reverse(name)
    obj = admin_world["objects"][parsed[0]]
    if parsed[1] == "simple_history":
        return reverse(name, args=[obj.pk, obj.history.earliest().history_id])
    if parsed[1] == "password_change":
        return reverse(name, args=[obj.pk])
    return reverse(name, args=[obj.pk])


def admin_routes() -> list[tuple[str, str]]:
    return [
        (route, name) for route, name in routes() if route.startswith("admin/") and name != "admin:"
    ]


def test_every_admin_route_has_a_row():
    missing = []
    for _route, name in admin_routes():
        parsed = admin_route(name)
        if parsed is not None and parsed[1] not in ADMIN_OBJECT_EXPECTED.get(parsed[0], {}):
            missing.append(name)
    assert missing == []


def test_admin_matrix(client, admin_world, caplog):
    caplog.set_level(logging.WARNING, logger="cluster.security")
    found, wanted = {}, {}
    for route, name in admin_routes():
        parsed = admin_route(name)
        row = (
            ADMIN_SITE_EXPECTED[name]
            if parsed is None
            else ADMIN_OBJECT_EXPECTED[parsed[0]][parsed[1]]
        )
        url = admin_url(route, name, admin_world)
        for role, expected in zip(ADMIN_ROLES, row, strict=True):
            client.logout()
            if admin_world["users"][role]:
                client.force_login(admin_world["users"][role])
            response = client.get(url)
            found[(name, role)], wanted[(name, role)] = outcome(response, expected), expected
    mismatches = {key: (found[key], wanted[key]) for key in found if found[key] != wanted[key]}
    assert mismatches == {}
    # Officer B met A's object on every object page: each refusal is logged.
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert all("user=officer_b_staff" in line for line in refused)
    assert len(refused) == sum(
        1
        for (name, role), expected in wanted.items()
        if role == "officer_b" and expected == 404 and name not in ADMIN_SITE_EXPECTED
    )


def admin_fingerprint() -> dict:
    """Every row the admin can reach, the recorded states of each and the admin's log. Logins
    are not data: last_login and django-axes' access records are left out."""
    from django.contrib import admin
    from django.contrib.admin.models import LogEntry

    rows = {"log": LogEntry.objects.count()}
    for model in admin.site._registry:
        model = model._meta.concrete_model
        if model._meta.app_label == "axes":
            continue
        values = model._default_manager.order_by("pk").values()
        rows[model._meta.label] = [
            {k: v for k, v in row.items() if k != "last_login"} for row in values
        ]
        if hasattr(model, "history"):
            rows[f"{model._meta.label} states"] = model.history.count()
    return rows


def form_data(name: str, obj, superuser) -> dict:
    """What the admin's form for `obj` holds: a POST that would save as it stands."""
    from django.contrib import admin
    from django.test import RequestFactory

    model_admin = admin.site._registry[type(obj)]
    request = RequestFactory().get("/")
    request.user = superuser
    form = model_admin.get_form(request, obj, change=True)(instance=obj)
    data = {}
    for field in form:
        value = field.value()
        if value is None:
            continue
        data[field.name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    return data


def admin_post(name: str, admin_world, superuser) -> dict:
    parsed = admin_route(name)
    if parsed is None:
        return {}
    model, kind = parsed
    obj = admin_world["objects"][model]
    if kind in ("change", "simple_history", "add") and model != "authtoken_tokenproxy":
        return form_data(name, obj, superuser)
    if kind == "delete":
        return {"post": "yes"}
    if kind == "changelist":
        return {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    if kind == "password_change":
        return {"password1": "Taken-over-42", "password2": "Taken-over-42"}
    return {}


@pytest.mark.parametrize("role", ["officer_b", "administrator"])
def test_no_write_through_any_admin_door_beyond_the_role(client, admin_world, role):
    """Officer B on district A's objects and the read-only administrator on everything POST
    what the admin's own forms hold, to every admin route: nothing changes. The same revert
    posted by a superuser saves, so the posts were ones the admin would accept."""
    superuser = admin_world["users"]["superuser"]
    client.force_login(admin_world["users"][role])
    before = admin_fingerprint()
    statuses = {}
    for route, name in admin_routes():
        if name in ("admin:login", "admin:logout", "admin:password_change"):
            continue
        response = client.post(
            admin_url(route, name, admin_world), admin_post(name, admin_world, superuser)
        )
        statuses[name] = response.status_code
        assert response.status_code < 500, (name, response.status_code)
    assert admin_fingerprint() == before
    alert = admin_world["objects"]["targets_alert"]
    client.post(
        reverse("admin:targets_alert_changelist"),
        {"action": "resolve_alerts", "_selected_action": [alert.pk], "apply": "1"},
    )
    assert admin_fingerprint() == before

    firm = admin_world["objects"]["enterprises_enterprise"]
    revert = reverse(
        "admin:enterprises_enterprise_simple_history",
        args=[firm.pk, firm.history.earliest().history_id],
    )
    client.force_login(superuser)
    data = admin_post("admin:enterprises_enterprise_simple_history", admin_world, superuser)
    assert client.post(revert, data).status_code == 302
    assert admin_fingerprint() != before
