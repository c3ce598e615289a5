"""A real Celery worker on the real Redis broker: a submitted and approved report leads to a
recomputed snapshot and an opened alert, with nothing called by hand.

The worker runs in its own process on today's date (2026-11-30): target alerts are raised for
plans in force, so the report is a 2026Q3 report of the photonics plan (2024–2026)."""

from decimal import Decimal

import pytest
from django.conf import settings

from cluster.celery import app
from cluster.quarters import Quarter
from enterprises.services.report_entry import report_save
from enterprises.services.reports import reports_approve, reports_submit
from targets.choices import Basis, ScopeKind
from targets.models import Alert, AlertRule, ProgressSnapshot
from tests.services import wait_for
from tests.targets.kinds_data import load_photonics, member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def test_submission_and_approval_reach_the_worker(officer_sip, city_steward, steward):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("This test needs the Redis broker: run it with `make test`.")
    from celery.contrib.testing.worker import start_worker

    AlertRule.objects.exclude(kind="target_off_track").update(enabled=False)
    app.loader.import_default_modules()
    app.control.purge()  # tasks queued by earlier tests refer to rows that are gone
    load_photonics(steward)
    firm = member("光电测试公司", ("photonics", "1.01"))
    quarter = Quarter(2026, 3)
    revenue = {"target__plan__key": "photonics-2024-2026", "target__key": "revenue"}
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        report_save(
            actor=officer_sip,
            enterprise=firm,
            quarter=quarter,
            version=None,
            values={"output_value": Decimal("1"), "operating_revenue": Decimal("3000000000")},
        )
        reports_submit(actor=officer_sip, district=firm.district, quarter=quarter)

        def preview_snapshot():
            """a preview snapshot that counts the submitted figure"""
            return ProgressSnapshot.objects.filter(
                **revenue,
                scope_kind=ScopeKind.CITY,
                basis=Basis.PREVIEW,
                year=2026,
                quarter=3,
                actual=Decimal("3000000000"),
            ).first()

        wait_for(preview_snapshot)
        report = firm.reports.get()
        reports_approve(actor=city_steward, report_ids=[report.pk])

        def approved_snapshot():
            """an approved snapshot from the approval's vintage"""
            return ProgressSnapshot.objects.filter(
                **revenue,
                scope_kind=ScopeKind.CITY,
                basis=Basis.APPROVED,
                year=2026,
                quarter=3,
                vintage=report.revisions.get().approved_at,
            ).first()

        snapshot = wait_for(approved_snapshot)
        assert snapshot.actual == Decimal("3000000000.00")
        assert snapshot.status == "off_track"

        def alert():
            """the off-track alert of the revenue target, with the approved figure (it may
            have opened earlier, after the submission, with nothing approved yet)"""
            return (
                Alert.objects.filter(
                    rule__kind="target_off_track",
                    **revenue,
                    numbers__actual="3000000000.00",
                )
                .active()
                .first()
            )

        opened = wait_for(alert)
        assert opened.state == "open"
        assert Alert.objects.filter(rule__kind="target_off_track", **revenue).active().count() == 1
