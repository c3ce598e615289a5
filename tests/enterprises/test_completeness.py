"""Completeness that ranks: who is expected to report follows each firm's life (founding,
closing, moving out, cluster membership) through every door that counts expected firms; the
completeness page gives per district and quarter the reporting rate and the on-time rate, a
city total, a totals column and a ranking, in colour and in words."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from cluster.access import scope_of
from cluster.models import District
from cluster.quarters import Quarter
from enterprises.choices import EnterpriseStatus, MilestoneKind
from enterprises.models import Enterprise, Milestone
from enterprises.selectors import completeness, completeness_overview, expected_to_report
from targets.models import Alert, AlertRule
from targets.services.alerts import alerts_evaluate
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
YEAR = [Quarter(2025, q) for q in (1, 2, 3, 4)]


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def lives(enterprise_factory, report_factory, settings):
    """Six SIP firms whose lives start or end at different points of 2025."""
    settings.REPORT_DEADLINE_DAYS = 15
    sip = District.objects.get(code=SIP)
    firms = {
        "always": enterprise_factory(district=sip, name_zh="一直在册"),
        "founded": enterprise_factory(
            district=sip, name_zh="年中成立", founded_on=dt.date(2025, 8, 10)
        ),
        "closed": enterprise_factory(
            district=sip,
            name_zh="已注销",
            status=EnterpriseStatus.CLOSED,
            left_on=dt.date(2025, 5, 20),
        ),
        "moved": enterprise_factory(
            district=sip, name_zh="已迁出", status=EnterpriseStatus.MOVED_OUT
        ),
        "left": enterprise_factory(district=sip, name_zh="退出集群", left_on=dt.date(2025, 3, 31)),
        "undated": enterprise_factory(
            district=sip, name_zh="注销无日期", status=EnterpriseStatus.CLOSED
        ),
    }
    # Moved out: its membership has no end, the milestone dates the move.
    Milestone.objects.create(
        enterprise=firms["moved"], kind=MilestoneKind.MOVED_OUT, occurred_on=dt.date(2025, 11, 3)
    )
    # Closed with no date anywhere: expected only where it has a report (a draft here).
    report_factory(enterprise=firms["undated"], year=2025, quarter=1)
    return firms


EXPECTED_IN_2025 = {
    Quarter(2025, 1): {"always", "closed", "moved", "left", "undated"},
    Quarter(2025, 2): {"always", "closed", "moved"},
    Quarter(2025, 3): {"always", "founded", "moved"},
    Quarter(2025, 4): {"always", "founded", "moved"},
}


def test_each_firm_is_expected_exactly_in_the_quarters_of_its_life(lives):
    names = {firm.pk: key for key, firm in lives.items()}
    for quarter, wanted in EXPECTED_IN_2025.items():
        found = Enterprise.objects.filter(expected_to_report(quarter)).values_list("pk", flat=True)
        assert {names[pk] for pk in found} == wanted, quarter
    assert {
        names[pk]
        for pk in Enterprise.objects.filter(expected_to_report(Quarter(2026, 1))).values_list(
            "pk", flat=True
        )
    } == {"always", "founded"}


def through_completeness_page(client, quarter):
    response = client.get(reverse("reports:completeness"), {"until": "2025Q4"})
    [row] = [r for r in response.context["overview"].table if r[0].district.code == SIP]
    return next(cell.expected for cell in row if cell.quarter == quarter)


def through_worksheet(client, quarter):
    sip = District.objects.get(code=SIP)
    response = client.get(reverse("reports:worksheet", args=[sip.pk, str(quarter)]))
    return response.context["page"].paginator.count


def through_outstanding_list(client, quarter):
    sip = District.objects.get(code=SIP)
    response = client.get(
        reverse("reports:worksheet", args=[sip.pk, str(quarter)]), {"show": "outstanding"}
    )
    return response.context["page"].paginator.count  # nothing reached the city


def through_overdue_alert(client, quarter):
    AlertRule.objects.exclude(kind="report_overdue").update(enabled=False)
    alerts_evaluate(today=dt.date(2026, 2, 28))
    alert = Alert.objects.get(dedup_key__endswith=f":{quarter}")
    return alert.numbers["expected"]


@pytest.mark.parametrize(
    "door",
    [through_completeness_page, through_worksheet, through_outstanding_list, through_overdue_alert],
)
@pytest.mark.parametrize("quarter", YEAR, ids=str)
def test_every_door_expects_the_same_firms(client, city_steward, lives, door, quarter):
    client.force_login(city_steward)
    with time_machine.travel(at("2026-02-28"), tick=False):
        assert door(client, quarter) == len(EXPECTED_IN_2025[quarter])


@pytest.fixture
def reporting(enterprise_factory, report_factory, settings):
    """2026Q3 (due 2026-10-15): four SIP firms, two Kunshan firms."""
    settings.REPORT_DEADLINE_DAYS = 15
    sip, kunshan = District.objects.get(code=SIP), District.objects.get(code=KUNSHAN)
    a, b, c, _no_report = enterprise_factory.create_batch(4, district=sip)
    report = {"year": 2026, "quarter": 3}
    report_factory(
        enterprise=a,
        **report,
        status="approved",
        submitted_at=at("2026-10-10"),
        approved_at=at("2026-10-12"),
        revision=1,
    )
    # Half an hour after the deadline day, office time: late.
    report_factory(enterprise=b, **report, status="submitted", submitted_at=at("2026-10-16", 0))
    # Submitted on time, returned, submitted again late: the first submission counts.
    resubmitted = report_factory(
        enterprise=c, **report, status="submitted", submitted_at=at("2026-10-15", 23)
    )
    resubmitted.status, resubmitted.returned_at = "returned", at("2026-10-17")
    resubmitted.return_reason = "请核实"
    resubmitted.save()
    resubmitted.status, resubmitted.submitted_at = "submitted", at("2026-10-25")
    resubmitted.save()
    # The fourth SIP firm: no report at all.
    for firm in enterprise_factory.create_batch(2, district=kunshan):
        report_factory(enterprise=firm, **report, status="submitted", submitted_at=at("2026-10-09"))
    return sip, kunshan


@time_machine.travel(at("2026-11-30"), tick=False)
def test_rates_on_time_totals_and_ranking(client, city_steward, reporting):
    sip, _kunshan = reporting
    client.force_login(city_steward)
    response = client.get(reverse("reports:completeness"))
    overview = response.context["overview"]
    assert response.context["last"] == Quarter(2026, 3)  # the quarter being reported
    cells = {row[-1].district.code: row[-1] for row in overview.table}
    assert (cells[SIP].expected, cells[SIP].reached, cells[SIP].on_time) == (4, 3, 2)
    assert (cells[SIP].reporting_rate, cells[SIP].on_time_rate) == (0.75, 0.5)
    assert (cells[KUNSHAN].reporting_rate, cells[KUNSHAN].on_time_rate) == (1, 1)
    assert (cells[SIP].status, cells[KUNSHAN].status) == ("behind", "complete")
    city = overview.city[-1]
    assert (city.expected, city.reached, city.on_time, city.overdue) == (6, 5, 4, 1)
    # The totals column: SIP over 2025Q4–2026Q3, four firms in each quarter.
    [sip_total] = [t for cells, t in overview.rows if cells[0].district == sip]
    assert (sip_total.expected, sip_total.reached) == (16, 3)
    assert (overview.overall.expected, overview.overall.reached) == (24, 5)
    ranking = [(c.rank, c.district.code) for c in overview.ranking]
    assert ranking[:2] == [(1, KUNSHAN), (2, SIP)]
    assert {rank for rank, _code in ranking[2:]} == {None}  # no firms expected: unranked
    html = response.content.decode()
    assert "完成 75.0%（按时 50.0%）" in html and "滞后" in html
    assert "完成 100.0%（按时 100.0%）" in html and "已完成" in html
    assert "完成 83.3%（按时 66.7%）" in html  # the city
    assert 'class="rate-behind"' in html and "各地区排名（2026年第3季度）" in html


def test_districts_with_equal_rates_share_a_rank(city_steward, enterprise_factory, report_factory):
    kunshan = District.objects.get(code=KUNSHAN)
    for district in (District.objects.get(code=SIP), kunshan):
        report_factory(
            enterprise=enterprise_factory(district=district),
            year=2025,
            quarter=3,
            status="submitted",
            submitted_at=at("2025-10-01"),
        )
    third = District.objects.get(code="320582")
    enterprise_factory(district=third)
    overview = completeness_overview(city_steward, [Quarter(2025, 3)], today=dt.date(2025, 11, 30))
    ranks = {c.district.code: c.rank for c in overview.ranking}
    assert (ranks[SIP], ranks[KUNSHAN], ranks["320582"]) == (1, 1, 3)


def test_completeness_keeps_three_queries_whatever_the_number_of_firms(
    city_steward, reporting, enterprise_factory, report_factory, django_assert_num_queries
):
    sip, _kunshan = reporting
    quarters = [Quarter(2026, 2), Quarter(2026, 3)]

    def counted():
        scope_of(city_steward)  # read once per request, before any page's own queries
        # The districts, the expected firms, the reports.
        with django_assert_num_queries(3):
            return completeness(city_steward, quarters, dt.date(2026, 11, 30))

    counted()
    for firm in enterprise_factory.create_batch(20, district=sip):
        report_factory(
            enterprise=firm, year=2026, quarter=3, status="submitted", submitted_at=at("2026-10-02")
        )
    table = counted()
    assert next(row for row in table if row[0].district == sip)[-1].on_time == 22


@time_machine.travel(at("2026-11-30"), tick=False)
def test_an_officer_sees_their_districts_ranking_only(client, officer_sip, reporting):
    client.force_login(officer_sip)
    overview = client.get(reverse("reports:completeness")).context["overview"]
    assert [(c.rank, c.district.code) for c in overview.ranking] == [(1, SIP)]
    assert (overview.city[-1].expected, overview.city[-1].reached) == (4, 3)
