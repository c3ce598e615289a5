"""The final evaluation (终期评估) of the nano plan 2023–2025, which ended on 2025-12-31: its
lines are the official figures of 2025Q4; open, they follow the newest approved vintage;
closed by a city steward (through the page, the admin action or the API: one service), they
are frozen, and a revision approved later is shown beside the frozen value, never in its
place.

The firms (亿元 a quarter of 2025): A (SIP) 10, 12, 14, 16; B (Kunshan) 3 ×4; C (SIP) 2 ×4.
2025: 72 of > 1,000 (7.2%); over ¥1 bn: A 52, B 12 → 2 of 15; over ¥5 bn: A → 1 of 5.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cluster.models import Plan
from targets.models import EvaluationLine, PlanEvaluation
from targets.selectors.evaluation import evaluation_of
from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db

NOTE = "依据2025年统计快报，经市集群办审定"


@pytest.fixture
def nano_plan():
    return Plan.objects.get(key="nano-2023-2025")


@pytest.fixture
def year_2025(enterprise_factory, approve, sip, kunshan, listing_factory):
    firms = {
        "a": enterprise_factory(name_zh="甲纳米公司", district=sip),
        "b": enterprise_factory(name_zh="乙纳米公司", district=kunshan),
        "c": enterprise_factory(name_zh="丙纳米公司", district=sip),
    }
    for key, values in (("a", (10, 12, 14, 16)), ("b", (3, 3, 3, 3)), ("c", (2, 2, 2, 2))):
        for quarter, value in enumerate(values, start=1):
            approve(firms[key], 2025, quarter, value * YI)
    listing_factory(enterprise=firms["b"], listed_on=dt.date(2025, 5, 10))
    progress_recompute()
    return firms


def lines_of(plan) -> dict:
    return {line.target.key: line for line in evaluation_of(plan).lines}


def test_the_lines_are_the_official_figures_at_the_deadline(nano_plan, year_2025):
    lines = lines_of(nano_plan)
    assert [(k, line.value, line.achieved, line.share) for k, line in lines.items()] == [
        ("total_output", 72 * YI, False, Decimal("0.0720")),
        ("firms_output_over_5bn", 1, False, Decimal("0.2000")),
        ("firms_output_over_1bn", 2, False, Decimal("0.1333")),
        ("listed_firms", 1, False, Decimal("0.1000")),
        ("unicorn_cultivation_firms", 0, False, Decimal(0)),
        ("gazelle_firms", 0, False, Decimal(0)),
        ("major_research_projects", 0, False, Decimal(0)),
    ]
    with translation.override("zh-hans"):
        assert lines["total_output"].result == "未完成"
    assert not evaluation_of(nano_plan).is_closed


def test_open_it_follows_the_newest_approved_vintage(nano_plan, year_2025, approve):
    later = timezone.now() - dt.timedelta(minutes=1)
    approve(year_2025["b"], 2025, 4, 9 * YI, at=later)  # B's Q4 revised from 3 to 9
    progress_recompute()
    evaluation = evaluation_of(nano_plan)
    assert lines_of(nano_plan)["total_output"].value == 78 * YI
    assert evaluation.vintage == later.replace(microsecond=later.microsecond)


def close(client, steward, plan, note=NOTE):
    client.force_login(steward)
    return client.post(reverse("targets:evaluation-close", args=["nano", plan.key]), {"note": note})


def test_closed_lines_are_frozen_and_later_revisions_shown_beside(
    client, city_steward, nano_plan, year_2025, approve
):
    assert close(client, city_steward, nano_plan).status_code == 302
    record = PlanEvaluation.objects.get(plan=nano_plan)
    assert (record.closed_by, record.note) == (city_steward, NOTE)
    frozen = EvaluationLine.objects.get(evaluation=record, target__key="total_output")
    assert (frozen.value, frozen.achieved, frozen.completion) == (
        72 * YI,
        False,
        Decimal("0.0720"),
    )
    assert record.history.latest().history_change_reason == NOTE
    # A revision approved after the closing: a new vintage, shown beside the frozen line.
    approve(year_2025["a"], 2025, 4, 26 * YI, at=timezone.now())
    progress_recompute()
    line = lines_of(nano_plan)["total_output"]
    assert (line.value, line.revised) == (72 * YI, 82 * YI)
    with translation.override("zh-hans"):
        html = client.get(reverse("targets:evaluation", args=["nano", nano_plan.key])).content
    html = html.decode()
    assert "72.00 亿元" in html and "评估后修订：82.00 亿元（未完成）" in html
    assert "已定稿" in html and NOTE in html
    assert 'data-action="close-evaluation"' not in html  # closed once


# --- one service, three doors ------------------------------------------------------------------


def on_page(client, api, user, plan, note):
    client.force_login(user)
    response = client.post(
        reverse("targets:evaluation-close", args=[plan.cluster.key, plan.key]), {"note": note}
    )
    return response.status_code, response.content.decode()


def in_admin(client, api, user, plan, note):
    client.force_login(user)
    response = client.post(
        reverse("admin:targets_evaluatedplan_changelist"),
        {"action": "close_evaluations", "_selected_action": [plan.pk], "apply": "1", "note": note},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return response.status_code, response.content.decode()


def by_api(client, api, user, plan, note):
    response = api(user, "en").post(
        f"/api/plans/{plan.pk}/close-evaluation/", {"note": note}, format="json"
    )
    return response.status_code, response.content.decode()


DOORS = {"page": on_page, "admin": in_admin, "api": by_api}


@pytest.mark.parametrize("door", DOORS)
def test_a_steward_closes_through_every_door(door, client, api, city_steward, nano_plan, year_2025):
    status, _body = DOORS[door](client, api, city_steward, nano_plan, NOTE)
    assert status == {"page": 302, "admin": 302, "api": 200}[door]
    record = PlanEvaluation.objects.get(plan=nano_plan)
    assert (record.is_closed, record.closed_by, record.note) == (True, city_steward, NOTE)
    assert record.lines.count() == 7
    assert record.history.latest().history_user == city_steward


REFUSED = {
    # case: {door: status}
    "read-only administrator": {"page": 403, "admin": 200, "api": 403},
    "district officer": {"page": 404, "admin": 403, "api": 403},
    "no note": {"page": 422, "admin": 200, "api": 400},
    "deadline quarter incomplete": {"page": 422, "admin": 200, "api": 400},
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("case", REFUSED)
def test_closing_is_refused_alike_through_every_door(
    door, case, client, api, request, nano_plan, year_2025, enterprise_factory
):
    user = {
        "read-only administrator": "city_viewer",
        "district officer": "officer_sip",
    }.get(case, "city_steward")
    note = "" if case == "no note" else NOTE
    if case == "deadline quarter incomplete":
        for _n in range(2):  # 3 of 5 firms approved for 2025Q4: 60% < 90%
            enterprise_factory()
    user = request.getfixturevalue(user)
    user.is_staff = True  # into the admin, where what they may do is the admin's own rights
    user.save()
    status, body = DOORS[door](client, api, user, nano_plan, note)
    assert status == REFUSED[case][door]
    assert not PlanEvaluation.objects.filter(closed_at__isnull=False).exists()
    assert not EvaluationLine.objects.exists()
    if case == "deadline quarter incomplete" and door != "page":
        expected = "Approved reports for 2025 Q4 across the cluster: 3 of the 5 firms expected"
        assert f"{expected} (60.0%" in body
    if case == "no note" and door == "api":
        assert "note" in body


def test_a_plan_in_force_is_not_evaluated(client, api, city_steward, nano_plan):
    with time_machine.travel(dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC), tick=False):
        client.force_login(city_steward)
        page = reverse("targets:evaluation", args=["nano", nano_plan.key])
        assert client.get(page).status_code == 404
        status, body = by_api(client, api, city_steward, nano_plan, NOTE)
    assert status == 400 and "it is evaluated once it has ended" in body
    assert not PlanEvaluation.objects.filter(closed_at__isnull=False).exists()


def test_closing_twice_is_a_conflict(client, api, city_steward, nano_plan, year_2025):
    by_api(client, api, city_steward, nano_plan, NOTE)
    status, body = by_api(client, api, city_steward, nano_plan, "again")
    assert status == 409 and "was closed on" in body
    assert PlanEvaluation.objects.get(plan=nano_plan).note == NOTE


def test_the_evaluation_page_takes_the_same_queries_whatever_the_firms(
    client, city_steward, nano_plan, year_2025, enterprise_factory, approve
):
    client.force_login(city_steward)
    url = reverse("targets:evaluation", args=["nano", nano_plan.key])
    client.get(url)

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = measure()
    for _n in range(6):
        firm = enterprise_factory()
        for quarter in (1, 2, 3, 4):
            approve(firm, 2025, quarter, 4 * YI)
    progress_recompute()
    assert measure() == before
