import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster.quarters import Quarter
from targets.choices import Basis, ScopeKind, Status
from targets.models import ProgressSnapshot, Target, TargetMilestone
from targets.services.progress import progress_recompute, status_of

from .conftest import YI

pytestmark = pytest.mark.django_db


def snapshots():
    return sorted(
        ProgressSnapshot.objects.values_list(
            "target__key",
            "scope_key",
            "year",
            "quarter",
            "basis",
            "vintage",
            "actual",
            "projection",
            "status",
        )
    )


@pytest.fixture
def reported(enterprise_factory, approve, sip, kunshan):
    firms = [enterprise_factory(district=sip), enterprise_factory(district=kunshan)]
    for firm, total in zip(firms, (Decimal(40), Decimal(12)), strict=True):
        for year in (2022, 2023, 2024):
            for q in (1, 2, 3, 4):
                approve(firm, year, q, total * YI / 4)
        approve(firm, 2025, 1, total * YI / 4)
    return firms


def test_recompute_is_idempotent(reported):
    progress_recompute()
    first = snapshots()
    assert len(first) > 0
    progress_recompute()
    assert snapshots() == first


def test_new_approval_gives_a_new_vintage_and_keeps_the_old(reported, approve):
    progress_recompute(target_ids=[Target.objects.get(key="total_output").pk])
    before = ProgressSnapshot.objects.filter(scope_kind=ScopeKind.CITY, year=2025, quarter=1)
    assert before.count() == 1
    old = before.get()
    import datetime as _dt

    approve(reported[0], 2025, 1, 20 * YI, at=old.vintage + _dt.timedelta(days=1))
    progress_recompute(target_ids=[Target.objects.get(key="total_output").pk])
    rows = list(
        ProgressSnapshot.objects.filter(scope_kind=ScopeKind.CITY, year=2025, quarter=1)
        .order_by("vintage")
        .values_list("actual", flat=True)
    )
    assert rows == [13 * YI, 23 * YI]  # 10 + 3, then 20 + 3


def test_city_snapshot_has_status_milestone_and_breakdowns(reported, sip, kunshan):
    progress_recompute(target_ids=[Target.objects.get(key="total_output").pk])
    city = ProgressSnapshot.objects.get(
        target__key="total_output", scope_kind=ScopeKind.CITY, year=2025, quarter=1
    )
    assert city.actual == 13 * YI
    assert city.projection == 52 * YI  # 13 / 0.25, flat seasonality in the history
    assert city.status == Status.OFF_TRACK  # 52 < 90% of 1000
    assert city.basis_note["zh"] and city.basis_note["en"]
    target = Target.objects.get(key="total_output")
    # Baseline from the approved 2022 figures, 52; yearly milestones to 1000 by 2025.
    assert (target.baseline_year, target.baseline_value) == (2022, 52 * YI)
    assert list(target.milestones.values_list("due_on", "expected_value")) == [
        (dt.date(2023, 12, 31), 368 * YI),
        (dt.date(2024, 12, 31), 684 * YI),
        (dt.date(2025, 12, 31), 1000 * YI),
    ]
    assert city.milestone_expected == 250 * YI  # 1000 × 25% of the year by Q1
    districts = dict(
        ProgressSnapshot.objects.filter(
            target__key="total_output", scope_kind=ScopeKind.DISTRICT, year=2025, quarter=1
        ).values_list("district__code", "actual")
    )
    assert districts["320571"] == 10 * YI and districts["320583"] == 3 * YI
    assert len(districts) == 11 and districts["320582"] == 0  # 10 coded + 太仓港 (None)


@pytest.mark.parametrize(
    ("actual", "projection", "quarter", "expected"),
    [
        (Decimal(5), Decimal(6), Quarter(2025, 2), Status.ACHIEVED),
        (Decimal(3), Decimal(5), Quarter(2025, 2), Status.ON_TRACK),
        (Decimal(3), Decimal("4.5"), Quarter(2025, 2), Status.AT_RISK),
        (Decimal(3), Decimal("4.4"), Quarter(2025, 2), Status.OFF_TRACK),
        (Decimal(4), Decimal(9), Quarter(2025, 4), Status.OFF_TRACK),
    ],
)
def test_status_thresholds(actual, projection, quarter, expected):
    target = Target.objects.select_related("metric").get(key="firms_output_over_5bn")
    assert status_of(target, quarter, actual, projection) == expected


def test_steward_edited_milestones_are_kept(reported):
    target = Target.objects.get(key="gazelle_firms")
    TargetMilestone.objects.create(
        target=target, due_on=dt.date(2024, 12, 31), expected_value=25, interpolated=False
    )
    progress_recompute(target_ids=[target.pk])
    # Kept; the other years are interpolated through it from the 2022 baseline (no gazelle).
    assert list(target.milestones.values_list("expected_value", "interpolated")) == [
        (Decimal("12.50"), True),
        (25, False),
        (30, True),
    ]


def test_query_count_does_not_depend_on_the_number_of_firms(enterprise_factory, approve, sip):
    def population(count, offset):
        for firm in enterprise_factory.create_batch(count, district=sip):
            for q in (1, 2, 3, 4):
                approve(firm, 2024, q, (offset + q) * YI)

    population(2, 1)
    progress_recompute(quarters=[Quarter(2024, 4)])  # baselines and milestones first

    def queries():
        with CaptureQueriesContext(connection) as captured:
            progress_recompute(quarters=[Quarter(2024, 4)], basis=Basis.APPROVED)
        return len(captured)

    few = queries()
    population(25, 20)
    # The seasonality is stored again for the firms as they are now (as it was for `few`).
    progress_recompute(quarters=[Quarter(2024, 4)], basis=Basis.APPROVED)
    assert queries() == few


def test_a_target_is_broken_down_by_the_directions_of_its_own_cluster(reported, steward):
    """With a second cluster loaded (photonics, four directions of its own), the nano output is
    still broken down by nano's four focus directions only."""
    from cluster.models import Sector

    from .kinds_data import load_photonics

    load_photonics(steward)
    target = Target.objects.get(plan__key="nano-2023-2025", key="total_output")
    progress_recompute(target_ids=[target.pk], quarters=[Quarter(2025, 1)])
    directions = set(
        ProgressSnapshot.objects.filter(
            target=target, scope_kind=ScopeKind.SECTOR, year=2025, quarter=1
        ).values_list("sector__cluster__key", "sector__code")
    )
    nano = Sector.objects.directions().filter(cluster__key="nano")
    assert directions == {("nano", code) for code in nano.values_list("code", flat=True)}
    assert len(directions) == 4
