from decimal import Decimal

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cluster.models import District
from enterprises.imports import (
    REPORT_COLUMNS,
    bilingual,
    export_reports,
    read_file,
    report_template,
    reports_import,
)
from enterprises.models import QuarterlyReport
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db

HEADERS = bilingual(REPORT_COLUMNS)


def dataset(*rows, headers=HEADERS):
    return tablib.Dataset(
        *[list(r) + [""] * (len(headers) - len(r)) for r in rows], headers=headers
    )


def run(actor, data, *, unit="wan", mode="quarterly", dry_run=False):
    with translation.override("en"):
        return reports_import(actor=actor, dataset=data, unit=unit, mode=mode, dry_run=dry_run)


@pytest.fixture
def firms(enterprise_factory):
    return [enterprise_factory(uscc=valid_uscc(i)) for i in range(3)]


def test_new_rows_are_written_in_yuan_with_history(officer_sip, firms):
    outcome = run(
        officer_sip,
        dataset(
            (firms[0].uscc, "2025Q3", "1,234.5", "1000", "50", "12", "2", "1"),
            (firms[1].uscc, "2025q3", "２００", "180", "", "8"),
        ),
    )
    assert outcome.errors == [] and outcome.written
    assert outcome.totals == {"new": 2, "changed": 0, "unchanged": 0}
    first = QuarterlyReport.objects.get(enterprise=firms[0])
    assert (first.output_value, first.operating_revenue, first.rd_spending) == (
        Decimal("12345000.00"),
        Decimal("10000000.00"),
        Decimal("500000.00"),
    )
    assert (first.employees, first.invention_patents, first.high_value_patents) == (12, 2, 1)
    assert QuarterlyReport.objects.get(enterprise=firms[1]).output_value == Decimal("2000000.00")
    assert set(QuarterlyReport.history.values_list("history_user", "history_change_reason")) == {
        (officer_sip.pk, "import")
    }


def test_units_yuan_and_yi(officer_sip, firms):
    run(officer_sip, dataset((firms[0].uscc, "2025Q1", "1234.56", "1")), unit="yuan")
    run(officer_sip, dataset((firms[1].uscc, "2025Q1", "1.5", "1")), unit="yi")
    values = dict(QuarterlyReport.objects.values_list("enterprise", "output_value"))
    assert values == {firms[0].pk: Decimal("1234.56"), firms[1].pk: Decimal("150000000.00")}


def test_chinese_headers_are_accepted(officer_sip, firms):
    chinese = list(REPORT_COLUMNS.values())
    outcome = run(officer_sip, dataset((firms[0].uscc, "2025Q2", "10", "9"), headers=chinese))
    assert outcome.written and QuarterlyReport.objects.count() == 1


def test_reimporting_the_same_file_changes_nothing(officer_sip, firms):
    data = dataset((firms[0].uscc, "2025Q3", "100", "90"), (firms[1].uscc, "2025Q3", "50", "40"))
    run(officer_sip, data)
    versions = list(QuarterlyReport.objects.values_list("pk", "version", "updated_at"))
    history = QuarterlyReport.history.count()
    again = run(officer_sip, data)
    assert again.totals == {"new": 0, "changed": 0, "unchanged": 2}
    assert list(QuarterlyReport.objects.values_list("pk", "version", "updated_at")) == versions
    assert QuarterlyReport.history.count() == history


def test_changed_rows_are_updated_with_the_diff(officer_sip, firms):
    run(officer_sip, dataset((firms[0].uscc, "2025Q3", "100", "90")))
    outcome = run(officer_sip, dataset((firms[0].uscc, "2025Q3", "110", "90")), dry_run=True)
    assert outcome.totals == {"new": 0, "changed": 1, "unchanged": 0}
    assert outcome.rows[0].changes == {
        "output_value": (Decimal("1000000.00"), Decimal("1100000.00"))
    }
    with translation.override("en"):
        assert outcome.rows[0].change_list == [
            ("output value", Decimal("100.00"), Decimal("110.00"))
        ]
    assert QuarterlyReport.objects.get().output_value == Decimal("1000000.00")  # dry run
    run(officer_sip, dataset((firms[0].uscc, "2025Q3", "110", "90")))
    report = QuarterlyReport.objects.get()
    assert (report.output_value, report.version) == (Decimal("1100000.00"), 2)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ((valid_uscc(99), "2025Q3", "1", "1"), "uscc", "No firm with this code is registered."),
        (("91350100M000100Y44", "2025Q3", "1", "1"), "uscc", "should be 3, not 4"),
        ((valid_uscc(0), "2025Q5", "1", "1"), "period", "Not a quarter"),
        ((valid_uscc(0), "2025年三季度X", "1", "1"), "period", "Not a quarter"),
        (
            (valid_uscc(0), "2025Q3", "abc", "1"),
            "output_value",
            "Not a number; write it like 1,234.56.",
        ),
        ((valid_uscc(0), "2025Q3", "1", "-5"), "operating_revenue", "Cannot be negative."),
        ((valid_uscc(0), "2025Q3", "1", "1", "", "3.5"), "employees", "Must be a whole number."),
    ],
)
def test_each_bad_row_names_line_column_value_and_reason_and_nothing_is_written(
    officer_sip, firms, row, column, reason
):
    good = (firms[1].uscc, "2025Q3", "10", "10")
    outcome = run(officer_sip, dataset(good, row))
    assert not outcome.written
    assert [(e.line, e.column) for e in outcome.errors] == [(3, column)]
    assert reason in outcome.errors[0].reason
    with translation.override("en"):
        assert str(outcome.errors[0]).startswith("Line 3, column " + column)
    with translation.override("zh-hans"):
        assert str(outcome.errors[0]).startswith(f"第 3 行，{column} 列")
    assert QuarterlyReport.objects.count() == 0


def test_firm_of_another_district_is_an_error(officer_kunshan, firms):
    outcome = run(officer_kunshan, dataset((firms[0].uscc, "2025Q3", "1", "1")))
    assert [(e.line, e.column, e.reason) for e in outcome.errors] == [
        (2, "uscc", "The firm belongs to another district.")
    ]
    assert QuarterlyReport.objects.count() == 0


def test_duplicate_row_in_the_file_is_an_error(officer_sip, firms):
    outcome = run(
        officer_sip,
        dataset((firms[0].uscc, "2025Q3", "1", "1"), (firms[0].uscc, "2025Q3", "2", "2")),
    )
    assert [(e.line, e.reason) for e in outcome.errors] == [
        (3, "Duplicate of line 2 (same firm and quarter).")
    ]
    assert QuarterlyReport.objects.count() == 0


def test_year_to_date_mode_converts_with_the_file_and_stored_quarters(officer_sip, firms):
    run(officer_sip, dataset((firms[0].uscc, "2025Q1", "100", "80")))
    outcome = run(
        officer_sip,
        dataset(
            (firms[0].uscc, "2025Q2", "250", "200", "", "30"),
            (firms[0].uscc, "2025Q3", "420", "330", "", "31"),
        ),
        mode="ytd",
    )
    assert outcome.errors == []
    values = {
        q: (o, r, e)
        for q, o, r, e in QuarterlyReport.objects.values_list(
            "quarter", "output_value", "operating_revenue", "employees"
        )
    }
    wan = Decimal(10_000)
    assert values == {
        1: (100 * wan, 80 * wan, None),
        2: (150 * wan, 120 * wan, 30),
        3: (170 * wan, 130 * wan, 31),
    }


def test_year_to_date_smaller_than_the_previous_quarter_is_an_error(officer_sip, firms):
    outcome = run(
        officer_sip,
        dataset((firms[0].uscc, "2025Q1", "100", "80"), (firms[0].uscc, "2025Q2", "90", "90")),
        mode="ytd",
    )
    assert [(e.line, e.column) for e in outcome.errors] == [(3, "output_value")]
    assert "smaller than the previous quarter" in outcome.errors[0].reason
    assert QuarterlyReport.objects.count() == 0


def test_submitted_and_approved_reports_are_not_changed_by_import(officer_sip, city_steward, firms):
    from cluster.quarters import Quarter
    from enterprises.services.reports import reports_approve, reports_submit

    run(
        officer_sip,
        dataset((firms[0].uscc, "2025Q3", "100", "90"), (firms[1].uscc, "2025Q3", "5", "5")),
    )
    reports_submit(actor=officer_sip, district=firms[0].district, quarter=Quarter(2025, 3))
    reports_approve(
        actor=city_steward,
        report_ids=list(
            QuarterlyReport.objects.filter(enterprise=firms[0]).values_list("pk", flat=True)
        ),
    )
    outcome = run(
        officer_sip,
        dataset((firms[0].uscc, "2025Q3", "101", "90"), (firms[1].uscc, "2025Q3", "6", "5")),
    )
    reasons = [e.reason for e in outcome.errors]
    assert len(reasons) == 2
    assert "approved" in reasons[0] and "submitted" in reasons[1]
    assert QuarterlyReport.objects.get(enterprise=firms[0]).output_value == Decimal("1000000.00")


def test_missing_required_column_is_reported_on_line_1(officer_sip, firms):
    outcome = run(officer_sip, tablib.Dataset(["x", "1"], headers=["name", "output_value"]))
    assert [(e.line, e.column) for e in outcome.errors] == [(1, "uscc, period")]


def test_query_count_does_not_grow_with_the_number_of_rows(officer_sip, enterprise_factory):
    from enterprises.models import Enterprise

    district = District.objects.get(code="320571")
    sector = enterprise_factory().primary_sector
    Enterprise.objects.bulk_create(
        Enterprise(
            uscc=valid_uscc(1000 + i),
            name_zh=f"批量{i}",
            district=district,
            primary_sector=sector,
            size_class="small",
        )
        for i in range(2500)
    )
    usccs = [valid_uscc(1000 + i) for i in range(2500)]

    def queries_for(rows):
        data = dataset(*rows)
        with CaptureQueriesContext(connection) as captured:
            outcome = run(officer_sip, data, dry_run=True)
        assert outcome.errors == []
        return len(captured)

    from cluster.access import scope_of

    scope_of(officer_sip)  # the role lookup, cached on the user, is not the import's
    small = queries_for([(u, "2025Q1", "1", "1") for u in usccs[:20]])
    # The savepoint, the reporting policy, the firms by USCC, the stored reports of the years
    # in the file (locked), the rollback of the dry run and the savepoint's release.
    assert small == 6
    large = queries_for([(u, f"2025Q{q}", "1", "1") for u in usccs for q in (1, 2, 3, 4)])
    assert large == small
    # Writing 10,000 rows: a handful of bulk batches, not one query per row.
    data = dataset(*[(u, f"2025Q{q}", "1", "1") for u in usccs for q in (1, 2, 3, 4)])
    with CaptureQueriesContext(connection) as captured:
        outcome = run(officer_sip, data)
    assert outcome.totals["new"] == 10_000
    assert len(captured) <= 40
    assert QuarterlyReport.objects.count() == 10_000
    assert QuarterlyReport.history.count() == 10_000


def test_export_round_trips_through_the_import(officer_sip, firms):
    run(officer_sip, dataset((firms[0].uscc, "2025Q3", "1,234.56", "1000", "", "7")))
    for fmt in ("xlsx", "csv"):
        content, _type = export_reports(QuarterlyReport.objects.all(), fmt)
        data = read_file(content, fmt)
        assert data.headers == HEADERS
        outcome = run(officer_sip, data, unit="yuan")
        assert outcome.errors == []
        assert outcome.totals == {"new": 0, "changed": 0, "unchanged": 1}


def test_templates_have_bilingual_headers():
    for fmt in ("xlsx", "csv"):
        data = read_file(report_template(fmt)[0], fmt)
        assert data.headers[:3] == [
            "uscc / 统一社会信用代码",
            "period / 报告期",
            "output_value / 工业总产值",
        ]


def test_upload_preview_confirm_through_the_pages(client, officer_sip, firms):
    client.force_login(officer_sip)
    content, _type = export_reports(QuarterlyReport.objects.none(), "csv")
    csv = content.decode("utf-8-sig") + f"{firms[0].uscc},2025Q3,100,90,,,,\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("reports:import"),
        {
            "kind": "reports",
            "unit": "wan",
            "mode": "quarterly",
            "file": SimpleUploadedFile("q3.csv", csv.encode("utf-8")),
        },
    )
    assert response.status_code == 302
    preview = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert preview.context["outcome"].totals == {"new": 1, "changed": 0, "unchanged": 0}
    assert QuarterlyReport.objects.count() == 0
    confirm_url = reverse("reports:import-confirm", args=[response["Location"].split("/")[-2]])
    done = client.post(confirm_url)
    assert done.status_code == 302
    assert QuarterlyReport.objects.get().output_value == Decimal("1000000.00")
    # The stashed file is gone after confirmation.
    assert client.post(confirm_url).status_code == 404


def test_enterprise_import_by_an_officer_is_limited_to_the_district(officer_kunshan, firms):
    from enterprises.resources import ENTERPRISE_COLUMNS, EnterpriseResource

    data = tablib.Dataset(
        [
            valid_uscc(500),
            "新企业",
            "",
            "苏州工业园区",
            "",
            "1.02",
            "",
            "small",
            "active",
            "",
            "",
            "0",
        ],
        headers=list(ENTERPRISE_COLUMNS),
    )
    with translation.override("en"):
        result = EnterpriseResource().import_data(data, dry_run=False, user=officer_kunshan)
    assert result.has_validation_errors()
    assert result.invalid_rows[0].error_dict == {
        "district": ["You can only register firms of your own district."]
    }
