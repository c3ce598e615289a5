"""The documented production set-up, run for real: settings from the environment with
DEBUG=0, collectstatic, gunicorn serving through whitenoise, a Celery worker, and /health/
telling the truth about each part."""

import re
import subprocess
import sys

import pytest
import requests
from django.conf import settings

from tests.services import (
    ROOT,
    require_services,
    service_env,
    start_gunicorn,
    start_worker,
    stop,
    wait_for,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]
PROXIED = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front sends


def test_gunicorn_whitenoise_worker_and_health_under_production_settings(tmp_path):
    require_services()
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "deployment-test-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "EMAIL_HOST": "127.0.0.1",
    }
    env = service_env(settings.CELERY_BROKER_URL, **production)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server, base = start_gunicorn(env)
    worker = start_worker(settings.CELERY_BROKER_URL, **production)
    try:

        def serving():
            """gunicorn answers"""
            try:
                return requests.get(f"{base}/accounts/login/", allow_redirects=False, timeout=5)
            except requests.ConnectionError:
                return None

        plain = wait_for(serving, 60)
        assert plain.status_code == 301
        assert plain.headers["Location"] == base.replace("http://", "https://") + "/accounts/login/"

        page = requests.get(f"{base}/accounts/login/", headers=PROXIED, timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
        cookie = page.headers["Set-Cookie"]
        assert "csrftoken=" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie

        script = re.search(r'src="(/static/cluster/app\.[0-9a-f]{12}\.js)"', page.text).group(1)
        static = requests.get(
            base + script, headers={**PROXIED, "Accept-Encoding": "gzip"}, timeout=10
        )
        assert static.status_code == 200
        assert static.headers["Content-Encoding"] == "gzip"
        assert "immutable" in static.headers["Cache-Control"]
        assert "data-autosubmit" in static.text

        def healthy():
            """/health/ sees the database, Redis and the worker"""
            answer = requests.get(f"{base}/health/", headers=PROXIED, timeout=10)
            return answer if answer.status_code == 200 else None

        health = wait_for(healthy, 90).json()
        # A load balancer's plain-HTTP probe is answered, not redirected to HTTPS.
        probe = requests.get(f"{base}/health/", allow_redirects=False, timeout=10)
        assert probe.status_code == 200
        assert health["status"] == "ok"
        assert health["checks"]["database"]["ok"] and health["checks"]["broker"]["ok"]
        assert health["checks"]["workers"]["count"] >= 1

        stop(worker)
        down = requests.get(f"{base}/health/", headers=PROXIED, timeout=10)
        assert down.status_code == 503
        assert down.json()["checks"]["workers"] == {"ok": False, "count": 0}
    finally:
        stop(worker)
        stop(server)
