"""The steward's review day: the queue shows what waits with its context; one report is
approved, one returned with a reason, the rest approved together; on a phone the queue
scrolls sideways inside its table, never the page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cluster.models import District
from enterprises.models import QuarterlyReport, ReportRevision

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def approved_q2(firm, output):
    at = timezone.make_aware(dt.datetime(2025, 7, 10))
    report = QuarterlyReport.objects.create(
        enterprise=firm,
        year=2025,
        quarter=2,
        output_value=Decimal(output),
        operating_revenue=Decimal(output),
        status="approved",
        submitted_at=at,
        approved_at=at,
        revision=1,
    )
    ReportRevision.objects.create(
        report=report,
        enterprise=firm,
        year=2025,
        quarter=2,
        revision=1,
        output_value=report.output_value,
        operating_revenue=report.operating_revenue,
        statistical_scope="self_reported",
        approved_at=at,
    )


def test_steward_reviews_the_queue_with_context(
    live_server, login, screenshot, officer_sip, city_steward, enterprise_factory
):
    sip = District.objects.get(code="320571")
    reports = []
    for day, (name, output, note) in enumerate(
        (
            ("甲纳米跃升有限公司", "30000000", "新产线投产，产能翻番"),
            ("乙纳米材料有限公司", "1050000", ""),
            ("丙纳米涂层有限公司", "2100000", ""),
            ("丁纳米电子有限公司", "3150000", ""),
        ),
        start=8,
    ):
        firm = enterprise_factory(name_zh=name, district=sip)
        approved_q2(firm, "10000000" if note else str(int(output) * 100 // 105))
        reports.append(
            QuarterlyReport.objects.create(
                enterprise=firm,
                year=2025,
                quarter=3,
                output_value=Decimal(output),
                operating_revenue=Decimal(output),
                status="submitted",
                submitted_by=officer_sip,
                submitted_at=timezone.make_aware(dt.datetime(2025, 10, day, 9)),
                entered_by=officer_sip,
                figures_changed_by=officer_sip,
                anomaly_note=note,
            )
        )
    jumper, returned, *rest = reports

    page = login("city_steward")
    page.goto(f"{live_server.url}/reports/queue/")
    header = page.locator("[data-summary]").inner_text()
    assert header == "共 4 份报表待审核（涉及 1 个地区），最早一份报送于 2025-10-08 09:00。"
    row = page.locator(f"#queue-{jumper.pk}")
    assert "新产线投产，产能翻番" in row.inner_text()
    assert "工业总产值、营业收入环比变动超过 50%：请填写说明确认。" in row.inner_text()
    output = row.locator("[data-figure=output_value]").inner_text()
    assert "3,000.00 万元" in output and "上季度已审核 1,000.00 万元 (+200.0% ⚠ 异常)" in output
    screenshot(page, "queue-steward-desktop")

    row.get_by_role("button", name="通过").click()
    row.get_by_text("已审核通过 1 份报表。").wait_for()
    assert QuarterlyReport.objects.get(pk=jumper.pk).status == "approved"

    other = page.locator(f"#queue-{returned.pk}")
    other.locator("input[name=reason]").fill("营业收入与税务数据不一致，请核实")
    other.get_by_role("button", name="退回").click()
    other.get_by_text("已退回 1 份报表。").wait_for()
    assert "退回原因：" in other.inner_text()

    page.goto(f"{live_server.url}/reports/queue/")
    assert page.locator("input[name=report][type=checkbox]").count() == 2
    for report in rest:
        page.locator(f"#queue-{report.pk} input[type=checkbox]").check()
    page.get_by_role("button", name="审核通过所选").click()
    page.get_by_text("已审核通过 2 份报表。").wait_for()
    assert page.locator("[data-summary]").inner_text() == "没有待审核的报表。"
    statuses = dict(QuarterlyReport.objects.filter(quarter=3).values_list("pk", "status"))
    assert statuses == {
        jumper.pk: "approved",
        returned.pk: "returned",
        rest[0].pk: "approved",
        rest[1].pk: "approved",
    }
    assert QuarterlyReport.objects.get(pk=returned.pk).return_reason == (
        "营业收入与税务数据不一致，请核实"
    )


def test_queue_on_a_phone_scrolls_inside_its_table(
    live_server, login, screenshot, officer_sip, city_steward, enterprise_factory
):
    sip = District.objects.get(code="320571")
    for n in range(3):
        firm = enterprise_factory(name_zh=f"园区纳米{n}号有限公司", district=sip)
        approved_q2(firm, "1000000")
        QuarterlyReport.objects.create(
            enterprise=firm,
            year=2025,
            quarter=3,
            output_value=Decimal("2500000") if n == 0 else Decimal("1100000"),
            operating_revenue=Decimal("1000000"),
            status="submitted",
            submitted_by=officer_sip,
            submitted_at=timezone.make_aware(dt.datetime(2025, 10, 9 + n, 9)),
            entered_by=officer_sip,
            figures_changed_by=officer_sip,
            anomaly_note="大客户集中提货" if n == 0 else "",
        )
    page = login("city_steward")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reports/queue/")
    assert "共 3 份报表待审核" in page.locator("[data-summary]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_text("大客户集中提货").is_visible()
    assert page.get_by_role("button", name="审核通过所选").is_visible()
    screenshot(page, "queue-steward-phone")
