import datetime as dt
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum

from enterprises.choices import ReportStatus
from enterprises.demo import DemoGenerator, demo_uscc
from enterprises.models import (
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportRevision,
    ResearchProject,
)
from enterprises.uscc import uscc_problem

pytestmark = pytest.mark.django_db


def fingerprint():
    return (
        list(Enterprise.objects.order_by("uscc").values_list("uscc", "name_zh", "district__code")),
        list(
            QuarterlyReport.objects.order_by("enterprise__uscc", "year", "quarter").values_list(
                "enterprise__uscc", "year", "quarter", "output_value", "status"
            )
        ),
        Designation.objects.count(),
        Listing.objects.count(),
        Milestone.objects.count(),
    )


def wipe():
    for model in (
        ReportRevision,
        QuarterlyReport,
        Designation,
        Listing,
        Milestone,
        ResearchProject,
        Enterprise,
    ):
        model.objects.all().delete()


def test_same_seed_gives_the_same_population_whatever_the_batch_size():
    DemoGenerator(firms=60, seed=11, batch_size=7).run()
    first = fingerprint()
    wipe()
    DemoGenerator(firms=60, seed=11, batch_size=500).run()
    assert fingerprint() == first
    wipe()
    DemoGenerator(firms=60, seed=12).run()
    assert fingerprint()[0] != first[0]


def test_demo_firms_are_labelled_and_valid():
    DemoGenerator(firms=80, seed=3).run()
    firms = list(Enterprise.objects.all())
    assert len(firms) == 80
    assert all(f.is_demo and f.name_zh.startswith("【演示】") for f in firms)
    assert all(f.name_en.startswith("[Demo] ") for f in firms)
    assert all(uscc_problem(f.uscc) is None for f in firms)
    for firm in firms[:10]:
        firm.full_clean()


def test_population_shape_sip_first_and_a_heavy_tail():
    DemoGenerator(firms=600, seed=2025).run()
    by_district = Counter(Enterprise.objects.values_list("district__name_zh", flat=True))
    assert by_district.most_common(1)[0][0] == "苏州工业园区"
    assert by_district["苏州工业园区"] > 0.3 * 600
    annual = {
        row["enterprise"]: row["total"]
        for row in QuarterlyReport.objects.filter(year=2025)
        .values("enterprise")
        .annotate(total=Sum("output_value"))
    }
    values = sorted(annual.values())
    over_1bn = sum(1 for v in values if v > 1_000_000_000)
    median, mean = values[len(values) // 2], sum(values) / len(values)
    assert 3 <= over_1bn <= 30
    assert median < mean / 5
    assert values[-1] > 5_000_000_000


def test_sixteen_quarters_from_the_baseline_year_with_q4_heaviest_and_latest_in_the_workflow():
    DemoGenerator(firms=200, seed=5).run()
    quarters = set(QuarterlyReport.objects.values_list("year", "quarter"))
    assert quarters == {(y, q) for y in (2022, 2023, 2024, 2025) for q in (1, 2, 3, 4)}
    by_quarter = dict(
        QuarterlyReport.objects.filter(year=2024)
        .values_list("quarter")
        .annotate(total=Sum("output_value"))
    )
    assert by_quarter[4] == max(by_quarter.values())
    assert by_quarter[1] == min(by_quarter.values())
    older = set(
        QuarterlyReport.objects.exclude(year=2025, quarter=4).values_list("status", flat=True)
    )
    assert older == {ReportStatus.APPROVED}
    latest = set(
        QuarterlyReport.objects.filter(year=2025, quarter=4).values_list("status", flat=True)
    )
    assert ReportStatus.APPROVED in latest and len(latest) >= 3


def test_demo_leaves_history_for_every_row():
    DemoGenerator(firms=30, seed=1).run()
    assert Enterprise.history.count() == Enterprise.objects.count() == 30
    assert QuarterlyReport.history.count() == QuarterlyReport.objects.count() > 0
    assert Designation.history.count() == Designation.objects.count()
    assert set(Enterprise.history.values_list("history_change_reason", flat=True)) == {"seed_demo"}


def test_designation_dates_are_plausible():
    DemoGenerator(firms=400, seed=9).run()
    assert Designation.objects.exists()
    for designation in Designation.objects.all():
        assert designation.valid_to > designation.valid_from
        assert dt.date(2020, 1, 1) <= designation.valid_from <= dt.date(2025, 12, 31)


def test_seed_demo_command_does_not_seed_twice(capsys):
    call_command("seed_demo", firms=20, seed=4)
    call_command("seed_demo", firms=20, seed=4)
    assert Enterprise.objects.count() == 20
    assert "already present (20 firms)" in capsys.readouterr().out


def test_demo_uscc_is_valid_and_unique():
    codes = {demo_uscc("320571", 2025, index) for index in range(5000)}
    assert len(codes) == 5000
    assert all(uscc_problem(code) is None for code in codes)


def test_the_demo_gives_every_target_a_baseline_and_milestones():
    """`make run` seeds the demo and recomputes: the cards have their milestones."""
    from targets.models import Target
    from targets.services.progress import progress_recompute

    DemoGenerator(firms=120, seed=2025).run()
    progress_recompute()
    targets = list(Target.objects.order_by("sort_order"))
    assert [t.baseline_year for t in targets] == [2022] * 7
    assert all(t.baseline_value is not None for t in targets)
    output = next(t for t in targets if t.key == "total_output")
    assert output.baseline_value > 0
    assert output.milestones.filter(interpolated=True).count() == 3
