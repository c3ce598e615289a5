"""Faults with the real services: Redis stopped and started again, a Celery worker killed
with SIGKILL in the middle of a task, the database connection cut during an import."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from cluster.celery import app
from cluster.jobs import dispatch_pending
from cluster.models import District, PendingJob
from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport
from enterprises.services.report_entry import report_save
from enterprises.services.reports import reports_approve, reports_submit
from targets.choices import Basis, ScopeKind
from targets.models import ProgressSnapshot
from tests.factories import valid_uscc
from tests.services import (
    RedisServer,
    database_url,
    kill,
    require_services,
    start_worker,
    stop,
    wait_for,
)
from tests.targets.conftest import approve, kunshan, population, sip  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def use_broker(url: str) -> None:
    """Point this process's Celery publisher at another broker."""
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
    app._pool = None
    app.amqp._producer_pool = None


def snapshot_rows():
    return sorted(
        ProgressSnapshot.objects.values_list(
            "target__key",
            "scope_kind",
            "district_id",
            "sector_id",
            "basis",
            "year",
            "quarter",
            "vintage",
            "actual",
            "projection",
            "status",
        ),
        key=str,
    )


def test_redis_down_pages_and_imports_work_and_progress_catches_up(
    client, officer_sip, city_steward, enterprise_factory
):
    require_services()
    redis = RedisServer().start()
    use_broker(redis.url)
    worker = start_worker(redis.url)
    try:
        sip_district = District.objects.get(code="320571")
        firm = enterprise_factory(district=sip_district, uscc=valid_uscc(41))
        other = enterprise_factory(district=sip_district, uscc=valid_uscc(42))
        wait_for(lambda: app.control.ping(timeout=1), 60, "the worker answers")
        redis.stop()

        quarter = Quarter(2025, 4)
        report_save(
            actor=officer_sip,
            enterprise=firm,
            quarter=quarter,
            version=None,
            values={"output_value": Decimal("3000000000"), "operating_revenue": Decimal("1")},
        )
        reports_submit(actor=officer_sip, district=sip_district, quarter=quarter)
        reports_approve(actor=city_steward, report_ids=[firm.reports.get().pk])
        assert PendingJob.objects.count() >= 2  # the submission's and the approval's

        client.force_login(officer_sip)
        dashboard = client.get(reverse("targets:home"), follow=True)
        assert dashboard.status_code == 200
        assert "苏州工业园区" in dashboard.content.decode()
        upload = client.post(
            reverse("reports:import"),
            {
                "kind": "reports",
                "unit": "wan",
                "mode": "quarterly",
                "file": SimpleUploadedFile(
                    "r.csv", f"uscc,period,output_value\r\n{other.uscc},2025Q4,500\r\n".encode()
                ),
            },
        )
        done = client.post(upload["Location"] + "confirm/")
        assert done.status_code == 302
        assert QuarterlyReport.objects.get(enterprise=other).output_value == Decimal("5000000.00")

        health = client.get(reverse("health"))
        assert health.status_code == 503
        assert health.json()["checks"]["broker"]["ok"] is False
        waiting = PendingJob.objects.count()
        assert health.json()["checks"]["waiting_jobs"]["count"] == waiting

        redis.start()  # the same port: the worker reconnects by itself
        assert dispatch_pending() == waiting  # what celery beat runs every minute
        assert PendingJob.objects.count() == 0

        def caught_up():
            """the approved snapshot counts the figure approved while Redis was down"""
            return ProgressSnapshot.objects.filter(
                target__key="total_output",
                scope_kind=ScopeKind.CITY,
                basis=Basis.APPROVED,
                year=2025,
                quarter=4,
                actual=Decimal("3000000000.00"),
            ).exists()

        wait_for(caught_up, 90)
        wait_for(lambda: client.get(reverse("health")).status_code == 200, 60, "healthy again")
    finally:
        stop(worker)
        redis.stop()
        use_broker(settings.CELERY_BROKER_URL)


def test_worker_killed_mid_task_is_redelivered_with_the_same_result(population):  # noqa: F811
    require_services()
    from targets.tasks import recompute_progress

    ProgressSnapshot.objects.all().delete()
    recompute_progress.run()  # one clean run, in this process
    clean = snapshot_rows()
    assert len(clean) > 50
    ProgressSnapshot.objects.all().delete()
    app.control.purge()

    database = connection.settings_dict["NAME"]
    locker = psycopg.connect(database_url())
    locker.execute("LOCK TABLE targets_progresssnapshot IN ACCESS EXCLUSIVE MODE")
    first = start_worker(settings.CELERY_BROKER_URL, CELERY_VISIBILITY_TIMEOUT="3")
    second = None
    try:
        app.send_task("targets.recompute_progress")
        with psycopg.connect(database_url(), autocommit=True) as watcher:

            def blocked():
                """the worker's task waits on the snapshot table"""
                return watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock'",
                    [database],
                ).fetchone()[0]

            wait_for(blocked, 60)
        kill(first)  # mid-task: nothing acknowledged, nothing written
        locker.rollback()
        assert ProgressSnapshot.objects.count() == 0

        second = start_worker(settings.CELERY_BROKER_URL, CELERY_VISIBILITY_TIMEOUT="3")
        wait_for(lambda: ProgressSnapshot.objects.count() == len(clean), 120, "redelivered")
        assert snapshot_rows() == clean
    finally:
        locker.close()
        kill(first)
        if second:
            stop(second)


def test_database_lost_during_an_import_fails_whole_and_can_be_retried(
    client, officer_sip, enterprise_factory
):
    require_services()
    sip_district = District.objects.get(code="320571")
    firms = [enterprise_factory(district=sip_district, uscc=valid_uscc(50 + i)) for i in range(3)]
    content = "uscc,period,output_value\r\n" + "".join(
        f"{firm.uscc},2025Q3,{100 * (i + 1)}\r\n" for i, firm in enumerate(firms)
    )
    client.force_login(officer_sip)
    upload = client.post(
        reverse("reports:import"),
        {
            "kind": "reports",
            "unit": "wan",
            "mode": "quarterly",
            "file": SimpleUploadedFile("r.csv", content.encode()),
        },
    )
    confirm_url = upload["Location"] + "confirm/"
    database = connection.settings_dict["NAME"]
    history_table = QuarterlyReport.history.model._meta.db_table

    locker = psycopg.connect(database_url())
    locker.execute(f"LOCK TABLE {history_table} IN ACCESS EXCLUSIVE MODE")
    terminated = []

    def cut_the_import_connection():
        with psycopg.connect(database_url(), autocommit=True) as admin:

            def import_backend():
                """the import's connection, waiting to write history"""
                return admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock' AND query ILIKE %s",
                    [database, f"%{history_table}%"],
                ).fetchone()

            (pid,) = wait_for(import_backend, 60)
            terminated.append(admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone())
        locker.rollback()

    cutter = threading.Thread(target=cut_the_import_connection)
    cutter.start()
    try:
        failed = client.post(confirm_url, headers={"accept-language": "en"})
    finally:
        cutter.join(90)
        locker.close()
    assert terminated == [(True,)]
    assert failed.status_code == 503
    assert "nothing from this request was saved" in failed.content.decode()
    assert QuarterlyReport.objects.count() == 0
    assert QuarterlyReport.history.count() == 0

    retried = client.post(confirm_url)
    assert retried.status_code == 302
    assert sorted(QuarterlyReport.objects.values_list("output_value", flat=True)) == [
        Decimal("1000000.00"),
        Decimal("2000000.00"),
        Decimal("3000000.00"),
    ]
    assert QuarterlyReport.history.count() == 3
