"""Each metric on a small population, with the expected numbers worked out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cluster.models import Cluster
from cluster.quarters import Quarter
from enterprises.choices import DesignationType, ListingVenue
from enterprises.models import QuarterlyReport, ResearchProject
from targets.choices import Basis
from targets.models import Target
from targets.selectors.metrics import Figures, evaluate

from .conftest import YI

pytestmark = pytest.mark.django_db

Q4 = Quarter(2025, 4)
LATER = timezone.make_aware(dt.datetime(2026, 6, 1))


def figures(at=LATER, basis=Basis.APPROVED):
    return Figures(basis, at)


def target(key):
    return Target.objects.select_related("metric", "plan").get(plan__key="nano-2023-2025", key=key)


def annual(approve, firm, year, total_yi, at=None):
    """Four equal quarters adding up to `total_yi` hundred-million yuan."""
    for q in (1, 2, 3, 4):
        approve(firm, year, q, total_yi * YI / 4, at=at)


@pytest.fixture
def population(enterprise_factory, approve, sip, kunshan):
    firms = {
        "big": enterprise_factory(name_zh="大", district=sip),  # ¥6 bn: both thresholds
        "mid": enterprise_factory(name_zh="中", district=kunshan),  # ¥1.2 bn
        "small": enterprise_factory(name_zh="小", district=sip),  # ¥0.9 bn
        "gone": enterprise_factory(
            name_zh="迁出",
            district=sip,
            status="moved_out",
            left_on=dt.date(2025, 6, 30),
        ),  # ¥20 bn but moved out mid-year
    }
    annual(approve, firms["big"], 2025, Decimal(60))
    annual(approve, firms["mid"], 2025, Decimal(12))
    annual(approve, firms["small"], 2025, Decimal(9))
    annual(approve, firms["gone"], 2025, Decimal(200))
    return firms


def test_sum_counts_only_approved_figures_of_firms_in_the_cluster(population, report_factory):
    returned = report_factory(
        enterprise=population["small"],
        year=2024,
        quarter=4,
        output_value=50 * YI,
        status="returned",
        submitted_at=LATER,
        return_reason="错",
    )
    assert QuarterlyReport.objects.filter(pk=returned.pk, status="returned").exists()
    result = evaluate(target("total_output"), Q4, figures())
    assert result.actual == Decimal(60 + 12 + 9) * YI
    assert result.by_district == {
        population["big"].district_id: 69 * YI,
        population["mid"].district_id: 12 * YI,
    }


def test_threshold_counts_are_strictly_above(population, approve):
    assert evaluate(target("firms_output_over_1bn"), Q4, figures()).actual == 2
    assert evaluate(target("firms_output_over_5bn"), Q4, figures()).actual == 1
    # Exactly ¥1 bn is not "above" ¥1 bn.
    annual(approve, population["small"], 2025, Decimal(10), at=LATER + dt.timedelta(days=1))
    later = figures(LATER + dt.timedelta(days=2))
    assert evaluate(target("firms_output_over_1bn"), Q4, later).actual == 2


def test_revision_after_approval_counts_in_the_new_vintage_only(population, approve):
    first = LATER
    approve(population["small"], 2025, 4, Decimal("3.75") * YI, at=first + dt.timedelta(days=30))
    # 3 quarters of 2.25 + 3.75 = 10.5 hundred-million: now above ¥1 bn.
    old = evaluate(target("firms_output_over_1bn"), Q4, figures(first))
    new = evaluate(target("firms_output_over_1bn"), Q4, figures(first + dt.timedelta(days=31)))
    assert (old.actual, new.actual) == (2, 3)
    assert population["small"].pk in new.counted and population["small"].pk not in old.counted


def test_preview_counts_submitted_figures_and_says_so(
    population, report_factory, enterprise_factory
):
    newcomer = enterprise_factory(name_zh="新")
    report_factory(
        enterprise=newcomer,
        year=2025,
        quarter=4,
        output_value=15 * YI,
        status="submitted",
        submitted_at=LATER,
    )
    approved = evaluate(target("firms_output_over_1bn"), Q4, figures())
    preview = evaluate(target("firms_output_over_1bn"), Q4, figures(basis=Basis.PREVIEW))
    assert (approved.actual, preview.actual) == (2, 3)


def test_projection_with_seasonality_hand_computed(enterprise_factory, approve, sip):
    firm = enterprise_factory(district=sip)
    # 2024 shape: 20, 25, 25, 30 → by the end of Q2 the district has 45% of its year.
    for q, value in zip((1, 2, 3, 4), (20, 25, 25, 30), strict=True):
        approve(firm, 2024, q, value * YI)
    approve(firm, 2025, 1, 22 * YI)
    approve(firm, 2025, 2, 23 * YI)
    result = evaluate(target("total_output"), Quarter(2025, 2), figures())
    assert result.actual == 45 * YI
    assert result.projection == 100 * YI  # 45 / 0.45
    # 1000 亿 target: (1000 - 45) / 2 remaining quarters.
    assert result.run_rate_needed == Decimal("477.5") * YI
    assert result.note["en"].startswith(
        "Year to date ¥4.5 bn; with each district's usual share of the year reached by Q2 "
        "(city average 45.0%), the year ends near ¥10.0 bn."
    )
    assert "needs ¥47.8 bn in each remaining quarter" in result.note["en"]
    assert "hundred-million" not in result.note["en"]
    assert result.note["zh"].startswith("年内累计 45.0 亿元；")
    assert "剩余每季度需完成 477.5 亿元" in result.note["zh"]


def test_projection_from_an_earlier_year_applies_the_recent_growth(
    enterprise_factory, approve, sip
):
    firm = enterprise_factory(district=sip)
    for year, total in ((2022, 80), (2023, 100)):
        for q in (1, 2, 3, 4):
            approve(firm, year, q, Decimal(total) * YI / 4)
    for q in (1, 2):
        approve(firm, 2024, q, 30 * YI)
    result = evaluate(target("total_output"), Quarter(2024, 2), figures())
    # Year-end 2024: 60 / 0.5 = 120; growth 2022→2023 is 25%; 2025: 120 × 1.25 = 150.
    assert result.projection == 150 * YI


def test_listed_firms_on_the_date(population, listing_factory):
    listing_factory(
        enterprise=population["big"], venue=ListingVenue.STAR, listed_on=dt.date(2021, 7, 1)
    )
    listing_factory(
        enterprise=population["mid"], venue=ListingVenue.NEEQ, listed_on=dt.date(2016, 1, 1)
    )
    listing_factory(
        enterprise=population["small"],
        venue=ListingVenue.CHINEXT,
        listed_on=dt.date(2020, 1, 1),
        delisted_on=dt.date(2025, 12, 31),
    )
    listing_factory(
        enterprise=population["gone"], venue=ListingVenue.HKEX, listed_on=dt.date(2019, 1, 1)
    )
    result = evaluate(target("listed_firms"), Q4, figures())
    assert result.actual == 1  # only the STAR listing; NEEQ, delisted that day, moved out
    assert evaluate(target("listed_firms"), Quarter(2025, 3), figures()).actual == 2


def test_designation_validity_counts_on_boundary_days(population, designation_factory):
    designation_factory(
        enterprise=population["big"],
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2025, 12, 31),
    )
    designation_factory(
        enterprise=population["mid"],
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2025, 12, 30),
    )
    designation_factory(
        enterprise=population["small"],
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2027, 12, 31),
    )
    designation_factory(
        enterprise=population["gone"],
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2026, 12, 31),
    )
    designation_factory(
        enterprise=population["small"],
        type=DesignationType.UNICORN_CULTIVATION,
        valid_from=dt.date(2025, 12, 31),
        valid_to=dt.date(2028, 12, 30),
    )
    assert evaluate(target("gazelle_firms"), Q4, figures()).actual == 1
    assert evaluate(target("gazelle_firms"), Quarter(2025, 3), figures()).actual == 2
    assert evaluate(target("unicorn_cultivation_firms"), Q4, figures()).actual == 1


def test_major_research_projects_since_the_plan_started(sip):
    nano = Cluster.objects.get(key="nano")

    def project(started, **kwargs):
        defaults = {
            "title": f"项目{started}",
            "lead_institution": "苏州大学",
            "district": sip,
            "level": "national",
            "is_major": True,
            "started_on": started,
        }
        defaults.update(kwargs)
        ResearchProject.objects.create(**defaults).clusters.add(nano)

    project(dt.date(2023, 5, 1))
    project(dt.date(2025, 12, 31))
    project(dt.date(2022, 12, 31))  # before the plan
    project(dt.date(2024, 1, 1), status="terminated")
    project(dt.date(2024, 1, 1), is_major=False)
    project(dt.date(2026, 1, 1))  # after the date
    result = evaluate(target("major_research_projects"), Q4, figures())
    assert result.actual == 2
    assert evaluate(target("major_research_projects"), Quarter(2024, 4), figures()).actual == 1
