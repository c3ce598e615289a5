"""The firms behind any count: the API list (/api/targets/<id>/firms/) and the page behind each
dashboard card read the same selector; the counted rows are the snapshot's figure, a district
user sees their district's firms only, and the number of queries does not grow with the rows."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cluster.models import Cluster
from enterprises.choices import DesignationType
from enterprises.models import ResearchProject
from targets.choices import Basis, ScopeKind
from targets.models import ProgressSnapshot, Target
from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db

KEYS = [
    "total_output",
    "firms_output_over_5bn",
    "firms_output_over_1bn",
    "listed_firms",
    "unicorn_cultivation_firms",
    "gazelle_firms",
    "major_research_projects",
]


def snapshot(key, scope_kind=ScopeKind.CITY, district=None):
    rows = ProgressSnapshot.objects.filter(
        target__key=key, scope_kind=scope_kind, year=2025, quarter=2, basis=Basis.APPROVED
    )
    if district is not None:
        rows = rows.filter(district=district)
    return rows.latest("vintage")


def firms_of(client, key, **params):
    target = Target.objects.get(key=key)
    response = client.get(
        f"/api/targets/{target.pk}/firms/", {"quarter": "2025Q2", "page_size": 500, **params}
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def projects(population, sip, kunshan):
    for title, district, lead, status in (
        ("园区重大项目", sip, population["a"], "ongoing"),
        ("昆山重大项目", kunshan, None, "ongoing"),
        ("已终止项目", sip, None, "terminated"),
    ):
        project = ResearchProject.objects.create(
            title=title,
            lead_enterprise=lead,
            lead_institution="" if lead else "苏州大学",
            district=district,
            level="national",
            is_major=True,
            started_on=dt.date(2024, 5, 1),
            status=status,
        )
        project.clusters.add(Cluster.objects.get(key="nano"))
    progress_recompute()


@pytest.mark.parametrize("key", KEYS)
def test_the_counted_rows_are_the_snapshots_figure(key, population, projects, api, city_steward):
    body = firms_of(api(city_steward), key)
    counted = [row for row in body["results"] if row["counts"]]
    actual = snapshot(key).actual
    if key == "total_output":
        assert sum(Decimal(row["value"]) for row in counted) == actual
    else:
        assert len(counted) == actual


def test_each_row_says_what_is_counted_for_it(population, projects, api, city_steward):
    client = api(city_steward)
    [a, b, c] = (population[k] for k in "abc")
    over_1bn = firms_of(client, "firms_output_over_1bn")["results"]
    assert [(r["uscc"], r["name"], r["district"], r["value"], r["counts"]) for r in over_1bn] == [
        (a.uscc, "甲纳米公司", "320571", "2200000000.00", True),
        (b.uscc, "乙纳米公司", "320583", "600000000.00", False),
        (c.uscc, "丙纳米公司", "320571", "400000000.00", False),
    ]
    [listed] = firms_of(client, "listed_firms")["results"]
    assert (listed["uscc"], listed["counts"], listed["value"]) == (b.uscc, True, None)
    assert listed["evidence"]["kind"] == "listing"
    assert listed["evidence"]["listed_on"] == "2025-05-10"
    [gazelle] = firms_of(client, "gazelle_firms")["results"]
    assert (gazelle["uscc"], gazelle["evidence"]["type"]) == (a.uscc, DesignationType.GAZELLE)
    assert gazelle["evidence"]["valid_to"] == "2025-09-30"
    rows = firms_of(client, "major_research_projects")["results"]
    assert [(r["name"], r["evidence"]["title"], r["counts"]) for r in rows] == [
        ("甲纳米公司", "园区重大项目", True),
        ("苏州大学", "昆山重大项目", True),
        ("苏州大学", "已终止项目", False),
    ]


def test_a_district_user_sees_only_their_districts_firms(
    population, projects, api, officer_sip, city_steward, kunshan
):
    mine = firms_of(api(officer_sip), "total_output")["results"]
    assert {row["district"] for row in mine} == {"320571"}
    assert population["b"].uscc not in str(mine)
    assert firms_of(api(officer_sip), "total_output", district="320583")["results"] == []
    assert firms_of(api(officer_sip), "major_research_projects")["count"] == 2
    # A city user narrowed to a district gets the district's own snapshot figure.
    kunshan_rows = firms_of(api(city_steward), "listed_firms", district="320583")["results"]
    counted = [row for row in kunshan_rows if row["counts"]]
    district_snapshot = snapshot("listed_firms", ScopeKind.DISTRICT, kunshan)
    assert len(counted) == district_snapshot.actual == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "quarter"),
        ({"quarter": "2025Q9"}, "quarter"),
        ({"quarter": "2025Q2", "basis": "draft"}, "basis"),
        ({"quarter": "2025Q2", "vintage": "2025-02-30T00:00"}, "vintage"),
        ({"quarter": "2025Q2", "district": "999999"}, "district"),
    ],
)
def test_bad_parameters_are_named(params, field, population, api, city_steward):
    target = Target.objects.get(key="total_output")
    response = api(city_steward, "en").get(f"/api/targets/{target.pk}/firms/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def grow(enterprise_factory, approve, designation_factory, listing_factory, sip, n):
    for index in range(n):
        firm = enterprise_factory(district=sip)
        for q in (1, 2):
            approve(firm, 2025, q, (index + 1) * 3 * YI)
        for kind in (DesignationType.GAZELLE, DesignationType.UNICORN_CULTIVATION):
            designation_factory(
                enterprise=firm,
                type=kind,
                valid_from=dt.date(2025, 1, 1),
                valid_to=dt.date(2026, 1, 1),
            )
        listing_factory(enterprise=firm, listed_on=dt.date(2024, 1, 1))
        project = ResearchProject.objects.create(
            title=f"项目{firm.pk}",
            lead_enterprise=firm,
            district=sip,
            level="national",
            is_major=True,
            started_on=dt.date(2024, 1, 1),
        )
        project.clusters.add(Cluster.objects.get(key="nano"))
    progress_recompute()


@pytest.mark.parametrize("key", KEYS)
def test_the_api_list_takes_the_same_queries_whatever_the_number_of_rows(
    key,
    population,
    api,
    city_steward,
    enterprise_factory,
    approve,
    designation_factory,
    listing_factory,
    sip,
):
    client = api(city_steward)
    firms_of(client, key)  # the token and the user's scope are looked up once per request

    def measure():
        with CaptureQueriesContext(connection) as captured:
            body = firms_of(client, key)
        return len(captured), body["count"]

    grow(enterprise_factory, approve, designation_factory, listing_factory, sip, 2)
    few, few_rows = measure()
    grow(enterprise_factory, approve, designation_factory, listing_factory, sip, 12)
    many, many_rows = measure()
    assert many == few
    assert many_rows > few_rows


def test_each_card_links_to_its_firms_page(client, city_viewer, population):
    client.force_login(city_viewer)
    html = client.get(
        reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"}
    ).content.decode()
    for key in KEYS:
        card = re.search(rf'data-target="{key}".*?</article>', html, re.S).group(0)
        link = re.search(r'href="([^"]+)"[^>]*data-field="firms-link"', card).group(1)
        target = Target.objects.get(key=key)
        assert link == reverse("targets:firms", args=["nano", target.pk]) + "?period=2025Q2"
    over_1bn = Target.objects.get(key="firms_output_over_1bn")
    page = client.get(reverse("targets:firms", args=["nano", over_1bn.pk]), {"period": "2025Q2"})
    rows = page.context["rows"]
    assert [(row.name, row.counts) for row in rows] == [
        ("甲纳米公司", True),
        ("乙纳米公司", False),
        ("丙纳米公司", False),
    ]
    assert page.context["counted"] == snapshot("firms_output_over_1bn").actual == 1


def test_the_firms_page_of_a_district_user(client, officer_sip, population, sip, kunshan):
    client.force_login(officer_sip)
    html = client.get(reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q2"})
    card = re.search(r'data-target="total_output".*?</article>', html.content.decode(), re.S).group(
        0
    )
    link = re.search(r'href="([^"]+)"[^>]*data-field="firms-link"', card).group(1)
    assert link.endswith(f"?period=2025Q2&amp;district={sip.pk}")
    target = Target.objects.get(key="total_output")
    page = client.get(reverse("targets:firms", args=["nano", target.pk]), {"period": "2025Q2"})
    assert [row.name for row in page.context["rows"]] == ["甲纳米公司", "丙纳米公司"]
    assert "乙纳米公司" not in page.content.decode()
    other = client.get(
        reverse("targets:firms", args=["nano", target.pk]),
        {"period": "2025Q2", "district": kunshan.pk},
    )
    assert other.status_code == 404


def test_the_firms_page_takes_the_same_queries_whatever_the_number_of_rows(
    client,
    city_steward,
    population,
    enterprise_factory,
    approve,
    designation_factory,
    listing_factory,
    sip,
):
    client.force_login(city_steward)
    urls = [reverse("targets:firms", args=["nano", Target.objects.get(key=k).pk]) for k in KEYS]

    def measure():
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, {"period": "2025Q2"})
            assert response.status_code == 200
            counts.append(len(captured))
        return counts

    measure()  # warm the per-process caches (content types, sessions)
    grow(enterprise_factory, approve, designation_factory, listing_factory, sip, 2)
    few = measure()
    grow(enterprise_factory, approve, designation_factory, listing_factory, sip, 12)
    assert measure() == few
