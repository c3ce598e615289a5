"""A Celery worker's log keeps every line: each job it receives and what each job reports,
also after a job that enqueued another (the recompute enqueues the alert evaluation). Before
the fix the outbox's send ran `django.setup()` again in the worker, whose new console handler
wrote into Celery's redirected stderr and was dropped: the log fell silent after the first
job."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from cluster.celery import app
from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport
from tests.services import require_services, start_worker, stop, wait_for
from tests.targets.conftest import approve, kunshan, population, sip  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

RECOMPUTED = re.compile(r"recomputed for 1 report\(s\): completeness [\d.]+ s, approved [\d.]+ s")


def received(log: str, task: str) -> int:
    return len(re.findall(rf"Task {re.escape(task)}\[[^]]+\] received", log))


def test_a_worker_logs_every_job_after_one_that_enqueued_another(
    tmp_path,
    population,  # noqa: F811
):
    require_services()
    quarter = Quarter(2025, 2)
    reports = list(
        QuarterlyReport.objects.filter(year=quarter.year, quarter=quarter.quarter)
        .order_by("pk")
        .values_list("pk", flat=True)[:2]
    )
    assert len(reports) == 2
    app.control.purge()
    log = tmp_path / "worker.log"
    worker = start_worker(settings.CELERY_BROKER_URL, logfile=log)
    try:
        wait_for(lambda: app.control.ping(timeout=1), 60, "the worker answers")
        for done, report in enumerate(reports, 1):
            app.send_task("targets.recompute_for_reports", args=[[report]])
            # Each job ends by enqueueing the alert evaluation through the outbox.
            wait_for(
                lambda done=done: received(log.read_text(), "targets.evaluate_alerts") == done,
                120,
                f"the worker logs the alert evaluation of job {done}",
            )
        text = log.read_text()
    finally:
        stop(worker)
    assert received(text, "targets.recompute_for_reports") == 2
    assert len(RECOMPUTED.findall(text)) == 2
