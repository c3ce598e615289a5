"""Every kind of target a real plan sets, on the photonics example plan (2024–2026) loaded from
its file, counted per cluster: a firm of two clusters counts in each. The numbers are worked
out by hand in each test's docstring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from cluster.models import Cluster, Sector
from cluster.quarters import Quarter
from enterprises.choices import DesignationType, ListingVenue, ProjectStatus
from enterprises.models import ClusterMembership, ResearchProject
from targets.choices import Basis, ScopeKind, Status
from targets.models import Assessment, ProgressSnapshot
from targets.selectors.metrics import evaluate
from targets.services.progress import snapshot_target, status_of

from .kinds_data import (
    KUNSHAN,
    MORE_TARGETS,
    NANO_PLAN,
    PHOTONICS,
    YI,
    approved,
    figures,
    load_photonics,
    member,
    target_of,
)

pytestmark = pytest.mark.django_db

Q3_2026 = Quarter(2026, 3)
PHOTONICS_CHIPS, LASERS, NANO_MATERIAL = (
    ("photonics", "1.01"),
    ("photonics", "2.01"),
    ("nano", "1.04"),
)


@pytest.fixture
def photonics(steward):
    load_photonics(steward, PHOTONICS + MORE_TARGETS)


def direction(code: str) -> int:
    return Sector.objects.get(cluster__key="photonics", code=code).pk


# --- sums and thresholds ------------------------------------------------------------------------


@pytest.fixture
def reporting(photonics):
    """2026 Q1–Q3, each quarter in 亿元 (revenue / output / R&D):

    A  SIP      photonics 1.01 and nano 1.04   10 / 8 / 0.5
    B  Kunshan  photonics 2.01                  5 / 4 / 0.05
    C  SIP      nano 1.04 only                100 / 90 / 10
    D  SIP      photonics 1.01                 20 / 16 / — (no R&D figure)
    """
    firms = {
        "a": member("甲光电", PHOTONICS_CHIPS, NANO_MATERIAL),
        "b": member("乙激光", LASERS, district=KUNSHAN),
        "c": member("丙纳米", NANO_MATERIAL),
        "d": member("丁光芯", PHOTONICS_CHIPS),
    }
    values = {"a": (10, 8, "0.5"), "b": (5, 4, "0.05"), "c": (100, 90, 10), "d": (20, 16, None)}
    for key, (revenue, output, rd) in values.items():
        for q in (1, 2, 3):
            approved(firms[key], 2026, q, revenue=revenue, output=output, rd=rd)
    return firms


def test_sums_count_each_cluster_s_members_and_a_firm_of_two_clusters_in_both(reporting):
    """Photonics revenue (营业收入) to Q3: (10 + 5 + 20) × 3 = 105 亿元: SIP (A, D) 90,
    Kunshan (B) 15; direction 1 (A, D) 90, direction 2 (B) 15. Its output (规模): (8 + 4 + 16)
    × 3 = 84. The nano output counts A too: (8 + 90) × 3 = 294."""
    revenue = evaluate(target_of("revenue"), Q3_2026, figures())
    assert revenue.actual == 105 * YI
    assert revenue.by_district == {
        reporting["a"].district_id: 90 * YI,
        reporting["b"].district_id: 15 * YI,
    }
    assert revenue.by_direction == {direction("1"): 90 * YI, direction("2"): 15 * YI}
    assert evaluate(target_of("output_scale"), Q3_2026, figures()).actual == 84 * YI
    nano = evaluate(target_of("total_output", NANO_PLAN), Q3_2026, figures())
    assert nano.actual == 294 * YI


def test_threshold_counts_are_per_cluster(reporting):
    """Revenue strictly above 10 亿元 year to date: in Q1 A has exactly 10 (not above), D 20;
    by Q3 A 30, B 15, D 60 pass; C (nano only) never counts for photonics."""
    target = target_of("firms_revenue_over_1bn")
    assert evaluate(target, Quarter(2026, 1), figures()).counted == {reporting["d"].pk}
    by_q3 = evaluate(target, Q3_2026, figures())
    assert by_q3.actual == 3
    assert by_q3.counted == {reporting["a"].pk, reporting["b"].pk, reporting["d"].pk}


def test_ratio_is_the_year_to_date_numerator_over_the_denominator_of_firms_reporting_both(
    reporting,
):
    """R&D over revenue to Q3, of the firms that report both figures (D reports no R&D and
    counts in neither; C is not in the cluster): (1.5 + 0.15) / (30 + 15) = 3.67 %. SIP (A)
    1.5 / 30 = 5.00 %, Kunshan (B) 0.15 / 15 = 1.00 %. The projection is the year-to-date
    value; 3.67 % is within 4 % ± 0.5, so the target is on track before its deadline."""
    target = target_of("rd_intensity")
    result = evaluate(target, Q3_2026, figures())
    assert result.actual == Decimal("3.67")
    assert result.projection == Decimal("3.67")
    assert result.run_rate_needed is None
    assert result.by_district == {
        reporting["a"].district_id: Decimal("5.00"),
        reporting["b"].district_id: Decimal("1.00"),
    }
    assert result.by_direction == {direction("1"): Decimal("5.00"), direction("2"): Decimal("1.00")}
    assert "¥0.17 bn and" in result.note["en"] and "¥4.50 bn, a ratio" in result.note["en"]
    assert "1.65 亿元" in result.note["zh"] and "45.00 亿元" in result.note["zh"]
    assert "3.67%" in result.note["en"]
    assert "3.67%" in result.note["zh"] and "研发" in result.note["zh"]
    assert status_of(target, Q3_2026, result.actual, result.projection) == Status.ON_TRACK


def test_a_ratio_without_figures_is_zero_and_says_why(photonics):
    result = evaluate(target_of("rd_intensity"), Q3_2026, figures())
    assert result.actual == 0
    assert "No firm" in result.note["en"]


# --- listings, designations, projects -------------------------------------------------------------


def test_listings_stock_cumulative_and_yearly(photonics, listing_factory):
    """Photonics firms: A on the STAR market since 2021; B quoted on the NEEQ (not a listing);
    E listed 2019, delisted 2026-06-30; F listed 2024-03-01, G 2025-11-01, H 2026-02-01; C
    (nano only) listed 2024-05-01.

    Stock (listed_firms): 2026Q1 A, E, F, G, H = 5; 2026Q2 E is delisted that day: 4.
    Since the plan began (2024-01-01): F, G, H = 3 by 2026Q3.
    Yearly: 2024Q1 F = 1 (none in 2023: at this pace 4 by the end of 2024); 2025Q4 G = 1;
    2026Q3 H = 1. The projection for 2026 adds what
    came after 30 September last year (G): 2; the year's goal of 3 then needs 2 more in Q4."""
    firms = {key: member(key, PHOTONICS_CHIPS) for key in "abefgh"}
    nano_only = member("c", NANO_MATERIAL)
    for key, venue, listed, delisted in (
        ("a", ListingVenue.STAR, dt.date(2021, 7, 1), None),
        ("b", ListingVenue.NEEQ, dt.date(2019, 1, 1), None),
        ("e", ListingVenue.CHINEXT, dt.date(2019, 1, 1), dt.date(2026, 6, 30)),
        ("f", ListingVenue.STAR, dt.date(2024, 3, 1), None),
        ("g", ListingVenue.HKEX, dt.date(2025, 11, 1), None),
        ("h", ListingVenue.BSE, dt.date(2026, 2, 1), None),
    ):
        listing_factory(enterprise=firms[key], venue=venue, listed_on=listed, delisted_on=delisted)
    listing_factory(enterprise=nano_only, listed_on=dt.date(2024, 5, 1))

    stock = target_of("listed_firms")
    assert evaluate(stock, Quarter(2026, 1), figures()).actual == 5
    assert evaluate(stock, Quarter(2026, 2), figures()).actual == 4
    assert evaluate(target_of("listed_since_start"), Q3_2026, figures()).actual == 3
    yearly = target_of("listed_a_year")
    first = evaluate(yearly, Quarter(2024, 1), figures())
    assert first.counted == {firms["f"].pk}
    # Nobody was listed in 2023: at this year's pace, 1 a quarter, the year ends near 4.
    assert first.projection == 4
    assert "with no figures of last year" in first.note["en"]
    assert "上年无可比数据" in first.note["zh"] and "约 4 家" in first.note["zh"]
    assert evaluate(yearly, Quarter(2025, 4), figures()).counted == {firms["g"].pk}
    result = evaluate(yearly, Q3_2026, figures())
    assert (result.actual, result.projection, result.run_rate_needed) == (1, 2, 2)


def test_designations_awarded_since_the_start_and_within_each_year(photonics, designation_factory):
    """High-tech designations of photonics firms: D1 2024-06-01, D2 2025-03-01, D3 2025-12-31,
    D4 2026-01-01, D5 2026-09-30, D6 2026-10-01; a nano-only firm's on 2026-05-01 and a
    photonics gazelle designation on 2026-04-01 do not count.

    Since the plan began, by 2026Q3: D1–D5 = 5. Within 2025: D2, D3 = 2; within 2026 to Q3:
    D4, D5 = 2 (D3 on 31 December counts in 2025 only). The projection for 2026 adds last
    year's awards after 30 September (D3): 3."""
    awards = {}
    for name, day in (
        ("D1", dt.date(2024, 6, 1)),
        ("D2", dt.date(2025, 3, 1)),
        ("D3", dt.date(2025, 12, 31)),
        ("D4", dt.date(2026, 1, 1)),
        ("D5", dt.date(2026, 9, 30)),
        ("D6", dt.date(2026, 10, 1)),
    ):
        awards[name] = member(name, LASERS)
        designation_factory(
            enterprise=awards[name],
            type=DesignationType.HIGH_TECH,
            valid_from=day,
            valid_to=day + dt.timedelta(days=3 * 365),
        )
    designation_factory(
        enterprise=member("纳米", NANO_MATERIAL),
        type=DesignationType.HIGH_TECH,
        valid_from=dt.date(2026, 5, 1),
        valid_to=dt.date(2029, 4, 30),
    )
    designation_factory(
        enterprise=member("瞪羚", LASERS),
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2026, 4, 1),
        valid_to=dt.date(2028, 3, 31),
    )
    assert evaluate(target_of("high_tech_since_start"), Q3_2026, figures()).actual == 5
    yearly = target_of("high_tech_awards_a_year")
    assert evaluate(yearly, Quarter(2025, 4), figures()).counted == {
        awards["D2"].pk,
        awards["D3"].pk,
    }
    result = evaluate(yearly, Q3_2026, figures())
    assert result.counted == {awards["D4"].pk, awards["D5"].pk}
    assert result.projection == 3
    # The year's goal is the target's in its deadline year: 50, with one quarter left.
    assert result.run_rate_needed == 48


def test_major_projects_of_the_cluster(photonics, sip):
    """P1 photonics 2024-05-01; P2 nano 2024-06-01; P3 both 2023-12-31; P4 both 2025-03-01;
    P5 photonics terminated; P6 photonics not major; P7 photonics 2026-08-01.

    Photonics since 2024-01-01: by 2025Q4 P1, P4 = 2; by 2026Q3 P1, P4, P7 = 3; within 2025
    P4 = 1, within 2026 P7 = 1. Nano since 2023-01-01, by 2025Q4: P2, P3, P4 = 3."""
    photonics_cluster, nano = Cluster.objects.get(key="photonics"), Cluster.objects.get(key="nano")

    def project(name, started, clusters, **kwargs):
        created = ResearchProject.objects.create(
            title=name,
            lead_institution="苏州大学",
            district=sip,
            level="national",
            is_major=kwargs.pop("is_major", True),
            started_on=started,
            **kwargs,
        )
        created.clusters.set(clusters)

    project("P1", dt.date(2024, 5, 1), [photonics_cluster])
    project("P2", dt.date(2024, 6, 1), [nano])
    project("P3", dt.date(2023, 12, 31), [photonics_cluster, nano])
    project("P4", dt.date(2025, 3, 1), [photonics_cluster, nano])
    project("P5", dt.date(2025, 1, 1), [photonics_cluster], status=ProjectStatus.TERMINATED)
    project("P6", dt.date(2025, 1, 1), [photonics_cluster], is_major=False)
    project("P7", dt.date(2026, 8, 1), [photonics_cluster])

    since_start = target_of("major_research_projects")
    assert evaluate(since_start, Quarter(2025, 4), figures()).actual == 2
    assert evaluate(since_start, Q3_2026, figures()).actual == 3
    yearly = target_of("projects_a_year")
    assert evaluate(yearly, Quarter(2025, 4), figures()).actual == 1
    assert evaluate(yearly, Q3_2026, figures()).actual == 1
    nano_projects = target_of("major_research_projects", NANO_PLAN)
    assert evaluate(nano_projects, Quarter(2025, 4), figures()).actual == 3


# --- cumulative additions ---------------------------------------------------------------------


@pytest.fixture
def joiners(photonics):
    """Memberships of the photonics cluster (the plan began on 2024-01-01):
    F joined 2023-06-01 (before the plan); G 2024-01-01 (SIP, 1.01); I 2024-03-01 and left
    2025-02-01; H 2025-07-01 (Kunshan, 2.01); M 2026-02-01; J 2026-10-01 (after 2026Q3);
    K joined the nano cluster on 2024-05-01; L is a member from the start (no date).
    Of two clusters: N a photonics member from the start that joined nano on 2025-03-01 (not
    new to photonics); O a nano member from the start that joined photonics on 2025-03-01."""
    both = {
        "n": member("N", PHOTONICS_CHIPS),
        "o": member("O", NANO_MATERIAL),
    }
    for key, (cluster, code) in (("n", NANO_MATERIAL), ("o", LASERS)):
        ClusterMembership.objects.create(
            enterprise=both[key],
            cluster=Cluster.objects.get(key=cluster),
            sector=Sector.objects.get(cluster__key=cluster, code=code),
            joined_on=dt.date(2025, 3, 1),
        )
    return {
        **both,
        "f": member("F", PHOTONICS_CHIPS, joined_on=dt.date(2023, 6, 1)),
        "g": member("G", PHOTONICS_CHIPS, joined_on=dt.date(2024, 1, 1)),
        "i": member(
            "I", PHOTONICS_CHIPS, joined_on=dt.date(2024, 3, 1), left_on=dt.date(2025, 2, 1)
        ),
        "h": member("H", LASERS, district=KUNSHAN, joined_on=dt.date(2025, 7, 1)),
        "m": member("M", LASERS, joined_on=dt.date(2026, 2, 1)),
        "j": member("J", LASERS, joined_on=dt.date(2026, 10, 1)),
        "k": member("K", NANO_MATERIAL, joined_on=dt.date(2024, 5, 1)),
        "l": member("L", PHOTONICS_CHIPS),
    }


def test_cumulative_additions_count_the_firms_that_joined_since_the_plan_began(joiners):
    """累计新增 by 2026Q3: G, H, M, O = 4 (I left again, J joins later, K is nano's, N was a
    member before the plan): SIP G, M, O; Kunshan H; direction 1 G, direction 2 H, M, O (O's
    photonics material, not its nano one). By 2024Q4: G and I (still a member then) = 2.
    Pace since the start: 4 in 1,003 days, 92 days left: 4 + 4 × 92 / 1003 = 4.4 by the
    deadline; 96 still needed in the one quarter left."""
    target = target_of("new_member_firms")
    result = evaluate(target, Q3_2026, figures())
    assert result.counted == {joiners[key].pk for key in "ghmo"}
    assert result.by_district == {joiners["g"].district_id: 3, joiners["h"].district_id: 1}
    assert result.by_direction == {direction("1"): 1, direction("2"): 3}
    assert (result.projection, result.run_rate_needed) == (Decimal("4.4"), 96)
    assert evaluate(target, Quarter(2024, 4), figures()).counted == {
        joiners["g"].pk,
        joiners["i"].pk,
    }
    with translation.override("en"):
        assert "1003" in result.note["en"] or "1,003" in result.note["en"]


def test_yearly_additions_count_within_the_calendar_year(joiners):
    """Joined within 2025 to Q3: H, O; within 2026 to Q3: M. The 2026 projection adds last
    year's joiners after 30 September (none): 1."""
    target = target_of("new_members_a_year")
    assert evaluate(target, Quarter(2025, 3), figures()).counted == {
        joiners["h"].pk,
        joiners["o"].pk,
    }
    result = evaluate(target, Q3_2026, figures())
    assert (result.counted, result.projection) == ({joiners["m"].pk}, 1)


# --- qualitative --------------------------------------------------------------------------------


def test_a_qualitative_target_follows_the_latest_assessment_made_by_the_quarter_s_end(
    photonics, city_steward
):
    """Assessed on 2026-03-15 on track, on 2026-10-20 achieved. 2025Q4: not assessed yet;
    2026Q1 and 2026Q3: on track (the October assessment is later); 2026Q4: achieved."""
    target = target_of("innovation_centre")
    for day, status, summary in (
        (dt.date(2026, 3, 15), Status.ON_TRACK, "创新中心已获省级认定，正在申报国家级"),
        (dt.date(2026, 10, 20), Status.ACHIEVED, "工信部批复组建国家级光子制造业创新中心"),
    ):
        Assessment.objects.create(
            target=target,
            assessed_on=day,
            status=status,
            summary=summary,
            evidence="批复文件",
            assessed_by=city_steward,
        )
    statuses = {}
    for quarter in (Quarter(2025, 4), Quarter(2026, 1), Q3_2026, Quarter(2026, 4)):
        result = snapshot_target(target, quarter, figures())
        assert result.projection is None and result.run_rate_needed is None
        snapshot = ProgressSnapshot.objects.get(
            target=target, year=quarter.year, quarter=quarter.quarter, basis=Basis.APPROVED
        )
        statuses[str(quarter)] = snapshot.status
        if quarter == Quarter(2025, 4):
            assert "not assessed yet" in snapshot.basis_note["en"]
            assert "尚未评估" in snapshot.basis_note["zh"]
    assert statuses == {
        "2025Q4": Status.NOT_APPLICABLE,
        "2026Q1": Status.ON_TRACK,
        "2026Q3": Status.ON_TRACK,
        "2026Q4": Status.ACHIEVED,
    }
    snapshot = ProgressSnapshot.objects.get(target=target, year=2026, quarter=3)
    assert "创新中心已获省级认定" in snapshot.basis_note["zh"]
    assert "2026" in snapshot.basis_note["en"]
    # A qualitative target has no district or direction breakdown.
    assert not ProgressSnapshot.objects.filter(target=target).exclude(scope_kind=ScopeKind.CITY)


# --- status for the new kinds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "quarter", "actual", "projection", "expected"),
    [
        # 4 % ± 0.5 (左右): reached within the tolerance; at risk within 10 % of 4 beyond it.
        ("rd_intensity", Q3_2026, "3.67", "3.67", Status.ON_TRACK),
        ("rd_intensity", Q3_2026, "3.2", "3.2", Status.AT_RISK),
        ("rd_intensity", Q3_2026, "4.9", "4.9", Status.AT_RISK),
        ("rd_intensity", Q3_2026, "2.8", "2.8", Status.OFF_TRACK),
        ("rd_intensity", Quarter(2026, 4), "4.5", "4.5", Status.ACHIEVED),
        ("rd_intensity", Quarter(2026, 4), "3.2", "3.2", Status.OFF_TRACK),
        # A yearly flow against the year's goal (50 without milestones): reached in the year.
        ("high_tech_awards_a_year", Q3_2026, "50", "55", Status.ACHIEVED),
        ("high_tech_awards_a_year", Q3_2026, "10", "50", Status.ON_TRACK),
        ("high_tech_awards_a_year", Q3_2026, "10", "45", Status.AT_RISK),
        ("high_tech_awards_a_year", Q3_2026, "10", "44", Status.OFF_TRACK),
        ("high_tech_awards_a_year", Quarter(2025, 4), "49", "49", Status.OFF_TRACK),
        ("high_tech_awards_a_year", Quarter(2025, 4), "50", "50", Status.ACHIEVED),
        # Cumulative additions: reached once 100 firms have joined.
        ("new_member_firms", Quarter(2025, 2), "100", "130", Status.ACHIEVED),
        ("new_member_firms", Quarter(2025, 2), "40", "95", Status.AT_RISK),
    ],
)
def test_status_of_the_new_kinds(photonics, key, quarter, actual, projection, expected):
    target = target_of(key)
    assert status_of(target, quarter, Decimal(actual), Decimal(projection)) == expected


@pytest.mark.parametrize(
    ("quarter", "assessed", "expected"),
    [
        (Quarter(2026, 1), Status.AT_RISK, Status.AT_RISK),
        (Q3_2026, Status.ON_TRACK, Status.ON_TRACK),
        (Q3_2026, "", Status.NOT_APPLICABLE),
        (Quarter(2026, 4), Status.ON_TRACK, Status.OFF_TRACK),
        (Quarter(2026, 4), Status.ACHIEVED, Status.ACHIEVED),
    ],
)
def test_status_of_a_qualitative_target_is_the_assessment_s(photonics, quarter, assessed, expected):
    """At the deadline only an achieved assessment is achieved; anything else is not."""
    target = target_of("innovation_centre")
    assert status_of(target, quarter, Decimal(0), None, assessed=assessed) == expected
