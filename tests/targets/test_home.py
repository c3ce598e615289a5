"""The page each role starts on: a district officer's to-do (quarters due with their countdown
or days late, reports returned, alerts open), the administrator's dashboard."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from cluster.access import scope_of
from cluster.quarters import Quarter, quarter_range
from enterprises.models import QuarterlyReport, ReportingPolicy
from enterprises.periods import days_to_deadline
from targets.models import Alert, AlertRule
from targets.selectors.home import officer_todo

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def on(day: dt.date):
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI), tick=False
    )


def moment(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI)


def report(firm, quarter: Quarter, status: str, **fields):
    at = moment(quarter.end + dt.timedelta(days=5))
    extra = {"submitted_at": at} if status != "draft" else {}
    if status == "approved":
        extra.update(approved_at=at, revision=1)
    return QuarterlyReport.objects.create(
        enterprise=firm,
        year=quarter.year,
        quarter=quarter.quarter,
        output_value=1_000_000,
        operating_revenue=900_000,
        status=status,
        **extra,
        **fields,
    )


def alert(district, key: str, message: str, state: str = "open"):
    now = timezone.now()
    return Alert.objects.create(
        rule=AlertRule.objects.get(kind="threshold_crossed"),
        severity=2,
        owner=district,
        dedup_key=key,
        message_zh=message,
        message_en=message,
        state=state,
        opened_at=now,
        last_seen_at=now,
    )


@pytest.fixture
def park(enterprise_factory, sip, kunshan, city_steward):
    """Three SIP firms that reported and had approved every quarter from the register's first
    (2022Q1) up to 2026Q1; in 2026Q2
    one is submitted, one returned by the steward, one missing; nothing for 2026Q3. Kunshan has
    a returned report and an open alert of its own."""
    firms = [enterprise_factory(name_zh=f"园区{n}号纳米公司", district=sip) for n in (1, 2, 3)]
    for quarter in quarter_range(Quarter(2022, 1), Quarter(2026, 1)):
        for firm in firms:
            report(firm, quarter, "approved")
    report(firms[0], Quarter(2026, 2), "submitted")
    returned = report(
        firms[1],
        Quarter(2026, 2),
        "returned",
        return_reason="营业收入与税务数据不一致，请核实",
        returned_by=city_steward,
        returned_at=moment(dt.date(2026, 8, 3)),
    )
    other = enterprise_factory(name_zh="昆山纳米公司", district=kunshan)
    report(
        other,
        Quarter(2026, 2),
        "returned",
        return_reason="昆山的退回原因",
        returned_by=city_steward,
        returned_at=moment(dt.date(2026, 8, 4)),
    )
    return {
        "firms": firms,
        "returned": returned,
        "other": other,
        "sip_alert": alert(sip, "home:sip", "园区预警：产值跨过阈值"),
        "sip_acknowledged": alert(sip, "home:sip:ack", "园区已确认的预警", "acknowledged"),
        "kunshan_alert": alert(kunshan, "home:kunshan", "昆山预警：产值跨过阈值"),
    }


def due(todo):
    return [
        (str(item.quarter), item.expected, item.reached, item.missing, item.countdown.days_left)
        for item in todo.due
    ]


@pytest.mark.parametrize(
    ("today", "days", "words"),
    [
        (dt.date(2026, 10, 10), 5, "截止 2026-10-15：还剩 5 天"),
        (dt.date(2026, 10, 15), 0, "今天截止（2026-10-15）"),
        (dt.date(2026, 11, 30), -46, "截止 2026-10-15：已逾期 46 天"),
    ],
)
def test_the_worksheet_says_how_long_is_left_or_how_late_it_is(
    client, officer_sip, sip, today, days, words
):
    assert days_to_deadline(Quarter(2026, 3), today).days_left == days
    client.force_login(officer_sip)
    with on(today), translation.override("zh-hans"):
        html = client.get(reverse("reports:worksheet", args=[sip.pk, "2026Q3"])).content.decode()
    line = re.search(r'<p id="deadline">(.*?)</p>', html, re.S).group(1)
    assert words in line
    assert ("overdue" in line) == (days < 0)


def test_after_the_deadline_the_quarters_are_days_late_and_a_reported_one_is_gone(
    officer_sip, park
):
    todo = officer_todo(officer_sip, dt.date(2026, 11, 30))
    # 2022Q1–2026Q1 are complete; 2026Q2 has one report at the city (the returned one does
    # not count), 2026Q3 none.
    assert due(todo) == [("2026Q2", 3, 1, 2, -138), ("2026Q3", 3, 0, 3, -46)]
    assert [item.countdown.days_late for item in todo.due] == [138, 46]

    QuarterlyReport.objects.filter(year=2026, quarter=2).update(status="submitted")
    report(park["firms"][2], Quarter(2026, 2), "approved")
    todo = officer_todo(officer_sip, dt.date(2026, 11, 30))
    assert due(todo) == [("2026Q3", 3, 0, 3, -46)]


def test_before_the_deadline_the_quarter_counts_down(officer_sip, park):
    todo = officer_todo(officer_sip, dt.date(2026, 10, 10))
    assert due(todo) == [("2026Q2", 3, 1, 2, -87), ("2026Q3", 3, 0, 3, 5)]
    assert [item.countdown.overdue for item in todo.due] == [True, False]


def test_early_in_the_register_only_its_first_quarters_are_due(
    officer_sip, enterprise_factory, sip
):
    ReportingPolicy.objects.update(first_year=2026)
    enterprise_factory(district=sip)
    # Nothing has ended yet in the register's first year.
    assert officer_todo(officer_sip, dt.date(2026, 3, 20)).due == []
    todo = officer_todo(officer_sip, dt.date(2026, 4, 10))
    assert due(todo) == [("2026Q1", 1, 0, 1, 5)]


def test_the_officer_sees_the_reports_returned_and_the_alerts_of_their_district_only(
    officer_sip, officer_kunshan, park
):
    todo = officer_todo(officer_sip, dt.date(2026, 11, 30))
    assert [r.pk for r in todo.returned] == [park["returned"].pk]
    assert todo.returned_count == 1
    assert [a.pk for a in todo.alerts] == [park["sip_alert"].pk]
    assert todo.alerts_count == 1
    theirs = officer_todo(officer_kunshan, dt.date(2026, 11, 30))
    assert [r.enterprise for r in theirs.returned] == [park["other"]]
    assert [a.pk for a in theirs.alerts] == [park["kunshan_alert"].pk]
    # Kunshan's firm never reported: the last two years are all due, the oldest first.
    assert [row[0] for row in due(theirs)] == [str(Quarter(2024, 4) + n) for n in range(8)]
    assert due(theirs)[0] == ("2024Q4", 1, 0, 1, -684)


def test_the_officers_home_page_shows_the_work_one_click_away(client, officer_sip, park, sip):
    client.force_login(officer_sip)
    with on(dt.date(2026, 11, 30)), translation.override("zh-hans"):
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    worksheet = reverse("reports:worksheet", args=[sip.pk, "2026Q3"])
    card = re.search(r'<article[^>]*data-quarter="2026Q3".*?</article>', html, re.S).group(0)
    assert "截止 2026-10-15：已逾期 46 天" in card
    assert "应报 3 家 · 已报送市级 0 家 · <strong>未报 3 家</strong>" in card
    assert f'href="{worksheet}"' in card
    assert f'href="{worksheet}?show=outstanding"' in card
    q2 = re.search(r'<article[^>]*data-quarter="2026Q2".*?</article>', html, re.S).group(0)
    assert "已逾期 138 天" in q2 and "未报 2 家" in q2
    # SIP's two quarters only, never the eight Kunshan owes.
    assert re.findall(r'<article[^>]*data-quarter="(\w+)"', html) == ["2026Q2", "2026Q3"]

    returned = re.search(r'<li data-report="\d+">.*?</li>', html, re.S).group(0)
    firm = park["firms"][1]
    assert "园区2号纳米公司" in returned and "2026年第2季度" in returned
    assert "营业收入与税务数据不一致，请核实" in returned
    assert "city_steward 于 2026-08-03 10:00 退回" in returned
    row = reverse("reports:worksheet", args=[sip.pk, "2026Q2"])
    assert f'href="{row}?q={firm.uscc}#row-{firm.pk}"' in returned

    assert "园区预警：产值跨过阈值" in html
    assert f"#alert-{park['sip_alert'].pk}" in html
    for elsewhere in ("昆山的退回原因", "昆山预警", "昆山纳米公司", "园区已确认的预警"):
        assert elsewhere not in html
    assert reverse("targets:district", args=["nano", sip.pk]) in html
    assert '<a href="/" aria-current="page">我的待办</a>' in html


def test_quarters_owed_beyond_the_newest_eight_are_counted_and_linked(
    client, officer_sip, enterprise_factory, sip
):
    firm = enterprise_factory(district=sip)
    for quarter in (Quarter(2022, 3), Quarter(2023, 2)):
        report(firm, quarter, "approved")
    todo = officer_todo(officer_sip, dt.date(2026, 11, 30))
    # 2022Q1–2026Q3 owed but for two: the newest eight as cards, the other nine summed.
    assert [str(item.quarter) for item in todo.due] == [
        "2024Q4",
        "2025Q1",
        "2025Q2",
        "2025Q3",
        "2025Q4",
        "2026Q1",
        "2026Q2",
        "2026Q3",
    ]
    assert (todo.earlier.quarters, todo.earlier.missing, str(todo.earlier.last)) == (9, 9, "2024Q3")
    client.force_login(officer_sip)
    with on(dt.date(2026, 11, 30)), translation.override("zh-hans"):
        html = client.get("/").content.decode()
    line = re.search(r'<p id="due-earlier">(.*?)</p>', html, re.S).group(1)
    assert "更早还有 9 个季度缺报（共 9 份）" in line
    assert f'href="{reverse("reports:completeness")}?until=2024Q3"' in line


def test_nothing_to_do_says_so(client, officer_sip):
    client.force_login(officer_sip)
    with on(dt.date(2026, 11, 30)), translation.override("zh-hans"):
        html = client.get("/").content.decode()
    assert "本区没有待办。" in html
    assert "没有退回本区的报表。" in html
    assert "本区没有待处理的预警。" in html


def test_the_to_do_takes_the_same_number_of_queries_whatever_the_number_of_firms(
    officer_sip, park, enterprise_factory, sip, django_assert_num_queries
):
    def count() -> int:
        with django_assert_num_queries(QUERIES):
            todo = officer_todo(officer_sip, dt.date(2026, 11, 30))
            [(item.district.name_zh, item.quarter) for item in todo.due]
            [(r.enterprise.district.name_zh, r.returned_by) for r in todo.returned]
            [(a.rule.name, a.owner) for a in todo.alerts]
        return len(todo.due)

    scope_of(officer_sip)  # the role and district, read once per user (and per request)
    assert count() == 2
    for n in range(6):
        firm = enterprise_factory(district=sip)
        report(firm, Quarter(2026, 2), "returned", return_reason=f"原因{n}")
        alert(sip, f"home:more:{n}", f"更多预警{n}")
    # The new firms owe every quarter of the last two years: more quarters, same queries.
    assert count() == 8


# The reporting policy; the districts, the firms expected and the reports counted
# (completeness); the returned reports and their count; the open alerts and their count.
QUERIES = 8


def test_an_administrator_lands_on_the_dashboard(client, city_viewer, sip_viewer, sip):
    client.force_login(city_viewer)
    assert client.get("/").url == reverse("targets:dashboard", args=["nano"])
    client.force_login(sip_viewer)
    assert client.get("/").url == reverse("targets:district", args=["nano", sip.pk])
    with translation.override("zh-hans"):
        page = client.get("/", follow=True).content.decode()
    assert "我的待办" not in page  # the to-do is the officers' page


def test_the_steward_starts_on_the_review_queue(client, city_steward):
    client.force_login(city_steward)
    assert client.get("/").url == reverse("reports:queue")


def test_a_return_whose_reviewer_is_not_on_record_says_when_without_a_blank_name(
    client, officer_sip, park
):
    QuarterlyReport.objects.filter(pk=park["returned"].pk).update(returned_by=None)
    client.force_login(officer_sip)
    with on(dt.date(2026, 11, 30)), translation.override("zh-hans"):
        html = client.get("/").content.decode()
    returned = re.search(r'<li data-report="\d+">.*?</li>', html, re.S).group(0)
    assert "于 2026-08-03 10:00 退回" in returned
    assert "— 于" not in returned


def test_before_the_register_opens_the_pages_say_when_reporting_opens_and_nothing_is_due(
    client, officer_sip, enterprise_factory, sip
):
    enterprise_factory(district=sip)
    day = dt.date(2021, 6, 1)
    assert officer_todo(officer_sip, day).due == []
    client.force_login(officer_sip)
    for language, opens, wrong in (
        ("zh-hans", "2022年第1季度结束后，报表于2022年4月1日开放填报", "可填报季度："),
        ("en", "Reporting opens on April 1, 2022, once 2022 Q1 has ended", "Open for reporting"),
    ):
        with on(day), translation.override(language):
            for path in ("/", "/reports/"):
                html = client.get(path, follow=True, headers={"accept-language": language})
                text = html.content.decode()
                assert opens in text, path
                assert wrong not in text, path
            overview = client.get(reverse("reports:completeness")).context["overview"]
    assert overview.overall.overdue == 0
