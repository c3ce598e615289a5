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
SMTP = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}


def load_settings(**env):
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_defaults_are_the_embedded_laptop_setup():
    result = load_settings()
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
        DATABASE_URL="postgresql://u:p@db.example:5432/cm", CELERY_BROKER_URL="redis://r:6379/0"
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
    ],
)
def test_bad_values_stop_the_process_naming_the_variable(variable, value):
    result = load_settings(**SMTP, **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_production_without_a_secret_key_refuses_to_start():
    result = load_settings(DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
