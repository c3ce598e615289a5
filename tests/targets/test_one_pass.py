"""Every target of a quarter is computed from one pass over the year's reports per cluster
(targets.selectors.metrics.year_to_date_sums, firm_totals, Seasonality): adding targets of
the same figures — a district's own, a direction's, a second threshold — adds no read of
the reports, and the approval job leaves the baselines alone unless the baseline year's
reports moved. On the photonics example plan and its `reporting` firms."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cluster.models import District
from cluster.quarters import Quarter
from enterprises.models import REPORT_FIGURES, QuarterlyReport
from targets.choices import Basis
from targets.models import Metric, ProgressSnapshot, StoredFigures, StoredThrough, Target
from targets.selectors.metrics import evaluate
from targets.services.progress import progress_recompute
from targets.services.stored import seasonality_forget
from targets.tasks import recompute_for_reports, recompute_progress

from .kinds_data import KUNSHAN, SIP, YI, approved, figures, member, target_of
from .test_target_kinds import (  # noqa: F401 (fixtures)
    PHOTONICS_CHIPS,
    direction,
    photonics,
    reporting,
)

pytestmark = pytest.mark.django_db

Q3_2026 = Quarter(2026, 3)
# A read of the baseline year's figures (the seasonality of 2026 reads from 2023 on: ">=").
BASELINE_YEAR = re.compile(r'"year" = 2023\b')


def report_reads(run) -> list[str]:
    """The statements `run` sends that read report figures (approved revisions)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    return [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "enterprises_reportrevision"' in q["sql"] and q["sql"].startswith("SELECT")
    ]


def copy_target(key: str, new_key: str, *, threshold=None, **changes) -> Target:
    """Another target of the photonics plan like `key` (a new metric when the threshold
    differs)."""
    target = target_of(key)
    if threshold is not None:
        metric = target.metric
        metric.pk, metric.key, metric.threshold = None, f"{metric.key}_{new_key}", threshold
        metric.save()
        target.metric = metric
    target.pk, target.key = None, new_key
    for name, value in changes.items():
        setattr(target, name, value)
    target.save()
    return target


def test_more_targets_of_the_same_figures_read_the_reports_no_more_often(reporting):  # noqa: F811 (fixture)
    """One quarter of both plans (photonics: revenue, output, R&D intensity, firms above ¥1 bn
    of revenue; nano: output, its thresholds): the reports are read once for the
    year-to-date sums of each cluster, once for the candidate firms of each (cluster,
    figure) with a threshold, and once for the seasonality of the year. Then a district's
    own revenue target, a direction's R&D intensity and a ¥5 bn revenue threshold are added:
    not one read more, and their figures are those of the city's rows (SIP 90 亿元 of
    revenue, direction 1 at 5.00 %; D alone passes ¥5 bn with 60)."""
    # Each run reads the seasonality from the figures (not from what the last one stored).
    run = lambda: (  # noqa: E731
        seasonality_forget(),
        progress_recompute(quarters=[Q3_2026], baselines=False),
    )
    before = report_reads(run)
    kinds = {
        "year to date": [s for s in before if '"total_output_value"' in s and "GROUP BY" in s],
        "seasonality": [s for s in before if '"year" AS "year"' in s],
    }
    # Both clusters' year-to-date sums in one statement each; one seasonality of 2026.
    assert len([s for s in kinds["year to date"] if '"year" AS' not in s]) == 2
    assert len(kinds["seasonality"]) == 1
    sip = District.objects.get(code=SIP)
    own = copy_target("revenue", "revenue_sip", district=sip)
    intensity = copy_target("rd_intensity", "rd_intensity_1", sector_id=direction("1"))
    above_5bn = copy_target("firms_revenue_over_1bn", "firms_revenue_over_5bn", threshold=50 * YI)
    after = report_reads(run)
    assert len(after) == len(before)
    measured = figures()
    assert evaluate(target_of(own.key), Q3_2026, measured).actual == 90 * YI
    assert evaluate(target_of(intensity.key), Q3_2026, measured).actual == Decimal("5.00")
    assert evaluate(target_of(above_5bn.key), Q3_2026, measured).counted == {reporting["d"].pk}


def test_a_district_s_ratio_leaves_out_its_groups_without_both_figures(reporting):  # noqa: F811 (fixture)
    """Kunshan's R&D intensity is B's alone (0.15 / 15 = 1.00 %); SIP's leaves out D, which
    gives no R&D figure: A's 1.5 / 30 = 5.00 %, not (1.5) / (30 + 60)."""
    kunshan = copy_target(
        "rd_intensity", "rd_intensity_ks", district=District.objects.get(code=KUNSHAN)
    )
    sip = copy_target("rd_intensity", "rd_intensity_sip", district=District.objects.get(code=SIP))
    measured = figures()
    assert evaluate(target_of(kunshan.key), Q3_2026, measured).actual == Decimal("1.00")
    assert evaluate(target_of(sip.key), Q3_2026, measured).actual == Decimal("5.00")


def test_a_district_where_no_report_gives_both_figures_has_no_ratio(reporting):  # noqa: F811 (fixture)
    """戊光学 of Zhangjiagang reports its revenue but never its R&D: the city's R&D intensity
    lists SIP and Kunshan only (Zhangjiagang is absent, not 0.00 %), the city's figure is
    unchanged ((1.5 + 0.15) / (30 + 15) = 3.67 %), and Zhangjiagang's own target reads 0
    with the note that no firm has given both figures."""
    zhangjiagang = District.objects.get(code="320582")
    fifth = member("戊光学", PHOTONICS_CHIPS, district=zhangjiagang.code)
    for q in (1, 2, 3):
        approved(fifth, 2026, q, revenue=40, output=30, rd=None)
    city = evaluate(target_of("rd_intensity"), Q3_2026, figures())
    assert city.by_district == {
        reporting["a"].district_id: Decimal("5.00"),
        reporting["b"].district_id: Decimal("1.00"),
    }
    assert city.actual == Decimal("3.67")
    own = copy_target("rd_intensity", "rd_intensity_zjg", district=zhangjiagang)
    alone = evaluate(target_of(own.key), Q3_2026, figures())
    assert alone.actual == Decimal("0") and alone.by_district == {}
    assert "has reported both" in alone.note["en"]


@pytest.mark.parametrize("figure", Metric.Figure.values)
def test_a_ratio_of_a_figure_over_itself_is_a_hundred_percent(reporting, figure):  # noqa: F811 (fixture)
    """A plan may divide a figure by itself (a misprint or a check): the one pass sums each
    figure over the reports that give it, so every district with that figure reads
    100.00 % — D, without an R&D figure, leaves SIP's R&D share on A alone."""
    target = copy_target("rd_intensity", f"self_{figure}", threshold=None)
    metric = target.metric
    metric.pk, metric.key = None, f"self_{figure}"
    metric.figure = metric.denominator = figure
    metric.save()
    target.metric = metric
    target.save()
    evaluation = evaluate(target_of(target.key), Q3_2026, figures())
    assert evaluation.actual == Decimal("100.00")
    assert set(evaluation.by_district.values()) == {Decimal("100.00")}
    assert len(evaluation.by_district) == 2


def test_the_report_figures_are_the_metric_figures():
    """The covering indexes of the reports and revisions include REPORT_FIGURES; the metrics
    read Metric.Figure: one list, or a figure added to one is read off the table."""
    assert set(REPORT_FIGURES) == set(Metric.Figure.values)


def test_the_approval_job_reads_the_baseline_year_only_when_its_reports_moved(reporting):  # noqa: F811 (fixture)
    """A 2026Q3 approval's job reads no report of the baseline year (2023 for photonics):
    nothing of it moved. An approval of a 2023 report does, and its baseline follows."""
    target = target_of("revenue")
    assert target.baseline_year == 2023
    firm = reporting["a"]
    recompute_progress()  # everything computed and stored, as every night
    late = approved(firm, 2026, 4, revenue=10, output=8, rd="0.5")
    reads = report_reads(lambda: recompute_for_reports([late.pk]))
    assert reads
    assert not [s for s in reads if BASELINE_YEAR.search(s)]
    for q in (1, 2, 3, 4):
        approved(firm, 2023, q, revenue=7, output=5, rd="0.1")
    first = QuarterlyReport.objects.get(enterprise=firm, year=2023, quarter=1)
    reads = report_reads(lambda: recompute_for_reports([first.pk]))
    assert [s for s in reads if BASELINE_YEAR.search(s)]
    target.refresh_from_db()
    # A is the only photonics firm reporting in 2023: 4 × 7 亿元.
    assert target.baseline_value == 28 * YI


def test_the_approval_job_recomputes_only_the_clusters_of_the_approved_firm(reporting):  # noqa: F811 (fixture)
    """A report moves its own year in its firm's clusters only, and the following years in
    every cluster (the seasonality is the city's). Approved now for 2025Q4 (a quarter of both
    plans; nano 2023–2025 has no later one, photonics 2024–2026 has 2026): C's (nano only)
    gives nano's 2025Q4 and photonics' 2026 snapshots and parts at the new vintage, not
    photonics' 2025Q4; B's (photonics only) photonics' 2025Q4 and 2026, nothing of nano; A's
    (both) all of them; the parts likewise, and nano's stored 2026 (monitored after its plan)
    for each. Both clusters' store is marked through each new vintage."""
    recompute_progress()
    expected = {
        "c": {("nano", 2025), ("photonics", 2026)},
        "b": {("photonics", 2025), ("photonics", 2026)},
        "a": {("nano", 2025), ("photonics", 2025), ("photonics", 2026)},
    }
    for key, moved in expected.items():
        report = approved(reporting[key], 2025, 4, revenue=1, output=1, at=timezone.now())
        recompute_for_reports([report.pk])
        snapshots = set(
            ProgressSnapshot.objects.filter(vintage=report.approved_at).values_list(
                "target__plan__cluster__key", "year"
            )
        )
        assert snapshots == moved, key
        parts = set(
            StoredFigures.objects.filter(vintage=report.approved_at).values_list(
                "cluster__key", "year"
            )
        )
        # Nano's 2026 (monitored, after its plan) is stored too: a following year.
        assert parts == moved | {("nano", 2026)}, key
        through = StoredThrough.objects.filter(basis=Basis.APPROVED)
        assert {m.cluster.key: m.through for m in through} == {
            "nano": report.approved_at,
            "photonics": report.approved_at,
        }, key
