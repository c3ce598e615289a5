"""The one owner of the phase logic (targets.selectors.plans): which plan applies to a quarter
of a cluster on a day, in which mode, and which quarter a page opens on."""

import datetime as dt

import pytest
from django.utils import timezone

from cluster.models import Cluster, Plan
from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport, ReportingPolicy
from targets.selectors.plans import Mode, official_quarter, phase_of, picker_quarters

from .conftest import YI

pytestmark = pytest.mark.django_db

Q = Quarter.parse


@pytest.fixture
def nano():
    return Cluster.objects.get(key="nano")


@pytest.fixture
def next_plan(nano):
    return Plan.objects.create(
        cluster=nano,
        key="nano-2027-2030",
        name_zh="苏州市纳米新材料产业创新集群行动计划（2027-2030年）",
        name_en="Nano plan 2027–2030",
        starts_on=dt.date(2027, 1, 1),
        ends_on=dt.date(2030, 12, 31),
        baseline_year=2026,
    )


@pytest.mark.parametrize(
    ("today", "quarter", "mode", "plan_ended"),
    [
        # While the plan is in force, every quarter of it shows progress.
        ("2025-06-30", "2025Q1", Mode.IN_FORCE, False),
        ("2025-12-31", "2025Q4", Mode.IN_FORCE, False),
        # Once it has ended, its past quarters show progress as it was, under a banner …
        ("2026-01-10", "2025Q3", Mode.IN_FORCE, True),
        ("2026-11-30", "2023Q1", Mode.IN_FORCE, True),
        # … and its deadline quarter is the final evaluation.
        ("2026-01-10", "2025Q4", Mode.EVALUATION, True),
        ("2031-01-01", "2025Q4", Mode.EVALUATION, True),
        # No plan covers the quarter: monitoring.
        ("2026-11-30", "2026Q2", Mode.MONITORING, False),
        ("2026-11-30", "2022Q4", Mode.MONITORING, False),
    ],
)
def test_the_mode_of_a_quarter_of_the_nano_plan(nano, today, quarter, mode, plan_ended):
    phase = phase_of(nano, Q(quarter), dt.date.fromisoformat(today))
    assert phase.mode == mode
    assert phase.plan_ended == plan_ended
    assert phase.shows_projection == (mode == Mode.IN_FORCE)
    if mode == Mode.MONITORING:
        assert phase.plan is None
    else:
        assert phase.plan.key == "nano-2023-2025"


def test_monitoring_names_the_plan_that_ended_and_the_next_one(nano, next_plan):
    between = phase_of(nano, Q("2026Q2"), dt.date(2026, 11, 30))
    assert (between.mode, between.previous.key, between.following) == (
        Mode.MONITORING,
        "nano-2023-2025",
        next_plan,
    )
    assert between.ended_plan.key == "nano-2023-2025"
    with timezone.override("Asia/Shanghai"):
        text = between.statement()
    assert "2025年12月31日" in text and "2027年1月1日" in text
    before = phase_of(nano, Q("2022Q4"), dt.date(2026, 11, 30))
    assert (before.previous, before.following.key) == (None, "nano-2023-2025")


def test_the_next_plan_takes_over_from_its_start(nano, next_plan):
    phase = phase_of(nano, Q("2027Q2"), dt.date(2027, 8, 1))
    assert (phase.mode, phase.plan, phase.plan_ended) == (Mode.IN_FORCE, next_plan, False)
    after = phase_of(nano, Q("2030Q4"), dt.date(2031, 1, 1))
    assert (after.mode, after.plan) == (Mode.EVALUATION, next_plan)
    later = phase_of(nano, Q("2031Q1"), dt.date(2031, 6, 1))
    assert (later.mode, later.previous) == (Mode.MONITORING, next_plan)
    assert "No next plan" in later.statement() or "尚未录入下一期行动计划" in later.statement()


def test_pages_offer_each_quarter_once_up_to_the_one_being_reported():
    quarters = picker_quarters(dt.date(2026, 11, 30))
    assert quarters[0] == Q("2026Q3")
    assert quarters[-1] == Q("2022Q1")
    assert len(quarters) == len(set(quarters)) == 19


def approve_all(approve, firms, quarter, value=YI, at=None):
    for firm in firms:
        approve(firm, quarter.year, quarter.quarter, value, at=at)


def test_a_page_opens_on_the_latest_quarter_complete_enough(
    nano, enterprise_factory, approve, kunshan
):
    firms = [enterprise_factory() for _ in range(9)] + [enterprise_factory(district=kunshan)]
    for quarter in ("2026Q1", "2026Q2"):
        approve_all(approve, firms, Q(quarter))
    # 2026Q3: eight of ten approved (80% < the default 90%), and two submissions typed.
    # Approved the day before the page is opened, whatever the hour the test runs at (a
    # moment of "now minus a day" fell on the next Shanghai day after 16:00 UTC).
    approve_all(approve, firms[:8], Q("2026Q3"), at=dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC))
    today = dt.date(2026, 11, 30)
    found = official_quarter(nano, today)
    assert (found.quarter, found.expected, found.approved, found.complete) == (
        Q("2026Q2"),
        10,
        10,
        True,
    )
    ReportingPolicy.objects.update(official_share=80)
    assert official_quarter(nano, today).quarter == Q("2026Q3")


def test_a_submission_for_a_later_quarter_never_moves_the_page(nano, enterprise_factory, approve):
    firm = enterprise_factory()
    approve(firm, 2026, 2, YI)
    # Typed and submitted, not approved; and a draft two quarters ahead.
    QuarterlyReport.objects.create(
        enterprise=firm,
        year=2026,
        quarter=3,
        output_value=0,
        operating_revenue=0,
        status="submitted",
        submitted_at=timezone.now(),
    )
    assert official_quarter(nano, dt.date(2026, 11, 30)).quarter == Q("2026Q2")


def test_a_firm_outside_the_cluster_does_not_count_for_it(nano, enterprise_factory, approve):
    from tests.factories import cluster_with_tree

    photonics = cluster_with_tree()
    member = enterprise_factory()
    other = enterprise_factory(cluster=photonics)
    approve(member, 2026, 2, YI)
    approve(other, 2026, 3, YI)
    found = official_quarter(nano, dt.date(2026, 11, 30))
    assert (found.quarter, found.expected, found.approved) == (Q("2026Q2"), 1, 1)
    assert official_quarter(photonics, dt.date(2026, 11, 30)).quarter == Q("2026Q3")


def test_a_cluster_without_figures_opens_on_the_quarter_being_reported(nano):
    found = official_quarter(nano, dt.date(2026, 11, 30))
    assert (found.quarter, found.approved, found.complete) == (Q("2026Q3"), 0, False)
