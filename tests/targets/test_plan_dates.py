"""Right on any date: with the clock on 2025-06-30 (the nano plan in force), 2026-01-10 (just
ended: its final evaluation), 2026-11-30 (between plans, 2026 reports coming in) and
2031-01-01 (long after), the dashboard, a district page, the brief and the snapshots API say
the phase of the nano plan 2023–2025 and show the figures as of that day.

The firms (亿元 a quarter; approvals on the 10th after each quarter, as they were known):

A (SIP)      10 each quarter of 2022–2024; 2025: 10, 12, 14, 16; 2026: 11, 13
B (Kunshan)   3 each quarter;               2025: 3 ×4;           2026: 3, 3 → listed 2025-05-10
C (SIP)       2 each quarter;               2025: 2 ×4;           2026: 2, 2

2025: A 52, B 12, C 8 → 72 of the > 1,000 target (7.2%); over ¥1 bn: A and B; over ¥5 bn: A.
2026H1: 34 (A 24, B 6, C 4) against 32 in 2025H1: +6.25%.
"""

import datetime as dt
import re
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from enterprises.choices import DesignationType
from enterprises.models import Listing, QuarterlyReport
from targets.selectors.evaluation import evaluation_of
from targets.services.progress import progress_recompute
from targets.tasks import recompute_progress

from .conftest import YI

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FIGURES = {
    "a": (10, {2025: (10, 12, 14, 16), 2026: (11, 13)}),
    "b": (3, {2025: (3, 3, 3, 3), 2026: (3, 3)}),
    "c": (2, {2025: (2, 2, 2, 2), 2026: (2, 2)}),
}


def approved_on(year, quarter) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year + (quarter == 4), (quarter % 4) * 3 + 1, 10))


@pytest.fixture
def firms(enterprise_factory, sip, kunshan):
    return {
        "a": enterprise_factory(name_zh="甲纳米公司", name_en="Alpha Nano", district=sip),
        "b": enterprise_factory(name_zh="乙纳米公司", name_en="Beta Nano", district=kunshan),
        "c": enterprise_factory(name_zh="丙纳米公司", name_en="Gamma Nano", district=sip),
    }


@pytest.fixture
def on_day(firms, approve, designation_factory):
    """Travel to noon of a day and add what had become known by then (approvals, the
    designation, the listing, the 2026Q3 submissions); progress is computed then."""
    travels, done = [], set()

    def once(key) -> bool:
        if key in done:
            return False
        done.add(key)
        return True

    def travel(day: str):
        moment = dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=SHANGHAI)
        if travels:
            travels[-1].stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travels.append(traveller)
        for key, (flat, later) in FIGURES.items():
            quarters = [(y, q, flat) for y in (2022, 2023, 2024) for q in (1, 2, 3, 4)]
            quarters += [(y, q + 1, v) for y, values in later.items() for q, v in enumerate(values)]
            for year, quarter, value in quarters:
                at = approved_on(year, quarter)
                if at <= timezone.now() and once((key, year, quarter)):
                    approve(firms[key], year, quarter, value * YI, at=at)
        if once("gazelle"):
            designation_factory(
                enterprise=firms["a"],
                type=DesignationType.GAZELLE,
                valid_from=dt.date(2025, 4, 1),
                valid_to=dt.date(2025, 9, 30),
            )
        if moment.date() >= dt.date(2025, 5, 10) and once("listing"):
            Listing.objects.create(
                enterprise=firms["b"], venue="star", ticker="688001", listed_on=dt.date(2025, 5, 10)
            )
        if moment.date() >= dt.date(2026, 10, 20) and once("typed"):
            # An officer typed and submitted 2026Q3 figures; nobody approved them yet.
            for firm in firms.values():
                QuarterlyReport.objects.create(
                    enterprise=firm,
                    year=2026,
                    quarter=3,
                    output_value=1 * YI,
                    operating_revenue=1 * YI,
                    status="submitted",
                    submitted_at=timezone.now(),
                )
        progress_recompute()
        return firms

    yield travel
    if travels:
        travels[-1].stop()


def field(html: str, marker: str, name: str) -> str:
    """The text of `data-field=name` inside the element carrying `marker`."""
    block = re.search(rf"{marker}.*?</(?:article|tr)>", html, re.S).group(0)
    return re.sub(
        r"<[^>]+>", "", re.search(rf'data-field="{name}"[^>]*>(.*?)</', block, re.S).group(1)
    ).strip()


def page(client, name, *args, **params):
    with translation.override("zh-hans"):
        response = client.get(reverse(name, args=["nano", *args]), params)
    assert response.status_code == 200, response.content[:500]
    return response, response.content.decode()


def snapshots_api(client, **params):
    response = client.get("/api/progress-snapshots/", {"cluster": "nano", **params})
    assert response.status_code == 200
    return {(r["target"], r["period"], r["scope_kind"]): r for r in response.json()["results"]}


def test_on_2025_06_30_the_plan_is_in_force(client, city_viewer, on_day, sip):
    on_day("2025-06-30")
    client.force_login(city_viewer)
    response, html = page(client, "targets:dashboard")
    # 2025Q2 has not ended: the quarter being reported, and shown, is 2025Q1.
    assert str(response.context["as_of"].quarter) == "2025Q1"
    assert response.context["phase"].mode == "in_force"
    assert 'data-phase="in_force"' in html
    assert "正在实施" in field(html, 'data-phase="in_force"', "phase-statement")
    assert field(html, 'data-target="total_output"', "actual") == "15.00 亿元"
    # Each firm's usual quarter is a quarter of its year: 60 by 2025-12-31, the plan's deadline.
    assert field(html, 'data-target="total_output"', "projection") == "60.00 亿元"
    assert field(html, 'data-target="total_output"', "status") == "✕ 偏离目标"
    assert "终期评估" not in html

    response, html = page(client, "targets:district", sip.pk)
    assert field(html, 'data-target="total_output"', "actual") == "12.00 亿元"  # A 10 + C 2
    assert field(html, 'data-target="total_output"', "share-of-city") == "80.0%"

    response, html = page(client, "targets:brief", "2025Q1")
    narrative = {h: t for h, t, _u in response.context["brief"].narrative()}
    assert "正在实施" in narrative["阶段"]
    assert "15.00 亿元" in narrative["产值"] and "60.00 亿元" in narrative["产值"]

    rows = snapshots_api(client, period="2025Q1", scope_kind="city")
    row = rows[("total_output", "2025Q1", "city")]
    assert (row["plan"], row["phase"], row["actual"]) == (
        "nano-2023-2025",
        "in_force",
        "1500000000.00",
    )


EVALUATED = {
    "total_output": ("72.00 亿元", "未完成", "7.2%"),
    "firms_output_over_1bn": ("2 家", "未完成", "13.3%"),
    "firms_output_over_5bn": ("1 家", "未完成", "20.0%"),
    "listed_firms": ("1 家", "未完成", "10.0%"),
    "gazelle_firms": ("0 家", "未完成", "0.0%"),
}


def test_on_2026_01_10_the_deadline_quarter_is_the_final_evaluation(
    client, city_viewer, on_day, sip
):
    on_day("2026-01-10")
    client.force_login(city_viewer)
    response, html = page(client, "targets:dashboard")
    assert str(response.context["as_of"].quarter) == "2025Q4"
    assert response.context["phase"].mode == "evaluation"
    assert "终期评估" in html
    for key, (value, result, share) in EVALUATED.items():
        row = f'data-target="{key}"'
        assert field(html, row, "value") == value, key
        assert field(html, row, "result") == f"✕ {result}", key
        assert field(html, row, "completion") == share, key
    # Nothing is projected past a deadline that has passed.
    assert "预计" not in html and 'data-field="projection"' not in html
    assert reverse("targets:evaluation", args=["nano", "nano-2023-2025"]) in html

    # The quarter before is progress as it was, under a banner naming the end.
    response, html = page(client, "targets:dashboard", period="2025Q3")
    assert response.context["phase"].mode == "in_force"
    assert "2025年12月31日" in field(html, 'data-phase="in_force"', "phase-statement")
    assert field(html, 'data-target="total_output"', "actual") == "51.00 亿元"  # A 36 + B 9 + C 6
    assert 'data-field="evaluation-link"' in html

    response, html = page(client, "targets:district", sip.pk)
    assert response.context["phase"].mode == "evaluation"
    assert field(html, 'data-target="total_output"', "actual") == "60.00 亿元"  # A 52 + C 8
    assert 'data-field="projection"' not in html

    response, html = page(client, "targets:brief", "2025Q4")
    narrative = {h: t for h, t, _u in response.context["brief"].narrative()}
    assert "终期评估" in narrative["阶段"]
    assert "72.00 亿元" in narrative["产值"] and "未完成" in narrative["产值"]
    assert "未完成" in narrative["终期评估"]
    assert "预计" not in "".join(narrative.values())

    rows = snapshots_api(client, scope_kind="city", target="total_output")
    assert rows[("total_output", "2025Q4", "city")]["phase"] == "evaluation"
    assert rows[("total_output", "2025Q3", "city")]["phase"] == "in_force"


def trend(response) -> list[tuple[str, int]]:
    return [(str(p.quarter), p.actual / YI) for p in response.context["board"].trend]


MONITORED_2026H1 = {"output": "34.00 亿元", "firms": "3 家", "listed": "1 家"}


@pytest.mark.parametrize("day", ["2026-11-30", "2031-01-01"])
def test_between_and_after_plans_monitoring_goes_on(client, city_viewer, on_day, sip, kunshan, day):
    on_day(day)
    client.force_login(city_viewer)
    response, html = page(client, "targets:dashboard")
    # 2026Q3 was only typed in: the page opens on 2026Q2, the latest official quarter.
    assert str(response.context["as_of"].quarter) == "2026Q2"
    assert response.context["phase"].mode == "monitoring"
    statement = field(html, 'data-phase="monitoring"', "phase-statement")
    assert "2025年12月31日" in statement and "尚未录入下一期行动计划" in statement
    for key, value in MONITORED_2026H1.items():
        assert field(html, f'data-figure="{key}"', "value") == value, key
    assert field(html, 'data-figure="output"', "yoy") == "+6.3%"  # 34 against 32
    assert 'data-target="total_output"' not in html  # no targets apply
    # Counts compare with a year before by their change, money by its growth; never −100%.
    assert field(html, 'data-figure="gazelle"', "change") == "−1"  # A's expired in 2025-09
    assert "0.00 亿元" not in html and "-100" not in html

    # The trend: each quarter's year to date, last year and this, of the firms counted now.
    city_trend = [("2025Q1", 15), ("2025Q2", 32), ("2025Q3", 51), ("2025Q4", 72)]
    city_trend += [("2026Q1", 16), ("2026Q2", 34)]
    assert trend(response) == city_trend
    # The year-to-date part, summed from the trend's quarters (one query for both).
    ytd = {}
    for year, district, _material, total in response.context["board"]._output_part():
        ytd[year, district] = ytd.get((year, district), 0) + Decimal(total) / YI
    assert ytd == {
        (2026, sip.pk): 28,
        (2026, kunshan.pk): 6,
        (2025, sip.pk): 26,
        (2025, kunshan.pk): 6,
    }

    response, html = page(client, "targets:district", sip.pk)
    assert field(html, 'data-figure="output"', "value") == "28.00 亿元"  # A 24 + C 4
    # The share of approved reports that makes a quarter official is the cluster's (A, B, C),
    # not the district's (A, C): a district page says whose it counts.
    coverage = re.search(r'data-field="coverage">(.*?)</p>', html, re.S).group(1)
    assert coverage == (
        "2026年第2季度全集群已审核报表：应报3家企业中的3家（100.0%；达到90%即为正式数据季度）。"
    )
    sip_trend = [("2025Q1", 12), ("2025Q2", 26), ("2025Q3", 42), ("2025Q4", 60)]
    sip_trend += [("2026Q1", 13), ("2026Q2", 28)]
    assert trend(response) == sip_trend

    # Stored by the progress job, the pages read the same trend instead of aggregating.
    recompute_progress()
    for args, expected in (
        (("targets:dashboard",), city_trend),
        (("targets:district", sip.pk), sip_trend),
    ):
        with CaptureQueriesContext(connection) as queries:
            response, _html = page(client, *args)
        assert response.context["board"].computed_on_the_fly == []
        # No sum over the reports at request time.
        assert [q["sql"] for q in queries if 'SUM("enterprises_reportrevision' in q["sql"]] == []
        assert trend(response) == expected

    response, html = page(client, "targets:brief", "2026Q2")
    narrative = {h: t for h, t, _u in response.context["brief"].narrative()}
    assert "尚未录入下一期行动计划" in narrative["阶段"]
    assert "34.00 亿元" in narrative["产值"] and "+6.3%" in narrative["产值"]
    assert narrative["监测指标"].startswith("本季度不适用任何目标。2026年第2季度末：")
    assert "集群企业 3 家（上年同期3 家）" in narrative["监测指标"]

    # The snapshots stop at the plan's deadline; its deadline quarter is its evaluation.
    rows = snapshots_api(client, scope_kind="city", target="total_output")
    assert max(period for _t, period, _s in rows) == "2025Q4"
    assert rows[("total_output", "2025Q4", "city")]["phase"] == "evaluation"


def test_a_2026q3_submission_leaves_the_2025_evaluation_unchanged(
    client, city_viewer, on_day, firms
):
    from cluster.models import Plan

    plan = Plan.objects.get(key="nano-2023-2025")
    on_day("2026-06-30")
    before = [(line.target.key, line.value, line.achieved) for line in evaluation_of(plan).lines]
    assert before[0] == ("total_output", 72 * YI, False)
    on_day("2026-11-30")  # 2026Q2 approved, 2026Q3 submitted
    after = [(line.target.key, line.value, line.achieved) for line in evaluation_of(plan).lines]
    assert after == before
    client.force_login(city_viewer)
    _response, html = page(client, "targets:evaluation", "nano-2023-2025")
    assert field(html, 'data-target="total_output"', "value") == "72.00 亿元"


def test_the_old_addresses_lead_to_the_first_cluster(client, city_viewer, sip):
    client.force_login(city_viewer)
    for old, new in (
        ("/dashboard/?period=2025Q2", "/clusters/nano/?period=2025Q2"),
        (f"/dashboard/districts/{sip.pk}/", f"/clusters/nano/districts/{sip.pk}/"),
        ("/brief/2025Q2/", "/clusters/nano/brief/2025Q2/"),
        ("/brief/2025Q2.xlsx?lang=en", "/clusters/nano/brief/2025Q2.xlsx?lang=en"),
    ):
        response = client.get(old)
        assert (response.status_code, response.url) == (302, new)


def test_a_quarter_not_offered_is_refused_by_name(client, city_viewer):
    client.force_login(city_viewer)
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, tzinfo=SHANGHAI), tick=False):
        for period in ("2026Q4", "2100Q4", "2021Q4", "1990Q1"):
            response = client.get(reverse("targets:dashboard", args=["nano"]), {"period": period})
            assert response.status_code == 400, period
            assert "period" in response.content.decode()
            assert client.get(reverse("targets:brief", args=["nano", period])).status_code == 404


def test_each_quarter_is_offered_once(client, city_viewer):
    client.force_login(city_viewer)
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("targets:dashboard", args=["nano"]))
    html = response.content.decode()
    picker = re.search(r'<select id="period".*?</select>', html, re.S).group(0)
    offered = re.findall(r'<option value="(\d{4}Q\d)"', picker)
    assert offered[0] == "2026Q3" and offered[-1] == "2022Q1"
    assert len(offered) == len(set(offered)) == 19
