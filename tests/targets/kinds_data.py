"""Data for the tests of the kinds of target, 序时进度 and assessments: the photonics example
plan loaded from its file (optionally with more targets a steward appends), firms with dated
memberships of one or more clusters, and approved figures with R&D spending."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from cluster.models import Cluster, District, Sector
from enterprises.choices import EnterpriseStatus, SizeClass
from enterprises.models import ClusterMembership, Enterprise, QuarterlyReport, ReportRevision
from targets.choices import Basis
from targets.models import Target
from targets.plans.loading import plan_load
from targets.plans.reading import read_plan_file
from targets.selectors.metrics import Figures
from tests.factories import valid_uscc

YI = Decimal(100_000_000)
SIP, KUNSHAN = "320571", "320583"
NANO_PLAN, PHOTONICS_PLAN = "nano-2023-2025", "photonics-2024-2026"
FILES = Path(__file__).resolve().parents[2] / "targets" / "plans" / "files"
PHOTONICS = (FILES / "photonics-2024-2026.yaml").read_text(encoding="utf-8")
# The figures as known on today's date (2026-11-30): every approval below is earlier.
LATER = timezone.make_aware(dt.datetime(2026, 11, 30, 9))

# Targets a steward adds to the photonics file to cover the other modes of each kind.
MORE_TARGETS = """
  - key: output_scale
    name_zh: 光子产业规模（工业总产值）
    name_en: Photonics output value
    count: {kind: sum, figure: output_value}
    goal: {comparison: above, value: 1200亿元}
  - key: listed_a_year
    name_zh: 年新增上市企业
    name_en: Firms newly listed a year
    count: {kind: listed, mode: yearly}
    goal: {value: 3}
  - key: listed_since_start
    name_zh: 累计新增上市企业
    name_en: Firms newly listed since the plan began
    count: {kind: listed, mode: since_start}
    goal: {value: 8}
  - key: high_tech_since_start
    name_zh: 累计新认定高新技术企业
    name_en: High-tech designations awarded since the plan began
    count: {kind: designated, designation: high_tech, mode: since_start}
    goal: {value: 120}
  - key: new_members_a_year
    name_zh: 年新增集群企业
    name_en: Firms joining the cluster a year
    count: {kind: new_members, mode: yearly}
    goal: {value: 40}
  - key: projects_a_year
    name_zh: 年新开工重大科研项目
    name_en: Major research projects started a year
    count: {kind: projects, mode: yearly}
    goal: {value: 8}
"""

_numbers = itertools.count(70_000_000)


def figures(at=LATER, basis=Basis.APPROVED) -> Figures:
    return Figures(basis, at)


def load_photonics(steward, text: str = PHOTONICS) -> None:
    loading = plan_load(read_plan_file(text), actor=steward, reason="光子集群行动计划（示例）")
    assert loading.errors == [], loading.errors


def target_of(key: str, plan: str = PHOTONICS_PLAN) -> Target:
    return Target.objects.select_related("metric", "plan", "district", "sector").get(
        plan__key=plan, key=key
    )


def member(
    name: str,
    *clusters: tuple[str, str],
    district: str = SIP,
    joined_on: dt.date | None = None,
    left_on: dt.date | None = None,
    status: str = EnterpriseStatus.ACTIVE,
) -> Enterprise:
    """A firm of `district`, member of each (cluster key, material code) given, from
    `joined_on` (empty: from the start) until `left_on`."""
    number = next(_numbers)
    firm = Enterprise.objects.create(
        uscc=valid_uscc(number),
        name_zh=name,
        name_en=f"Firm {number}",
        district=District.objects.get(code=district),
        size_class=SizeClass.SMALL,
        status=status,
    )
    for cluster_key, code in clusters:
        cluster = Cluster.objects.get(key=cluster_key)
        ClusterMembership.objects.create(
            enterprise=firm,
            cluster=cluster,
            sector=Sector.objects.get(cluster=cluster, code=code),
            joined_on=joined_on,
            left_on=left_on,
        )
    return firm


def approved(firm, year, quarter, *, output=None, revenue=None, rd=None, at=None):
    """An approved report of the quarter's own figures (in 亿元), revision 1."""
    at = at or timezone.make_aware(dt.datetime(year + (quarter == 4), (quarter % 4) * 3 + 1, 10))
    figures = {
        "output_value": None if output is None else Decimal(output) * YI,
        "operating_revenue": None if revenue is None else Decimal(revenue) * YI,
        "rd_spending": None if rd is None else Decimal(rd) * YI,
    }
    report = QuarterlyReport.objects.create(
        enterprise=firm,
        year=year,
        quarter=quarter,
        status="approved",
        submitted_at=at,
        approved_at=at,
        revision=1,
        **figures,
    )
    ReportRevision.objects.create(
        report=report,
        enterprise=firm,
        year=year,
        quarter=quarter,
        revision=1,
        statistical_scope="self_reported",
        approved_at=at,
        **figures,
    )
    return report
