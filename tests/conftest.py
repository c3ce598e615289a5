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


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in English leaves English active in the thread (LocaleMiddleware does not
    switch back), so a test reading text outside a request would depend on the test before."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


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


@pytest.fixture(scope="session", autouse=True)
def _migrated_rows(request, django_db_blocker) -> str:
    """Every row the migrations left in the test database (reference data, the plans of
    the plan files, roles and their rights, alert rules, the reporting policy, and their
    history), as JSON with natural keys for users, groups, permissions and content types —
    read once, at the start of the session, before any test changes anything."""
    from django.apps import apps
    from django.core import serializers

    if not any("reference_data" in item.fixturenames for item in request.session.items):
        return ""  # no test of the session needs them (and maybe no test database exists)
    request.getfixturevalue("django_db_setup")
    skipped = {"contenttypes", "sessions", "admin"}
    with django_db_blocker.unblock():
        models = [
            model
            for model in serializers.sort_dependencies(
                [(config, None) for config in apps.get_app_configs()]
            )
            if model._meta.app_label not in skipped
            and model._meta.label != "auth.Permission"
            and not model._meta.proxy
            and model._meta.managed
        ]
        rows = [obj for model in models for obj in model._base_manager.order_by("pk")]
        return serializers.serialize("json", rows, use_natural_foreign_keys=True)


@pytest.fixture
def reference_data(transactional_db, _migrated_rows):
    """Transactional tests end with a flush, which empties the tables the data migrations
    filled (content types and permissions are made again by the flush). Put their rows back,
    as the migrations left them."""
    from cluster.models import District

    if District.objects.exists():
        return
    connection.creation.deserialize_db_from_string(_migrated_rows)
