"""The bad-input corpus (tests/data/bad/, made by its build.py): every file goes through the
officer's upload → preview → confirm pages, every payload through the API, and each is
either normalised to exact stored figures or refused with the row, column and reason, with
nothing written and the stored report untouched."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cluster.models import District
from enterprises.models import Enterprise, QuarterlyReport
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db

BAD = Path(__file__).parent / "data" / "bad"
A, B, K = valid_uscc(1), valid_uscc(2), valid_uscc(3)
WAN = Decimal(10_000)
STORED_Q2 = (Decimal("10000000.00"), Decimal("9000000.00"))  # A, 2025Q2: 1,000 / 900 万元


@pytest.fixture
def corpus_firms(enterprise_factory, report_factory):
    sip = District.objects.get(code="320571")
    kunshan = District.objects.get(code="320583")
    firms = {
        "A": enterprise_factory(uscc=A, district=sip),
        "B": enterprise_factory(uscc=B, district=sip),
        "K": enterprise_factory(uscc=K, district=kunshan),
    }
    report_factory(
        enterprise=firms["A"],
        year=2025,
        quarter=2,
        output_value=STORED_Q2[0],
        operating_revenue=STORED_Q2[1],
    )
    return firms


def stored_figures():
    return {
        (r.enterprise.uscc, str(r.period)): (r.output_value, r.operating_revenue, r.employees)
        for r in QuarterlyReport.objects.select_related("enterprise")
    }


def upload(client, name, *, kind="reports", content=None, unit="wan"):
    content = (BAD / name).read_bytes() if content is None else content
    response = client.post(
        reverse("reports:import"),
        {
            "kind": kind,
            "unit": unit,
            "mode": "quarterly",
            "file": SimpleUploadedFile(name, content),
        },
        headers={"accept-language": "en"},
    )
    if response.status_code != 302:
        return response, None
    preview = client.get(response["Location"], headers={"accept-language": "en"})
    confirm = client.post(
        response["Location"] + "confirm/", headers={"accept-language": "en"}, follow=True
    )
    return preview, confirm


def yuan(wan):
    return (Decimal(str(wan)) * WAN).quantize(Decimal("0.01"))


Q2 = {(A, "2025Q2"): (*STORED_Q2, None)}

# file → the figures stored afterwards: (output, revenue, employees) per (firm, quarter).
NORMALISED = {
    "gbk.csv": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), 120)},
    "utf16-tab.csv": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), None)},
    "fullwidth.csv": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), None)},
    "period-spellings.csv": {
        (A, "2025Q3"): (yuan(1234.5), yuan(1000), None),
        (B, "2025Q3"): (yuan(800), yuan(700), None),
        (A, "2025Q4"): (yuan(1300), yuan(1100), None),
        (B, "2025Q4"): (yuan(900), yuan(800), None),
    },
    "empty-rows.csv": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), None)},
    "uscc-lowercase.csv": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), None)},
    "units-in-cells.xlsx": {
        (A, "2025Q3"): (yuan(1234.5), yuan(1100), None),
        (B, "2025Q3"): (Decimal("8000000.00"), yuan(700), None),
    },
    "excel-dates.xlsx": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), None)},
    "merged-period.xlsx": {
        (A, "2025Q3"): (yuan(1234.5), None, None),
        (B, "2025Q3"): (yuan(800), None, None),
    },
    "formulas-saved.xlsx": {(A, "2025Q3"): (yuan(1234.5), yuan(1000), None)},
}


@pytest.mark.parametrize("name", sorted(NORMALISED))
def test_files_that_are_normalised(client, officer_sip, corpus_firms, name):
    client.force_login(officer_sip)
    preview, confirm = upload(client, name)
    assert preview.context["outcome"].errors == []
    assert confirm.redirect_chain[-1][0] == reverse("reports:completeness")
    assert stored_figures() == {**Q2, **NORMALISED[name]}


# file → the errors shown: (line, column, part of the reason).
REFUSED_ROWS = {
    "month-period.csv": [(2, "period", "Not a quarter; write it like 2025Q3")],
    "duplicate-rows.csv": [(3, "period", "Duplicate of line 2")],
    "uscc-check-character.csv": [(2, "uscc", "The check character (the last one) should be")],
    "negative.csv": [(2, "output_value", "Cannot be negative")],
    "unit-mistake.csv": [
        (2, "output_value", "12,345,000.00 万元 against the same firm's 1,000.00 万元"),
    ],
    "scientific.csv": [(2, "output_value", "scientific notation")],
    "text-in-number.csv": [(2, "output_value", "Not a number")],
    "other-district.csv": [(2, "uscc", "belongs to another district")],
    "formula-injection.csv": [
        (2, "uscc", "A USCC has 18 characters"),
        (3, "output_value", "Not a number"),
        (3, "operating_revenue", "Not a number"),
    ],
    "wrong-header.csv": [(1, "产值", "Unknown column")],
    "missing-period-column.csv": [(1, "period", "Required column missing")],
    "title-rows.xlsx": [(5, "output_value", "Not a number")],
    "date-in-number.xlsx": [(2, "output_value", "A date, not a number")],
}


@pytest.mark.parametrize("name", sorted(REFUSED_ROWS))
def test_files_refused_row_by_row(client, officer_sip, corpus_firms, name):
    client.force_login(officer_sip)
    preview, confirm = upload(client, name)
    errors = preview.context["outcome"].errors
    assert [(e.line, e.column) for e in errors] == [
        (line, column) for line, column, _ in REFUSED_ROWS[name]
    ]
    for error, (_line, _column, reason) in zip(errors, REFUSED_ROWS[name], strict=True):
        assert reason in error.reason

        assert escape(reason) in preview.content.decode()
    if name == "unit-mistake.csv":  # the value shown is the cell as written, not yuan
        assert errors[0].value == "12345000"
    # Confirming anyway writes nothing and keeps what was stored.
    assert "nothing was imported" in confirm.content.decode()
    assert stored_figures() == Q2


REFUSED_FILES = {
    "no-header.csv": "No header row found in the first 10 lines",
    "binary.csv": "This is not a text (CSV) file.",
    "text-as-xlsx.xlsx": "This is not an .xlsx workbook",
    "zip-bomb.xlsx": "The workbook expands to 300 MB when unpacked, more than the 100 MB",
    "formulas-unsaved.xlsx": "Line 2, column C holds the formula =1000+234.5 with no saved result",
    "xml-entities.xlsx": "The workbook cannot be read: EntitiesForbidden",
}


@pytest.mark.parametrize("name", sorted(REFUSED_FILES))
def test_files_refused_whole(client, officer_sip, corpus_firms, name):
    client.force_login(officer_sip)
    preview, confirm = upload(client, name)
    assert REFUSED_FILES[name] in preview.context["file_error"]
    assert escape(REFUSED_FILES[name]) in preview.content.decode()
    assert "nothing was imported" in confirm.content.decode()
    assert stored_figures() == Q2


def test_reasons_are_translated(client, officer_sip, corpus_firms):
    client.force_login(officer_sip)
    response = client.post(
        reverse("reports:import"),
        {
            "kind": "reports",
            "unit": "wan",
            "mode": "quarterly",
            "file": SimpleUploadedFile("x.csv", (BAD / "scientific.csv").read_bytes()),
        },
        headers={"accept-language": "zh-hans"},
    )
    preview = client.get(response["Location"], headers={"accept-language": "zh-hans"})
    assert "科学计数法" in preview.content.decode()


def test_a_50_mb_file_is_refused_before_it_is_read(
    client, officer_sip, corpus_firms, settings, tmp_path
):
    client.force_login(officer_sip)
    row = f"{A},2025Q3,1234.5,1000\r\n".encode()
    content = b"uscc,period,output_value,operating_revenue\r\n" + row * (50 * 2**20 // len(row) + 1)
    assert len(content) > 50 * 2**20
    settings.IMPORT_TMP_DIR = tmp_path
    response, _ = upload(client, "huge.csv", content=content)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The file is larger than 10 MB."]
    assert list(tmp_path.iterdir()) == []
    assert stored_figures() == Q2


def test_enterprise_file_in_gbk_with_lower_case_code_is_normalised(
    client, officer_sip, corpus_firms
):
    client.force_login(officer_sip)
    preview, _confirm = upload(client, "enterprises-gbk.csv", kind="enterprises")
    assert not preview.context["enterprise_result"].has_validation_errors()
    firm = Enterprise.objects.get(uscc=valid_uscc(11))
    assert (firm.name_zh, firm.district.code) == ("纳米测试（苏州）有限公司", "320571")
    membership = firm.memberships.get()
    assert (membership.cluster.key, membership.sector.code) == ("nano", "1.02")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("enterprises-html-name.csv", "Names are plain text: remove < > and control characters."),
        ("enterprises-formula-name.csv", "A name cannot start with = + - or @"),
    ],
)
def test_enterprise_names_with_markup_or_formulas_are_refused(
    client, officer_sip, corpus_firms, name, reason
):
    client.force_login(officer_sip)
    before = Enterprise.objects.count()
    preview, _confirm = upload(client, name, kind="enterprises")
    result = preview.context["enterprise_result"]
    assert result.has_validation_errors()
    [row] = result.invalid_rows
    assert reason in " ".join(row.error_dict["name_zh"])
    assert Enterprise.objects.count() == before


def shown_label(response, key: str) -> str:
    from django.utils import translation

    from enterprises.imports import enterprise_column_label

    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return enterprise_column_label(key)


def test_enterprise_errors_name_the_line_of_the_file(client, officer_sip, corpus_firms):
    """A title line above the header and a blank line: the bad firm is on line 5."""
    client.force_login(officer_sip)
    preview, _confirm = upload(client, "enterprises-title-rows.xlsx", kind="enterprises")
    assert preview.context["enterprise_lines"] == [4, 5]
    # The column by its label in the page's language, never the key.
    assert f'<tr class="invalid"><td>5</td><td>{shown_label(preview, "name_zh")}</td>' in (
        preview.content.decode()
    )
    assert not Enterprise.objects.filter(uscc=valid_uscc(14)).exists()


def test_enterprise_membership_errors_name_the_line_and_column(client, officer_sip):
    client.force_login(officer_sip)
    preview, confirm = upload(client, "enterprises-membership-errors.csv", kind="enterprises")
    result = preview.context["enterprise_result"]
    lines = preview.context["enterprise_lines"]
    shown = {lines[row.number - 1]: row.error_dict for row in result.invalid_rows}
    needs = (
        "Name the firm's primary sector: a material of the cluster's sector tree, by code or name."
    )
    assert shown == {
        2: {"cluster": ["cluster '纳米集群' is not known"]},
        3: {
            "primary_sector": [
                "Choose a material as the primary sector, not a whole focus direction."
            ]
        },
        4: {"in_cluster_from": ["Enter a valid date."]},
        5: {"in_cluster_until": ["A firm cannot leave the cluster before it joined."]},
        6: {"primary_sector": [needs]},
    }
    html = preview.content.decode()
    label = shown_label(preview, "in_cluster_until")
    assert label != "in_cluster_until"
    assert f'<tr class="invalid"><td>5</td><td>{label}</td>' in html
    assert "The file has errors; nothing was imported." in confirm.content.decode()
    assert not Enterprise.objects.filter(uscc__in=[valid_uscc(n) for n in range(16, 21)]).exists()


def test_a_firm_in_two_rows_with_two_clusters_gets_two_memberships(client, officer_sip):
    from tests.factories import cluster_with_tree

    cluster_with_tree("photonics")
    client.force_login(officer_sip)
    preview, confirm = upload(client, "enterprises-two-clusters.csv", kind="enterprises")
    assert preview.context["enterprise_result"].totals["new"] == 1
    assert "Imported: 1 new, 1 changed, 0 unchanged." in confirm.content.decode()
    firm = Enterprise.objects.get(uscc=valid_uscc(22))
    assert sorted(firm.memberships.values_list("cluster__key", "sector__name_zh", "joined_on")) == [
        ("nano", "光电子材料", dt.date(2023, 3, 1)),
        ("photonics", "光模块", dt.date(2024, 7, 1)),
    ]


def test_markup_already_stored_is_escaped_and_formulas_neutralised_on_export(
    client, city_steward, enterprise_factory
):
    """Names from before the plain-text rule (or written around it) are still harmless."""
    firm = enterprise_factory(name_zh="<script>alert(1)</script>")
    Enterprise.objects.filter(pk=firm.pk).update(name_en='=HYPERLINK("http://evil.example")')
    client.force_login(city_steward)
    page = client.get(reverse("targets:enterprise", args=[firm.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    exported = client.get(reverse("enterprises:export", args=["csv"])).content.decode("utf-8-sig")
    assert """'=HYPERLINK(""http://evil.example"")""" in exported


# --- API payloads --------------------------------------------------------------------------------


@pytest.fixture
def api(officer_sip, corpus_firms):
    client = APIClient(headers={"accept-language": "en"})
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=officer_sip).key)
    return client


def post_payload(api, name, url="/api/quarterly-reports/bulk/"):
    return api.post(url, (BAD / "api" / name).read_bytes(), content_type="application/json")


# payload → (status, error key path, part of the message)
API_REFUSED = {
    "bulk-month-period.json": ("rows[0]", "period", "Not a quarter"),
    "bulk-unit-mistake.json": ("rows[0]", "output_value", "a factor of 12,345"),
    "bulk-markup-uscc.json": ("rows[0]", "uscc", "A USCC has 18 characters"),
    "bulk-negative.json": ("rows[0]", "output_value", "Cannot be negative"),
    "bulk-huge-number.json": ("rows[0]", "output_value", "scientific notation"),
    "bulk-wrong-types.json": ("rows", 0, "period", "Not a valid string."),
    "bulk-nested.json": ("rows", 0, "non_field_errors", "Invalid data."),
    "bulk-second-row-bad.json": ("rows[1]", "output_value", "Cannot be negative"),
    "bulk-not-json.json": ("JSON parse error",),
}


def dig(body, *path):
    found = body["errors"]
    for key in path:
        found = found[str(key)]
    return found


@pytest.mark.parametrize("name", sorted(API_REFUSED))
def test_api_payloads_refused_with_the_row_and_field(api, name):
    response = post_payload(api, name)
    assert response.status_code == 400
    *path, message = API_REFUSED[name]
    found = dig(response.json(), *path) if path else response.json()["message"]
    assert message in (found if isinstance(found, str) else " ".join(found))
    assert stored_figures() == Q2


@pytest.mark.parametrize("name", ["bulk-period-spelling.json", "bulk-units-in-strings.json"])
def test_api_spellings_are_normalised_as_in_a_file(api, name):
    """The bulk API parses figures and periods with the import's rules (one pipeline): a unit
    written in the text (1,234.5万元) and a period spelling (2025年三季度) are understood."""
    response = post_payload(api, name)
    assert response.status_code == 200
    assert response.json() == {"new": 1, "changed": 0, "unchanged": 0, "submitted": 0}
    assert stored_figures() == {**Q2, (A, "2025Q3"): (yuan(1234.5), None, None)}


def test_api_enterprise_name_with_markup_is_refused(api, corpus_firms):
    body = json.loads((BAD / "api" / "enterprise-markup-name.json").read_text())
    body.update(district="320571")
    response = api.post("/api/enterprises/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["name_zh"] == [
        "Names are plain text: remove < > and control characters."
    ]
    assert not Enterprise.objects.filter(uscc=body["uscc"]).exists()


def test_api_too_many_rows_and_too_large_bodies(api, settings):
    settings.IMPORT_MAX_ROWS = 5
    rows = [{"uscc": A, "period": f"20{y}Q1", "output_value": "1"} for y in range(10, 16)]
    response = api.post("/api/quarterly-reports/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        "Send no more than 5 rows per call; this one has 6."
    ]
    big = json.dumps({"rows": [{"uscc": A, "period": "2025Q3", "note": "x" * 60 * 2**20}]})
    response = api.post("/api/quarterly-reports/bulk/", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["message"] == (
        "The request body is larger than the 10 MB allowed; send fewer rows per call."
    )
    assert stored_figures() == Q2
