"""cluster.lookups: `field__any=[...]` finds the rows `field__in` finds, and on PostgreSQL
sends the values as one array parameter (the imports' lists of 10,000 firms)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enterprises.models import Enterprise, QuarterlyReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def firms(enterprise_factory):
    return [enterprise_factory() for _ in range(4)]


@pytest.mark.parametrize(
    ("field", "pick"),
    [
        ("pk", lambda firm: firm.pk),
        ("uscc", lambda firm: firm.uscc),
        ("district", lambda firm: firm.district_id),
    ],
)
def test_the_same_rows_as_in(firms, field, pick):
    wanted = [pick(firms[0]), pick(firms[2]), pick(firms[2])]
    with CaptureQueriesContext(connection) as queries:
        found = set(Enterprise.objects.filter(**{f"{field}__any": wanted}))
    assert found == set(Enterprise.objects.filter(**{f"{field}__in": wanted}))
    assert {firms[0], firms[2]} <= found
    (query,) = queries.captured_queries
    assert ("= ANY(" if connection.vendor == "postgresql" else "json_each(") in query["sql"]


def test_a_foreign_key_across_a_relation_and_a_generator(firms, steward):
    for firm in firms:
        QuarterlyReport.objects.create(enterprise=firm, year=2025, quarter=1)
    ids = (firm.pk for firm in firms[1:3])
    found = QuarterlyReport.objects.filter(enterprise__any=ids)
    assert sorted(r.enterprise_id for r in found) == sorted(f.pk for f in firms[1:3])
    by_code = QuarterlyReport.objects.filter(enterprise__uscc__any=[firms[3].uscc])
    assert [r.enterprise_id for r in by_code] == [firms[3].pk]


def test_none_and_an_empty_list_match_nothing(firms, django_assert_num_queries):
    assert list(Enterprise.objects.filter(pk__any=[None])) == []
    with django_assert_num_queries(0):  # as `in`: known empty without asking
        assert list(Enterprise.objects.filter(pk__any=[])) == []
    assert set(Enterprise.objects.exclude(pk__any=[])) == set(firms)


def test_a_list_longer_than_sqlite_s_variable_limit(firms):
    """More values than SQLite takes variables (32,766 by default, 250,000 in some builds)."""
    many = [firm.pk for firm in firms] + list(range(10**9, 10**9 + 300_000))
    assert set(Enterprise.objects.filter(pk__any=many)) == set(firms)
    codes = [firm.uscc for firm in firms] + ["x"] * 300_000
    assert Enterprise.objects.filter(uscc__any=codes).count() == 4
