import datetime as dt

import pytest

from enterprises.choices import DesignationType, ListingVenue
from enterprises.models import Designation, Enterprise, Listing
from tests.factories import ClusterMembershipFactory, cluster_with_tree

pytestmark = pytest.mark.django_db


def test_valid_on_counts_both_boundary_days(designation_factory):
    designation_factory(valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2025, 12, 31))
    counted = {
        day: Designation.objects.valid_on(day).count()
        for day in (
            dt.date(2023, 12, 31),
            dt.date(2024, 1, 1),
            dt.date(2025, 12, 31),
            dt.date(2026, 1, 1),
        )
    }
    assert counted == {
        dt.date(2023, 12, 31): 0,
        dt.date(2024, 1, 1): 1,
        dt.date(2025, 12, 31): 1,
        dt.date(2026, 1, 1): 0,
    }


def test_open_ended_designation_stays_valid(designation_factory):
    designation_factory(valid_from=dt.date(2020, 5, 1), valid_to=None)
    assert Designation.objects.valid_on(dt.date(2030, 1, 1)).count() == 1
    assert Designation.objects.valid_on(dt.date(2020, 4, 30)).count() == 0


def test_valid_on_filters_by_type_and_firm(designation_factory):
    gazelle = designation_factory(type=DesignationType.GAZELLE)
    designation_factory(type=DesignationType.UNICORN_CULTIVATION, enterprise=gazelle.enterprise)
    designation_factory(type=DesignationType.GAZELLE, valid_to=dt.date(2024, 6, 30))
    day = dt.date(2025, 1, 1)
    assert list(
        Designation.objects.valid_on(day)
        .filter(type=DesignationType.GAZELLE)
        .values_list("enterprise", flat=True)
    ) == [gazelle.enterprise_id]


def test_neeq_quotation_is_not_a_listing(listing_factory):
    star = listing_factory(venue=ListingVenue.STAR, listed_on=dt.date(2021, 7, 1))
    listing_factory(venue=ListingVenue.NEEQ, listed_on=dt.date(2016, 3, 1), ticker="830001")
    listing_factory(
        venue=ListingVenue.CHINEXT, listed_on=dt.date(2019, 1, 1), delisted_on=dt.date(2024, 5, 1)
    )
    day = dt.date(2025, 12, 31)
    assert list(Listing.objects.listed_on(day)) == [star]
    assert Listing.objects.listings().count() == 2
    assert Listing.objects.listed_on(dt.date(2024, 4, 30)).count() == 2


def test_member_on_excludes_firms_that_left_or_had_not_joined(enterprise_factory):
    stayed = enterprise_factory(joined_on=dt.date(2020, 1, 1))
    enterprise_factory(
        joined_on=dt.date(2020, 1, 1), left_on=dt.date(2024, 6, 30), status="moved_out"
    )
    enterprise_factory(joined_on=dt.date(2026, 1, 1))
    assert list(Enterprise.objects.member_on(dt.date(2025, 12, 31))) == [stayed]
    assert Enterprise.objects.member_on(dt.date(2024, 6, 30)).count() == 2


def test_a_firm_in_two_clusters_is_a_member_of_each_and_listed_once(enterprise_factory):
    from cluster.models import Cluster

    photonics = cluster_with_tree("photonics")
    nano = Cluster.objects.get(key="nano")
    both = enterprise_factory(joined_on=dt.date(2020, 1, 1))
    ClusterMembershipFactory(enterprise=both, cluster=photonics, joined_on=dt.date(2025, 7, 1))
    only_nano = enterprise_factory(joined_on=dt.date(2020, 1, 1))
    day = dt.date(2025, 12, 31)
    assert list(Enterprise.objects.member_on(day).order_by("pk")) == [both, only_nano]
    assert list(Enterprise.objects.member_on(day, cluster=photonics)) == [both]
    assert Enterprise.objects.member_on(day, cluster=nano).count() == 2
    assert not Enterprise.objects.member_on(dt.date(2025, 6, 30), cluster=photonics).exists()
    assert list(
        Enterprise.objects.member_during(dt.date(2025, 7, 1), dt.date(2025, 9, 30), photonics)
    ) == [both]


D = dt.date


@pytest.mark.parametrize(
    ("stored", "other", "overlap"),
    [
        ((None, None), (D(2024, 1, 1), None), True),
        ((None, D(2023, 12, 31)), (D(2024, 1, 1), None), False),
        ((None, D(2024, 1, 1)), (D(2024, 1, 1), None), True),  # both ends count
        ((D(2024, 1, 2), D(2024, 6, 30)), (None, D(2024, 1, 1)), False),
        ((D(2024, 1, 2), D(2024, 6, 30)), (D(2024, 3, 1), D(2024, 3, 31)), True),
        ((D(2025, 1, 1), None), (D(2020, 1, 1), D(2030, 1, 1)), True),
    ],
)
def test_a_membership_overlaps_in_memory_as_in_the_database(
    enterprise_factory, stored, other, overlap
):
    """The register's rule checks rows not yet saved in memory (overlaps) and stored ones in
    the database (overlapping): one predicate, the same answers."""
    firm = enterprise_factory(joined_on=stored[0], left_on=stored[1])
    membership = firm.memberships.get()
    candidate = ClusterMembershipFactory.build(joined_on=other[0], left_on=other[1])
    assert candidate.overlaps(membership) is overlap
    assert membership.overlaps(candidate) is overlap
    in_database = firm.memberships.overlapping(
        other[0] or dt.date.min, other[1] or dt.date.max
    ).exists()
    assert in_database is overlap
