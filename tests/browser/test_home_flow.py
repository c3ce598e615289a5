"""A district officer logs in on a desktop and on a phone, sees the quarter their district
owes with how late it is, and goes from it to the worksheet in one click."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cluster.models import District
from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

TODAY = dt.datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def owed(enterprise_factory):
    """Two SIP firms founded in 2024Q4 that had every quarter since approved but 2026Q3."""
    sip = District.objects.get(code="320571")
    firms = [
        enterprise_factory(
            name_zh=f"园区{n}号纳米公司", district=sip, founded_on=dt.date(2024, 10, 1)
        )
        for n in (1, 2)
    ]
    for n in range(7):
        quarter = Quarter(2024, 4) + n
        for firm in firms:
            QuarterlyReport.objects.create(
                enterprise=firm,
                year=quarter.year,
                quarter=quarter.quarter,
                output_value=1_000_000,
                operating_revenue=900_000,
                status="approved",
                submitted_at=TODAY,
                approved_at=TODAY,
                revision=1,
            )
    return sip


@pytest.mark.parametrize(
    ("width", "height", "name"),
    [(1440, 900, "home-officer-desktop"), (390, 844, "home-officer-phone")],
)
def test_officer_sees_the_overdue_quarter_and_opens_its_worksheet(
    live_server, login, screenshot, officer_sip, owed, width, height, name
):
    with time_machine.travel(TODAY, tick=True):
        page = login("officer_sip")
        page.set_viewport_size({"width": width, "height": height})
        assert page.url == f"{live_server.url}/"
        assert page.get_by_role("heading", level=1).inner_text() == "我的待办 · 苏州工业园区"
        cards = page.locator("article[data-quarter]")
        assert cards.count() == 1
        card = page.locator('article[data-quarter="2026Q3"]')
        assert "截止 2026-10-15：已逾期 46 天" in card.inner_text()
        assert "应报 2 家 · 已报送市级 0 家 · 未报 2 家" in card.inner_text()
        assert page.get_by_text("没有退回本区的报表。").is_visible()
        assert page.get_by_text("本区没有待处理的预警。").is_visible()
        # Nothing wider than the screen: cards and lists, no table.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, name)

        card.get_by_role("link", name="去填报").click()
        page.wait_for_url(f"**/reports/{owed.pk}/2026Q3/")
        assert page.locator("#deadline").inner_text() == "⚠ 截止 2026-10-15：已逾期 46 天"
        assert page.locator("table.worksheet tbody tr").count() == 2
