import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, Sum

from cluster.models import Cluster, Sector
from enterprises.choices import ReportStatus
from enterprises.demo import DemoGenerator, demo_uscc
from enterprises.models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportRevision,
    ResearchProject,
)
from enterprises.uscc import uscc_problem
from tests.factories import cluster_with_tree

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


def generator(**kwargs) -> DemoGenerator:
    return DemoGenerator(today=TODAY, **kwargs)


def fingerprint():
    return (
        list(Enterprise.objects.order_by("uscc").values_list("uscc", "name_zh", "district__code")),
        list(
            ClusterMembership.objects.order_by("enterprise__uscc", "cluster__key").values_list(
                "enterprise__uscc", "cluster__key", "sector__code", "joined_on", "left_on"
            )
        ),
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
        ClusterMembership,
        Designation,
        Listing,
        Milestone,
        ResearchProject,
        Enterprise,
    ):
        model.objects.all().delete()


def test_same_seed_gives_the_same_population_whatever_the_batch_size():
    generator(firms=60, seed=11, batch_size=7).run()
    first = fingerprint()
    wipe()
    generator(firms=60, seed=11, batch_size=500).run()
    assert fingerprint() == first
    wipe()
    generator(firms=60, seed=12).run()
    assert fingerprint()[0] != first[0]


def test_demo_firms_are_labelled_and_valid():
    generator(firms=80, seed=3).run()
    firms = list(Enterprise.objects.all())
    assert len(firms) == 80
    assert all(f.is_demo and f.name_zh.startswith("【演示】") for f in firms)
    assert all(f.name_en.startswith("[Demo] ") for f in firms)
    assert all(uscc_problem(f.uscc) is None for f in firms)
    for firm in firms[:10]:
        firm.full_clean()


def test_population_shape_sip_first_and_a_heavy_tail():
    generator(firms=600, seed=2025).run()
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


def test_reports_from_the_baseline_year_to_the_latest_ended_quarter_with_q4_heaviest():
    """On 2026-11-30: the plan 2023-2025 has ended and reporting goes on; 2026Q3 is the quarter
    being reported, partly still in the workflow, the earlier ones approved."""
    generator(firms=200, seed=5).run()
    quarters = set(QuarterlyReport.objects.values_list("year", "quarter"))
    assert quarters == {(y, q) for y in (2022, 2023, 2024, 2025) for q in (1, 2, 3, 4)} | {
        (2026, 1),
        (2026, 2),
        (2026, 3),
    }
    by_quarter = dict(
        QuarterlyReport.objects.filter(year=2024)
        .values_list("quarter")
        .annotate(total=Sum("output_value"))
    )
    assert by_quarter[4] == max(by_quarter.values())
    assert by_quarter[1] == min(by_quarter.values())
    older = set(
        QuarterlyReport.objects.exclude(year=2026, quarter=3).values_list("status", flat=True)
    )
    assert older == {ReportStatus.APPROVED}
    latest = Counter(
        QuarterlyReport.objects.filter(year=2026, quarter=3).values_list("status", flat=True)
    )
    assert ReportStatus.SUBMITTED in latest and len(latest) >= 3
    assert latest[ReportStatus.APPROVED] > sum(latest.values()) / 2


def test_the_last_quarter_follows_the_clock():
    with time_machine.travel(dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC), tick=False):
        demo = DemoGenerator(firms=5, seed=1)
    assert (str(demo.first), str(demo.last)) == ("2022Q1", "2026Q1")


def test_every_firm_is_a_member_of_the_first_cluster_and_reports_while_a_member():
    generator(firms=150, seed=8).run()
    nano = Cluster.objects.get(key="nano")
    assert Enterprise.objects.count() == 150
    assert ClusterMembership.objects.filter(cluster=nano).count() == 150
    assert set(ClusterMembership.objects.values_list("sector__level", flat=True)) == {
        Sector.Level.MATERIAL
    }
    for firm in Enterprise.objects.prefetch_related("memberships", "reports"):
        membership = firm.memberships.get()
        for report in firm.reports.all():
            assert report.period.end >= membership.joined_on
            assert membership.left_on is None or report.period.start <= membership.left_on


def test_a_second_cluster_gets_firms_of_its_own_and_a_tenth_of_the_firsts():
    photonics = cluster_with_tree("photonics")
    generator(firms=400, seed=6).run()
    by_cluster = Counter(ClusterMembership.objects.values_list("cluster__key", flat=True))
    own = Enterprise.objects.annotate(n=Count("memberships")).filter(
        n=1, memberships__cluster=photonics
    )
    assert own.count() == 80  # a fifth as many firms as the first cluster
    both = by_cluster["photonics"] - own.count()
    assert 25 <= both <= 60  # about one nano firm in ten
    assert by_cluster["nano"] == 400
    assert set(
        ClusterMembership.objects.filter(cluster=photonics).values_list(
            "sector__cluster", flat=True
        )
    ) == {photonics.pk}
    for firm in Enterprise.objects.annotate(n=Count("memberships")).filter(n=2):
        nano, second = sorted(firm.memberships.all(), key=lambda m: m.cluster.sort_order)
        assert second.joined_on >= nano.joined_on and second.left_on == nano.left_on
    assert set(ResearchProject.objects.values_list("clusters__key", flat=True)) <= {
        "nano",
        "photonics",
    }
    assert not ResearchProject.objects.filter(clusters=None).exists()


def test_the_clusters_and_their_trees_come_from_the_database():
    """A cluster added as data, with codes no code of ours knows, gets firms in its tree."""
    other = Cluster.objects.create(key="biomed", name_zh="苏州市生物医药产业创新集群", sort_order=3)
    direction = Sector.objects.create(
        cluster=other, code="A", name_zh="创新药", level=Sector.Level.DIRECTION
    )
    material = Sector.objects.create(
        cluster=other, code="A-1", name_zh="抗体药物", level=Sector.Level.MATERIAL, parent=direction
    )
    generator(firms=50, seed=2).run()
    members = ClusterMembership.objects.filter(cluster=other)
    assert set(members.values_list("sector", flat=True)) == {material.pk}
    own = Enterprise.objects.annotate(n=Count("memberships")).filter(
        n=1, memberships__cluster=other
    )
    assert own.count() == 10
    assert members.count() > 10  # and some nano firms are members of it too


def test_demo_leaves_history_for_every_row():
    generator(firms=30, seed=1).run()
    assert Enterprise.history.count() == Enterprise.objects.count() == 30
    assert ClusterMembership.history.count() == ClusterMembership.objects.count() == 30
    assert QuarterlyReport.history.count() == QuarterlyReport.objects.count() > 0
    assert Designation.history.count() == Designation.objects.count()
    assert set(Enterprise.history.values_list("history_change_reason", flat=True)) == {"seed_demo"}


def test_designation_dates_are_plausible():
    generator(firms=400, seed=9).run()
    assert Designation.objects.exists()
    for designation in Designation.objects.all():
        assert designation.valid_to > designation.valid_from
        assert dt.date(2020, 1, 1) <= designation.valid_from <= dt.date(2026, 12, 31)


def test_seed_demo_command_does_not_seed_twice(capsys):
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC), tick=False):
        call_command("seed_demo", firms=20, seed=4)
        call_command("seed_demo", firms=20, seed=4)
    assert Enterprise.objects.count() == 20
    out = capsys.readouterr().out
    assert "Seeded 20 demo firms with 20 memberships of 1 clusters" in out
    assert "(2022Q1-2026Q3)" in out
    assert "already present (20 firms)" in out


def test_demo_uscc_is_valid_and_unique():
    codes = {demo_uscc("320571", 2025, index) for index in range(5000)}
    assert len(codes) == 5000
    assert all(uscc_problem(code) is None for code in codes)


def test_the_demo_gives_every_target_a_baseline_and_milestones():
    """`make run` seeds the demo and recomputes: the cards have their milestones."""
    from targets.models import Target
    from targets.services.progress import progress_recompute

    generator(firms=120, seed=2025).run()
    progress_recompute()
    targets = list(Target.objects.order_by("sort_order"))
    assert [t.baseline_year for t in targets] == [2022] * 7
    assert all(t.baseline_value is not None for t in targets)
    output = next(t for t in targets if t.key == "total_output")
    assert output.baseline_value > 0
    assert output.milestones.filter(interpolated=True).count() == 3


def test_the_command_leaves_statistics_for_the_query_planner():
    """After the bulk load the planner knows the tables (ANALYZE): without statistics SQLite
    read a firm's revisions through the period index and a district page of the demo took
    2.4 s instead of 0.1 s (measured in bench/, embedded scenario)."""
    from django.db import connection

    call_command("seed_demo", firms=20, seed=3, stdout=io.StringIO())
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'enterprises_reportrevision'"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'enterprises_reportrevision'"
            )
        assert cursor.fetchone()[0] > 0
