import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from cluster.quarters import Quarter
from enterprises.choices import EntryMode, ReportStatus
from enterprises.models import QuarterlyReport, ReportRevision
from enterprises.services.report_entry import ReportConflict, report_save
from enterprises.services.reports import reports_approve, reports_return, reports_submit

pytestmark = pytest.mark.django_db

Q3 = Quarter(2025, 3)


def figures(output="1000000.00", revenue="900000.00", **more):
    values = {
        "output_value": Decimal(output),
        "operating_revenue": Decimal(revenue),
        "rd_spending": None,
        "employees": None,
        "invention_patents": None,
        "high_value_patents": None,
    }
    values.update(more)
    return values


def save(actor, enterprise, quarter=Q3, version=None, **kwargs):
    values = kwargs.pop("values", None) or figures()
    return report_save(
        actor=actor,
        enterprise=enterprise,
        quarter=quarter,
        values=values,
        version=version,
        **kwargs,
    )


def test_first_save_creates_a_draft_with_history(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    report = save(officer_sip, firm)
    assert (report.status, report.version, report.revision) == ("draft", 1, 0)
    assert report.output_value == Decimal("1000000.00")
    assert [(h.history_type, h.history_user) for h in report.history.all()] == [("+", officer_sip)]


def test_saving_the_same_figures_again_changes_nothing(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    report = save(officer_sip, firm)
    again = save(officer_sip, firm, version=report.version)
    assert again.version == 1
    assert report.history.count() == 1


def test_stale_version_is_a_conflict_and_nothing_is_overwritten(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    first = save(officer_sip, firm)
    save(officer_sip, firm, version=1, values=figures(output="2000000.00"))
    with pytest.raises(ReportConflict) as caught:
        save(officer_sip, firm, version=1, values=figures(output="3000000.00"))
    assert caught.value.current.version == 2
    assert caught.value.current.output_value == Decimal("2000000.00")
    first.refresh_from_db()
    assert first.output_value == Decimal("2000000.00")


def test_officer_cannot_save_another_districts_firm(officer_kunshan, enterprise_factory):
    with pytest.raises(PermissionDenied):
        save(officer_kunshan, enterprise_factory())
    assert not QuarterlyReport.objects.exists()


def test_read_only_administrator_cannot_save(city_viewer, enterprise_factory):
    with pytest.raises(PermissionDenied):
        save(city_viewer, enterprise_factory())


def test_jump_beyond_threshold_needs_a_note(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    save(officer_sip, firm, quarter=Quarter(2025, 2), values=figures(output="1000000"))
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        save(officer_sip, firm, values=figures(output="1600000", revenue="900000"))
    assert caught.value.message_dict["anomaly_note"] == [
        "output value changed by more than 50% against the previous quarter: confirm with a note."
    ]
    report = save(
        officer_sip,
        firm,
        values=figures(output="1600000", revenue="900000"),
        anomaly_note="新产线投产",
    )
    assert report.anomaly_note == "新产线投产"
    # 49% is within the threshold: no note needed.
    other = enterprise_factory()
    save(officer_sip, other, quarter=Quarter(2025, 2), values=figures(output="1000000"))
    assert save(officer_sip, other, values=figures(output="1490000")).anomaly_note == ""


def test_year_to_date_entry_is_converted_to_the_quarters_own_values(
    officer_sip, enterprise_factory
):
    firm = enterprise_factory()
    save(
        officer_sip,
        firm,
        quarter=Quarter(2025, 1),
        values=figures("100", "90", invention_patents=1),
    )
    save(
        officer_sip,
        firm,
        quarter=Quarter(2025, 2),
        values=figures("120", "100", invention_patents=2),
    )
    report = save(
        officer_sip,
        firm,
        mode=EntryMode.YEAR_TO_DATE,
        values=figures("350", "280", invention_patents=4, employees=30),
    )
    assert report.output_value == Decimal("130")
    assert report.operating_revenue == Decimal("90")
    assert report.invention_patents == 1
    assert report.employees == 30  # a head count, not cumulated


def test_year_to_date_below_the_earlier_quarters_is_refused(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    save(officer_sip, firm, quarter=Quarter(2025, 1), values=figures("100", "90"))
    save(officer_sip, firm, quarter=Quarter(2025, 2), values=figures("120", "100"))
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        save(officer_sip, firm, mode=EntryMode.YEAR_TO_DATE, values=figures("200", "300"))
    assert "smaller than the previous quarter's (0.02 万元)" in str(
        caught.value.message_dict["output_value"]
    )
    assert not QuarterlyReport.objects.filter(quarter=3).exists()


def test_year_to_date_needs_the_earlier_quarters(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        save(officer_sip, firm, mode=EntryMode.YEAR_TO_DATE, values=figures("300", "300"))
    assert caught.value.message_dict["output_value"] == [
        "Year-to-date entry needs 2025Q1, which is neither among the rows sent nor stored."
    ]


def workflow(officer, steward, firm):
    save(officer, firm)
    reports_submit(actor=officer, district=firm.district, quarter=Q3)
    report = QuarterlyReport.objects.get(enterprise=firm)
    reports_approve(actor=steward, report_ids=[report.pk])
    report.refresh_from_db()
    return report


def test_submit_approve_creates_revision_one(officer_sip, city_steward, enterprise_factory):
    firm = enterprise_factory()
    report = workflow(officer_sip, city_steward, firm)
    assert (report.status, report.revision) == ("approved", 1)
    revision = report.revisions.get()
    assert (revision.revision, revision.output_value, revision.approved_by) == (
        1,
        Decimal("1000000.00"),
        city_steward,
    )
    assert [h.history_change_reason for h in report.history.order_by("history_date")] == [
        "entry",
        "submit",
        "approve",
    ]


def test_approved_report_is_locked_until_a_reason_is_given(
    officer_sip, city_steward, enterprise_factory
):
    firm = enterprise_factory()
    report = workflow(officer_sip, city_steward, firm)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        save(officer_sip, firm, version=report.version, values=figures(output="1100000"))
    assert caught.value.message_dict["change_reason"] == [
        "The report is approved: give the reason for the change."
    ]
    report.refresh_from_db()
    assert report.output_value == Decimal("1000000.00")


def test_revision_after_approval_keeps_the_old_vintage(
    officer_sip, city_steward, enterprise_factory
):
    firm = enterprise_factory()
    report = workflow(officer_sip, city_steward, firm)
    first_approval = timezone.now()
    revised = save(
        officer_sip,
        firm,
        version=report.version,
        values=figures(output="1100000"),
        change_reason="统计局更正",
    )
    assert (revised.status, revised.change_reason) == ("submitted", "统计局更正")
    # Until the revision is approved the official figure is still the first one.
    assert ReportRevision.objects.as_of(timezone.now()).get().output_value == Decimal("1000000")
    reports_approve(actor=city_steward, report_ids=[report.pk])
    now = timezone.now()
    assert ReportRevision.objects.as_of(now).get().output_value == Decimal("1100000")
    assert ReportRevision.objects.as_of(first_approval).get().output_value == Decimal("1000000")
    assert ReportRevision.objects.as_of(first_approval - dt.timedelta(days=1)).count() == 0
    assert list(report.revisions.order_by("revision").values_list("revision", "change_reason")) == [
        (1, ""),
        (2, "统计局更正"),
    ]


def test_return_needs_a_reason_and_shows_it_to_the_officer(
    officer_sip, city_steward, enterprise_factory
):
    firm = enterprise_factory()
    save(officer_sip, firm)
    reports_submit(actor=officer_sip, district=firm.district, quarter=Q3)
    report = QuarterlyReport.objects.get()
    with pytest.raises(ValidationError):
        reports_return(actor=city_steward, report_ids=[report.pk], reason="  ")
    reports_return(actor=city_steward, report_ids=[report.pk], reason="营业收入与税务数据不符")
    report.refresh_from_db()
    assert (report.status, report.return_reason, report.returned_by) == (
        "returned",
        "营业收入与税务数据不符",
        city_steward,
    )
    # The officer corrects and resubmits; the reason is cleared on resubmission.
    save(officer_sip, firm, version=report.version, values=figures(revenue="950000"))
    reports_submit(actor=officer_sip, district=firm.district, quarter=Q3)
    report.refresh_from_db()
    assert (report.status, report.return_reason) == ("submitted", "")


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ReportStatus.DRAFT, "approve"),
        (ReportStatus.DRAFT, "return"),
        (ReportStatus.APPROVED, "approve"),
        (ReportStatus.RETURNED, "approve"),
    ],
)
def test_forbidden_transitions_are_refused(
    officer_sip, city_steward, enterprise_factory, status, action
):
    firm = enterprise_factory()
    report = save(officer_sip, firm)
    QuarterlyReport.objects.filter(pk=report.pk).update(
        status=status,
        submitted_at=timezone.now(),
        approved_at=timezone.now(),
        return_reason="x",
        revision=1,
    )
    with pytest.raises(ValidationError):
        if action == "approve":
            reports_approve(actor=city_steward, report_ids=[report.pk])
        else:
            reports_return(actor=city_steward, report_ids=[report.pk], reason="r")
    report.refresh_from_db()
    assert report.status == status


def test_officer_cannot_approve(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    save(officer_sip, firm)
    reports_submit(actor=officer_sip, district=firm.district, quarter=Q3)
    with pytest.raises(PermissionDenied):
        reports_approve(actor=officer_sip, report_ids=[QuarterlyReport.objects.get().pk])


def test_submitted_report_cannot_be_changed(officer_sip, enterprise_factory):
    firm = enterprise_factory()
    save(officer_sip, firm)
    reports_submit(actor=officer_sip, district=firm.district, quarter=Q3)
    with pytest.raises(ValidationError):
        save(officer_sip, firm, version=2, values=figures(output="5"))


def test_submission_of_selected_firms_only(officer_sip, enterprise_factory):
    first, second = enterprise_factory(), enterprise_factory()
    save(officer_sip, first)
    save(officer_sip, second)
    count = reports_submit(
        actor=officer_sip, district=first.district, quarter=Q3, enterprise_ids=[second.pk]
    )
    assert count == 1
    assert dict(QuarterlyReport.objects.values_list("enterprise", "status")) == {
        first.pk: "draft",
        second.pk: "submitted",
    }


def test_submission_without_output_value_is_refused_whole(officer_sip, enterprise_factory):
    complete, incomplete = enterprise_factory(), enterprise_factory(name_zh="缺数企业")
    save(officer_sip, complete)
    save(officer_sip, incomplete, values=figures(revenue="1") | {"output_value": None})
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        reports_submit(actor=officer_sip, district=complete.district, quarter=Q3)
    assert "缺数企业" in caught.value.messages[0]
    assert set(QuarterlyReport.objects.values_list("status", flat=True)) == {"draft"}


def test_officer_cannot_submit_another_district(officer_kunshan, officer_sip, enterprise_factory):
    firm = enterprise_factory()
    save(officer_sip, firm)
    with pytest.raises(PermissionDenied):
        reports_submit(actor=officer_kunshan, district=firm.district, quarter=Q3)
