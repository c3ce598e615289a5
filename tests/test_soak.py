"""The load script's short form (CI): 20 officers and 5 stewards for 15 seconds through
gunicorn on this test database; `make soak` runs the long form."""

import json
import subprocess
import sys

import pytest

from tests.services import ROOT, require_services, service_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def test_no_lost_update_and_no_server_error_under_load(tmp_path):
    require_services()
    from django.conf import settings

    out, log = tmp_path / "soak.json", tmp_path / "soak.log"
    with log.open("w") as output:  # a file, not a pipe: a stray server cannot hold it open
        run = subprocess.run(
            [
                sys.executable,
                "bench/soak.py",
                "--seconds",
                "15",
                # On a busy machine the 15 seconds may hold fewer saves than the checks need.
                "--at-least-saves",
                "30",
                "--out",
                str(out),
            ],
            cwd=ROOT,
            env=service_env(settings.CELERY_BROKER_URL),
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    assert run.returncode == 0, log.read_text()[-5000:]
    report = json.loads(out.read_text())
    assert report["officers"] == 20 and report["stewards"] == 5
    assert report["accepted_saves"] > 20
    assert report["outcomes"].get("approve 200", 0) > 0
    assert report["server_errors_5xx"] == 0
    assert report["client_exceptions"] == []
    assert report["missing_from_history"] == 0
    assert report["final_value_not_last_accepted"] == 0
    assert report["lost_updates"] == 0
