"""The quarterly brief of a hand-built quarter (see the `population` fixture): its narrative,
tables, PDF and Excel workbook carry the same numbers, traceable to their pages."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from .conftest import YI

pytestmark = pytest.mark.django_db


def brief_of(client, period="2025Q2", **params):
    response = client.get(reverse("targets:brief", args=["nano", period]), params)
    assert response.status_code == 200
    return response.context["brief"], response.content.decode()


def test_latest_brief_and_unknown_quarters(client, city_viewer, population):
    client.force_login(city_viewer)
    assert client.get(reverse("targets:brief-latest", args=["nano"])).url == reverse(
        "targets:brief", args=["nano", "2025Q2"]
    )
    assert client.get(reverse("targets:brief", args=["nano", "2031Q1"])).status_code == 404
    assert client.get(reverse("targets:brief", args=["nano", "2025Q9"])).status_code == 404


def test_brief_content_for_the_quarter(client, city_viewer, population, sip, kunshan):
    client.force_login(city_viewer)
    brief, html = brief_of(client)
    narrative = {heading: text for heading, text, _url in brief.narrative()}
    assert narrative["产值"] == (
        "截至2025年第2季度末，苏州市纳米新材料产业创新集群全市企业工业总产值当年累计"
        "32.00 亿元，同比+6.7%，达到2025年目标（> 1,000 亿元）的3.2%。按各区县往年季节规律"
        "推算，全年约64.00 亿元；目标状态：偏离目标。"
    )
    # The plan has ended since: 2025Q2 shows its progress as it was, and says so.
    assert "已于2025年12月31日到期" in narrative["阶段"]
    assert "32.00 亿元" in narrative["产值"] and "64.00 亿元" in narrative["产值"]
    assert "+6.7%" in narrative["产值"] and "3.2%" in narrative["产值"]
    assert [p.label.pk for p in brief.ahead] == [sip.pk]  # +8.3% against the city's +6.7%
    assert [p.label.pk for p in brief.behind] == [kunshan.pk]  # 0.0%
    assert narrative["领先与落后的区县"] == (
        "同口径企业产值同比+6.7%。增速高于平均的：苏州工业园区 +8.3%。"
        "增速低于平均的：昆山市 +0.0%。"
    )
    crossings = {c.target.key: c for c in brief.crossings}
    assert crossings["firms_output_over_1bn"].entered == [population["a"]]
    assert crossings["firms_output_over_1bn"].left == []
    assert crossings["firms_output_over_5bn"].entered == []
    assert [listing.enterprise for listing in brief.new_listings] == [population["b"]]
    assert [d.enterprise for d in brief.new_designations] == [population["a"]]
    assert "甲纳米公司" in narrative["产值超10亿元企业"]
    # Every table links to the page its number comes from.
    assert f'/clusters/nano/districts/{sip.pk}/?period=2025Q2"' in html
    assert f'/enterprises/{population["a"].pk}/"' in html
    assert "http://testserver/clusters/nano/?period=2025Q2" in html


def test_excel_workbook_carries_the_numbers(client, city_viewer, population, sip):
    client.force_login(city_viewer)
    response = client.get(
        reverse("targets:brief-download", args=["nano", "2025Q2", "xlsx"]), {"lang": "en"}
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="brief-nano-2025Q2-city-en.xlsx"'
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:3] == ["Brief", "Targets", "Districts"]
    targets = {row[0]: row for row in workbook["Targets"].iter_rows(min_row=2, values_only=True)}
    output = targets["City nano new-materials output value"]
    assert output[1:5] == ("¥ bn", 3.2, 100.0, 0.032)
    assert output[6:8] == (6.4, "off track")
    assert targets["Firms with output above ¥1 bn"][2:4] == (1.0, 15.0)
    districts = {
        row[0]: row for row in workbook["Districts"].iter_rows(min_row=2, values_only=True)
    }
    park = districts["Suzhou Industrial Park"]
    assert park[1:3] == (2.6, 2.4)
    assert park[5] == f"http://testserver/clusters/nano/districts/{sip.pk}/?period=2025Q2"
    summary = "\n".join(str(c.value) for c in workbook["Brief"]["A"] if c.value)
    assert "¥3.20 bn" in summary and "Alpha Nano" in summary


def test_pdf_is_the_printed_page(client, city_viewer, population):
    client.force_login(city_viewer)
    response = client.get(
        reverse("targets:brief-download", args=["nano", "2025Q2", "pdf"]), {"lang": "zh-hans"}
    )
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert "苏州市纳米新材料产业创新集群运行形势分析：全市，2025年第2季度" in text
    assert "32.00 亿元" in text
    assert "甲纳米公司" in text
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    assert f"http://testserver/enterprises/{population['a'].pk}/" in links


def test_a_district_users_brief_is_their_district(client, officer_sip, population, kunshan):
    client.force_login(officer_sip)
    brief, html = brief_of(client)
    assert brief.scope.district.code == "320571"
    assert brief.board.cards[0].actual == 26 * YI
    # One district: no ranking of districts, the drivers are its focus directions.
    narrative = {heading: text for heading, text, _url in brief.narrative()}
    assert "领先与落后的区县" not in narrative
    assert narrative["增长动力"].startswith("按重点发展方向：")
    assert "乙纳米公司" not in html  # Kunshan's firm
    workbook = client.get(reverse("targets:brief-download", args=["nano", "2025Q2", "xlsx"]))
    assert b"Beta Nano" not in workbook.content
    asked = client.get(reverse("targets:brief", args=["nano", "2025Q2"]), {"district": kunshan.pk})
    assert asked.status_code == 404


def test_excel_workbook_defuses_formula_names(client, city_viewer, population):
    """A firm name stored before the plain-text rule cannot run as a formula in Excel."""
    from enterprises.models import Enterprise

    payload = '=HYPERLINK("http://evil.example","x")'
    Enterprise.objects.filter(pk=population["a"].pk).update(name_en=payload)
    client.force_login(city_viewer)
    response = client.get(
        reverse("targets:brief-download", args=["nano", "2025Q2", "xlsx"]), {"lang": "en"}
    )
    workbook = load_workbook(io.BytesIO(response.content))
    values = [
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert "'" + payload in values
    assert not [value for value in values if value.startswith("=")]
