"""The steward's review queue: what waits, with which context, and who may act on it.

Every action goes through the report workflow's services, so the rules checked here
(four-eyes review, a stale page, another district, a read-only role) are the services' own;
the tests check that the queue states their outcome to the user and writes nothing else."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cluster.models import District
from enterprises.models import QuarterlyReport, ReportRevision
from enterprises.services.reports import reports_return
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db

QUEUE = "/reports/queue/"


def district(code):
    return District.objects.get(code=code)


def moment(day, hour=10):
    return timezone.make_aware(dt.datetime(2025, 10, day, hour))


def approved(enterprise, year, quarter, output, revenue):
    """An approved report (revision 1) with its revision: the official figures."""
    at = timezone.make_aware(dt.datetime(year, 1, 1)) + dt.timedelta(days=91 * quarter)
    report = QuarterlyReport.objects.create(
        enterprise=enterprise,
        year=year,
        quarter=quarter,
        output_value=Decimal(output),
        operating_revenue=Decimal(revenue),
        status="approved",
        submitted_at=at,
        approved_at=at,
        revision=1,
    )
    ReportRevision.objects.create(
        report=report,
        enterprise=enterprise,
        year=year,
        quarter=quarter,
        revision=1,
        output_value=report.output_value,
        operating_revenue=report.operating_revenue,
        statistical_scope="self_reported",
        approved_at=at,
    )
    return report


def submitted(enterprise, by, *, output, revenue, at, note="", year=2025, quarter=3, **extra):
    return QuarterlyReport.objects.create(
        enterprise=enterprise,
        year=year,
        quarter=quarter,
        output_value=Decimal(output),
        operating_revenue=Decimal(revenue),
        status="submitted",
        submitted_by=by,
        submitted_at=at,
        entered_by=by,
        figures_changed_by=by,
        anomaly_note=note,
        **extra,
    )


@pytest.fixture
def queue(enterprise_factory, officer_sip, officer_kunshan):
    """Waiting for review: 2025Q3 of a SIP firm whose output jumped (with a note), of a SIP firm
    whose figure looks like 元 typed as 万元, and of a Kunshan firm without history."""
    jumper = enterprise_factory(name_zh="园区跃升材料公司", district=district(SIP))
    approved(jumper, 2024, 3, "8000000", "7000000")
    approved(jumper, 2025, 2, "10000000", "9000000")
    unit = enterprise_factory(name_zh="园区单位存疑公司", district=district(SIP))
    approved(unit, 2025, 2, "1000000", "1000000")
    other = enterprise_factory(name_zh="昆山平稳材料公司", district=district(KUNSHAN))
    return {
        "jump": submitted(
            jumper,
            officer_sip,
            output="25000000",
            revenue="9500000",
            rd_spending=Decimal("500000"),
            at=moment(8),
            note="新产线投产，产能翻番",
        ),
        "unit": submitted(unit, officer_sip, output="1000000000", revenue="1000000", at=moment(9)),
        "kunshan": submitted(
            other, officer_kunshan, output="3000000", revenue="2900000", at=moment(7)
        ),
    }


def rows_of(response, quarter="2025Q3"):
    """The queue's rows of `quarter` on the page, by firm."""
    return {
        row.report.enterprise.name_zh: row
        for _first, rows in response.context["groups"]
        for row in rows
        if str(row.report.period) == quarter
    }


def test_each_row_shows_the_approved_context_beside_the_figures(client, city_steward, queue):
    # The previous quarter was changed after approval and waits again: beside 2025Q3 the
    # approved figures stand, not the ones under review.
    previous = QuarterlyReport.objects.get(enterprise=queue["jump"].enterprise, quarter=2)
    previous.output_value, previous.status = Decimal("99000000"), "submitted"
    previous.submitted_at, previous.change_reason = moment(10), "更正口径"
    previous.save()
    client.force_login(city_steward)
    response = client.get(QUEUE)
    html = response.content.decode()
    row = rows_of(response)["园区跃升材料公司"]
    output, revenue, rd = row.figures[:3]
    assert (output.value, output.previous, output.last_year) == (
        Decimal("25000000.00"),
        Decimal("10000000.00"),
        Decimal("8000000.00"),
    )
    assert (output.qoq, output.yoy) == (Decimal(150), Decimal("212.5"))
    assert output.jumped and not revenue.jumped
    assert round(revenue.qoq, 1) == Decimal("5.6") and round(revenue.yoy, 1) == Decimal("35.7")
    assert (rd.value, rd.previous, rd.qoq) == (Decimal("500000.00"), None, None)
    assert row.jump_warning == "工业总产值环比变动超过 50%：请填写说明确认。"
    assert row.unit_mistakes == []
    for shown in (
        "2,500.00 万元",
        "上季度已审核 1,000.00 万元",
        "(+150.0% ⚠ 异常)",
        "去年同期已审核 800.00 万元 (+212.5%)",
        "新产线投产，产能翻番",
        "工业总产值环比变动超过 50%：请填写说明确认。",
        "officer_sip",
        "2025-10-08 10:00",
    ):
        assert shown in html, shown

    unit = rows_of(response)["园区单位存疑公司"]
    assert unit.figures[0].unit_mistake.startswith(
        "100,000.00 万元，而该企业此前季度为 100.00 万元"
    )
    assert "单位核查" in html and "请检查单位" in html
    assert "未填写波动说明" in html  # that firm's jump has no note

    kunshan = rows_of(response)["昆山平稳材料公司"]
    assert kunshan.figures[0].previous is None and kunshan.jump_warning == ""
    assert kunshan.unit_mistakes == []


def test_groups_by_district_and_quarter_oldest_first_with_counts(client, city_steward, queue):
    client.force_login(city_steward)
    response = client.get(QUEUE)
    groups = [
        (
            first.enterprise.district.code,
            str(first.period),
            first.group_size,
            [r.report.pk for r in rows],
        )
        for first, rows in response.context["groups"]
    ]
    # Kunshan's one report waits since the 7th, SIP's two since the 8th and the 9th.
    assert groups == [
        (KUNSHAN, "2025Q3", 1, [queue["kunshan"].pk]),
        (SIP, "2025Q3", 2, [queue["jump"].pk, queue["unit"].pk]),
    ]
    summary = response.context["summary"]
    assert (summary.waiting, summary.districts) == (3, 2)
    assert (
        "共 3 份报表待审核（涉及 2 个地区），最早一份报送于 2025-10-07 10:00。"
        in response.content.decode()
    )


def test_filters_by_district_and_quarter(client, city_steward, queue, officer_sip):
    earlier = submitted(
        queue["jump"].enterprise.__class__.objects.get(name_zh="园区单位存疑公司"),
        officer_sip,
        output="1000000",
        revenue="1000000",
        at=moment(1),
        year=2025,
        quarter=1,
    )
    client.force_login(city_steward)
    by_district = client.get(QUEUE, {"district": district(SIP).pk})
    assert {r.report.pk for _f, rows in by_district.context["groups"] for r in rows} == {
        queue["jump"].pk,
        queue["unit"].pk,
        earlier.pk,
    }
    by_quarter = client.get(QUEUE, {"quarter": "2025Q1"})
    assert [r.report.pk for _f, rows in by_quarter.context["groups"] for r in rows] == [earlier.pk]
    # Each quarter once in the picker, newest first.
    html = by_quarter.content.decode()
    assert html.count('value="2025Q3"') == 1 and html.count('value="2025Q1"') == 1
    assert html.index('value="2025Q3"') < html.index('value="2025Q1"')
    # A quarter that is not a choice is refused by the form, and ignored: never a 500.
    assert client.get(QUEUE, {"quarter": "2025Q9"}).status_code == 200


def review(client, report, action, *, version=None, reason="", htmx=True):
    data = {"report": report.pk, "action": action, "reason": reason}
    data[f"version-{report.pk}"] = report.version if version is None else version
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("reports:queue-review"), data, headers=headers)


def test_steward_approves_and_returns_a_row_in_place(client, city_steward, queue):
    client.force_login(city_steward)
    response = review(client, queue["jump"], "approve")
    assert response.status_code == 200
    assert "已审核通过 1 份报表。" in response.content.decode()
    assert f'id="queue-{queue["jump"].pk}"' in response.content.decode()
    report = QuarterlyReport.objects.get(pk=queue["jump"].pk)
    assert (report.status, report.approved_by, report.revision) == ("approved", city_steward, 1)
    assert ReportRevision.objects.filter(report=report).get().output_value == Decimal("25000000")

    refused = review(client, queue["unit"], "return", reason="  ")
    assert refused.status_code == 422
    assert "请填写退回原因。" in refused.content.decode()
    assert QuarterlyReport.objects.get(pk=queue["unit"].pk).status == "submitted"
    returned = review(client, queue["unit"], "return", reason="单位疑似填错，请核实")
    assert returned.status_code == 200
    report = QuarterlyReport.objects.get(pk=queue["unit"].pk)
    assert (report.status, report.return_reason) == ("returned", "单位疑似填错，请核实")
    assert [r.report.pk for _f, rows in client.get(QUEUE).context["groups"] for r in rows] == [
        queue["kunshan"].pk
    ]


def bulk(client, reports, action, reason="", versions=None):
    data = {"report": [r.pk for r in reports], "action": action, "reason": reason, "next": QUEUE}
    for report in reports:
        data[f"version-{report.pk}"] = (versions or {}).get(report.pk, report.version)
    return client.post(reverse("reports:queue-review"), data, follow=True)


def statuses():
    return dict(QuarterlyReport.objects.filter(year=2025, quarter=3).values_list("pk", "status"))


def test_bulk_approve_and_bulk_return_with_one_reason(client, city_steward, queue):
    client.force_login(city_steward)
    response = bulk(client, [queue["jump"], queue["kunshan"]], "approve")
    assert "已审核通过 2 份报表。" in response.content.decode()
    assert statuses() == {
        queue["jump"].pk: "approved",
        queue["kunshan"].pk: "approved",
        queue["unit"].pk: "submitted",
    }
    response = bulk(client, [queue["unit"]], "return", reason="请核对单位")
    assert "已退回 1 份报表。" in response.content.decode()
    assert QuarterlyReport.objects.get(pk=queue["unit"].pk).return_reason == "请核对单位"
    assert "没有待审核的报表。" in response.content.decode()


def test_a_selection_is_all_or_nothing_and_says_which_report_stopped_it(
    client, city_steward, queue
):
    queue["kunshan"].entered_by = city_steward  # the steward typed that firm's figures
    queue["kunshan"].save()
    client.force_login(city_steward)
    page = client.get(QUEUE)
    blocked = rows_of(page)["昆山平稳材料公司"]
    assert not blocked.can_review
    assert "须由另一位数据管理员审核（双人复核）" in page.content.decode()
    assert page.content.decode().count('form="queue-bulk" aria-label') == 2  # no box for it

    before = statuses()
    response = bulk(client, [queue["jump"], queue["kunshan"]], "approve")
    assert statuses() == before
    assert (
        "昆山平稳材料公司 2025年第3季度："
        "这些数据由您填报或最后修改，须由另一位数据管理员审核（双人复核）。"
        in response.content.decode()
    )
    assert "一并审核：其中任何一份不能审核时，全部不做" in response.content.decode()
    row = review(client, queue["kunshan"], "approve")
    assert row.status_code == 422
    assert "双人复核" in row.content.decode()
    assert statuses() == before


def test_another_steward_acting_first_is_a_clear_conflict_and_nothing_partial(
    client, city_steward, queue, make_user, officer_sip
):
    from cluster.access import Role

    other = make_user("second_steward", Role.CITY_STEWARD)
    client.force_login(city_steward)
    seen = {r.report.pk: r.report.version for r in rows_of(client.get(QUEUE)).values()}
    # Meanwhile the second steward returns one report; the officer corrects it and submits
    # it again: "submitted" again, with figures the first steward has not seen.
    reports_return(actor=other, report_ids=[queue["unit"].pk], reason="单位有误")
    unit = QuarterlyReport.objects.get(pk=queue["unit"].pk)
    unit.output_value, unit.status, unit.version = Decimal("1000000"), "submitted", unit.version + 2
    unit.save()
    before = statuses()
    response = bulk(client, [queue["jump"], queue["unit"]], "approve", versions=seen)
    assert statuses() == before
    assert (
        "以下报表在您打开页面后已有变动：园区单位存疑公司 2025年第3季度。"
        "未做任何操作；请刷新后审核当前数据。" in response.content.decode()
    )
    # One row, already approved by the other steward a moment earlier.
    from enterprises.services.reports import reports_approve

    reports_approve(actor=other, report_ids=[queue["jump"].pk])
    row = review(client, queue["jump"], "approve", version=seen[queue["jump"].pk])
    assert row.status_code == 422
    assert (
        "另一位数据管理员已先处理。只能审核已报送的报表；以下报表已不处于报送状态："
        "园区跃升材料公司 2025年第3季度（已由 second_steward 审核通过）。"
    ) in row.content.decode()
    assert QuarterlyReport.objects.get(pk=queue["jump"].pk).approved_by == other


def test_one_report_reads_in_the_singular_in_english(client, city_steward, queue):
    client.force_login(city_steward)
    english = {"accept-language": "en"}
    data = {"report": queue["jump"].pk, "action": "approve", "next": QUEUE}
    approved = client.post(reverse("reports:queue-review"), data, headers=english, follow=True)
    assert "1 report approved." in approved.content.decode()
    data = {"report": queue["unit"].pk, "action": "return", "reason": "请核对", "next": QUEUE}
    returned = client.post(reverse("reports:queue-review"), data, headers=english, follow=True)
    assert "1 report returned." in returned.content.decode()


def test_a_report_that_is_not_there_is_named_as_not_found(client, city_steward, queue):
    client.force_login(city_steward)
    gone = QuarterlyReport.objects.order_by("-pk").first().pk + 1000
    before = statuses()
    response = client.post(
        reverse("reports:queue-review"),
        {"report": [queue["jump"].pk, gone], "action": "approve", "next": QUEUE},
        follow=True,
    )
    assert statuses() == before
    assert (
        "所选报表中有 1 份未找到（已删除，或不在您的审核范围内）；未做任何操作。"
        in response.content.decode()
    )
    assert "已不处于报送状态" not in response.content.decode()


def test_officer_sees_only_their_district_and_has_no_actions(client, officer_kunshan, queue):
    client.force_login(officer_kunshan)
    response = client.get(QUEUE)
    html = response.content.decode()
    assert [r.report.pk for _f, rows in response.context["groups"] for r in rows] == [
        queue["kunshan"].pk
    ]
    assert "园区跃升材料公司" not in html and "园区单位存疑公司" not in html
    assert "queue-bulk" not in html and "hx-post" not in html
    assert "共 1 份报表待审核（涉及 1 个地区）" in html
    before = statuses()
    for action in ("approve", "return"):
        assert review(client, queue["jump"], action, reason="x").status_code == 403
        assert bulk(client, [queue["kunshan"]], action, reason="x").status_code == 403
    assert statuses() == before


def test_administrator_reads_the_queue_and_writes_nothing(client, city_viewer, queue):
    client.force_login(city_viewer)
    response = client.get(QUEUE)
    html = response.content.decode()
    assert len(rows_of(response)) == 3 and "新产线投产，产能翻番" in html
    assert '<form id="queue-bulk"' not in html and "hx-post" not in html
    before = statuses()
    assert review(client, queue["jump"], "approve").status_code == 403
    assert bulk(client, [queue["jump"]], "return", reason="x").status_code == 403
    assert statuses() == before


def test_worksheet_leads_to_the_queue_instead_of_approving_a_page_blind(
    client, city_steward, queue
):
    client.force_login(city_steward)
    html = client.get(reverse("reports:worksheet", args=[district(SIP).pk, "2025Q3"])).content
    html = html.decode()
    assert "审核通过本页全部" not in html
    assert f"{QUEUE}?district={district(SIP).pk}&amp;quarter=2025Q3" in html


def test_the_queue_page_costs_the_same_number_of_queries_whatever_its_size(
    client, city_steward, queue, enterprise_factory, officer_sip
):
    client.force_login(city_steward)
    client.get(QUEUE)  # the session and the user's scope, once

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE)
        assert response.status_code == 200
        return len(queries), len(rows_of(response))

    small = count()
    for n in range(12):
        firm = enterprise_factory(district=district(SIP if n % 2 else KUNSHAN))
        approved(firm, 2025, 2, "1000000", "1000000")
        approved(firm, 2024, 3, "900000", "900000")
        submitted(firm, officer_sip, output="1100000", revenue="1000000", at=moment(11))
    large = count()
    assert small[1] == 3 and large[1] == 15
    # session, user, the scope's groups and membership; the filter's quarters, the page's
    # count, its rows, the approved figures beside them, the header's summary; the frame's
    # role, clusters menu, unread notifications, and the filter's districts.
    assert small[0] == large[0] == 13


def test_a_report_whose_submitter_is_not_on_record_says_when_without_a_blank_name(
    client, city_steward, queue
):
    """Reports loaded in bulk (the demo's, an old system's) name no submitter: the row says
    when it came, not "— 于 … 报送"."""
    QuarterlyReport.objects.filter(pk=queue["kunshan"].pk).update(submitted_by=None)
    client.force_login(city_steward)
    html = client.get(QUEUE).content.decode()
    assert "于 2025-10-07 10:00 报送" in html
    assert "— 于" not in html
    assert "officer_sip 于 2025-10-08 10:00 报送" in html
