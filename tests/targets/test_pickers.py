"""The pickers of the dashboard and the brief: each quarter once, the one shown selected;
data versions one per day, saying how many reports were approved."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def options(html: str, select_id: str) -> list[tuple[str, bool, str]]:
    """(value, selected, text) of each option of the select `select_id`."""
    select = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return [
        (value, bool(selected.strip()), text)
        for value, selected, text in re.findall(
            r'<option value="([^"]*)" ?(selected)?\s*>(.*?)</option>', select, re.S
        )
    ]


def test_brief_picker_offers_each_quarter_once_and_selects_the_one_shown(
    client, city_viewer, population
):
    client.force_login(city_viewer)
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("targets:brief", args=["nano", "2022Q4"]))
    offered = options(response.content.decode(), "brief-period")
    values = [value for value, _selected, _text in offered]
    assert len(values) == len(set(values)) == 19  # 2026Q3 back to 2022Q1
    assert [value for value, selected, _text in offered if selected] == [
        reverse("targets:brief", args=["nano", "2022Q4"])
    ]


def test_dashboard_picker_selects_the_quarter_shown(client, city_viewer, population):
    client.force_login(city_viewer)
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, tzinfo=SHANGHAI), tick=False):
        html = client.get(
            reverse("targets:dashboard", args=["nano"]), {"period": "2024Q2"}
        ).content.decode()
    assert [value for value, selected, _text in options(html, "period") if selected] == ["2024Q2"]


@pytest.fixture
def a_day_of_review(population, approve):
    """After the population's approvals (42 reports, known on 2025-07-10), three revisions
    approved on 2025-07-30 at 09:00, 10:00 and 11:00, each recomputed: three vintages."""
    moments = [timezone.make_aware(dt.datetime(2025, 7, 30, hour)) for hour in (9, 10, 11)]
    for firm, moment in zip(("a", "b", "c"), moments, strict=True):
        approve(population[firm], 2025, 2, 20 * YI, at=moment)
        progress_recompute()
    return moments


@pytest.mark.parametrize(
    ("language", "newest", "first"),
    [
        (
            "zh-hans",
            "2025年7月30日：审核通过 3 份报表（最新）",
            "2025年7月10日：审核通过 42 份报表",
        ),
        (
            "en",
            "July 30, 2025: 3 reports approved (newest)",
            "July 10, 2025: 42 reports approved",
        ),
    ],
)
def test_data_versions_are_one_per_day_with_the_reports_approved(
    client, city_viewer, a_day_of_review, language, newest, first
):
    client.force_login(city_viewer)
    html = client.get(
        reverse("targets:dashboard", args=["nano"]),
        {"period": "2025Q2"},
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    offered = options(html, "vintage")
    assert [(text.strip(), selected) for _value, selected, text in offered] == [
        (newest, True),
        (first, False),
    ]
    assert dt.datetime.fromisoformat(offered[0][0]) == a_day_of_review[-1]


def test_a_vintage_within_a_day_is_offered_and_selected(client, city_viewer, a_day_of_review):
    client.force_login(city_viewer)
    html = client.get(
        reverse("targets:dashboard", args=["nano"]),
        {"period": "2025Q2", "vintage": a_day_of_review[1].isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    offered = options(html, "vintage")
    assert [(dt.datetime.fromisoformat(value), selected) for value, selected, _ in offered] == [
        (a_day_of_review[2], False),
        (a_day_of_review[1], True),
        (timezone.make_aware(dt.datetime(2025, 7, 10)), False),
    ]
    assert "10:00" in offered[1][2] or "10 a.m." in offered[1][2]
