""" "The approved figures as known at V": each revision is in force from its approval until the
next one's (approved_at ≤ V < superseded_at). The interval is written by every door that
approves, guarded by the database, filled in for the revisions approved before it existed,
and reads what the earlier anti-join read ("the newest revision approved by V")."""

import datetime as dt
import importlib
import random
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from rest_framework.test import APIClient

from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport, ReportRevision
from enterprises.services.report_entry import report_save
from enterprises.services.reports import reports_approve, reports_submit, revisions_record

pytestmark = pytest.mark.django_db

Q3 = Quarter(2025, 3)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
APPROVALS = [dt.datetime(2025, 10, day, 9, tzinfo=SHANGHAI) for day in (10, 14, 20, 27)]
OUTPUTS = ["1000000", "1100000", "1210000", "1331000"]


def anti_join(moment):
    """The reading before the interval, kept as the reference: per report, the newest
    revision approved by `moment`."""
    newer = ReportRevision.objects.filter(
        report_id=OuterRef("report_id"), approved_at__lte=moment, revision__gt=OuterRef("revision")
    )
    return ReportRevision.objects.filter(approved_at__lte=moment).exclude(Exists(newer))


def figures(output):
    return {
        "output_value": Decimal(output),
        "operating_revenue": Decimal(output),
        "rd_spending": None,
        "employees": None,
        "invention_patents": None,
        "high_value_patents": None,
    }


def enter_and_submit(officer, firm, output, version=None):
    """The officer's figures, submitted: the first entry, or a change after approval."""
    report = report_save(
        actor=officer,
        enterprise=firm,
        quarter=Q3,
        values=figures(output),
        version=version,
        change_reason="统计局更正" if version else "",
    )
    if report.status != "submitted":
        reports_submit(actor=officer, district=firm.district, quarter=Q3)
    return QuarterlyReport.objects.get(pk=report.pk)


@pytest.fixture
def four_approvals(officer_sip, city_steward, enterprise_factory):
    """A report approved, changed and approved again three times, at APPROVALS."""
    firm = enterprise_factory()
    report = None
    for at, output in zip(APPROVALS, OUTPUTS, strict=True):
        with time_machine.travel(at - dt.timedelta(hours=1), tick=False):
            report = enter_and_submit(officer_sip, firm, output, report and report.version)
        with time_machine.travel(at, tick=False):
            reports_approve(actor=city_steward, report_ids=[report.pk])
        report.refresh_from_db()
    return report


def shown_at(moment):
    return [r.output_value for r in ReportRevision.objects.as_of(moment)]


def test_each_moment_reads_the_revision_in_force_then(four_approvals):
    second = dt.timedelta(seconds=1)
    assert shown_at(APPROVALS[0] - second) == []
    for index, at in enumerate(APPROVALS):
        in_force = [Decimal(OUTPUTS[index])]
        assert shown_at(at) == in_force  # exactly at an approval, the new figures
        assert shown_at(at + second) == in_force
        if index:
            assert shown_at(at - second) == [Decimal(OUTPUTS[index - 1])]
    assert shown_at(APPROVALS[-1] + dt.timedelta(days=400)) == [Decimal(OUTPUTS[-1])]
    rows = four_approvals.revisions.order_by("revision")
    assert [(r.approved_at, r.superseded_at) for r in rows] == list(
        zip(APPROVALS, [*APPROVALS[1:], None], strict=True)
    )


def random_histories(rng, enterprise_factory, reports=12):
    """Reports with up to five approvals each, at random times, some at the same instant as
    another report's, some revisions approved in the same second as the one before."""
    start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    moments = []
    for _n in range(reports):
        at = start + dt.timedelta(minutes=rng.randrange(0, 600))
        report = QuarterlyReport.objects.create(
            enterprise=enterprise_factory(),
            year=2025,
            quarter=3,
            status="approved",
            submitted_at=at,
            approved_at=at,
            revision=1,
        )
        for approval in range(rng.randint(1, 5)):
            if approval:
                at += dt.timedelta(minutes=rng.choice([0, 1, 7, 60]))
                report.revision += 1
            report.output_value = Decimal(rng.randrange(1, 10**6))
            report.approved_at = at
            revisions_record(reports=[report])
            moments.append(at)
        report.save()
    return moments


@pytest.mark.parametrize("seed", range(4))
def test_the_interval_reads_what_the_anti_join_read_over_random_histories(seed, enterprise_factory):
    rng = random.Random(seed)
    moments = random_histories(rng, enterprise_factory)
    second = dt.timedelta(seconds=1)
    probes = {m + delta for m in moments for delta in (-second, dt.timedelta(0), second)}
    for moment in sorted(probes):
        interval = set(ReportRevision.objects.as_of(moment).values_list("pk", flat=True))
        assert interval == set(anti_join(moment).values_list("pk", flat=True)), moment
    # "Current" is the revision nothing supersedes: the report's own revision number.
    assert set(ReportRevision.objects.current()) == set(
        ReportRevision.objects.filter(revision=F("report__revision"))
    )


def approve_through(door, client, steward, report):
    if door == "service":
        reports_approve(actor=steward, report_ids=[report.pk])
        return
    if door == "api":
        api = APIClient()
        api.force_authenticate(steward)
        assert api.post(f"/api/quarterly-reports/{report.pk}/approve/").status_code == 200
        return
    client.force_login(steward)
    if door == "worksheet":
        url = reverse("reports:review", args=[report.enterprise.district_id, str(Q3)])
        answer = client.post(url, {"report": report.pk, "action": "approve"}, HTTP_HX_REQUEST="1")
    else:
        data = {"report": [report.pk], "action": "approve", f"version-{report.pk}": report.version}
        headers = {"HX-Request": "true"} if door == "queue_row" else {}
        answer = client.post(reverse("reports:queue-review"), data, headers=headers, follow=True)
    assert answer.status_code == 200


@pytest.mark.parametrize("door", ["service", "api", "worksheet", "queue_row", "queue_bulk"])
def test_every_door_that_approves_supersedes_the_revision_before(
    door, client, officer_sip, city_steward, enterprise_factory
):
    firm = enterprise_factory()
    with time_machine.travel(APPROVALS[0] - dt.timedelta(hours=1), tick=False):
        report = enter_and_submit(officer_sip, firm, OUTPUTS[0])
    with time_machine.travel(APPROVALS[0], tick=False):
        reports_approve(actor=city_steward, report_ids=[report.pk])
    report.refresh_from_db()
    with time_machine.travel(APPROVALS[1] - dt.timedelta(hours=1), tick=False):
        report = enter_and_submit(officer_sip, firm, OUTPUTS[1], report.version)
    with time_machine.travel(APPROVALS[1], tick=False):
        approve_through(door, client, city_steward, report)
    rows = list(report.revisions.order_by("revision"))
    assert [(r.revision, r.output_value, r.approved_at, r.superseded_at) for r in rows] == [
        (1, Decimal(OUTPUTS[0]), APPROVALS[0], APPROVALS[1]),
        (2, Decimal(OUTPUTS[1]), APPROVALS[1], None),
    ]


def test_the_database_refuses_a_second_current_revision(four_approvals):
    latest = four_approvals.revisions.get(superseded_at__isnull=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRevision.objects.filter(pk=latest.pk - 1).update(superseded_at=None)
    duplicate = ReportRevision.of(four_approvals)
    duplicate.revision += 1
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_the_database_refuses_a_revision_superseded_before_its_approval(four_approvals):
    first = four_approvals.revisions.get(revision=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRevision.objects.filter(pk=first.pk).update(
            superseded_at=first.approved_at - dt.timedelta(seconds=1)
        )


def test_the_migration_fills_the_interval_of_the_revisions_approved_before_it(
    enterprise_factory,
):
    random_histories(random.Random(7), enterprise_factory)
    written = dict(ReportRevision.objects.values_list("pk", "superseded_at"))
    assert sum(1 for moment in written.values() if moment) > 5
    # Wrong everywhere, and still within the constraints: the fill must set every row.
    ReportRevision.objects.update(superseded_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    migration = importlib.import_module("enterprises.migrations.0010_revision_superseded_at")
    migration.fill_superseded_at(ReportRevision)
    assert dict(ReportRevision.objects.values_list("pk", "superseded_at")) == written
