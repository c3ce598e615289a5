"""Keyset pagination of the API's large lists: every row once, in the list's order, following
`next` (and back with `previous`), scoped and filtered as a single page is; a cursor the list
did not give out is a 400 naming `cursor`; the count is exact for small lists and estimated,
and said to be, above the limit; `?page=N` still answers for older clients; a page costs the
same number of queries whatever the rows."""

from __future__ import annotations

import datetime as dt
import json
import re
from base64 import b64encode
from urllib.parse import urlencode

import pytest
from django.db import connection

from cluster.api.pagination import KeysetPagination
from cluster.models import District
from enterprises.models import ClusterMembership, Designation, Enterprise, QuarterlyReport
from tests.api.test_api import api
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def register(enterprise_factory, report_factory, designation_factory):
    """Seven firms in SIP (two of the same name, two with no founding date) and three in
    Kunshan, each with reports for 2025Q3 and 2025Q4 and a designation."""
    sip, kunshan = District.objects.get(code=SIP), District.objects.get(code=KUNSHAN)
    firms = [
        enterprise_factory(name_zh=name, district=sip, founded_on=founded)
        for name, founded in [
            ("甲纳米", dt.date(2010, 5, 1)),
            ("乙纳米", None),
            ("同名纳米", dt.date(2015, 1, 1)),
            ("同名纳米", dt.date(2015, 1, 1)),
            ("丙纳米", dt.date(2001, 3, 1)),
            ("丁纳米", None),
            ("戊纳米", dt.date(2020, 8, 8)),
        ]
    ] + [enterprise_factory(name_zh=f"昆山{n}", district=kunshan) for n in range(3)]
    for firm in firms:
        for quarter in (3, 4):
            report_factory(enterprise=firm, year=2025, quarter=quarter)
        designation_factory(enterprise=firm)
    return firms


def walk(client, path: str, params: dict) -> list[dict]:
    """Every page of a list, following `next` from the first."""
    response = client.get(path, params)
    pages = []
    while True:
        assert response.status_code == 200, response.content
        pages.append(response.json())
        if not pages[-1]["next"]:
            return pages
        assert "cursor=" in pages[-1]["next"]
        response = client.get(pages[-1]["next"])


def ids(pages: list[dict]) -> list[int]:
    return [row["id"] for page in pages for row in page["results"]]


SIP_ROWS = {
    "/api/enterprises/": lambda: Enterprise.objects.filter(district__code=SIP),
    "/api/quarterly-reports/": lambda: QuarterlyReport.objects.filter(
        enterprise__district__code=SIP
    ),
    "/api/designations/": lambda: Designation.objects.filter(enterprise__district__code=SIP),
    "/api/cluster-memberships/": lambda: ClusterMembership.objects.filter(
        enterprise__district__code=SIP
    ),
}


@pytest.mark.parametrize("path", SIP_ROWS)
def test_an_officer_follows_next_to_the_end_and_sees_each_row_of_the_district_once(
    path, register, officer_sip
):
    client = api(officer_sip)
    pages = walk(client, path, {"page_size": 3})
    expected = set(SIP_ROWS[path]().values_list("pk", flat=True))
    seen = ids(pages)
    assert sorted(seen) == sorted(expected)  # each once, none of Kunshan's
    assert len(pages) == -(-len(expected) // 3)
    assert all(len(page["results"]) <= 3 for page in pages)
    assert {(page["count"], page["count_estimated"]) for page in pages} == {(len(expected), False)}
    # The same rows in the same order as one page of all of them.
    assert seen == ids([client.get(path, {"page_size": 500}).json()])

    back, response = [], None
    link = pages[-1]["previous"]
    while link:
        response = client.get(link).json()
        back.insert(0, response)
        link = response["previous"]
    assert ids(back) == seen[: -len(pages[-1]["results"])]


BY_NAME = None  # the database's own order of the names (its collation)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        # NULLs after the dates going up, before them going down; ties by id.
        ("founded_on", ["丙纳米", "甲纳米", "同名纳米", "同名纳米", "戊纳米", "乙纳米", "丁纳米"]),
        ("-founded_on", ["乙纳米", "丁纳米", "戊纳米", "同名纳米", "同名纳米", "甲纳米", "丙纳米"]),
        ("name_zh", BY_NAME),
    ],
)
def test_the_cursor_follows_the_asked_ordering_through_nulls_and_ties(
    ordering, expected, register, officer_sip
):
    pages = walk(api(officer_sip), "/api/enterprises/", {"ordering": ordering, "page_size": 2})
    rows = [row for page in pages for row in page["results"]]
    if expected is BY_NAME:
        firms = Enterprise.objects.filter(district__code=SIP).order_by("name_zh")
        expected = [firm.name_zh for firm in firms]
    assert [row["name_zh"] for row in rows] == expected
    twins = [row["id"] for row in rows if row["name_zh"] == "同名纳米"]
    assert len(twins) == 2 and twins == sorted(twins)


def test_filters_apply_on_every_page(register, city_steward):
    pages = walk(
        api(city_steward),
        "/api/quarterly-reports/",
        {"district": KUNSHAN, "period": "2025Q4", "page_size": 2},
    )
    reports = QuarterlyReport.objects.filter(pk__in=ids(pages)).select_related("enterprise")
    assert len(ids(pages)) == 3
    assert {(r.enterprise.district.code, r.year, r.quarter) for r in reports} == {
        (KUNSHAN, 2025, 4)
    }


def test_reports_come_newest_quarter_first_then_by_firm(register, city_steward):
    pages = walk(api(city_steward), "/api/quarterly-reports/", {"page_size": 4})
    rows = [(row["period"], row["enterprise"]) for page in pages for row in page["results"]]
    firms = sorted((firm.pk for firm in register), reverse=True)
    assert rows == [("2025Q4", firm) for firm in firms] + [("2025Q3", firm) for firm in firms]


def cursor(**tokens) -> str:
    return b64encode(urlencode(tokens).encode()).decode()


HOSTILE_CURSORS = {
    "not base64": "%%%garbage",
    "base64 of nonsense": b64encode(b"\xff\xfe").decode(),
    "not json": cursor(p="garbage"),
    "a number, not a list": cursor(p="1"),
    "too few values": cursor(p='["x"]'),
    "too many values": cursor(p='["x", "1", "2", "3", "4"]'),
    "a value of the wrong type": cursor(p="[1, 2]"),
    "a huge id": cursor(p=json.dumps(["x", str(10**30)])),
    "a NUL in a name": cursor(p=json.dumps(["a\x00b", "1"])),
    "a null where none can be": cursor(p=json.dumps([None, "1"])),
    "a bad offset": cursor(o="many", p=json.dumps(["x", "1"])),
}


@pytest.mark.parametrize("path", ["/api/enterprises/", "/api/quarterly-reports/"])
@pytest.mark.parametrize("value", HOSTILE_CURSORS.values(), ids=HOSTILE_CURSORS.keys())
def test_a_cursor_the_list_did_not_give_out_is_a_400_naming_the_cursor(
    path, value, register, officer_sip
):
    answers = {
        language: api(officer_sip, language).get(path, {"cursor": value})
        for language in ("zh-hans", "en")
    }
    for language, response in answers.items():
        assert response.status_code == 400, (language, response.content)
        body = response.json()
        assert body["code"] == "invalid"
        [message] = body["errors"]["cursor"]
        assert bool(CJK.search(message)) == (language == "zh-hans"), message


@pytest.mark.parametrize(
    "position",
    [
        ["2025", "9", "1"],  # no quarter 9: still a place in the order, before 2025Q4
        [str(10**30), "4", "1"],
        ["2025", "4", str(10**30)],
        ["2025-02-30", "4", "1"],
    ],
)
def test_tampered_report_positions_answer_without_a_crash(position, register, officer_sip):
    response = api(officer_sip).get(
        "/api/quarterly-reports/", {"cursor": cursor(p=json.dumps(position))}
    )
    if position[1] == "9":
        assert response.status_code == 200
        assert len(response.json()["results"]) == 14  # every SIP report is after it
    else:
        assert response.status_code == 400
        assert response.json()["errors"]["cursor"]


# Per page, whatever the rows: the token with its user, the user's groups and district
# memberships (the scope), the count (exact below the limit) and the rows. An enterprise
# page adds its firms' memberships (with their further sectors),
# designations, listings and milestones (prefetched); a report page has its firms joined.
QUERIES = {"/api/enterprises/": 5 + 5, "/api/quarterly-reports/": 5}


@pytest.mark.parametrize("path", QUERIES)
@pytest.mark.parametrize("firms", [3, 30])
def test_a_page_costs_the_same_queries_for_3_and_30_firms(
    path, firms, enterprise_factory, report_factory, city_steward, django_assert_num_queries
):
    for firm in enterprise_factory.create_batch(firms):
        report_factory(enterprise=firm, year=2025, quarter=4)
    client = api(city_steward)
    client.get(path)  # the token is created on the first call
    with django_assert_num_queries(QUERIES[path]):
        first = client.get(path, {"page_size": 2}).json()
    with django_assert_num_queries(QUERIES[path]):
        second = client.get(first["next"]).json()
    assert [len(first["results"]), len(second["results"])] == [2, min(2, firms - 2)]
    assert first["count"] == firms


def test_above_the_limit_the_count_is_the_databases_estimate_and_says_so(
    register, city_steward, monkeypatch
):
    monkeypatch.setattr(KeysetPagination, "exact_count_limit", 5)
    body = api(city_steward).get("/api/enterprises/", {"page_size": 2}).json()
    if connection.vendor == "postgresql":
        # The planner's estimate, never below the rows already counted past the limit.
        assert body["count_estimated"] is True
        assert body["count"] >= 6
    else:
        assert (body["count"], body["count_estimated"]) == (10, False)
    small = api(city_steward).get("/api/enterprises/", {"district": KUNSHAN}).json()
    assert (small["count"], small["count_estimated"]) == (3, False)


def test_page_numbers_still_answer_as_before(register, officer_sip):
    client = api(officer_sip)
    everything = ids([client.get("/api/enterprises/", {"page_size": 500}).json()])
    second = client.get("/api/enterprises/", {"page": 2, "page_size": 3}).json()
    assert ids([second]) == everything[3:6]
    assert (second["count"], second["count_estimated"]) == (7, False)
    assert "page=3" in second["next"] and "page_size=3" in second["next"]
    assert client.get("/api/enterprises/", {"page": 9, "page_size": 3}).status_code == 404


def test_the_schema_documents_the_cursor_and_the_estimated_count(city_steward):
    schema = api(city_steward).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = json.loads(schema.content)
    operation = document["paths"]["/api/quarterly-reports/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["cursor"]["schema"] == {"type": "string"}
    assert parameters["page"]["deprecated"] is True
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][page.rsplit("/", 1)[-1]]
    assert {"count", "count_estimated", "next", "previous", "results"} <= set(body["required"])
