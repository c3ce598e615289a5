"""Rules of the report pipeline and workflow beyond the every-door test: bulk calls are all or
nothing (submission included), two identical calls at once do not collide, four-eyes review,
the reporting window as the steward sets it, and a stale version in the admin."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from cluster.access import Role
from cluster.errors import NotAllowed
from cluster.quarters import Quarter
from enterprises.choices import ReportStatus
from enterprises.models import QuarterlyReport, ReportingPolicy
from enterprises.periods import ReportingWindow
from enterprises.services.report_entry import report_save
from enterprises.services.reports import reports_approve, reports_return, reports_submit
from tests.conftest import SIP
from tests.services import require_services

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def bulk(user, rows, **options):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client.post(
        "/api/quarterly-reports/bulk/", {"unit": "wan", "rows": rows, **options}, format="json"
    )


def row(firm, period="2025Q3", output="100", revenue="90"):
    return {
        "uscc": firm.uscc,
        "period": period,
        "output_value": output,
        "operating_revenue": revenue,
    }


def test_bulk_submit_with_an_incomplete_row_writes_nothing(officer_sip, enterprise_factory):
    complete, incomplete = enterprise_factory(), enterprise_factory()
    response = bulk(
        officer_sip,
        [row(complete), {"uscc": incomplete.uscc, "period": "2025Q3", "output_value": "5"}],
        submit=True,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "rows[1]": {
            "operating_revenue": ["Fill in output value and operating revenue before submitting."]
        }
    }
    assert not QuarterlyReport.objects.exists()


def test_bulk_over_two_quarters_submits_both_or_neither(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    rows = [row(firm, "2025Q2"), {"uscc": firm.uscc, "period": "2025Q3", "output_value": "95"}]
    assert bulk(officer_sip, rows, submit=True).status_code == 400
    assert not QuarterlyReport.objects.exists()
    rows[1]["operating_revenue"] = "80"
    done = bulk(officer_sip, rows, submit=True)
    assert done.json() == {"new": 2, "changed": 0, "unchanged": 0, "submitted": 2}
    assert set(QuarterlyReport.objects.values_list("quarter", "status")) == {
        (2, ReportStatus.SUBMITTED),
        (3, ReportStatus.SUBMITTED),
    }


def test_a_bulk_submission_asks_the_same_queries_for_30_firms_as_for_3(
    officer_sip, enterprise_factory
):
    """Submitting with the figures groups the firms by district: the districts are read once,
    not once a firm."""

    def queries(count: int) -> int:
        firms = [enterprise_factory() for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            answer = bulk(officer_sip, [row(firm) for firm in firms], submit=True)
        assert answer.json()["submitted"] == count
        return len(captured)

    queries(1)  # what is read once and cached (the role, the content types) is not the bulk's
    assert queries(30) == queries(3)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_two_identical_bulk_calls_at_once_both_answer(make_user, enterprise_factory):
    require_services()  # SQLite serialises writers: the collision needs PostgreSQL
    officer = make_user("racing_officer", Role.DISTRICT_OFFICER, SIP)
    firms = [enterprise_factory() for _ in range(30)]
    rows = [row(firm) for firm in firms]
    start, answers = threading.Barrier(2), []

    def call():
        start.wait()
        try:
            answers.append(bulk(officer, rows).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [200, 200]
    assert QuarterlyReport.objects.count() == 30
    assert set(QuarterlyReport.objects.values_list("version", flat=True)) == {1}


# --- four-eyes review -------------------------------------------------------------------------


@pytest.fixture
def second_steward(make_user):
    return make_user("second_steward", Role.CITY_STEWARD, staff=True)


def submitted(actor, firm):
    report = report_save(
        actor=actor,
        enterprise=firm,
        quarter=Quarter(2025, 3),
        values={"output_value": "100", "operating_revenue": "90"},
        version=None,
        unit="wan",
    )
    reports_submit(actor=actor, district=firm.district, quarter=Quarter(2025, 3))
    report.refresh_from_db()
    return report


def test_a_steward_does_not_review_figures_they_entered(
    city_steward, second_steward, enterprise_factory
):
    report = submitted(city_steward, enterprise_factory())
    for review in (
        lambda: reports_approve(actor=city_steward, report_ids=[report.pk]),
        lambda: reports_return(actor=city_steward, report_ids=[report.pk], reason="核对"),
    ):
        with translation.override("en"), pytest.raises(NotAllowed) as refused:
            review()
        assert "you entered or last changed these figures" in refused.value.messages[0]
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert reports_approve(actor=second_steward, report_ids=[report.pk]) == 1


def test_who_last_changed_the_figures_does_not_review_them(
    officer_sip, city_steward, second_steward, enterprise_factory
):
    report = submitted(officer_sip, enterprise_factory())
    reports_approve(actor=city_steward, report_ids=[report.pk])
    report.refresh_from_db()
    changed = report_save(
        actor=city_steward,
        enterprise=report.enterprise,
        quarter=report.period,
        values={"output_value": "110"},
        version=report.version,
        unit="wan",
        change_reason="统计局更正",
    )
    assert (changed.status, changed.entered_by, changed.figures_changed_by) == (
        ReportStatus.SUBMITTED,
        officer_sip,
        city_steward,
    )
    with pytest.raises(NotAllowed):
        reports_approve(actor=city_steward, report_ids=[changed.pk])
    assert reports_approve(actor=second_steward, report_ids=[changed.pk]) == 1


def test_four_eyes_can_be_turned_off_for_a_one_person_office(
    settings, city_steward, enterprise_factory
):
    settings.REPORT_FOUR_EYES = False
    report = submitted(city_steward, enterprise_factory())
    assert reports_approve(actor=city_steward, report_ids=[report.pk]) == 1


def test_four_eyes_through_the_api_and_the_worksheet(city_steward, enterprise_factory, client):
    report = submitted(city_steward, enterprise_factory())
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(city_steward)
    refused = api.post(f"/api/quarterly-reports/{report.pk}/approve/")
    assert refused.status_code == 403
    assert "another steward reviews them" in refused.json()["message"]
    client.force_login(city_steward)
    page = client.get(
        reverse("reports:worksheet", args=[report.enterprise.district_id, "2025Q3"]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "another steward reviews them (four-eyes review)" in page
    assert 'hx-vals=\'{"action": "approve"}\'' not in page
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


# --- the reporting window ---------------------------------------------------------------------


def test_the_window_follows_the_calendar_and_the_policy():
    policy = ReportingPolicy.current()
    with time_machine.travel(TODAY, tick=False):
        window = ReportingWindow.on(dt.date(2026, 11, 30))
        assert (window.first, window.last, window.being_reported) == (
            Quarter(2022, 1),
            Quarter(2026, 3),
            Quarter(2026, 3),
        )
        assert ReportingWindow.on(dt.date(2026, 10, 1)).last == Quarter(2026, 3)
        assert ReportingWindow.on(dt.date(2026, 9, 30)).last == Quarter(2026, 2)
        policy.current_quarter_drafts = True
        policy.save()
        window = ReportingWindow.on(dt.date(2026, 11, 30))
        assert window.last == Quarter(2026, 4)
        assert window.problem(Quarter(2026, 4)) is None
        with translation.override("en"):
            assert "has not ended yet" in window.problem(Quarter(2026, 4), submitting=True)


def test_current_quarter_drafts_save_but_do_not_submit(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    ReportingPolicy.objects.update(current_quarter_drafts=True)
    with time_machine.travel(TODAY, tick=False):
        draft = bulk(officer_sip, [row(firm, "2026Q4")])
        assert draft.json() == {"new": 1, "changed": 0, "unchanged": 0, "submitted": 0}
        refused = bulk(officer_sip, [row(firm, "2026Q4")], submit=True)
        assert refused.status_code == 400
        assert "has not ended yet" in refused.json()["errors"]["rows[0]"]["period"][0]
    assert QuarterlyReport.objects.get().status == ReportStatus.DRAFT


def test_the_worksheet_states_the_window_and_offers_no_inputs_outside_it(
    client, officer_sip, enterprise_factory
):
    firm = enterprise_factory()
    client.force_login(officer_sip)
    with time_machine.travel(TODAY, tick=False):
        future = client.get(
            reverse("reports:worksheet", args=[firm.district_id, "2027Q2"]),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        page = future.content.decode()
        assert "2027 Q2 has not ended yet: its reports open on July 1, 2027" in page
        assert "Open for reporting: 2022 Q1 to 2026 Q3" in page
        assert 'name="output_value"' not in page
        current = client.get(
            reverse("reports:worksheet", args=[firm.district_id, "2026Q3"]),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert 'name="output_value"' in current.content.decode()
        imports = client.get(reverse("reports:import"), HTTP_ACCEPT_LANGUAGE="en")
        assert "Open for reporting: 2022 Q1 to 2026 Q3" in imports.content.decode()


def test_a_stale_version_in_the_admin_is_refused(
    client, city_steward, second_steward, report_factory
):
    report = report_factory(year=2025, quarter=3, output_value=Decimal("1000000.00"))
    url = reverse("admin:enterprises_quarterlyreport_change", args=[report.pk])
    form = {
        "enterprise": report.enterprise.pk,
        "period": "2025Q3",
        "mode": "quarterly",
        "output_value": "1100000",
        "operating_revenue": "950000",
        "version": report.version,
    }
    client.force_login(second_steward)
    assert client.post(url, form).status_code == 302
    client.force_login(city_steward)
    stale = client.post(url, {**form, "output_value": "1200000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert stale.status_code == 200
    assert "was changed by someone else" in stale.context["adminform"].form.non_field_errors()[0]
    report.refresh_from_db()
    assert (report.output_value, report.version) == (Decimal("1100000.00"), 2)


def test_the_api_states_the_window(officer_sip):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(officer_sip)
    with time_machine.travel(TODAY, tick=False):
        window = client.get("/api/reporting-window/").json()
    assert window == {
        "first": "2022Q1",
        "last": "2026Q3",
        "being_reported": "2026Q3",
        "current_quarter_drafts": False,
        "deadline_days": 15,
        "statement": "可填报季度：2022年第1季度至2026年第3季度。"
        "季度结束后开放填报，报送截止为季度结束后 15 天。",
    }
