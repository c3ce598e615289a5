import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cluster.access import scope_of
from cluster.models import District, Sector
from cluster.quarters import Quarter
from cluster.spreadsheets import SheetError, calamine_rows, openpyxl_rows
from enterprises.imports import (
    REPORT_COLUMNS,
    _column_map,
    bilingual,
    enterprise_template,
    export_enterprises,
    export_reports,
    read_enterprise_rows,
    read_file,
    report_template,
    reports_import,
)
from enterprises.models import ClusterMembership, Enterprise, QuarterlyReport
from enterprises.resources import ENTERPRISE_COLUMNS, EnterpriseResource
from tests.factories import cluster_with_tree, valid_uscc

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
    with CaptureQueriesContext(connection) as queries:
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
    # The history lists the reports in the order they were written: the copy is ordered.
    history = QuarterlyReport.history.order_by("history_id").values_list("id", flat=True)
    assert list(history) == sorted(QuarterlyReport.objects.values_list("pk", flat=True))
    table = QuarterlyReport.history.model._meta.db_table
    (copy,) = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("INSERT INTO") and table in q["sql"].split("(")[0]
    ]
    assert "ORDER BY" in copy


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
    district = District.objects.get(code="320571")
    Enterprise.objects.bulk_create(
        Enterprise(
            uscc=valid_uscc(1000 + i),
            name_zh=f"批量{i}",
            district=district,
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

    scope_of(officer_sip)  # the role lookup, cached on the user, is not the import's
    small = queries_for([(u, "2025Q1", "1", "1") for u in usccs[:20]])
    # The savepoint, the reporting policy, the firms by USCC, the stored reports checked
    # against (locked), the rollback of the dry run and the savepoint's release.
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


def _sip_firms(count: int) -> list[str]:
    district = District.objects.get(code="320571")
    Enterprise.objects.bulk_create(
        Enterprise(uscc=valid_uscc(2000 + i), name_zh=f"批量{i}", district=district)
        for i in range(count)
    )
    return [valid_uscc(2000 + i) for i in range(count)]


@pytest.mark.parametrize("rows", [3, 30])
def test_writing_a_file_takes_as_many_queries_for_30_rows_as_for_3(
    officer_sip, django_assert_num_queries, rows
):
    usccs = _sip_firms(rows)
    first = dataset(*[(u, "2025Q1", "100", "90") for u in usccs])
    second = dataset(*[(u, "2025Q1", "101", "90") for u in usccs])
    scope_of(officer_sip)  # the role lookup, cached on the user, is not the import's
    # The savepoint, the reporting policy, the firms by code, the stored reports checked
    # against (locked), the insert of the new reports, their history copied by the database,
    # the savepoint's release.
    with django_assert_num_queries(7):
        outcome = run(officer_sip, first)
    assert outcome.totals == {"new": rows, "changed": 0, "unchanged": 0}
    # ... and for changed reports their rows as instances, and the update instead of the
    # insert.
    with django_assert_num_queries(8):
        outcome = run(officer_sip, second)
    assert outcome.totals == {"new": 0, "changed": rows, "unchanged": 0}
    assert set(QuarterlyReport.objects.values_list("output_value", "version")) == {
        (Decimal("1010000.00"), 2)
    }


def test_the_history_of_an_import_holds_each_report_as_written(officer_sip, firms):
    run(officer_sip, dataset((firms[0].uscc, "2025Q3", "100", "90", "5", "12")))
    run(officer_sip, dataset((firms[0].uscc, "2025Q3", "120", "90", "5", "12")))
    report = QuarterlyReport.objects.get()
    created, changed = QuarterlyReport.history.order_by("history_id")
    tracked = [f.attname for f in QuarterlyReport.history.model.tracked_fields]
    assert {name: getattr(changed, name) for name in tracked} == {
        name: getattr(report, name) for name in tracked
    }
    assert (created.output_value, created.version, changed.output_value, changed.version) == (
        Decimal("1000000.00"),
        1,
        Decimal("1200000.00"),
        2,
    )
    assert [
        (h.history_type, h.history_user, h.history_change_reason) for h in (created, changed)
    ] == [
        ("+", officer_sip, "import"),
        ("~", officer_sip, "import"),
    ]
    assert created.history_date <= changed.history_date == report.updated_at


def test_one_bad_row_among_many_writes_nothing(officer_sip, firms):
    usccs = _sip_firms(30)
    run(officer_sip, dataset((usccs[0], "2025Q1", "100", "90")))
    stored = list(QuarterlyReport.objects.values_list("pk", "output_value", "version"))
    rows = [(u, "2025Q2", "110", "95") for u in usccs]
    rows.append((usccs[0], "2025Q3", "110", "-1"))
    outcome = run(officer_sip, dataset(*rows))
    assert [(e.line, e.column, e.value) for e in outcome.errors] == [
        (32, "operating_revenue", "-1")
    ]
    assert not outcome.written
    assert list(QuarterlyReport.objects.values_list("pk", "output_value", "version")) == stored
    assert QuarterlyReport.history.count() == 1


BAD_FILES = Path(__file__).parent.parent / "data" / "bad"


@pytest.mark.parametrize(
    "name",
    [
        "date-in-number.xlsx",
        "enterprises-title-rows.xlsx",
        "excel-dates.xlsx",
        "merged-period.xlsx",
        "title-rows.xlsx",
        "units-in-cells.xlsx",
        "template",
    ],
)
def test_calamine_reads_a_workbook_as_openpyxl_does(firms, name):
    """Dates, numbers typed as text, empty cells, merged cells, title rows, the template's
    greyed example row: the fast reader gives the cells the import has always been given."""
    if name == "template":
        content = report_template("xlsx", firms=firms, quarter=Quarter(2025, 3))[0]
    else:
        content = (BAD_FILES / name).read_bytes()
    assert calamine_rows(content) == without_trailing_empty_rows(openpyxl_rows(content))


def without_trailing_empty_rows(rows: list[list]) -> list[list]:
    """openpyxl also gives the template's formatted rows below the firms, with no value in
    them; calamine ends at the last value. The import skips rows without values either way."""
    while rows and all(cell is None for cell in rows[-1]):
        rows.pop()
    return rows


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("formulas-unsaved.xlsx", "holds the formula =1000+234.5 with no saved result"),
        ("xml-entities.xlsx", "cannot be read: EntitiesForbidden"),
    ],
)
def test_a_workbook_with_formulas_or_entities_is_refused_as_before(name, reason):
    with translation.override("en"), pytest.raises(SheetError, match=re.escape(reason)):
        read_file((BAD_FILES / name).read_bytes(), "xlsx")


def test_export_round_trips_through_the_import(officer_sip, firms):
    run(officer_sip, dataset((firms[0].uscc, "2025Q3", "1,234.56", "1000", "", "7")))
    for fmt in ("xlsx", "csv"):
        content, _type = export_reports(QuarterlyReport.objects.all(), fmt)
        data = read_file(content, fmt)
        assert data.headers == HEADERS
        outcome = run(officer_sip, data, unit="yuan")
        assert outcome.errors == []
        assert outcome.totals == {"new": 0, "changed": 0, "unchanged": 1}


def test_templates_are_headed_in_the_users_language_and_read_back():
    for language, headers in (
        ("zh-hans", ["统一社会信用代码", "企业名称", "报告期", "工业总产值（万元）"]),
        ("en", ["USCC", "Firm name", "Reporting period", "Output value (¥10,000)"]),
    ):
        for fmt in ("xlsx", "csv"):
            with translation.override(language):
                data = read_file(report_template(fmt)[0], fmt)
            assert data.headers[:4] == headers
            with translation.override("zh-hans" if language == "en" else "en"):
                assert list(_column_map(data.headers))[:4] == [
                    "uscc",
                    "name",
                    "period",
                    "output_value",
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


# --- the enterprise import: firms and their memberships -----------------------------------


def firm_row(uscc, name="新企业", **cells):
    row = {
        "uscc": uscc,
        "name_zh": name,
        "district": "苏州工业园区",
        "size_class": "small",
        "status": "active",
        "above_designated_size": "0",
        **cells,
    }
    return [row.get(key, "") for key in ENTERPRISE_COLUMNS]


def import_firms(actor, *rows, dry_run=False, language="en"):
    data = tablib.Dataset(*rows, headers=list(ENTERPRISE_COLUMNS))
    with translation.override(language):
        return EnterpriseResource().import_data(data, dry_run=dry_run, user=actor)


def errors_of(result):
    """Each invalid row's errors by column, and the errors of no row under 0."""
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    if result.base_errors:
        errors[0] = [str(error.error) for error in result.base_errors]
    return errors


def test_the_template_has_the_membership_columns():
    for fmt in ("xlsx", "csv"):
        content, _type = enterprise_template(fmt)
        headers = read_enterprise_rows(content, fmt)[0].headers
        assert headers[-4:] == ["cluster", "primary_sector", "in_cluster_from", "in_cluster_until"]
    assert bilingual(ENTERPRISE_COLUMNS)[-4:] == [
        "cluster / 所属集群",
        "primary_sector / 主营领域",
        "in_cluster_from / 纳入集群日期",
        "in_cluster_until / 退出集群日期",
    ]


def test_a_row_registers_the_firm_and_its_membership(officer_sip):
    result = import_firms(
        officer_sip,
        firm_row(
            valid_uscc(500),
            cluster="苏州市纳米新材料产业创新集群",
            primary_sector="先进封装材料",
            in_cluster_from="2023-05-01",
        ),
        firm_row(valid_uscc(501), cluster="nano", primary_sector="2.03"),
    )
    assert errors_of(result) == {} and not result.has_errors()
    assert result.totals["new"] == 2
    first = Enterprise.objects.get(uscc=valid_uscc(500)).memberships.get()
    assert (first.cluster.key, first.sector.code, first.joined_on, first.left_on) == (
        "nano",
        "1.04",
        dt.date(2023, 5, 1),
        None,
    )
    second = Enterprise.objects.get(uscc=valid_uscc(501)).memberships.get()
    assert (second.sector.code, second.joined_on) == ("2.03", None)
    assert set(ClusterMembership.history.values_list("history_type", "history_user")) == {
        ("+", officer_sip.pk)
    }


def test_the_cluster_may_be_left_out_while_the_city_has_one_cluster(officer_sip):
    row = firm_row(valid_uscc(502), primary_sector="1.04")
    assert errors_of(import_firms(officer_sip, row, dry_run=True)) == {}
    cluster_with_tree("photonics")
    result = import_firms(officer_sip, row)
    assert errors_of(result) == {
        1: {"cluster": ["Name the cluster (its key or name): the city has several."]}
    }
    assert not Enterprise.objects.filter(uscc=valid_uscc(502)).exists()


def test_two_rows_of_one_firm_with_two_clusters_are_two_memberships(officer_sip):
    cluster_with_tree("photonics")
    result = import_firms(
        officer_sip,
        firm_row(valid_uscc(503), cluster="nano", primary_sector="1.01"),
        firm_row(
            valid_uscc(503),
            cluster="photonics",
            primary_sector="1.01",
            in_cluster_from="2024-07-01",
        ),
    )
    assert errors_of(result) == {} and not result.has_errors()
    assert (result.totals["new"], result.totals["update"]) == (1, 1)
    firm = Enterprise.objects.get(uscc=valid_uscc(503))
    assert sorted(firm.memberships.values_list("cluster__key", "sector__name_zh", "joined_on")) == [
        ("nano", "新型电子元器件材料", None),
        ("photonics", "光模块", dt.date(2024, 7, 1)),
    ]
    assert firm.history.count() == 1


def test_an_import_that_moves_a_firm_stamps_its_change(city_steward, enterprise_factory):
    """Bulk-updated as save() would stamp it: what is stored from the firms (completeness,
    seasonality) checks their newest change, and a firm moved moves both."""
    firm = enterprise_factory(uscc=valid_uscc(505), name_zh="搬迁企业", name_en="")
    before = firm.updated_at
    result = import_firms(city_steward, firm_row(valid_uscc(505), "搬迁企业", district="昆山市"))
    assert errors_of(result) == {}
    assert result.totals["update"] == 1
    firm.refresh_from_db()
    assert (firm.district.name_zh, firm.updated_at > before) == ("昆山市", True)
    assert firm.history.latest("history_id").updated_at == firm.updated_at


def test_a_row_updates_the_firms_membership_of_that_cluster(officer_sip, enterprise_factory):
    firm = enterprise_factory(uscc=valid_uscc(504), name_zh="老企业", name_en="")
    membership = firm.memberships.get()
    row = firm_row(
        valid_uscc(504),
        "老企业",
        cluster="nano",
        primary_sector="1.02",
        in_cluster_from="2020-01-01",
        in_cluster_until="2025-06-30",
    )
    result = import_firms(officer_sip, row)
    assert errors_of(result) == {}
    assert (result.totals["update"], result.totals["skip"]) == (1, 0)
    membership.refresh_from_db()
    assert (membership.sector.code, membership.left_on) == ("1.02", dt.date(2025, 6, 30))
    assert firm.memberships.count() == 1
    assert firm.history.count() == 1  # the firm's own fields did not change
    assert membership.history.latest("history_id").history_user == officer_sip
    again = import_firms(officer_sip, row)
    assert (again.totals["update"], again.totals["skip"]) == (0, 1)
    # Left out, the membership columns leave the firm's memberships as they are.
    renamed = import_firms(officer_sip, firm_row(valid_uscc(504), "老企业（更名）"))
    assert errors_of(renamed) == {}
    assert firm.memberships.get().sector.code == "1.02"


def test_membership_errors_name_the_row_and_column_and_nothing_is_written(
    officer_sip, enterprise_factory
):
    cluster_with_tree("photonics")
    existing = enterprise_factory(uscc=valid_uscc(510), name_zh="已登记企业")
    rows = [
        firm_row(valid_uscc(511), cluster="photonics", primary_sector="1.04"),
        firm_row(valid_uscc(512), cluster="mars", primary_sector="1.04"),
        firm_row(
            valid_uscc(513),
            cluster="nano",
            primary_sector="1.04",
            in_cluster_from="2025-01-01",
            in_cluster_until="2024-12-31",
        ),
        firm_row(valid_uscc(514), cluster="nano"),
        firm_row(valid_uscc(515), cluster="nano", primary_sector="1.04"),
        firm_row(valid_uscc(515), cluster="nano", primary_sector="1.02"),
        firm_row(valid_uscc(516), cluster="nano", primary_sector="1.04"),
        firm_row(valid_uscc(516), "别的名称", cluster="photonics", primary_sector="1.01"),
        firm_row(
            valid_uscc(510),
            "已登记企业",
            cluster="nano",
            primary_sector="1",
            in_cluster_from="2024-01-01",
        ),
        firm_row(valid_uscc(517), cluster="nano", primary_sector="1.04", in_cluster_from="x"),
        firm_row(valid_uscc(518)),
    ]
    before = existing.memberships.get().pk
    result = import_firms(officer_sip, *rows)
    overlap = ["The firm is already a member of this cluster for part of this period."]
    assert errors_of(result) == {
        1: {"primary_sector": ["Choose a material of this cluster's sector tree."]},
        2: {"cluster": ["cluster 'mars' is not known"]},
        3: {"in_cluster_until": ["A firm cannot leave the cluster before it joined."]},
        4: {
            "primary_sector": [
                "Name the firm's primary sector: a material of the cluster's sector tree, by "
                "code or name."
            ]
        },
        6: {"in_cluster_from": overlap},
        8: {"name_zh": ["This firm's details differ from those of line 7."]},
        9: {
            "primary_sector": [
                "Choose a material as the primary sector, not a whole focus direction."
            ]
        },
        10: {"in_cluster_from": ["Enter a valid date."]},
        11: {
            "primary_sector": [
                "Name the firm's primary sector: a material of the cluster's sector tree, by "
                "code or name."
            ]
        },
    }
    assert Enterprise.objects.count() == 1
    assert list(ClusterMembership.objects.values_list("pk", flat=True)) == [before]


def test_an_overlap_with_a_stored_membership_is_refused_on_its_row(officer_sip, enterprise_factory):
    firm = enterprise_factory(
        uscc=valid_uscc(520),
        name_zh="进出企业",
        joined_on=dt.date(2020, 1, 1),
        left_on=dt.date(2021, 12, 31),
    )
    ClusterMembership.objects.create(
        enterprise=firm,
        cluster=firm.memberships.get().cluster,
        sector=firm.memberships.get().sector,
        joined_on=dt.date(2023, 1, 1),
    )
    result = import_firms(
        officer_sip,
        firm_row(
            valid_uscc(520),
            "进出企业",
            cluster="nano",
            primary_sector="1.04",
            in_cluster_from="2021-06-01",
            in_cluster_until="2023-06-30",
        ),
        language="zh-hans",
    )
    assert errors_of(result) == {
        1: {"in_cluster_from": ["该企业在此期间已是本集群成员（时段有重叠）。"]}
    }
    assert firm.memberships.count() == 2


def test_the_export_writes_a_row_per_membership_and_imports_again_unchanged(
    officer_sip, enterprise_factory
):
    photonics = cluster_with_tree("photonics")
    both = enterprise_factory(uscc=valid_uscc(530), name_zh="双集群企业")
    ClusterMembership.objects.create(
        enterprise=both,
        cluster=photonics,
        sector=Sector.objects.get(cluster=photonics, code="2.01"),
        joined_on=dt.date(2024, 3, 1),
        left_on=dt.date(2026, 6, 30),
    )
    enterprise_factory(uscc=valid_uscc(531), name_zh="单集群企业")
    for fmt in ("csv", "xlsx"):
        content, _type = export_enterprises(Enterprise.objects.order_by("uscc"), fmt)
        dataset, lines = read_enterprise_rows(content, fmt)
        rows = [dict(zip(dataset.headers, row, strict=True)) for row in dataset]
        assert [
            (r["uscc"], r["cluster"], r["primary_sector"], r["in_cluster_from"]) for r in rows
        ] == [
            (valid_uscc(530), "nano", "1.04", "2020-01-01"),
            (valid_uscc(530), "photonics", "2.01", "2024-03-01"),
            (valid_uscc(531), "nano", "1.04", "2020-01-01"),
        ]
        assert rows[1]["in_cluster_until"] == "2026-06-30"
        assert lines == [2, 3, 4]
        with translation.override("en"):
            result = EnterpriseResource().import_data(dataset, dry_run=False, user=officer_sip)
        assert errors_of(result) == {} and not result.has_errors()
        assert (result.totals["new"], result.totals["update"], result.totals["skip"]) == (0, 0, 3)
    assert ClusterMembership.objects.count() == 3


def test_enterprise_import_by_an_officer_is_limited_to_the_district(officer_kunshan, firms):
    result = import_firms(officer_kunshan, firm_row(valid_uscc(500), primary_sector="1.02"))
    assert result.has_validation_errors()
    assert result.invalid_rows[0].error_dict == {
        "district": ["You can only register firms of your own district."]
    }


def test_an_enterprise_file_goes_through_upload_preview_and_confirm(client, officer_sip):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(officer_sip)
    content, _type = enterprise_template("csv")
    csv = content.decode("utf-8-sig") + ",".join(
        str(cell)
        for cell in firm_row(valid_uscc(540), "上传企业", cluster="nano", primary_sector="4.02")
    )
    response = client.post(
        reverse("reports:import"),
        {
            "kind": "enterprises",
            "unit": "wan",
            "mode": "quarterly",
            "file": SimpleUploadedFile("firms.csv", csv.encode("utf-8")),
        },
    )
    preview = client.get(response["Location"])
    assert preview.context["enterprise_result"].totals["new"] == 1
    assert not Enterprise.objects.filter(uscc=valid_uscc(540)).exists()
    token = response["Location"].split("/")[-2]
    assert client.post(reverse("reports:import-confirm", args=[token])).status_code == 302
    membership = Enterprise.objects.get(uscc=valid_uscc(540)).memberships.get()
    assert (membership.cluster.key, membership.sector.code) == ("nano", "4.02")
