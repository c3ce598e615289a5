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


@pytest.fixture
def make_user(db):
    """A user with a role (a Role value, or None for a superuser) and optional district."""
    from django.contrib.auth.models import Group

    from cluster.models import District, Membership

    def make(username, role=None, district_code=None, *, staff=False):
        if role is None:
            return UserFactory(username=username, is_superuser=True, is_staff=True)
        user = UserFactory(username=username, is_staff=staff)
        user.groups.add(Group.objects.get(name=role))
        Membership.objects.create(
            user=user,
            district=District.objects.get(code=district_code) if district_code else None,
        )
        return user

    return make


SIP, KUNSHAN = "320571", "320583"


@pytest.fixture
def officer_sip(make_user):
    from cluster.access import Role

    return make_user("officer_sip", Role.DISTRICT_OFFICER, SIP)


@pytest.fixture
def officer_kunshan(make_user):
    from cluster.access import Role

    return make_user("officer_kunshan", Role.DISTRICT_OFFICER, KUNSHAN)


@pytest.fixture
def city_steward(make_user):
    from cluster.access import Role

    return make_user("city_steward", Role.CITY_STEWARD, staff=True)


@pytest.fixture
def city_viewer(make_user):
    from cluster.access import Role

    return make_user("city_viewer", Role.ADMINISTRATOR)


@pytest.fixture
def sip_viewer(make_user):
    from cluster.access import Role

    return make_user("sip_viewer", Role.ADMINISTRATOR, SIP)


@pytest.fixture
def two_districts(enterprise_factory, report_factory):
    """One firm in SIP and one in Kunshan, each with a draft 2025Q3 report."""
    from cluster.models import District

    sip = enterprise_factory(name_zh="园区甲公司", district=District.objects.get(code=SIP))
    kunshan = enterprise_factory(name_zh="昆山乙公司", district=District.objects.get(code=KUNSHAN))
    return {
        "sip": sip,
        "kunshan": kunshan,
        "sip_report": report_factory(enterprise=sip, year=2025, quarter=3),
        "kunshan_report": report_factory(enterprise=kunshan, year=2025, quarter=3),
    }


@pytest.fixture
def reference_data(transactional_db):
    """Transactional tests end with a flush, which empties the tables the data migrations
    filled. Reload them with the migrations' own load functions (same code, same rows)."""
    import importlib

    from django.apps import apps

    from cluster.models import District

    if District.objects.exists():
        return
    for module, function in (
        ("cluster.migrations.0002_reference_data", "load"),
        ("targets.migrations.0002_plan_targets", "load"),
        ("enterprises.migrations.0003_roles", "create_roles"),
        ("targets.migrations.0004_alert_rules", "load"),
        ("enterprises.migrations.0005_reporting_policy_and_reviewers", "create_policy"),
        ("enterprises.migrations.0005_reporting_policy_and_reviewers", "grant_policy"),
        ("targets.migrations.0006_read_only_administrators_view_alerts", "revoke"),
        ("targets.migrations.0007_baseline_year_and_strict_thresholds", "load"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)
