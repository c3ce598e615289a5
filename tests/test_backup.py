"""Backup and restore as README "Backup and restore" documents them: pg_dump / pg_restore
into a new database, and dumpdata / loaddata into the SQLite default. Both restored copies
give the same progress figures as the original, recomputed there from the restored data."""

import glob
import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from targets.models import ProgressSnapshot
from tests.services import ROOT, database_url, require_services, service_env
from tests.targets.conftest import approve, kunshan, population, sip  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else name


def figures(rows):
    return sorted((key, kind, year, q, Decimal(str(actual))) for key, kind, year, q, actual in rows)


QUERY = (
    "SELECT t.key, s.scope_kind, s.year, s.quarter, s.actual FROM targets_progresssnapshot s "
    "JOIN targets_target t ON t.id = s.target_id WHERE s.basis = 'approved' "
    "AND s.scope_kind = 'city'"
)


def recompute(env):
    subprocess.run(
        [sys.executable, "manage.py", "recompute_progress"], cwd=ROOT, env=env, check=True
    )


def test_pg_dump_and_restore_give_the_same_progress(population, tmp_path):  # noqa: F811
    require_services()
    with connection.cursor() as cursor:
        cursor.execute(QUERY)
        original = figures(cursor.fetchall())
    assert len(original) > 20
    assert ("total_output", "city", 2025, 2, Decimal("3200000000.00")) in original
    dump = tmp_path / "cluster.dump"
    subprocess.run([pg_tool("pg_dump"), "-Fc", "-f", str(dump), database_url()], check=True)
    restored_name = connection.settings_dict["NAME"] + "_restored"
    with psycopg.connect(database_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
        admin.execute(f'CREATE DATABASE "{restored_name}"')
    restored_url = database_url().rsplit("/", 1)[0] + "/" + restored_name
    try:
        subprocess.run(
            [pg_tool("pg_restore"), "--no-owner", "-d", restored_url, str(dump)], check=True
        )
        with psycopg.connect(restored_url) as restored:
            restored.execute("DELETE FROM targets_progresssnapshot")
            restored.commit()
        recompute(service_env("", DATABASE_URL=restored_url, CELERY_BROKER_URL=""))
        with psycopg.connect(restored_url) as restored:
            assert figures(restored.execute(QUERY).fetchall()) == original
    finally:
        with psycopg.connect(database_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')


def test_dumpdata_and_loaddata_into_sqlite_give_the_same_progress(population, tmp_path):  # noqa: F811
    require_services()
    original = figures(
        ProgressSnapshot.objects.filter(basis="approved", scope_kind="city").values_list(
            "target__key", "scope_kind", "year", "quarter", "actual"
        )
    )
    dump = tmp_path / "cluster.json"
    source = service_env("")
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "dumpdata",
            "--natural-foreign",
            "--exclude",
            "contenttypes",
            "--exclude",
            "auth.permission",
            "--exclude",
            "targets.progresssnapshot",
            "--exclude",
            "admin.logentry",
            "--exclude",
            "sessions",
            "-o",
            str(dump),
        ],
        cwd=ROOT,
        env=source,
        check=True,
    )
    assert json.loads(dump.read_text())
    sqlite_file = tmp_path / "restored.sqlite3"
    target = service_env("", DATABASE_URL=f"sqlite:///{sqlite_file}", CELERY_BROKER_URL="")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=target, check=True
    )
    # The migrations load the reference data; the dump brings its own copy.
    subprocess.run(
        [sys.executable, "manage.py", "flush", "--noinput"], cwd=ROOT, env=target, check=True
    )
    subprocess.run(
        [sys.executable, "manage.py", "loaddata", str(dump)], cwd=ROOT, env=target, check=True
    )
    recompute(target)
    with sqlite3.connect(Path(sqlite_file)) as restored:
        assert figures(restored.execute(QUERY).fetchall()) == original
