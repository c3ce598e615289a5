"""An administrator reads the dashboard of the hand-built population (tests/targets/conftest),
goes back a quarter, drills into a district, acknowledges an alert and downloads the brief."""

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from targets.models import Alert
from targets.services.alerts import alerts_evaluate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def card(page, key):
    return page.locator(f'article[data-target="{key}"]')


def field(page, key, name):
    return card(page, key).locator(f'[data-field="{name}"]').inner_text().strip()


def test_administrator_reads_goes_back_drills_down_acts_and_downloads(
    live_server, login, screenshot, city_steward, population, sip, tmp_path
):
    alerts_evaluate(today=dt.date(2025, 8, 1))
    page = login("city_steward")
    # The steward starts on the review queue; the dashboard is one click away in the nav.
    assert page.url == f"{live_server.url}/reports/queue/"
    page.get_by_role("link", name="目标看板").click()
    page.wait_for_url(f"{live_server.url}/clusters/nano/")
    page.locator('[data-chart="trend-chart"][data-drawn="true"]').wait_for()
    assert field(page, "total_output", "actual") == "32.00 亿元"
    assert field(page, "total_output", "projection") == "64.00 亿元"
    assert field(page, "total_output", "status") == "✕ 偏离目标"
    assert field(page, "firms_output_over_1bn", "actual") == "1 家"
    assert field(page, "listed_firms", "actual") == "1 家"
    assert page.locator("[data-chart][data-drawn=true]").count() == 3
    screenshot(page, "11-dashboard-zh")

    # As of the quarter before: the figures of 2025Q1.
    page.select_option("#period", "2025Q1")
    page.wait_for_url("**/clusters/nano/?period=2025Q1*")
    assert field(page, "total_output", "actual") == "15.00 亿元"
    assert field(page, "firms_output_over_1bn", "actual") == "0 家"

    # Drill into the Suzhou Industrial Park, still as of 2025Q1: A 10 + C 2.
    page.get_by_role("link", name="苏州工业园区").first.click()
    page.wait_for_url(f"**/clusters/nano/districts/{sip.pk}/?period=2025Q1*")
    assert field(page, "total_output", "actual") == "12.00 亿元"
    firms = page.locator("table[data-table=firms] tbody tr")
    assert firms.count() == 2
    assert firms.first.locator("td").first.inner_text() == "甲纳米公司"
    page.locator("table[data-table=firms] thead a").first.click()  # by name, in place (htmx)
    page.wait_for_url("**order=name*")
    assert firms.first.locator("td").first.inner_text() == "丙纳米公司"
    screenshot(page, "12-district-drill-down")

    # Acknowledge the first alert with a comment, in place.
    page.goto(f"{live_server.url}/alerts/")
    first = page.locator("tr[data-alert]").first
    alert_id = int(first.get_attribute("data-alert"))
    first.locator("details.menu summary").click()  # the row's actions fold into a menu
    first.locator("input[name=comment]").fill("已部署专项推进，下季度复核")
    first.get_by_role("button", name="确认").click()
    page.locator(f"#alert-{alert_id} [data-field=state]").get_by_text("已确认").wait_for()
    alert = Alert.objects.get(pk=alert_id)
    assert (alert.state, alert.comment) == ("acknowledged", "已部署专项推进，下季度复核")
    screenshot(page, "13-alert-centre")

    # The brief of 2025Q2, downloaded as PDF and as Excel.
    page.goto(f"{live_server.url}/clusters/nano/brief/2025Q2/")
    screenshot(page, "14-brief")
    with page.expect_download() as pdf_download:
        page.locator("[data-download=pdf-zh]").click()
    pdf = PdfReader(pdf_download.value.path())
    text = "".join(p.extract_text() for p in pdf.pages).replace("\n", "")
    assert "32.00 亿元" in text and "偏离目标" in text
    with page.expect_download() as xlsx_download:
        page.locator("[data-download=xlsx-en]").click()
    # openpyxl goes by the file name's extension; the download has none.
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    targets = {row[0]: row for row in workbook["Targets"].iter_rows(min_row=2, values_only=True)}
    assert targets["City nano new-materials output value"][2] == 3.2  # ¥ bn
    assert targets["Firms with output above ¥1 bn"][2] == 1.0


def test_dashboard_in_english_and_on_a_tablet(login, screenshot, city_viewer, population):
    page = login("city_viewer", locale="en-US")
    page.locator('[data-chart="trend-chart"][data-drawn="true"]').wait_for()
    assert field(page, "total_output", "actual") == "¥3.20 bn"
    assert field(page, "total_output", "status") == "✕ off track"
    assert field(page, "firms_output_over_1bn", "actual") == "1 firm"
    screenshot(page, "15-dashboard-en")
    page.set_viewport_size({"width": 800, "height": 1100})
    page.wait_for_timeout(300)
    # The cards and the tables stay inside the screen; nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    screenshot(page, "16-dashboard-tablet")
    # Keyboard: the as-of selector is reachable and labelled.
    page.focus("#period")
    assert page.evaluate("document.activeElement.id") == "period"
    assert page.locator("label[for=period]").inner_text() == "As of quarter"
