"""Each role's working day in Chromium, end to end, read off the screen: the officer sees what
is due, enters a row, imports the pre-filled template and submits the quarter; the steward
returns a jump from the queue and approves the rest together, and the officer sees why; the
administrator, on a phone, goes from the summary strip to a district and on to a firm."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.utils import timezone

from enterprises.models import QuarterlyReport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# --- the officer ---------------------------------------------------------------------------

# 46 days after 2026Q3's deadline (2026-10-15).
AFTER_THE_DEADLINE = dt.datetime(2026, 11, 30, 10, tzinfo=SHANGHAI)


@pytest.fixture
def new_members(enterprise_factory, sip):
    """Four SIP firms that joined the cluster in 2026Q3: that quarter is the only one they owe."""
    return [
        enterprise_factory(
            name_zh=f"园区{n}号纳米公司", district=sip, joined_on=dt.date(2026, 7, 1)
        )
        for n in (1, 2, 3, 4)
    ]


def test_officer_enters_imports_and_submits_the_overdue_quarter(
    live_server, login, officer_sip, sip, new_members, tmp_path
):
    typed, *imported, left = new_members
    with time_machine.travel(AFTER_THE_DEADLINE, tick=True):
        page = login("officer_sip")
        page.set_viewport_size(DESKTOP)
        assert page.url == f"{live_server.url}/"
        card = page.locator('article[data-quarter="2026Q3"]')
        assert "截止 2026-10-15：已逾期 46 天" in card.inner_text()
        assert (
            card.locator("[data-counts]").inner_text() == "应报 4 家 · 已报送市级 0 家 · 未报 4 家"
        )

        card.get_by_role("link", name="去填报").click()
        page.wait_for_url(f"**/reports/{sip.pk}/2026Q3/")
        assert page.locator("table.worksheet tbody tr").count() == 4
        row = page.locator(f"#row-{typed.pk}")
        row.locator("input[name=output_value]").fill("1234.5")
        row.locator("input[name=operating_revenue]").fill("1100")
        row.locator("input[name=employees]").fill("35")
        row.get_by_role("button", name="保存").click()
        row.get_by_text("已保存").wait_for()
        assert row.locator("input[name=output_value]").input_value() == "1,234.50"

        page.get_by_role("navigation", name="主导航").get_by_role("link", name="导入").click()
        page.wait_for_url("**/reports/import/")
        assert page.locator("#template-quarter option:checked").inner_text() == "2026年第3季度"
        with page.expect_download() as download:
            page.get_by_role("button", name="季度报表 (xlsx)").click()
        template = tmp_path / "template.xlsx"
        download.value.save_as(template)
        book = openpyxl.load_workbook(template)
        sheet = book.active
        listed = {
            sheet.cell(line, 1).value: line
            for line in range(3, sheet.max_row + 1)
            if sheet.cell(line, 1).value
        }
        assert set(listed) == {firm.uscc for firm in new_members}
        for firm, output in zip(imported, (880, 2050.75), strict=True):
            sheet.cell(listed[firm.uscc], 4).value = output  # 工业总产值（万元）
            sheet.cell(listed[firm.uscc], 5).value = output - 20  # 营业收入（万元）
        book.save(template)

        page.locator("#id_file").set_input_files(template)
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_url(re.compile(r".*/reports/import/[0-9a-f]{32}/$"))
        preview = page.locator("main").inner_text()
        assert "新增 2 行，修改 0 行，未变 0 行。" in preview
        assert "园区2号纳米公司" in preview and "2,050.75 万元" in preview
        page.get_by_role("button", name="确认导入").click()
        page.get_by_text("已导入：新增 2 条，修改 0 条，未变 0 条。").wait_for()

        page.goto(f"{live_server.url}/reports/{sip.pk}/2026Q3/")
        page.get_by_role("button", name="报送全部草稿和退回的报表").click()
        page.get_by_text("已报送 3 份报表待审核。").wait_for()
        assert "未填报" in page.locator(f"#row-{left.pk}").inner_text()

        page.goto(f"{live_server.url}/")
        counts = page.locator('article[data-quarter="2026Q3"] [data-counts]').inner_text()
        assert counts == "应报 4 家 · 已报送市级 3 家 · 未报 1 家"
    figures = dict(
        QuarterlyReport.objects.filter(status="submitted").values_list(
            "enterprise__name_zh", "output_value"
        )
    )
    assert figures == {
        "园区1号纳米公司": Decimal("12345000.00"),
        "园区2号纳米公司": Decimal("8800000.00"),
        "园区3号纳米公司": Decimal("20507500.00"),
    }


# --- the steward ---------------------------------------------------------------------------

# Ten days after the officers submitted 2025Q3.
REVIEW_DAY = dt.datetime(2025, 10, 20, 9, tzinfo=SHANGHAI)


@pytest.fixture
def submitted_q3(enterprise_factory, approve, officer_sip, sip):
    """Three SIP firms' 2025Q3 reports waiting for review; the first jumped threefold, with
    the officer's note."""
    reports = []
    for day, (name, previous, output, note) in enumerate(
        (
            ("甲纳米跃升有限公司", "10000000", "30000000", "新产线投产，产能翻番"),
            ("乙纳米材料有限公司", "1000000", "1050000", ""),
            ("丙纳米涂层有限公司", "2000000", "2100000", ""),
        ),
        start=8,
    ):
        firm = enterprise_factory(name_zh=name, district=sip)
        approve(firm, 2025, 2, previous)
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
    return reports


def test_steward_returns_the_jump_approves_the_rest_and_the_officer_sees_why(
    live_server, login, browser, city_steward, officer_sip, submitted_q3
):
    jumper, *others = submitted_q3
    reason = "产值环比增长 200%，请附新产线投产证明"
    with time_machine.travel(REVIEW_DAY, tick=True):
        page = login("city_steward")
        page.set_viewport_size(DESKTOP)
        page.wait_for_url("**/reports/queue/")
        assert page.get_by_role("heading", level=1).inner_text() == "待审核队列"
        assert page.locator("[data-summary]").inner_text() == (
            "共 3 份报表待审核（涉及 1 个地区），最早一份报送于 2025-10-08 09:00。"
        )
        row = page.locator(f"#queue-{jumper.pk}")
        assert row.locator("[data-note]").inner_text() == "波动说明： 新产线投产，产能翻番"
        output = row.locator("[data-figure=output_value]").inner_text()
        assert "3,000.00 万元" in output
        assert "上季度已审核 1,000.00 万元 (+200.0% ⚠ 异常)" in output

        row.locator("input[name=reason]").fill(reason)
        row.get_by_role("button", name="退回").click()
        row.get_by_text("已退回 1 份报表。").wait_for()

        page.reload()
        assert page.locator("input[name=report][type=checkbox]").count() == 2
        for report in others:
            page.locator(f"#queue-{report.pk} input[type=checkbox]").check()
        page.get_by_role("button", name="审核通过所选").click()
        page.get_by_text("已审核通过 2 份报表。").wait_for()
        assert page.locator("[data-summary]").inner_text() == "没有待审核的报表。"

        officer = login("officer_sip")
        officer.set_viewport_size(DESKTOP)
        assert officer.url == f"{live_server.url}/"
        returned = officer.locator("#returned")
        assert returned.get_by_role("heading").inner_text() == "退回本区的报表 (1)"
        item = returned.locator(f'li[data-report="{jumper.pk}"]')
        assert "甲纳米跃升有限公司 · 2025年第3季度" in item.inner_text()
        assert item.locator(".reason").inner_text() == f"退回原因： {reason}"
        assert re.search(r"city_steward 于 2025-10-20 \d\d:\d\d 退回", item.inner_text())
        item.get_by_role("link", name="到季度数据填报中修改").click()
        officer.wait_for_url(f"**/reports/{jumper.enterprise.district_id}/2025Q3/**")
        assert reason in officer.locator(f"#row-{jumper.enterprise_id}").inner_text()
    statuses = dict(QuarterlyReport.objects.filter(quarter=3).values_list("pk", "status"))
    assert statuses == {jumper.pk: "returned", others[0].pk: "approved", others[1].pk: "approved"}


# --- the administrator ---------------------------------------------------------------------

# The plan in force, 2025Q2's figures in.
READING_DAY = dt.datetime(2025, 8, 20, 9, tzinfo=SHANGHAI)


def test_administrator_on_a_phone_goes_from_the_summary_to_a_district_and_a_firm(
    live_server, login, city_viewer, population, sip
):
    alpha = population["a"]
    with time_machine.travel(READING_DAY, tick=True):
        page = login("city_viewer")
        page.set_viewport_size(PHONE)
        page.reload()
        assert page.url.startswith(f"{live_server.url}/clusters/nano/")
        assert page_width(page) <= PHONE["width"]
        tile = page.locator('[data-summary] [data-tile="total_output"]')
        box = tile.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"]  # above the fold
        assert tile.inner_text().split("\n") == [
            "全市纳米新材料产业产值",
            "32.00 亿元",
            "完成目标的 3.2%",
            "✕ 偏离目标",
        ]

        page.locator("#district-title").scroll_into_view_if_needed()
        page.get_by_role("link", name="苏州工业园区").first.click()
        page.wait_for_url(f"**/clusters/nano/districts/{sip.pk}/**")
        assert page.get_by_role("heading", level=1).inner_text() == (
            "苏州工业园区 · 苏州市纳米新材料产业创新集群 · 2025年第2季度"
        )
        card = page.locator('article[data-target="total_output"]')
        assert card.locator('[data-field="measure"]').inner_text() == (
            "苏州工业园区未分解目标：显示其占全市比重"
        )
        assert card.locator('[data-field="actual"]').inner_text() == "26.00 亿元"
        assert card.locator('[data-field="share-of-city"]').inner_text() == "81.3%"
        assert card.locator('[data-field="contribution"]').inner_text() == (
            "全市距目标还差968.00 亿元，苏州工业园区本季度贡献14.00 亿元"
        )
        assert page_width(page) <= PHONE["width"]

        firms = page.locator('[data-table="firms"]')
        assert firms.locator("caption").inner_text() == "2025年第2季度末计入的企业共2家。"
        firms.get_by_role("link", name=alpha.name_zh).click()
        page.wait_for_url(f"**/enterprises/{alpha.pk}/**")
        assert page.get_by_role("heading", level=1).inner_text() == alpha.name_zh
        assert page_width(page) <= PHONE["width"]
