"""The officer's import: a template named and headed in their language, pre-filled with the
district's expected firms for the quarter, with an example row the import leaves out; the
round trip from download to confirmed reports; errors named by the column's header."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from cluster.models import District
from enterprises.models import QuarterlyReport
from tests.conftest import KUNSHAN, SIP
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)  # 2026Q3 is being reported
CHINESE_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "报告期",
    "工业总产值（万元）",
    "营业收入（万元）",
    "研发投入（万元）",
    "从业人员",
    "发明专利授权数",
    "高价值专利数",
    "异常波动说明",
    "审核后修改原因",
]
ENGLISH_HEADERS = [
    "USCC",
    "Firm name",
    "Reporting period",
    "Output value (¥10,000)",
    "Operating revenue (¥10,000)",
    "R&D spending (¥10,000)",
    "Employees",
    "Invention patents granted",
    "High-value patents",
    "Note on an unusual change",
    "Reason for the change after approval",
]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def firms(enterprise_factory):
    sip, kunshan = District.objects.get(code=SIP), District.objects.get(code=KUNSHAN)
    return {
        "sip_a": enterprise_factory(uscc=valid_uscc(1), name_zh="园区A公司", district=sip),
        "sip_b": enterprise_factory(uscc=valid_uscc(2), name_zh="园区B公司", district=sip),
        # Left the cluster before 2026Q3: no report is expected from it.
        "sip_gone": enterprise_factory(
            uscc=valid_uscc(3),
            name_zh="园区C已迁出公司",
            district=sip,
            left_on=dt.date(2026, 3, 31),
        ),
        "kunshan": enterprise_factory(uscc=valid_uscc(4), name_zh="昆山丙公司", district=kunshan),
    }


def download(client, fmt="xlsx", language="zh-hans", **query):
    response = client.get(
        reverse("reports:template", args=["reports", fmt]), query, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200, response.content[:300]
    return response


def sheet_of(response):
    return openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]


def rows_of(response, fmt):
    """The rows with a value (the sheet's formatted empty lines below the firms left out)."""
    if fmt == "xlsx":
        rows = [list(row) for row in sheet_of(response).iter_rows(values_only=True)]
    else:
        text = response.content.decode("utf-8-sig")
        rows = [[cell or None for cell in row] for row in csv.reader(io.StringIO(text))]
    return [row for row in rows if any(cell is not None for cell in row)]


@pytest.mark.parametrize(
    ("language", "title", "headers"),
    [("zh-hans", "季度报表", CHINESE_HEADERS), ("en", "Quarterly reports", ENGLISH_HEADERS)],
)
def test_the_sheet_is_named_and_headed_in_the_users_language_with_the_unit(
    client, officer_sip, language, title, headers
):
    client.force_login(officer_sip)
    sheet = sheet_of(download(client, language=language))
    assert sheet.title == title
    assert [cell.value for cell in sheet[1]] == headers
    csv_rows = rows_of(download(client, "csv", language=language), "csv")
    assert csv_rows[0] == headers


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_template_lists_the_districts_expected_firms_with_empty_figures(
    client, officer_sip, firms, fmt
):
    client.force_login(officer_sip)
    rows = rows_of(download(client, fmt), fmt)
    example, *listed = rows[1:]
    assert example[0] == "91350100M000100Y43"
    assert example[1].startswith("【示例，导入时忽略】")
    assert [row[:3] for row in listed] == [
        [firms["sip_a"].uscc, "园区A公司", "2026Q3"],
        [firms["sip_b"].uscc, "园区B公司", "2026Q3"],
    ]
    assert all(cell is None for row in listed for cell in row[3:])


def test_a_kunshan_officers_template_never_lists_sip_firms(client, officer_kunshan, firms):
    client.force_login(officer_kunshan)
    for fmt in ("xlsx", "csv"):
        listed = [row[1] for row in rows_of(download(client, fmt), fmt)[2:]]
        assert listed == ["昆山丙公司"]
    # Asking for another district's firms is refused, not answered with them.
    response = client.get(reverse("reports:template", args=["reports", "xlsx"]), {"district": SIP})
    assert response.status_code == 404


def test_a_steward_gets_every_district_or_the_one_asked_for(client, city_steward, firms):
    client.force_login(city_steward)
    everyone = [row[1] for row in rows_of(download(client), "xlsx")[2:]]
    assert sorted(everyone) == sorted(["园区A公司", "园区B公司", "昆山丙公司"])
    kunshan = [row[1] for row in rows_of(download(client, district=KUNSHAN), "xlsx")[2:]]
    assert kunshan == ["昆山丙公司"]


def test_the_template_for_an_earlier_quarter_lists_the_firms_expected_then(
    client, officer_sip, firms
):
    client.force_login(officer_sip)
    rows = rows_of(download(client, quarter="2026Q1"), "xlsx")[2:]
    assert [(row[1], row[2]) for row in rows] == [
        ("园区A公司", "2026Q1"),
        ("园区B公司", "2026Q1"),
        ("园区C已迁出公司", "2026Q1"),
    ]


@pytest.mark.parametrize(
    ("quarter", "reason"),
    [("2026Q9", "不是有效的季度"), ("2026Q4", "尚未结束"), ("1990Q1", "早于企业库起始年份")],
)
def test_a_quarter_not_open_for_reporting_is_refused_by_name(client, officer_sip, quarter, reason):
    client.force_login(officer_sip)
    response = client.get(
        reverse("reports:template", args=["reports", "xlsx"]),
        {"quarter": quarter},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "参数“quarter”无效" in text and reason in text


def test_figure_columns_only_take_numbers_not_below_zero_and_are_formatted(
    client, officer_sip, firms
):
    client.force_login(officer_sip)
    sheet = sheet_of(download(client))
    checks = {
        str(check.sqref).split(":")[0]: check for check in sheet.data_validations.dataValidation
    }
    assert {
        column: (check.type, check.operator, check.formula1) for column, check in checks.items()
    } == {
        "D2": ("decimal", "greaterThanOrEqual", "0"),
        "E2": ("decimal", "greaterThanOrEqual", "0"),
        "F2": ("decimal", "greaterThanOrEqual", "0"),
        "G2": ("whole", "greaterThanOrEqual", "0"),
        "H2": ("whole", "greaterThanOrEqual", "0"),
        "I2": ("whole", "greaterThanOrEqual", "0"),
    }
    assert sheet["D3"].number_format == "#,##0.00"
    assert sheet["G3"].number_format == "#,##0"
    assert sheet["A3"].number_format == "@"


def upload(client, name: str, content: bytes, *, unit="wan", language="zh-hans"):
    file = io.BytesIO(content)
    file.name = name
    response = client.post(
        reverse("reports:import"),
        {"kind": "reports", "file": file, "unit": unit, "mode": "quarterly"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302, response.content[:500]
    return response.url


def filled(response, figures: dict) -> bytes:
    """The downloaded workbook with figures typed in: {line: {column letter: value}}."""
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    for line, cells in figures.items():
        for column, value in cells.items():
            sheet[f"{column}{line}"] = value
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def test_round_trip_from_the_prefilled_template_to_confirmed_reports(client, officer_sip, firms):
    client.force_login(officer_sip)
    template = download(client)
    # Line 2 is the example (left in, figures and all); line 3 is 园区A公司, line 4 园区B公司,
    # whose figures are not known yet.
    content = filled(template, {3: {"D": 1234.5, "E": 1100, "F": 80.25, "G": 120, "H": 3}})
    preview_url = upload(client, "2026Q3.xlsx", content)
    preview = client.get(preview_url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    outcome = preview.context["outcome"]
    assert outcome.errors == []
    assert [
        (row.line, row.enterprise.name_zh, str(row.quarter), row.kind) for row in outcome.rows
    ] == [(3, "园区A公司", "2026Q3", "new")]
    assert "园区B公司" not in preview.content.decode()
    confirmed = client.post(reverse("reports:import-confirm", args=[preview_url.split("/")[-2]]))
    assert confirmed.status_code == 302
    report = QuarterlyReport.objects.get()
    assert report.enterprise == firms["sip_a"]
    assert (report.year, report.quarter) == (2026, 3)
    assert (report.output_value, report.operating_revenue, report.rd_spending) == (
        Decimal("12345000.00"),
        Decimal("11000000.00"),
        Decimal("802500.00"),
    )
    assert (report.employees, report.invention_patents, report.high_value_patents) == (
        120,
        3,
        None,
    )


def test_the_csv_template_round_trips_and_its_example_row_is_left_out(client, officer_sip, firms):
    client.force_login(officer_sip)
    rows = rows_of(download(client, "csv"), "csv")
    rows[3][3:6] = ["88", "80", ""]  # 园区B公司
    text = io.StringIO()
    csv.writer(text).writerows([["" if c is None else c for c in row] for row in rows])
    preview_url = upload(client, "q3.csv", text.getvalue().encode("utf-8-sig"))
    outcome = client.get(preview_url).context["outcome"]
    assert outcome.errors == []
    assert [(row.line, row.enterprise.name_zh) for row in outcome.rows] == [(4, "园区B公司")]
    client.post(reverse("reports:import-confirm", args=[preview_url.split("/")[-2]]))
    assert list(QuarterlyReport.objects.values_list("enterprise__name_zh", "output_value")) == [
        ("园区B公司", Decimal("880000.00"))
    ]


@pytest.mark.parametrize(
    ("language", "column"),
    [("zh-hans", "营业收入（万元）"), ("en", "Operating revenue (¥10,000)")],
)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_errors_name_the_line_and_the_columns_header_in_the_users_language(
    client, officer_sip, firms, language, column, fmt
):
    client.force_login(officer_sip)
    template = download(client, fmt, language=language)
    if fmt == "xlsx":
        content = filled(template, {4: {"D": 10, "E": "abc"}})
    else:
        rows = rows_of(template, "csv")
        rows[3][3:5] = ["10", "abc"]
        text = io.StringIO()
        csv.writer(text).writerows([["" if c is None else c for c in row] for row in rows])
        content = text.getvalue().encode("utf-8-sig")
    preview = client.get(upload(client, f"q3.{fmt}", content), HTTP_ACCEPT_LANGUAGE=language)
    html = preview.content.decode()
    shown = [(e.line, e.column, e.value) for e in preview.context["errors"]]
    assert shown == [(4, column, "abc")]
    assert f"<td>4</td><td>{column}</td><td>abc</td>" in html.replace("&amp;", "&")
    assert "operating_revenue" not in html
    assert QuarterlyReport.objects.count() == 0


def test_a_header_in_another_unit_than_the_upload_is_refused_on_that_column(
    client, officer_sip, firms
):
    client.force_login(officer_sip)
    content = filled(download(client), {3: {"D": 1234.5}})
    preview = client.get(upload(client, "q3.xlsx", content, unit="yuan"))
    # Named by the column's header as the file has it, in 万元; the reason says what differs.
    assert [(e.line, e.column) for e in preview.context["errors"]] == [
        (1, "工业总产值（万元）"),
        (1, "营业收入（万元）"),
        (1, "研发投入（万元）"),
    ]
    assert "该列的单位是万元" in preview.content.decode()
    assert QuarterlyReport.objects.count() == 0


def test_enterprise_import_errors_name_the_field_in_the_users_language(client, officer_sip):
    client.force_login(officer_sip)
    text = "uscc / 统一社会信用代码,name_zh / 企业名称,district / 所属区/县级市\n"
    text += f"{valid_uscc(9)},新公司,不存在的区\n"
    file = io.BytesIO(text.encode("utf-8-sig"))
    file.name = "firms.csv"
    response = client.post(
        reverse("reports:import"),
        {"kind": "enterprises", "file": file, "unit": "wan", "mode": "quarterly"},
    )
    html = client.get(response.url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<td>2</td><td>区/县级市</td>" in html
    assert "<td>district</td>" not in html
