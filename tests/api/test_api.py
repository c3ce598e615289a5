"""The REST API: payloads of every endpoint, district scoping, the error shape, optimistic
locking, bulk submission, and query counts that do not grow with the page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cluster.models import Cluster, District, Sector
from cluster.quarters import Quarter
from enterprises.models import Milestone, QuarterlyReport, ResearchProject
from targets.models import Alert, AlertRule
from targets.services.alerts import alerts_evaluate
from targets.services.progress import progress_recompute
from tests.conftest import KUNSHAN, SIP
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db


def api(user, language="en"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def world(two_districts, designation_factory, city_steward):
    sip = two_districts["sip"]
    designation_factory(
        enterprise=sip, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
    )
    nano = Cluster.objects.get(key="nano")
    ResearchProject.objects.create(
        title="园区项目",
        lead_enterprise=sip,
        district=sip.district,
        level="national",
        is_major=True,
        started_on=dt.date(2024, 1, 1),
    ).clusters.add(nano)
    ResearchProject.objects.create(
        title="昆山项目",
        lead_institution="苏州大学",
        district=two_districts["kunshan"].district,
        level="city",
        started_on=dt.date(2024, 1, 1),
    ).clusters.add(nano)
    AlertRule.objects.exclude(kind="designation_expiring").update(enabled=False)
    alerts_evaluate(today=dt.date(2026, 2, 1))
    return two_districts


def test_token_and_anonymous_requests(world, officer_sip):
    anonymous = api(None).get("/api/enterprises/")
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "errors": {},
    }
    assert api(officer_sip).get("/api/enterprises/").status_code == 200


def test_errors_follow_accept_language(world, officer_sip):
    en = api(officer_sip, "en").get("/api/enterprises/999999/").json()
    zh = api(officer_sip, "zh-hans").get("/api/enterprises/999999/").json()
    assert en == {"code": "not_found", "message": "Not found.", "errors": {}}
    assert zh["code"] == "not_found" and zh["message"] == "未找到。"


def test_districts_and_sectors(officer_sip):
    districts = api(officer_sip).get("/api/districts/", {"page_size": 20}).json()
    assert districts["count"] == 11
    assert districts["results"][0] == {
        "id": districts["results"][0]["id"],
        "code": "320582",
        "code_system": "gbt2260",
        "name_zh": "张家港市",
        "name_en": "Zhangjiagang",
        "kind": "county_city",
        "parent": None,
    }
    materials = api(officer_sip).get("/api/sectors/", {"parent": "1", "page_size": 50}).json()
    assert materials["count"] == 14
    assert materials["results"][1]["name_zh"] == "超宽禁带/宽禁带半导体材料"


def test_enterprises_are_scoped_and_carry_their_designations(world, officer_sip, city_steward):
    mine = api(officer_sip).get("/api/enterprises/").json()
    assert [e["name_zh"] for e in mine["results"]] == ["园区甲公司"]
    assert mine["results"][0]["district"] == SIP
    assert [(m["cluster"], m["sector"]) for m in mine["results"][0]["memberships"]] == [
        ("nano", "1.04")
    ]
    assert mine["results"][0]["designations"][0]["type"] == "gazelle"
    everyone = api(city_steward).get("/api/enterprises/", {"ordering": "name_zh"}).json()
    assert everyone["count"] == 2
    filtered = (
        api(city_steward)
        .get("/api/enterprises/", {"designation": "gazelle", "designation_valid_on": "2025-06-30"})
        .json()
    )
    assert [e["name_zh"] for e in filtered["results"]] == ["园区甲公司"]
    assert api(city_steward).get("/api/enterprises/", {"district": KUNSHAN}).json()["count"] == 1


def test_officer_registers_and_edits_a_firm_of_the_district(officer_sip):
    body = {
        "uscc": valid_uscc(777),
        "name_zh": "接口登记公司",
        "district": SIP,
        "size_class": "small",
    }
    created = api(officer_sip).post("/api/enterprises/", body, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["uscc"], created.json()["memberships"]) == (valid_uscc(777), [])
    joined = api(officer_sip).post(
        "/api/cluster-memberships/",
        {"uscc": valid_uscc(777), "cluster": "nano", "sector": "1.02", "joined_on": "2025-01-01"},
        format="json",
    )
    assert joined.status_code == 201, joined.json()
    changed = api(officer_sip).patch(
        f"/api/enterprises/{created.json()['id']}/", {"name_en": "API Co."}, format="json"
    )
    assert changed.json()["name_en"] == "API Co."
    wrong = api(officer_sip).post(
        "/api/enterprises/", {**body, "uscc": valid_uscc(778), "district": KUNSHAN}, format="json"
    )
    assert wrong.status_code == 403
    bad = api(officer_sip).post("/api/enterprises/", {**body, "uscc": "91350100M000100Y44"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert "should be 3, not 4" in bad.json()["errors"]["uscc"][0]


def test_report_lifecycle_with_optimistic_locking(world, officer_sip, city_steward):
    firm = world["sip"]
    created = api(officer_sip).post(
        "/api/quarterly-reports/",
        {
            "enterprise": firm.pk,
            "period": "2025Q4",
            "output_value": "1000000.00",
            "operating_revenue": "950000.00",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    report = created.json()
    assert (report["period"], report["status"], report["version"]) == ("2025Q4", "draft", 1)
    url = f"/api/quarterly-reports/{report['id']}/"
    updated = api(officer_sip).patch(
        url, {"output_value": "1100000.00", "version": 1}, format="json"
    )
    assert updated.json()["version"] == 2
    stale = api(officer_sip).patch(url, {"output_value": "1200000.00", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert stale.json()["current"]["output_value"] == "1100000.00"
    assert stale.json()["current"]["version"] == 2
    missing_version = api(officer_sip).patch(url, {"output_value": "1.00"}, format="json")
    assert missing_version.status_code == 400
    submitted = api(officer_sip).post(url + "submit/")
    assert submitted.json()["status"] == "submitted"
    assert api(officer_sip).post(url + "approve/").status_code == 403
    approved = api(city_steward).post(url + "approve/").json()
    assert (approved["status"], approved["revision"]) == ("approved", 1)
    # A second steward a moment later: the report moved on, a conflict, not a bad request.
    again = api(city_steward).post(url + "approve/")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert "no longer submitted" in again.json()["message"]
    other = world["kunshan_report"]
    QuarterlyReport.objects.filter(pk=other.pk).update(
        status="submitted", submitted_at=timezone.now()
    )
    returned = (
        api(city_steward)
        .post(f"/api/quarterly-reports/{other.pk}/return/", {"reason": "请核实"}, format="json")
        .json()
    )
    assert (returned["status"], returned["return_reason"]) == ("returned", "请核实")


def bulk_body(rows, submit=False):
    return {"unit": "wan", "mode": "quarterly", "submit": submit, "rows": rows}


def test_bulk_submission_is_all_or_nothing_and_idempotent(world, officer_sip, enterprise_factory):
    other = enterprise_factory(district=District.objects.get(code=SIP))
    rows = [
        {
            "uscc": world["sip"].uscc,
            "period": "2025Q4",
            "output_value": "100",
            "operating_revenue": "90",
        },
        {"uscc": other.uscc, "period": "2025Q4", "output_value": "50", "operating_revenue": "40"},
    ]
    bad = [*rows, {"uscc": world["kunshan"].uscc, "period": "2025Q4", "output_value": "-1"}]
    refused = api(officer_sip).post("/api/quarterly-reports/bulk/", bulk_body(bad), format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"rows[2]": {"output_value": ["Cannot be negative."]}}
    other_district = [*rows, {"uscc": world["kunshan"].uscc, "period": "2025Q4"}]
    refused = api(officer_sip).post(
        "/api/quarterly-reports/bulk/", bulk_body(other_district), format="json"
    )
    assert refused.json()["errors"] == {
        "rows[2]": {"uscc": ["The firm belongs to another district."]}
    }
    assert not QuarterlyReport.objects.filter(year=2025, quarter=4).exists()
    done = api(officer_sip).post(
        "/api/quarterly-reports/bulk/", bulk_body(rows, submit=True), format="json"
    )
    assert done.json() == {"new": 2, "changed": 0, "unchanged": 0, "submitted": 2}
    assert QuarterlyReport.objects.get(
        enterprise=other, year=2025, quarter=4
    ).output_value == Decimal("500000.00")
    again = api(officer_sip).post(
        "/api/quarterly-reports/bulk/", bulk_body(rows, submit=True), format="json"
    )
    assert again.json() == {"new": 0, "changed": 0, "unchanged": 2, "submitted": 0}


def test_projects_targets_snapshots_and_explanation(
    world, officer_sip, city_steward, approve_report
):
    projects = api(officer_sip).get("/api/research-projects/").json()
    assert [p["title"] for p in projects["results"]] == ["园区项目"]
    targets = api(officer_sip).get("/api/targets/").json()
    assert targets["count"] == 7 and targets["results"][0]["key"] == "total_output"
    approve_report(world["sip_report"])
    progress_recompute(basis="approved")
    city = (
        api(city_steward)
        .get(
            "/api/progress-snapshots/",
            {"target": "total_output", "scope_kind": "city", "period": "2025Q3"},
        )
        .json()
    )
    assert city["count"] == 1
    assert city["results"][0]["actual"] == "1000000.00"
    vintage = city["results"][0]["vintage"]
    before = (
        api(city_steward)
        .get(
            "/api/progress-snapshots/",
            {
                "target": "total_output",
                "scope_kind": "city",
                "period": "2025Q3",
                "as_of": "2020-01-01T00:00:00Z",
            },
        )
        .json()
    )
    assert before["count"] == 0
    exact = (
        api(city_steward)
        .get(
            "/api/progress-snapshots/",
            {
                "target": "total_output",
                "scope_kind": "city",
                "period": "2025Q3",
                "vintage": vintage,
            },
        )
        .json()
    )
    assert exact["count"] == 1
    mine = (
        api(officer_sip)
        .get("/api/progress-snapshots/", {"target": "total_output", "period": "2025Q3"})
        .json()
    )
    assert {s["district"] for s in mine["results"]} == {SIP}
    target_id = targets["results"][0]["id"]
    explained = (
        api(officer_sip).get(f"/api/targets/{target_id}/explanation/", {"quarter": "2025Q3"}).json()
    )
    assert [s["district"] for s in explained["by_district"]] == [SIP]
    assert explained["top_firms"][0]["uscc"] == world["sip"].uscc
    assert (
        api(officer_sip).get(f"/api/targets/{target_id}/explanation/", {"quarter": "x"}).status_code
        == 400
    )


@pytest.fixture
def approve_report(city_steward):
    from enterprises.services.reports import reports_approve, reports_submit

    def approve(report):
        QuarterlyReport.objects.filter(pk=report.pk).update(output_value=Decimal("1000000.00"))
        reports_submit(
            actor=city_steward, district=report.enterprise.district, quarter=report.period
        )
        reports_approve(actor=city_steward, report_ids=[report.pk])

    return approve


def test_alerts_list_acknowledge_and_resolve(world, officer_sip, city_steward):
    listed = api(officer_sip).get("/api/alerts/").json()
    assert listed["count"] == 1
    alert = listed["results"][0]
    assert (alert["rule"], alert["owner"], alert["state"]) == ("designation_expiring", SIP, "open")
    url = f"/api/alerts/{alert['id']}/"
    no_comment = api(city_steward).post(url + "acknowledge/", {}, format="json")
    assert no_comment.status_code == 400
    acknowledged = (
        api(city_steward).post(url + "acknowledge/", {"comment": "跟进中"}, format="json").json()
    )
    assert (acknowledged["state"], acknowledged["comment"]) == ("acknowledged", "跟进中")
    resolved = api(officer_sip).post(url + "resolve/", {"comment": "已复审"}, format="json").json()
    assert resolved["state"] == "resolved"


def test_another_districts_objects_answer_404(world, officer_kunshan):
    sip = world["sip"]
    alert = Alert.objects.get()
    project = ResearchProject.objects.get(title="园区项目")
    client = api(officer_kunshan)
    for method, url, body in (
        ("get", f"/api/enterprises/{sip.pk}/", None),
        ("patch", f"/api/enterprises/{sip.pk}/", {"name_en": "x"}),
        ("get", f"/api/quarterly-reports/{world['sip_report'].pk}/", None),
        ("patch", f"/api/quarterly-reports/{world['sip_report'].pk}/", {"version": 1}),
        ("post", f"/api/quarterly-reports/{world['sip_report'].pk}/submit/", None),
        ("get", f"/api/research-projects/{project.pk}/", None),
        ("get", f"/api/alerts/{alert.pk}/", None),
        ("post", f"/api/alerts/{alert.pk}/acknowledge/", {"comment": "x"}),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["code"] == "not_found"
    created = client.post(
        "/api/quarterly-reports/", {"enterprise": sip.pk, "period": "2025Q4"}, format="json"
    )
    assert created.status_code == 400 and "enterprise" in created.json()["errors"]
    assert [e["uscc"] for e in client.get("/api/enterprises/").json()["results"]] == [
        world["kunshan"].uscc
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/districts/",
        "/api/sectors/",
        "/api/enterprises/",
        "/api/cluster-memberships/",
        "/api/designations/",
        "/api/listings/",
        "/api/milestones/",
        "/api/quarterly-reports/",
        "/api/research-projects/",
        "/api/targets/",
        "/api/progress-snapshots/",
        "/api/alerts/",
    ],
)
def test_list_endpoints_have_a_constant_number_of_queries(
    path, city_steward, enterprise_factory, report_factory, designation_factory, listing_factory
):
    client = api(city_steward)
    client.get(path)  # the token and the user's scope are looked up once per request

    nano = Cluster.objects.get(key="nano")
    further = Sector.objects.filter(cluster=nano, code__in=["1.01", "2.01"])

    def grow(n):
        for firm in enterprise_factory.create_batch(n):
            firm.memberships.get().further_sectors.set(further)
            report_factory(enterprise=firm, year=2025, quarter=4)
            designation_factory(
                enterprise=firm, valid_from=dt.date(2024, 3, 1), valid_to=dt.date(2026, 3, 1)
            )
            listing_factory(enterprise=firm)
            Milestone.objects.create(
                enterprise=firm, kind="financing_round", occurred_on=dt.date(2025, 3, 1), amount=1
            )
            project = ResearchProject.objects.create(
                title=f"项目{firm.pk}",
                lead_enterprise=firm,
                district=firm.district,
                level="city",
                started_on=dt.date(2024, 1, 1),
            )
            project.partners.set(enterprise_factory.create_batch(2))
            project.clusters.set([nano])
        progress_recompute(quarters=[Quarter(2025, 4)])
        AlertRule.objects.exclude(kind="designation_expiring").update(enabled=False)
        alerts_evaluate(today=dt.date(2026, 2, 1))

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    grow(2)
    few, few_rows = count()
    grow(15)
    many, many_rows = count()
    assert many == few
    # Reference data and snapshots (a row per district and direction) do not grow with firms.
    if path not in (
        "/api/districts/",
        "/api/sectors/",
        "/api/targets/",
        "/api/progress-snapshots/",
    ):
        assert many_rows > few_rows


def test_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_swagger_and_redoc_are_served_offline(client):
    docs = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in docs and "cdn" not in docs.lower()
    assert "drf_spectacular_sidecar/redoc" in client.get("/api/redoc/").content.decode()


def test_create_api_token_command(capsys, officer_sip):
    call_command("create_api_token", "officer_sip")
    key = capsys.readouterr().out.strip()
    assert Token.objects.get(user=officer_sip).key == key
    call_command("create_api_token", "officer_sip", "--rotate")
    assert capsys.readouterr().out.strip() != key


def test_every_detail_endpoint_returns_the_object(world, city_steward):
    from enterprises.models import ResearchProject as Project
    from targets.models import ProgressSnapshot, Target

    progress_recompute(quarters=[Quarter(2025, 3)])
    client = api(city_steward)
    district = District.objects.get(code=SIP)
    snapshot = ProgressSnapshot.objects.filter(scope_kind="city").first()
    checks = {
        f"/api/districts/{district.pk}/": ("code", SIP),
        "/api/sectors/{}/".format(world["sip"].memberships.get().sector_id): ("code", "1.04"),
        "/api/cluster-memberships/{}/".format(world["sip"].memberships.get().pk): (
            "sector",
            "1.04",
        ),
        f"/api/enterprises/{world['sip'].pk}/": ("uscc", world["sip"].uscc),
        f"/api/quarterly-reports/{world['sip_report'].pk}/": ("period", "2025Q3"),
        f"/api/research-projects/{Project.objects.get(title='园区项目').pk}/": (
            "title",
            "园区项目",
        ),
        f"/api/targets/{Target.objects.get(key='gazelle_firms').pk}/": ("key", "gazelle_firms"),
        f"/api/progress-snapshots/{snapshot.pk}/": (
            "period",
            f"{snapshot.year}Q{snapshot.quarter}",
        ),
        f"/api/alerts/{Alert.objects.get().pk}/": ("rule", "designation_expiring"),
    }
    for url, (field, value) in checks.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.json()[field] == value, url


def test_snooze_needs_a_later_date(world, officer_sip):
    alert = Alert.objects.get()
    url = f"/api/alerts/{alert.pk}/snooze/"
    missing = api(officer_sip).post(url, {}, format="json")
    assert missing.status_code == 400 and "until" in missing.json()["errors"]
    past = api(officer_sip).post(url, {"until": "2020-01-01"}, format="json")
    assert past.status_code == 400
    later = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    snoozed = (
        api(officer_sip).post(url, {"until": later, "comment": "下月复核"}, format="json").json()
    )
    assert (snoozed["state"], snoozed["snoozed_until"]) == ("snoozed", later)


def test_another_districts_alert_actions_and_snapshots_answer_404(world, officer_kunshan):
    from targets.models import ProgressSnapshot

    progress_recompute(quarters=[Quarter(2025, 3)])
    alert = Alert.objects.get()
    client = api(officer_kunshan)
    sip_row = ProgressSnapshot.objects.filter(district__code=SIP).first()
    for method, url, body in (
        ("post", f"/api/alerts/{alert.pk}/resolve/", {"comment": "x"}),
        ("post", f"/api/alerts/{alert.pk}/snooze/", {"until": "2099-01-01"}),
        ("get", f"/api/progress-snapshots/{sip_row.pk}/", None),
        ("post", f"/api/quarterly-reports/{world['sip_report'].pk}/approve/", None),
        ("post", f"/api/quarterly-reports/{world['sip_report'].pk}/return/", {"reason": "x"}),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (url, response.status_code)


def test_requests_are_throttled_per_token(world, officer_sip, officer_kunshan, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    statuses = [api(officer_sip).get("/api/districts/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api(officer_sip).get("/api/districts/").json()
    assert limited["code"] == "throttled"
    assert api(officer_kunshan).get("/api/districts/").status_code == 200  # another token
    cache.clear()


@pytest.mark.parametrize("path", ["/api/quarterly-reports/", "/api/progress-snapshots/"])
@pytest.mark.parametrize(
    ("value", "count"), [("2025Q3", 2), ("2025q3", 2), ("garbage", None), ("2025Q9", None)]
)
def test_a_period_filter_reads_a_quarter_or_names_the_parameter(
    world, city_steward, path, value, count
):
    """One owner for the period parameter (cluster.api.filters.QuarterFilter): a quarter
    filters, anything else is a 400 naming `period`, never an empty list that looks like
    "no data"."""
    progress_recompute()
    response = api(city_steward).get(path, {"period": value})
    if count is None:
        assert response.status_code == 400, response.json()
        assert "2025Q3" in response.json()["errors"]["period"][0]  # says how to write it
        return
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and {row["period"] for row in rows} == {"2025Q3"}, rows[:1]
