"""序时进度: each target's progress against the time-elapsed schedule, banded as its plan file
says (the nano plan: on schedule up to 10 points behind, behind up to 30, far behind beyond;
the photonics example: 5 and 20). Every figure is checked by hand in the docstrings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from cluster.models import Plan
from cluster.quarters import Quarter
from enterprises.choices import DesignationType
from targets.choices import Basis, ScopeKind
from targets.models import ProgressSnapshot
from targets.selectors.schedule import band_for, snapshot_schedule
from targets.services.progress import progress_recompute

from .kinds_data import (
    NANO_PLAN,
    PHOTONICS,
    PHOTONICS_PLAN,
    YI,
    approved,
    load_photonics,
    member,
    target_of,
)

pytestmark = pytest.mark.django_db

NANO_MATERIAL, PHOTONICS_CHIPS = ("nano", "1.04"), ("photonics", "1.01")


def city_snapshot(target, quarter: Quarter) -> ProgressSnapshot:
    return ProgressSnapshot.objects.select_related("target__plan").get(
        target=target,
        scope_kind=ScopeKind.CITY,
        year=quarter.year,
        quarter=quarter.quarter,
        basis=Basis.APPROVED,
    )


def stored(snapshot: ProgressSnapshot) -> tuple:
    return (snapshot.time_elapsed, snapshot.completion, snapshot.schedule_band)


@pytest.mark.parametrize(
    ("plan", "behind", "band"),
    [
        (NANO_PLAN, "-15", "on_schedule"),  # ahead of the schedule
        (NANO_PLAN, "0", "on_schedule"),
        (NANO_PLAN, "10", "on_schedule"),  # "at most 10 points behind" includes 10
        (NANO_PLAN, "10.01", "behind"),
        (NANO_PLAN, "30", "behind"),
        (NANO_PLAN, "30.01", "far_behind"),
        (PHOTONICS_PLAN, "5", "on_schedule"),
        (PHOTONICS_PLAN, "5.01", "behind"),
        (PHOTONICS_PLAN, "20", "behind"),
        (PHOTONICS_PLAN, "25", "far_behind"),
    ],
)
def test_the_band_is_the_first_whose_limit_covers_the_points_behind(steward, plan, behind, band):
    load_photonics(steward)
    assert band_for(Plan.objects.get(key=plan), Decimal(behind)).key == band


def test_an_annual_sum_is_measured_against_the_year_s_goal_and_the_share_of_the_year(steward):
    """Nano output: 600 亿元 in 2022 (the baseline year), so the interpolated milestones are
    733.33 (2023), 866.67 (2024) and 1,000 (2025). 2024 to Q3: 3 × 210 = 630.
    Completion 630 / 866.67 = 72.69 %; time elapsed 9 / 12 months = 75 %; 2.31 points
    behind: on schedule (at most 10)."""
    firm = member("甲纳米", NANO_MATERIAL)
    for q in (1, 2, 3, 4):
        approved(firm, 2022, q, output=150)
    for q in (1, 2, 3):
        approved(firm, 2024, q, output=210)
    target = target_of("total_output", NANO_PLAN)
    progress_recompute(target_ids=[target.pk], quarters=[Quarter(2024, 3)])
    snapshot = city_snapshot(target, Quarter(2024, 3))
    assert snapshot.actual == 630 * YI
    assert stored(snapshot) == (Decimal("0.7500"), Decimal("0.7269"), "on_schedule")
    schedule = snapshot_schedule(snapshot)
    assert schedule.points_behind == Decimal("2.31")
    # The breakdown rows carry no schedule: it belongs to the target's own scope.
    district = ProgressSnapshot.objects.filter(
        target=target, scope_kind=ScopeKind.DISTRICT, year=2024, quarter=3
    ).first()
    assert stored(district) == (None, None, "")


@pytest.fixture
def listings(steward, listing_factory):
    """Nano: listed 2020, 2021 (the baseline at the end of 2022: 2), 2023-05-01, 2024-04-01.
    Photonics: listed 2019, 2020, 2023-06-01 (baseline at the end of 2023: 3), 2024-02-01,
    2024-09-01, 2025-05-01."""
    load_photonics(steward)
    for day in ("2020-01-10", "2021-01-10", "2023-05-01", "2024-04-01"):
        listing_factory(
            enterprise=member("纳米", NANO_MATERIAL), listed_on=dt.date.fromisoformat(day)
        )
    for day in (
        "2019-01-10",
        "2020-01-10",
        "2023-06-01",
        "2024-02-01",
        "2024-09-01",
        "2025-05-01",
    ):
        listing_factory(
            enterprise=member("光子", PHOTONICS_CHIPS), listed_on=dt.date.fromisoformat(day)
        )


def test_a_stock_is_measured_from_its_baseline_over_the_plan_s_span(listings):
    """Halfway through each plan (18 of 36 months), a quarter of the way from the baseline:
    nano (4 − 2) / (10 − 2) = 25 %, photonics (6 − 3) / (15 − 3) = 25 %. Both are 25 points
    behind: behind schedule for the nano plan (at most 30), far behind for the photonics
    plan (more than 20)."""
    nano = target_of("listed_firms", NANO_PLAN)
    photonics = target_of("listed_firms")
    progress_recompute(target_ids=[nano.pk], quarters=[Quarter(2024, 2)])
    progress_recompute(target_ids=[photonics.pk], quarters=[Quarter(2025, 2)])
    nano.refresh_from_db()
    photonics.refresh_from_db()
    assert (nano.baseline_value, photonics.baseline_value) == (2, 3)
    assert stored(city_snapshot(nano, Quarter(2024, 2))) == (
        Decimal("0.5000"),
        Decimal("0.2500"),
        "behind",
    )
    assert stored(city_snapshot(photonics, Quarter(2025, 2))) == (
        Decimal("0.5000"),
        Decimal("0.2500"),
        "far_behind",
    )


def test_the_band_s_label_and_colour_in_the_active_language(listings):
    nano = target_of("listed_firms", NANO_PLAN)
    progress_recompute(target_ids=[nano.pk], quarters=[Quarter(2024, 2)])
    schedule = snapshot_schedule(city_snapshot(nano, Quarter(2024, 2)))
    assert (schedule.points_behind, schedule.band.colour) == (Decimal("25.00"), "yellow")
    with translation.override("zh-hans"):
        assert schedule.band.label == "落后序时进度"
    with translation.override("en"):
        assert schedule.band.label == "behind schedule"


def test_a_yearly_flow_is_measured_against_the_goal_of_its_year(steward, designation_factory):
    """High-tech awards a year, the goal set to 10 in 2026. One award in 2023 (the baseline
    year): the goals of the years are 4 (2024), 7 (2025) and 10 (2026). Three awards in 2025
    to Q3, five more in Q4.
    2025Q3: 3 / 7 = 42.86 % against 75 % of the year: 32.14 points behind, far behind; the
    milestone expected by then is 7 × 75 % = 5.25. 2025Q4: 8 / 7 = 114.29 % against 100 %:
    ahead, on schedule."""
    load_photonics(steward, PHOTONICS.replace("goal: {value: 50}", "goal: {value: 10}"))
    days = ["2023-05-01", "2025-02-01", "2025-06-01", "2025-09-30"] + [
        f"2025-12-{day:02d}" for day in (1, 2, 3, 4, 5)
    ]
    for day in days:
        designation_factory(
            enterprise=member("高企", PHOTONICS_CHIPS),
            type=DesignationType.HIGH_TECH,
            valid_from=dt.date.fromisoformat(day),
            valid_to=dt.date.fromisoformat(day) + dt.timedelta(days=1095),
        )
    target = target_of("high_tech_awards_a_year")
    progress_recompute(target_ids=[target.pk], quarters=[Quarter(2025, 3), Quarter(2025, 4)])
    assert list(target.milestones.values_list("due_on", "expected_value")) == [
        (dt.date(2024, 12, 31), 4),
        (dt.date(2025, 12, 31), 7),
        (dt.date(2026, 12, 31), 10),
    ]
    q3 = city_snapshot(target, Quarter(2025, 3))
    assert (q3.actual, q3.milestone_expected) == (3, Decimal("5.25"))
    assert stored(q3) == (Decimal("0.7500"), Decimal("0.4286"), "far_behind")
    assert stored(city_snapshot(target, Quarter(2025, 4))) == (
        Decimal("1.0000"),
        Decimal("1.1429"),
        "on_schedule",
    )


def test_cumulative_additions_are_measured_over_the_plan_s_span(steward):
    """Three firms joined the photonics cluster since 2024-01-01; the baseline (end of 2023)
    is 0 and the goal 100: 3 % done against 33 of 36 months (91.67 %) by 2026Q3, 88.67
    points behind: far behind."""
    load_photonics(steward)
    for day in ("2024-01-01", "2025-07-01", "2026-02-01"):
        member("新入", PHOTONICS_CHIPS, joined_on=dt.date.fromisoformat(day))
    target = target_of("new_member_firms")
    progress_recompute(target_ids=[target.pk], quarters=[Quarter(2026, 3)])
    snapshot = city_snapshot(target, Quarter(2026, 3))
    assert stored(snapshot) == (Decimal("0.9167"), Decimal("0.0300"), "far_behind")
    assert snapshot_schedule(snapshot).points_behind == Decimal("88.67")


def test_ratios_and_qualitative_targets_have_no_schedule(steward):
    load_photonics(steward)
    firm = member("光子", PHOTONICS_CHIPS)
    approved(firm, 2026, 1, revenue=10, rd="0.4")
    keys = ("rd_intensity", "innovation_centre")
    targets = [target_of(key) for key in keys]
    progress_recompute(target_ids=[t.pk for t in targets], quarters=[Quarter(2026, 1)])
    for target in targets:
        snapshot = city_snapshot(target, Quarter(2026, 1))
        assert stored(snapshot) == (None, None, "")
        assert snapshot_schedule(snapshot) is None
    assert city_snapshot(targets[0], Quarter(2026, 1)).actual == Decimal("4.00")
