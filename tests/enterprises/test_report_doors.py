"""One pipeline for report figures: the same rows through every door give the same outcome.

Each case is sent through the worksheet (htmx row), the single-report API, the bulk API, an
xlsx import, a CSV import and the admin, one after the other, each inside a savepoint that is
rolled back afterwards. Every door must show the same messages (on the same field where the
door has that field as an input) and leave the same report in the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from cluster.models import District
from enterprises.choices import ReportStatus
from enterprises.imports import REPORT_COLUMNS, bilingual
from enterprises.models import FIGURES, QuarterlyReport
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db

WAN = Decimal(10_000)
TODAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
DOORS = ("worksheet", "api", "bulk_api", "xlsx_import", "csv_import", "admin")


@dataclass
class Case:
    values: dict  # figure → Decimal yuan (each door writes it in its own unit) or raw text
    period: str = "2025Q3"
    stored: list = field(default_factory=list)  # (period, output yuan, status) stored before
    note: str = ""
    reason: str = ""
    mode: str = "quarterly"
    founded_on: dt.date | None = None
    error: tuple[str, str] | None = None  # (field, words the message contains), None: accepted
    result: dict | None = None  # the stored report afterwards (figures and status)


M = Decimal(1_000_000)  # 100 万元
CASES = {
    "accepted": Case(
        {"output_value": Decimal("1234500.00"), "operating_revenue": M, "employees": "12"},
        result={"output_value": Decimal("1234500.00"), "operating_revenue": M, "employees": 12},
    ),
    "not_a_number": Case({"output_value": "abc"}, error=("output_value", "Not a number")),
    "negative": Case({"output_value": "-5"}, error=("output_value", "negative")),
    "scientific_notation": Case({"output_value": "1e5"}, error=("output_value", "scientific")),
    "thirty_digit_money": Case({"output_value": "9" * 30}, error=("output_value", "too large")),
    "thirty_digit_head_count": Case({"employees": "9" * 30}, error=("employees", "too large")),
    "fractional_head_count": Case({"employees": "12.5"}, error=("employees", "whole number")),
    "unit_mistake_against_last_year": Case(
        {"output_value": M * 10_000, "operating_revenue": M},
        stored=[("2024Q3", M, ReportStatus.APPROVED)],
        error=("output_value", "check the unit"),
    ),
    "unit_mistake_against_previous_quarter": Case(
        {"output_value": M / 5_000, "operating_revenue": M},
        stored=[("2025Q2", M, ReportStatus.APPROVED)],
        error=("output_value", "check the unit"),
    ),
    "jump_without_note": Case(
        {"output_value": M * 2, "operating_revenue": M},
        stored=[("2025Q2", M, ReportStatus.APPROVED)],
        error=("anomaly_note", "confirm with a note"),
    ),
    "jump_with_note": Case(
        {"output_value": M * 2, "operating_revenue": M},
        stored=[("2025Q2", M, ReportStatus.APPROVED)],
        note="新产线投产",
        result={"output_value": M * 2, "operating_revenue": M, "anomaly_note": "新产线投产"},
    ),
    "quarter_not_ended": Case(
        {"output_value": M, "operating_revenue": M}, period="2026Q4", error=("period", "ended")
    ),
    "quarter_in_the_future": Case(
        {"output_value": M, "operating_revenue": M}, period="2027Q2", error=("period", "ended")
    ),
    "quarter_before_the_register": Case(
        {"output_value": M, "operating_revenue": M}, period="1990Q1", error=("period", "register")
    ),
    "quarter_before_the_firm_was_founded": Case(
        {"output_value": M, "operating_revenue": M},
        period="2025Q2",
        founded_on=dt.date(2025, 8, 1),
        error=("period", "founded"),
    ),
    "submitted_report_is_locked": Case(
        {"output_value": M * Decimal("1.2"), "operating_revenue": M},
        stored=[("2025Q3", M, ReportStatus.SUBMITTED)],
        error=("status", "awaits review"),
        result={"output_value": M, "status": ReportStatus.SUBMITTED},
    ),
    "approved_report_needs_a_reason": Case(
        {"output_value": M * Decimal("1.2"), "operating_revenue": M},
        stored=[("2025Q3", M, ReportStatus.APPROVED)],
        error=("change_reason", "reason for the change"),
        result={"output_value": M, "status": ReportStatus.APPROVED},
    ),
    "approved_report_changed_with_a_reason": Case(
        {"output_value": M * Decimal("1.2"), "operating_revenue": M},
        stored=[("2025Q3", M, ReportStatus.APPROVED)],
        reason="统计局口径调整",
        result={
            "output_value": M * Decimal("1.2"),
            "status": ReportStatus.SUBMITTED,
            "change_reason": "统计局口径调整",
        },
    ),
    "year_to_date_smaller_than_before": Case(
        {"output_value": M / 2, "operating_revenue": M},
        period="2025Q2",
        mode="ytd",
        stored=[("2025Q1", M, ReportStatus.APPROVED)],
        error=("output_value", "smaller"),
    ),
    "year_to_date_converted": Case(
        {"output_value": M * Decimal("2.2"), "operating_revenue": M * 2},
        period="2025Q2",
        mode="ytd",
        stored=[("2025Q1", M, ReportStatus.APPROVED)],
        result={"output_value": M * Decimal("1.2"), "operating_revenue": M},
    ),
}


# --- the doors ------------------------------------------------------------------------------


def _text(value, unit: Decimal) -> str:
    """A figure as the door's user types it: money in the door's unit, raw text as it is."""
    if isinstance(value, Decimal):
        return f"{(value / unit).normalize():f}"
    return str(value)


def _figure_text(case: Case, figure: str, unit: Decimal) -> str:
    from enterprises.models import MONEY_FIGURES

    value = case.values.get(figure)
    if value is None:
        return ""
    return _text(value, unit if figure in MONEY_FIGURES else Decimal(1))


def _stored_report(firm, period: str):
    return QuarterlyReport.objects.filter(
        enterprise=firm, year=int(period[:4]), quarter=int(period[-1])
    ).first()


def worksheet(client, firm, case: Case) -> dict:
    report = _stored_report(firm, case.period)
    data = {f: _figure_text(case, f, WAN) for f in FIGURES}
    data.update(
        version=report.version if report else 0,
        mode=case.mode,
        anomaly_note=case.note,
        change_reason=case.reason,
    )
    url = reverse("reports:row", args=[firm.district_id, case.period, firm.pk])
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code in (200, 422), response.status_code
    row = response.context["row"]
    errors = {cell.figure: [cell.error] for cell in row.cells if cell.error}
    for name, message in row.field_errors.items():
        errors.setdefault(name, []).append(message)
    return errors


def _api_errors(response) -> dict:
    assert response.status_code in (200, 201, 400), (response.status_code, response.json())
    return response.json().get("errors", {}) if response.status_code == 400 else {}


def single_api(client, firm, case: Case) -> dict:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(client.user)
    body = {f: _figure_text(case, f, Decimal(1)) or None for f in FIGURES}
    body.update(anomaly_note=case.note, change_reason=case.reason, mode=case.mode)
    report = _stored_report(firm, case.period)
    if report is None:
        body.update(enterprise=firm.pk, period=case.period)
        return _api_errors(api.post("/api/quarterly-reports/", body, format="json"))
    body["version"] = report.version
    return _api_errors(api.patch(f"/api/quarterly-reports/{report.pk}/", body, format="json"))


def bulk_api(client, firm, case: Case) -> dict:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(client.user)
    row = {f: _figure_text(case, f, Decimal(1)) for f in FIGURES if f in case.values}
    row.update(
        uscc=firm.uscc, period=case.period, anomaly_note=case.note, change_reason=case.reason
    )
    body = {"unit": "yuan", "mode": case.mode, "rows": [row]}
    errors = _api_errors(api.post("/api/quarterly-reports/bulk/", body, format="json"))
    return errors.get("rows[0]", errors)


def _import_rows(firm, case: Case) -> list[list[str]]:
    values = {f: _figure_text(case, f, Decimal(1)) for f in FIGURES}
    values.update(
        uscc=firm.uscc, period=case.period, anomaly_note=case.note, change_reason=case.reason
    )
    return [bilingual(REPORT_COLUMNS), [values.get(key, "") for key in REPORT_COLUMNS]]


def _upload(client, name: str, content: bytes, case: Case) -> dict:
    upload = io.BytesIO(content)
    upload.name = name
    response = client.post(
        reverse("reports:import"),
        {"kind": "reports", "file": upload, "unit": "yuan", "mode": case.mode},
    )
    assert response.status_code == 302, response.content[:500]
    preview = client.get(response.url)
    outcome = preview.context["outcome"]
    if outcome.errors:
        errors: dict = {}
        for error in outcome.errors:
            errors.setdefault(error.column, []).append(error.reason)
        return errors
    confirmed = client.post(reverse("reports:import-confirm", args=[response.url.split("/")[-2]]))
    assert confirmed.status_code == 302
    return {}


def xlsx_import(client, firm, case: Case) -> dict:
    workbook = openpyxl.Workbook()
    for row in _import_rows(firm, case):
        workbook.active.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return _upload(client, "reports.xlsx", content.getvalue(), case)


def csv_import(client, firm, case: Case) -> dict:
    text = io.StringIO()
    csv.writer(text).writerows(_import_rows(firm, case))
    return _upload(client, "reports.csv", text.getvalue().encode("utf-8-sig"), case)


def admin(client, firm, case: Case) -> dict:
    report = _stored_report(firm, case.period)
    data = {f: _figure_text(case, f, Decimal(1)) for f in FIGURES}
    data.update(
        enterprise=firm.pk,
        period=case.period,
        mode=case.mode,
        anomaly_note=case.note,
        change_reason=case.reason,
        version=report.version if report else "",
    )
    if report is None:
        url = reverse("admin:enterprises_quarterlyreport_add")
    else:
        url = reverse("admin:enterprises_quarterlyreport_change", args=[report.pk])
    response = client.post(url, data)
    if response.status_code == 302:
        return {}
    assert response.status_code == 200
    form = response.context["adminform"].form
    return {(None if key == "__all__" else key): list(value) for key, value in form.errors.items()}


SEND = {
    "worksheet": worksheet,
    "api": single_api,
    "bulk_api": bulk_api,
    "xlsx_import": xlsx_import,
    "csv_import": csv_import,
    "admin": admin,
}


# --- the test -------------------------------------------------------------------------------


def _state(firm, period: str):
    report = _stored_report(firm, period)
    if report is None:
        return None
    return {
        **{f: getattr(report, f) for f in FIGURES},
        "status": report.status,
        "anomaly_note": report.anomaly_note,
        "change_reason": report.change_reason,
    }


def _store(firm, period: str, output: Decimal, status: str, officer) -> None:
    at = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    report = QuarterlyReport.objects.create(
        enterprise=firm,
        year=int(period[:4]),
        quarter=int(period[-1]),
        output_value=output,
        operating_revenue=output,
        status=status,
        submitted_at=None if status == ReportStatus.DRAFT else at,
        approved_at=at if status == ReportStatus.APPROVED else None,
        revision=1 if status == ReportStatus.APPROVED else 0,
    )
    if status == ReportStatus.APPROVED:
        from enterprises.models import ReportRevision

        ReportRevision.of(report).save()


@pytest.fixture
def officer(make_user):
    from cluster.access import Role

    user = make_user("officer_doors", Role.DISTRICT_OFFICER, SIP, staff=True)
    return user


@pytest.mark.parametrize("name", list(CASES))
def test_every_door_gives_the_same_outcome(name, officer, enterprise_factory, client):
    case = CASES[name]
    firm = enterprise_factory(district=District.objects.get(code=SIP), founded_on=case.founded_on)
    client.force_login(officer)
    client.cookies["django_language"] = "en"
    client.user = officer
    outcomes = {}
    with time_machine.travel(TODAY, tick=False):
        for door in DOORS:
            with transaction.atomic():
                for period, output, status in case.stored:
                    _store(firm, period, output, status, officer)
                errors = SEND[door](client, firm, case)
                outcomes[door] = (errors, _state(firm, case.period))
                transaction.set_rollback(True)

    messages = {
        door: sorted(m for ms in errors.values() for m in ms)
        for door, (errors, _) in outcomes.items()
    }
    assert len({tuple(m) for m in messages.values()}) == 1, messages
    states = {door: state for door, (_, state) in outcomes.items()}
    assert len({repr(s) for s in states.values()}) == 1, states

    errors, state = outcomes["api"]
    if case.error is None:
        assert errors == {}
        assert state is not None
        for key, value in (case.result or {}).items():
            assert state[key] == value, (key, state)
    else:
        field_name, words = case.error
        assert list(errors) == [field_name], errors
        assert words.lower() in errors[field_name][0].lower(), errors
        for door, (door_errors, _) in outcomes.items():
            if field_name in door_errors or door in ("worksheet", "admin"):
                continue
            raise AssertionError(f"{door} does not name the field {field_name}: {door_errors}")
        expected = case.result
        if expected is None:
            assert state is None or state["output_value"] != case.values.get("output_value")
        else:
            for key, value in expected.items():
                assert state[key] == value, (key, state)


def test_another_districts_firm_is_refused_by_every_door(officer, enterprise_factory, client):
    firm = enterprise_factory(district=District.objects.get(code=KUNSHAN))
    client.force_login(officer)
    case = Case({"output_value": M, "operating_revenue": M})
    api = APIClient()
    api.force_authenticate(officer)
    with time_machine.travel(TODAY, tick=False):
        row_url = reverse("reports:row", args=[firm.district_id, "2025Q3", firm.pk])
        assert client.post(row_url, {"output_value": "100"}).status_code == 404
        created = api.post(
            "/api/quarterly-reports/",
            {"enterprise": firm.pk, "period": "2025Q3", "output_value": "1"},
            format="json",
        )
        assert created.status_code == 400 and "enterprise" in created.json()["errors"]
        client.user = officer
        assert "uscc" in bulk_api(client, firm, case)
        assert "uscc" in csv_import(client, firm, case)
    assert not QuarterlyReport.objects.filter(enterprise=firm).exists()
