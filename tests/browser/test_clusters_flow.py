"""The city's clusters in a browser on 2026-11-30: a city administrator starts on the
overview (the photonics plan in force, the nano plan ended), opens the nano plan's final
evaluation, and a steward closes it; the same pages on a 390 px phone.

Figures (亿元, each quarter; approved): nano output — 丙纳米 90 in 2025 and 2026, 甲光电 8;
photonics revenue 2026 — 甲光电 10, 乙激光 5. 2025 nano output: (90 + 8) × 4 = 392 of the
> 1,000 target: not achieved (39.2%).
"""

import pytest

from targets.models import PlanEvaluation
from targets.services.progress import progress_recompute
from tests.targets.kinds_data import KUNSHAN, approved, load_photonics, member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def two_clusters(steward):
    load_photonics(steward)
    a = member("甲光电", ("photonics", "1.01"), ("nano", "1.04"))
    b = member("乙激光", ("photonics", "2.01"), district=KUNSHAN)
    c = member("丙纳米", ("nano", "1.04"))
    for quarter in (1, 2, 3, 4):
        approved(a, 2025, quarter, output=8, revenue=9)
        approved(c, 2025, quarter, output=90, revenue=100)
    for quarter in (1, 2, 3):
        approved(a, 2026, quarter, output=8, revenue=10)
        approved(b, 2026, quarter, output=4, revenue=5)
        approved(c, 2026, quarter, output=90, revenue=100)
    progress_recompute()


def fits_the_phone(page) -> bool:
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_overview_then_the_final_evaluation_closed_by_a_steward(
    live_server, login, screenshot, city_viewer, city_steward, two_clusters
):
    page = login("city_viewer")
    assert page.url == f"{live_server.url}/clusters/"
    nano = page.locator('article[data-cluster="nano"]')
    photonics = page.locator('article[data-cluster="photonics"]')
    # Each cluster says its phase today; the firm in both is counted in each, not summed.
    assert "无目标监测" in nano.locator('[data-field="phase"]').inner_text()
    assert "已到期" in nano.locator('[data-field="plans"]').inner_text()
    assert "行动计划实施中" in photonics.locator('[data-field="phase"]').inner_text()
    assert "实施中" in photonics.locator('[data-field="plans"]').inner_text()
    assert nano.locator('[data-field="members"]').inner_text().startswith("今日成员企业2家")
    assert photonics.locator('[data-field="members"]').inner_text().startswith("今日成员企业2家")
    assert "同时属于多个集群" in page.locator('[data-field="shared"]').inner_text()
    revenue = photonics.locator('tr[data-target] [data-field="value"]').first.inner_text()
    assert revenue == "45.00 亿元"  # (10 + 5) × 3, 2026 to Q3
    screenshot(page, "21-clusters-overview")
    assert fits_the_phone(page)
    screenshot(page, "22-clusters-overview-phone")
    page.set_viewport_size({"width": 1400, "height": 900})

    # The nano plan's final evaluation: the official figures at the deadline, no projection.
    nano.get_by_role("link", name="终期评估").click()
    page.wait_for_url("**/clusters/nano/plans/nano-2023-2025/evaluation/")
    output = page.locator('table[data-table="evaluation"] tr[data-target="total_output"]')
    assert output.locator('[data-field="value"]').inner_text() == "392.00 亿元"
    assert "未完成" in output.locator('[data-field="result"]').inner_text()
    assert output.locator('[data-field="completion"]').inner_text() == "39.2%"
    body = page.locator("main").inner_text()
    assert "预计" not in body and "推算" not in body
    assert page.locator('[data-field="state"]').inner_text() == "未定稿"
    # A read-only administrator is offered no way to close it.
    assert page.locator('[data-action="close-evaluation"]').count() == 0
    assert fits_the_phone(page)
    screenshot(page, "23-final-evaluation-phone")

    # The steward closes it with a note: the lines are frozen, the page says so.
    steward = login("city_steward")
    steward.goto(page.url)
    steward.locator("textarea#note").fill("按2026年10月审核数据定稿")
    steward.locator('button[data-action="close-evaluation"]').click()
    steward.locator('[data-field="state"]').get_by_text("已定稿").wait_for()
    assert steward.locator('button[data-action="close-evaluation"]').count() == 0
    record = PlanEvaluation.objects.get(plan__key="nano-2023-2025")
    assert record.is_closed and record.note == "按2026年10月审核数据定稿"
    assert record.lines.get(target__key="total_output").value == 392 * 10**8
    screenshot(steward, "24-final-evaluation-closed")
