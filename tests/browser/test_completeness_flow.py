"""A steward reads the completeness page on a 390 px phone: the ranking reads as a list, the
district × quarter table scrolls sideways inside its frame and never widens the page, and
each rate is said in words beside its colour."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from cluster.models import District
from tests.conftest import KUNSHAN, SIP

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

PHONE = {"width": 390, "height": 844}
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def on(day: int) -> dt.datetime:
    return dt.datetime(2026, 10, day, 10, tzinfo=SHANGHAI)


@pytest.fixture
def reporting(enterprise_factory, report_factory):
    """2026Q3: SIP has 3 of 4 reports at the city (2 on time); Kunshan 2 of 2, on time."""
    sip, kunshan = District.objects.get(code=SIP), District.objects.get(code=KUNSHAN)
    firms = enterprise_factory.create_batch(4, district=sip)
    for firm, day in zip(firms, (10, 12, 20), strict=False):
        report_factory(
            enterprise=firm, year=2026, quarter=3, status="submitted", submitted_at=on(day)
        )
    for firm in enterprise_factory.create_batch(2, district=kunshan):
        report_factory(
            enterprise=firm, year=2026, quarter=3, status="submitted", submitted_at=on(9)
        )


def test_completeness_on_a_phone(live_server, login, screenshot, city_steward, reporting):
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)):
        page = login("city_steward")
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/reports/")
        ranking = page.locator("ol.ranking li")
        first, second = ranking.nth(0), ranking.nth(1)
        assert first.locator(".rank").inner_text() == "1"
        assert "昆山市" in first.inner_text() and "完成 100.0%（按时 100.0%）" in first.inner_text()
        assert second.locator(".rank").inner_text() == "2"
        assert "完成 75.0%（按时 50.0%）" in second.inner_text()
        assert "滞后" in second.inner_text() and "3/4 份" in second.inner_text()
        # Each entry of the ranking fits the phone's width.
        for index in range(ranking.count()):
            box = ranking.nth(index).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        # The table scrolls inside its frame; the page itself never widens.
        frame = page.locator(".table-wrap").first
        assert frame.evaluate("el => el.scrollWidth > el.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        city = page.locator("table.matrix tfoot")
        assert "完成 83.3%（按时 66.7%）" in city.inner_text()
        screenshot(page, "completeness-phone")
