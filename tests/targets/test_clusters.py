"""Many clusters side by side: the photonics example plan (2024–2026, in force today,
2026-11-30) loaded from its file with targets.plans, beside the nano cluster, whose plan
2023–2025 has ended. Each cluster has its pages, brief, alerts and API; a firm in both counts
in each, and the overview says so without adding the clusters up.

2026 Q1–Q3, each quarter in 亿元 (revenue / output):

A  SIP      photonics 1.01 and nano 1.04   10 / 8
B  Kunshan  photonics 2.01                  5 / 4
C  SIP      nano 1.04 only                100 / 90

Photonics revenue to Q3: (10 + 5) × 3 = 45 (SIP 30); over ¥1 bn of revenue: A 30, B 15.
Nano output to Q3 (monitoring, no plan in force): (8 + 90) × 3 = 294.
"""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from targets.models import Alert
from targets.services.alerts import alerts_evaluate
from targets.services.progress import progress_recompute

from .kinds_data import KUNSHAN, YI, approved, load_photonics, member

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def clusters(steward):
    load_photonics(steward)
    firms = {
        "a": member("甲光电", ("photonics", "1.01"), ("nano", "1.04")),
        "b": member("乙激光", ("photonics", "2.01"), district=KUNSHAN),
        "c": member("丙纳米", ("nano", "1.04")),
    }
    values = {"a": (10, 8), "b": (5, 4), "c": (100, 90)}
    for key, (revenue, output) in values.items():
        for quarter in (1, 2, 3):
            approved(firms[key], 2026, quarter, revenue=revenue, output=output)
    progress_recompute()
    return firms


def get(client, url, **params):
    with translation.override("zh-hans"):
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response, response.content.decode()


def test_a_city_user_starts_on_the_overview_of_the_clusters(client, city_viewer, clusters):
    client.force_login(city_viewer)
    assert client.get("/").url == reverse("targets:overview")
    response, html = get(client, reverse("targets:overview"))
    rows = {row.cluster.key: row for row in response.context["overview"].rows}
    nano, photonics = rows["nano"], rows["photonics"]
    assert (nano.phase.mode, nano.phase.quarter.label()) == ("monitoring", "2026年第3季度")
    assert (photonics.phase.mode, photonics.in_force.key) == ("in_force", "photonics-2024-2026")
    assert nano.last_ended.key == "nano-2023-2025" and nano.in_force is None
    assert nano.headlines == []
    headlines = {h.target.key: h for h in photonics.headlines}
    assert headlines["revenue"].value == "45.00 亿元"
    assert headlines["firms_revenue_over_1bn"].value == "2 家"
    assert (photonics.coverage.expected, photonics.coverage.approved) == (2, 2)
    # A counts in both clusters: two members each, three firms in all, one shared.
    assert (nano.firms, nano.shared, photonics.firms, photonics.shared) == (2, 1, 2, 1)
    overview = response.context["overview"]
    assert (overview.firms, overview.shared) == (3, 1)
    assert "今日共有3家企业属于产业集群，其中1家同时属于多个集群。" in html
    assert "各集群的数据不相加" in html
    # The navigation offers every cluster.
    menu = html[html.index('data-menu="clusters"') :]
    assert reverse("targets:dashboard", args=["photonics"]) in menu
    assert reverse("targets:dashboard", args=["nano"]) in menu


def test_each_cluster_has_its_pages_and_a_firm_of_both_counts_in_each(
    client, city_viewer, clusters, sip
):
    client.force_login(city_viewer)
    response, html = get(client, reverse("targets:dashboard", args=["photonics"]))
    assert response.context["phase"].mode == "in_force"
    assert 'data-field="schedule"' in html  # 序时进度, with its band named in words
    cards = {card.target.key: card for card in response.context["board"].cards}
    assert cards["revenue"].actual == 45 * YI
    assert cards["firms_revenue_over_1bn"].actual == 2
    assert set(cards) >= {"rd_intensity", "innovation_centre", "new_member_firms"}
    for card in cards.values():  # each kind of target has its card and its firms page
        firms = reverse("targets:firms", args=["photonics", card.target.pk])
        assert client.get(firms, {"period": "2026Q3"}).status_code == 200, card.target.key

    response, html = get(client, reverse("targets:dashboard", args=["nano"]))
    assert response.context["phase"].mode == "monitoring"
    assert "苏州市纳米新材料产业创新集群行动计划（2023-2025年）已于2025年12月31日到期" in html
    monitored = {figure.key: figure for figure in response.context["board"].monitored}
    assert monitored["output"].value == 294 * YI  # A's output counts for nano too
    assert monitored["firms"].value == 2

    response, _html = get(client, reverse("targets:district", args=["photonics", sip.pk]))
    cards = {card.target.key: card for card in response.context["board"].cards}
    assert cards["revenue"].actual == 30 * YI  # A only: C is not a photonics firm
    assert [firm.name_zh for firm in response.context["firms"]] == ["甲光电"]
    direction = response.context["board"].by_direction[0].key
    assert client.get(reverse("targets:sector", args=["photonics", direction])).status_code == 200
    # A direction of the other cluster's tree is not one of this cluster's.
    nano_direction = clusters["c"].memberships.get().sector.parent_id
    assert (
        client.get(reverse("targets:sector", args=["photonics", nano_direction])).status_code == 404
    )


def test_each_cluster_has_its_brief(client, city_viewer, clusters):
    client.force_login(city_viewer)
    assert client.get(reverse("targets:brief-latest", args=["photonics"])).url == reverse(
        "targets:brief", args=["photonics", "2026Q3"]
    )
    response, _html = get(client, reverse("targets:brief", args=["photonics", "2026Q3"]))
    narrative = {h: t for h, t, _u in response.context["brief"].narrative()}
    assert "正在实施" in narrative["阶段"]
    assert narrative["产值"].startswith(
        "截至2026年第3季度末，苏州市光子产业创新集群全市企业营业收入"
    )
    assert "45.00 亿元" in narrative["产值"]
    workbook = client.get(
        reverse("targets:brief-download", args=["photonics", "2026Q3", "xlsx"]), {"lang": "en"}
    )
    sheet = load_workbook(io.BytesIO(workbook.content))["Targets"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Photonics operating revenue"][2] == 4.5  # ¥ bn
    pdf = client.get(reverse("targets:brief-download", args=["photonics", "2026Q3", "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    response, _html = get(client, reverse("targets:brief", args=["nano", "2026Q3"]))
    assert "尚未录入下一期行动计划" in response.context["brief"].narrative()[0][1]


def test_target_alerts_only_for_the_plan_in_force(clusters):
    alerts_evaluate(today=TODAY)
    target_alerts = Alert.objects.active().filter(target__isnull=False)
    assert target_alerts.exists()
    assert {alert.target.plan.key for alert in target_alerts} == {"photonics-2024-2026"}
    assert {alert.numbers["quarter"] for alert in target_alerts} == {"2026Q3"}


def test_the_api_says_each_cluster_s_phase_and_filters_by_cluster(
    api, city_viewer, clusters, django_assert_max_num_queries
):
    client = api(city_viewer)
    body = client.get("/api/clusters/").json()
    by_key = {row["key"]: row for row in body["results"]}
    assert (by_key["nano"]["mode"], by_key["nano"]["plan"]) == ("monitoring", None)
    assert by_key["nano"]["official_quarter"] == {
        "quarter": "2026Q3",
        "expected": 2,
        "approved": 2,
        "complete": True,
    }
    assert (by_key["photonics"]["mode"], by_key["photonics"]["plan"]) == (
        "in_force",
        "photonics-2024-2026",
    )
    plans = client.get("/api/plans/", {"cluster": "photonics"}).json()["results"]
    assert [(p["key"], p["phase"], p["evaluation"]) for p in plans] == [
        ("photonics-2024-2026", "in_force", None)
    ]
    on_new_year = client.get("/api/plans/", {"cluster": "photonics", "on": "2027-01-01"}).json()
    [plan] = on_new_year["results"]
    assert (plan["phase"], plan["evaluation"]["state"]) == ("ended", "open")
    assert {line["target"] for line in plan["evaluation"]["lines"]} >= {"revenue", "rd_intensity"}
    rows = client.get(
        "/api/progress-snapshots/",
        {"cluster": "photonics", "period": "2026Q3", "scope_kind": "city"},
    ).json()["results"]
    assert rows and {(r["plan"], r["phase"]) for r in rows} == {("photonics-2024-2026", "in_force")}
    targets = client.get("/api/targets/", {"cluster": "photonics"}).json()["results"]
    assert {t["plan"] for t in targets} == {"photonics-2024-2026"} and len(targets) == 8


def measure(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def test_pages_and_lists_take_the_same_queries_whatever_the_number_of_firms(
    client, api, city_steward, clusters, sip
):
    client.force_login(city_steward)
    token = api(city_steward)
    urls = [
        (client, reverse("targets:overview"), {}),
        (client, reverse("targets:dashboard", args=["photonics"]), {}),
        (client, reverse("targets:dashboard", args=["nano"]), {}),
        (client, reverse("targets:district", args=["nano", sip.pk]), {}),
        (client, reverse("targets:brief", args=["nano", "2026Q3"]), {}),
        (client, reverse("targets:evaluation", args=["nano", "nano-2023-2025"]), {}),
        (token, "/api/clusters/", {}),
        (token, "/api/plans/", {}),
        (token, "/api/progress-snapshots/", {"cluster": "photonics"}),
    ]
    # One firm between half the threshold and the threshold, so that the pipelines have
    # names to read before as after.
    firm = member("丁光电", ("photonics", "1.01"))
    for quarter in (1, 2, 3):
        approved(firm, 2026, quarter, revenue=2, output=2)
    progress_recompute()
    for who, url, params in urls:
        measure(who, url, params)  # warm the per-process caches
    before = [measure(who, url, params) for who, url, params in urls]
    for n in range(5):
        firm = member(f"新光电{n}", ("photonics", "1.01"), ("nano", "1.04"))
        for quarter in (1, 2, 3):
            approved(firm, 2026, quarter, revenue=n + 1, output=n + 1)
    progress_recompute()
    after = [measure(who, url, params) for who, url, params in urls]
    assert after == before
