"""Officer fills two rows and submits; the steward approves one and returns the other with
a reason; each of them sees the result."""

import datetime as dt
from decimal import Decimal

import pytest

from cluster.models import District
from enterprises.models import QuarterlyReport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def row(page, firm):
    return page.locator(f"#row-{firm.pk}")


def test_officer_submits_steward_returns_one_with_a_reason(
    live_server, login, screenshot, officer_sip, city_steward, enterprise_factory
):
    sip = District.objects.get(code="320571")
    first = enterprise_factory(
        name_zh="甲纳米科技有限公司", district=sip, joined_on=dt.date(2020, 1, 1)
    )
    second = enterprise_factory(
        name_zh="乙纳米科技有限公司", district=sip, joined_on=dt.date(2020, 1, 1)
    )
    worksheet = f"{live_server.url}/reports/{sip.pk}/2025Q3/"

    officer = login("officer_sip")
    officer.goto(worksheet)
    for firm, output, revenue in ((first, "1234.5", "1100"), (second, "880", "860")):
        row(officer, firm).locator("input[name=output_value]").fill(output)
        row(officer, firm).locator("input[name=operating_revenue]").fill(revenue)
        row(officer, firm).locator("input[name=employees]").fill("35")
        row(officer, firm).get_by_role("button", name="保存").click()
        row(officer, firm).get_by_text("已保存").wait_for()
    assert row(officer, first).locator("input[name=output_value]").input_value() == "1,234.50"
    screenshot(officer, "01-officer-worksheet-filled")
    row(officer, first).locator("input[name=selected]").check()
    row(officer, second).locator("input[name=selected]").check()
    officer.get_by_role("button", name="报送所选").click()
    officer.get_by_text("已报送 2 份报表待审核。").wait_for()
    screenshot(officer, "02-officer-submitted")
    assert set(QuarterlyReport.objects.values_list("status", flat=True)) == {"submitted"}
    assert QuarterlyReport.objects.get(enterprise=first).output_value == Decimal("12345000.00")

    steward = login("city_steward")
    steward.goto(worksheet)
    row(steward, first).get_by_role("button", name="通过").click()
    row(steward, first).get_by_text("已审核").wait_for()
    row(steward, second).locator("input[name=reason]").fill("营业收入与税务数据不一致，请核实")
    row(steward, second).get_by_role("button", name="退回").click()
    row(steward, second).get_by_text("退回原因：").wait_for()
    screenshot(steward, "03-steward-reviewed")
    statuses = dict(QuarterlyReport.objects.values_list("enterprise__name_zh", "status"))
    assert statuses == {"甲纳米科技有限公司": "approved", "乙纳米科技有限公司": "returned"}

    officer.goto(worksheet)
    returned = row(officer, second)
    assert "营业收入与税务数据不一致，请核实" in returned.inner_text()
    assert returned.locator("input[name=output_value]").is_editable()
    approved = row(officer, first)
    assert approved.locator("input[name=output_value]").count() == 0  # locked
    assert approved.get_by_role("button", name="修订").is_visible()
    screenshot(officer, "04-officer-sees-return")
