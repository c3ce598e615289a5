import os

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import (
    DesignationFactory,
    EnterpriseFactory,
    ListingFactory,
    QuarterlyReportFactory,
    UserFactory,
)


def _services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1" or os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session", autouse=True)
def _real_services(django_db_blocker):
    """Under `make test` and in CI the suite runs on PostgreSQL and a real Redis broker:
    a missing service fails the run instead of letting tests pass on stand-ins."""
    if not _services_required():
        return
    if connection.vendor != "postgresql":
        pytest.exit(
            f"REQUIRE_SERVICES/CI is set but the database is {connection.vendor}; "
            "set DATABASE_URL to PostgreSQL (make test does this).",
            returncode=3,
        )
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.exit(
            "REQUIRE_SERVICES/CI is set but CELERY_BROKER_URL is not a Redis URL "
            "(make test starts one).",
            returncode=3,
        )
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis at {settings.CELERY_BROKER_URL} is not reachable: {exc}", returncode=3)


@pytest.fixture
def steward(db):
    return UserFactory(is_staff=True, is_superuser=True, username="steward")


@pytest.fixture
def enterprise_factory(db):
    return EnterpriseFactory


@pytest.fixture
def report_factory(db):
    return QuarterlyReportFactory


@pytest.fixture
def designation_factory(db):
    return DesignationFactory


@pytest.fixture
def listing_factory(db):
    return ListingFactory
