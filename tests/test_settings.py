"""Settings fail loudly on a bad value, naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


PRINT_SETTINGS = (
    "import cluster.settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.LANGUAGE_CODE, "
    "s.TIME_ZONE, s.USE_TZ)"
)
PRINT_SAFETY = (
    "import cluster.settings as s; "
    "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.ALLOWED_HOSTS, "
    "s.DATABASES['default']['ENGINE'])"
)
SMTP = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
# What `make run` and the tests set; nothing else brings DEBUG or a key.
LAPTOP = {"DEBUG": "1", "SECRET_KEY": "laptop-" + "k" * 50}
# The test run's own (tests/environment.py) must not leak into what is checked here.
UNSET = {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"}


def load_settings(code=PRINT_SETTINGS, **env):
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_defaults_are_the_embedded_laptop_setup():
    result = load_settings(**LAPTOP)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "zh-hans",
        "Asia/Shanghai",
        "True",
    ]


def test_database_url_and_broker_switch_to_postgresql_and_redis():
    result = load_settings(
        DATABASE_URL="postgresql://u:p@db.example:5432/cm",
        CELERY_BROKER_URL="redis://r:6379/0",
        **LAPTOP,
    )
    assert result.stdout.split()[:2] == ["django.db.backends.postgresql", "False"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("EMAIL_PORT", "twenty-five"),
        ("EMAIL_PORT", "0"),
        ("EMAIL_USE_TLS", "sometimes"),
        ("DATABASE_URL", "mysql://u:p@h/db"),
        ("DATABASE_URL", "nonsense"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
        ("AXES_ADDRESS_FAILURE_LIMIT", "2"),  # below the account's 5
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("PASSWORD_RESETS_PER_ADDRESS", "many"),
        ("PASSWORD_RESETS_PER_ACCOUNT", "0"),
    ],
)
def test_bad_values_stop_the_process_naming_the_variable(variable, value):
    result = load_settings(**{**LAPTOP, **SMTP, variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


@pytest.mark.parametrize("debug", [{"DEBUG": "0"}, {"DEBUG": "1"}, {}], ids=["off", "on", "unset"])
def test_without_a_secret_key_no_process_starts(debug):
    result = load_settings(**debug)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


def test_with_debug_unset_the_app_runs_as_production():
    result = load_settings(PRINT_SAFETY, SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "[]", "django.db.backends.sqlite3"]


def test_make_run_works_on_a_fresh_clone_as_a_plain_http_demo(tmp_path):
    """`make run` with a stand-in for the virtualenv's python: every command it runs gets
    DEBUG on and a key, and those settings serve plain http on 127.0.0.1."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "commands.log"
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$DEBUG|$SECRET_KEY|$*" >> {log}\n')
    python.chmod(0o755)
    (venv / "bin" / ".installed").touch()  # newer than pyproject.toml: no install
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    subprocess.run(
        ["make", "--no-print-directory", "run", f"VENV={venv}"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    commands = [line.split("|") for line in log.read_text().splitlines()]
    assert [args.split()[1] for _debug, _key, args in commands] == [
        "migrate",
        "createcachetable",
        "create_demo_users",
        "load_plan",
        "seed_demo",
        "recompute_progress",
        "runserver",
    ]
    assert commands[-1][2] == "manage.py runserver 127.0.0.1:8000"
    debug, key = commands[0][:2]
    assert all((d, k) == (debug, key) for d, k, _args in commands)
    assert debug == "1" and key
    result = load_settings(PRINT_SAFETY, DEBUG=debug, SECRET_KEY=key)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "False",
        "False",
        "['127.0.0.1',",
        "'localhost',",
        "'[::1]']",
        "django.db.backends.sqlite3",
    ]


def test_security_headers_on_every_page(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_production_settings_from_the_environment():
    import subprocess
    import sys

    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "monitor.example.cn",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_AGE,"
        " s.MAILERS['default']['BACKEND'].rsplit('.', 2)[-2])"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["True", "31536000", "True", "True", "True", "28800", "smtp"]
