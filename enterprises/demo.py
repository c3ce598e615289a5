"""A deterministic, realistic and clearly labelled demo population of the city's clusters.

Every firm's name starts with 【演示】/[Demo] and carries is_demo=True. Firm i is drawn from
its own random stream (seed, i), so the population is the same whatever the batch size.

The clusters, their sector trees and their plans come from the database (loaded from plan
files): nothing here names a cluster or a sector. The first cluster (by sort order) gets the
number of firms asked for; every further cluster gets a fifth as many of its own, and about
one firm in ten of the first cluster is also a member of the second (a firm in two clusters
counts in each).

Shape, after the white paper (China Nanotechnology Industry White Paper 2025) and the plan:
- districts weighted toward 苏州工业园区, the plan's "核心区" (二、主要目标); about 60% of SIP
  firms sit in 苏州纳米城 (white paper 6.1);
- firms spread over a cluster's focus directions in proportion to their materials;
- firm sizes follow a rank-size law within each cluster, so a handful of firms pass ¥1 bn and
  ¥5 bn while most are micro and small ones (white paper 4.5: micro and small firms are over
  70%);
- quarterly figures from the earliest plan's baseline year to the latest quarter that has
  ended, with a Q4-heavy seasonality and firm-specific growth; the latest quarter is still
  partly in the workflow, the earlier ones approved;
- designations, listings, milestones and research projects with plausible dates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import reset_queries, transaction
from django.db.models import Min
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cluster import clock
from cluster.models import Cluster, District, Park, Plan, Sector
from cluster.quarters import Quarter, quarter_range

from .choices import (
    DesignationTier,
    DesignationType,
    EnterpriseStatus,
    ListingVenue,
    MilestoneKind,
    ProjectLevel,
    ProjectStatus,
    ReportStatus,
    SizeClass,
    StatisticalScope,
)
from .models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ResearchProject,
)
from .periods import ReportingWindow
from .services.reports import revisions_record
from .uscc import check_character

DEMO_PREFIX_ZH = "【演示】"
DEMO_PREFIX_EN = "[Demo] "
CHANGE_REASON = "seed_demo"

# Share of firms by district (name_zh). SIP is the plan's core area.
DISTRICT_WEIGHTS = {
    "苏州工业园区": 40,
    "苏州高新区·虎丘区": 12,
    "昆山市": 10,
    "吴中区": 7,
    "相城区": 6,
    "吴江区": 6,
    "张家港市": 5,
    "常熟市": 5,
    "太仓市": 4,
    "姑苏区": 3,
    "太仓港口管委会": 2,
}
NANOPOLIS = "苏州纳米城"
NANOPOLIS_SHARE_OF_SIP = 0.6

# Firms of each further cluster, as a share of the first cluster's; and the share of the first
# cluster's firms that are also members of the second.
FURTHER_CLUSTER_SHARE = 0.2
SECOND_MEMBERSHIP_SHARE = 0.1

# Rank-size law for the annual output value in the last year: rank r makes A / r^B.
TOP_OUTPUT_YUAN = 19e9
RANK_EXPONENT = 1.15
MIN_OUTPUT_YUAN = 500_000.0
SEASONALITY = (0.22, 0.245, 0.25, 0.285)

TRADE_NAMES = [
    ("纳微", "Nawei"),
    ("科润", "Kerun"),
    ("晶湛", "Jingzhan"),
    ("华芯", "Huaxin"),
    ("瑞博", "Ruibo"),
    ("恒光", "Hengguang"),
    ("天孚", "Tianfu"),
    ("博睿", "Borui"),
    ("微构", "Weigou"),
    ("星烁", "Xingshuo"),
    ("聚芯", "Juxin"),
    ("盛科", "Shengke"),
    ("凯越", "Kaiyue"),
    ("纳晶", "Najing"),
    ("宇石", "Yushi"),
    ("东微", "Dongwei"),
    ("汉纳", "Hanna"),
    ("思瑞", "Sirui"),
    ("德睿", "Derui"),
    ("清陶", "Qingtao"),
    ("苏纳", "Suna"),
    ("敏芯", "Minxin"),
    ("长光", "Changguang"),
    ("中晟", "Zhongsheng"),
    ("捷芯", "Jiexin"),
    ("英诺", "Yingnuo"),
    ("华辰", "Huachen"),
    ("锦纶", "Jinlun"),
    ("启明", "Qiming"),
    ("嘉盛", "Jiasheng"),
    ("芯源", "Xinyuan"),
    ("博瑞", "Borui"),
    ("晶方", "Jingfang"),
    ("纳芯", "Naxin"),
    ("瑞华", "Ruihua"),
    ("恒泰", "Hengtai"),
    ("新宙", "Xinzhou"),
    ("昊天", "Haotian"),
    ("明阳", "Mingyang"),
    ("同创", "Tongchuang"),
]
# Names come from an ordered triple of distinct trade-name syllables: firm i gets triple
# number (i × STEP + seed) mod TRIPLES, a bijection, so no two demo firms share a name.
TRIPLES = len(TRADE_NAMES) * (len(TRADE_NAMES) - 1) * (len(TRADE_NAMES) - 2)
STEP = 7919  # prime, coprime with TRIPLES


def _trade_name(seed: int, index: int) -> tuple[str, str]:
    number = (index * STEP + seed) % TRIPLES
    pool = list(TRADE_NAMES)
    parts = []
    for size in (len(pool), len(pool) - 1, len(pool) - 2):
        number, pick = divmod(number, size)
        parts.append(pool.pop(pick))
    return "".join(p[0] for p in parts), parts[0][1] + "".join(p[1].lower() for p in parts[1:])


SUFFIXES = [
    ("科技有限公司", "Technology Co., Ltd."),
    ("新材料有限公司", "New Materials Co., Ltd."),
    ("科技股份有限公司", "Technology Co., Ltd."),
    ("电子有限公司", "Electronics Co., Ltd."),
]
INSTITUTIONS = [
    "中国科学院苏州纳米技术与纳米仿生研究所",
    "苏州大学",
    "苏州实验室",
    "国家第三代半导体技术创新中心（苏州）",
    "姑苏实验室",
]
RETURN_REASON = "【演示】产值环比波动较大，请核实后重新报送。"


@dataclass
class DemoSummary:
    firms: int = 0
    memberships: int = 0
    reports: int = 0
    designations: int = 0
    listings: int = 0
    milestones: int = 0
    projects: int = 0
    skipped: bool = False
    counts_by_status: dict[str, int] = field(default_factory=dict)


def gb11714_check(code8: str) -> str:
    """Check character of a 9-character organisation code (GB 11714), positions 9-17
    of a USCC."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(char, 36) * weight for char, weight in zip(code8, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def demo_uscc(region_code: str, seed: int, index: int) -> str:
    """A valid, unique USCC for demo firm `index`: 91 (enterprise, industrial and commercial),
    the region code, an organisation code and both check characters."""
    code8 = f"{(seed * 1_000_003 + index) % 10**8:08d}"
    first17 = f"91{region_code}{code8}{gb11714_check(code8)}"
    return first17 + check_character(first17)


def _money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.0):.2f}")


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return dt.date(day.year + years, 2, 28)


def _date_in_year(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


@dataclass
class DemoCluster:
    """A cluster of the database with its tree, and the firm numbers drawn for it."""

    cluster: Cluster
    materials: dict[Sector, list[Sector]]  # focus direction → its materials
    first_index: int
    firms: int

    def direction(self, rng: random.Random) -> Sector:
        directions = list(self.materials)
        return rng.choices(directions, weights=[len(self.materials[d]) for d in directions])[0]

    def material(self, rng: random.Random) -> Sector:
        return rng.choice(self.materials[self.direction(rng)])


def default_first_quarter() -> Quarter:
    """The first quarter of the earliest plan's baseline year: the plans' baselines and
    milestones come from the approved figures of that year."""
    year = Plan.objects.aggregate(year=Min("baseline_year"))["year"]
    return Quarter(year or ReportingWindow.on(clock.today()).first.year, 1)


def default_last_quarter(today: dt.date) -> Quarter:
    """The latest quarter that has ended: the one districts are reporting now."""
    return ReportingWindow.on(today).being_reported


class DemoGenerator:
    def __init__(
        self,
        *,
        firms: int,
        seed: int,
        first: Quarter | None = None,
        last: Quarter | None = None,
        today: dt.date | None = None,
        batch_size: int = 500,
    ) -> None:
        if firms < 1:
            raise ValueError("firms must be at least 1")
        today = today or clock.today()
        self.seed = seed
        # Tickers are unique per venue: numbered across every cluster's firms (ranks start
        # again in each cluster).
        self.tickers = itertools.count(1)
        self.first = first or default_first_quarter()
        self.last = last or default_last_quarter(today)
        if self.last < self.first:
            raise ValueError(f"the last quarter {self.last} is before the first {self.first}")
        self.batch_size = batch_size
        self.quarters = list(quarter_range(self.first, self.last))
        self.years = sorted({q.year for q in self.quarters})
        self.districts = {d.name_zh: d for d in District.objects.all()}
        missing = set(DISTRICT_WEIGHTS) - set(self.districts)
        if missing:
            raise RuntimeError(f"reference data missing districts: {sorted(missing)}")
        self.nanopolis = Park.objects.get(name_zh=NANOPOLIS)
        self.clusters = self._clusters(firms)
        if not self.clusters:
            raise RuntimeError("no cluster with a sector tree: load a plan file first")
        self.firms = sum(c.firms for c in self.clusters)
        # A rank-size law per cluster: rank r of the cluster's firms makes A / r^B.
        self.ranks: dict[int, int] = {}
        for demo_cluster in self.clusters:
            ranks = list(range(1, demo_cluster.firms + 1))
            random.Random(f"{seed}:ranks:{demo_cluster.cluster.key}").shuffle(ranks)
            for offset, rank in enumerate(ranks):
                self.ranks[demo_cluster.first_index + offset] = rank
        self.now = clock.now()

    @staticmethod
    def _clusters(firms: int) -> list[DemoCluster]:
        """The clusters with a sector tree, the first with `firms` firms, each further one
        with FURTHER_CLUSTER_SHARE as many."""
        trees: dict[Cluster, dict[Sector, list[Sector]]] = {}
        materials = Sector.objects.materials().select_related("cluster", "parent")
        for material in materials.order_by(
            "cluster__sort_order", "cluster__key", "parent__sort_order", "parent__code", "code"
        ):
            trees.setdefault(material.cluster, {}).setdefault(material.parent, []).append(material)
        clusters, first_index = [], 0
        for order, (cluster, tree) in enumerate(trees.items()):
            count = firms if order == 0 else max(1, round(firms * FURTHER_CLUSTER_SHARE))
            clusters.append(DemoCluster(cluster, tree, first_index, count))
            first_index += count
        return clusters

    def _cluster_of(self, index: int) -> DemoCluster:
        return next(c for c in self.clusters if c.first_index <= index < c.first_index + c.firms)

    # --- one firm --------------------------------------------------------------------
    def _firm(self, index: int):
        rng = random.Random(f"{self.seed}:firm:{index}")
        home = self._cluster_of(index)
        rank = self.ranks[index]
        district = self.districts[_weighted(rng, DISTRICT_WEIGHTS)]
        material = home.material(rng)
        trade_zh, trade_en = _trade_name(self.seed, index)
        suffix_zh, suffix_en = rng.choice(SUFFIXES)

        last_output = max(
            TOP_OUTPUT_YUAN / rank**RANK_EXPONENT * math.exp(rng.gauss(0, 0.35)),
            MIN_OUTPUT_YUAN * math.exp(rng.gauss(0, 0.8)),
        )
        growth = rng.gauss(0.12, 0.10)
        founded = dt.date(rng.randint(1995, self.last.year), rng.randint(1, 12), rng.randint(1, 28))
        joined = max(founded, dt.date(2006, 1, 1)) + dt.timedelta(days=rng.randrange(0, 400))
        if joined > self.last.end:
            joined = self.last.end - dt.timedelta(days=rng.randrange(30, 200))
        status = EnterpriseStatus.ACTIVE
        until = None
        draw = rng.random()
        if draw < 0.015:
            status = EnterpriseStatus.CLOSED
            until = _date_in_year(rng, rng.choice(self.years))
        elif draw < 0.03:
            status = EnterpriseStatus.MOVED_OUT
            until = _date_in_year(rng, rng.choice(self.years))
        if until and until < joined:
            until = joined + dt.timedelta(days=90)
        revenue_share = rng.uniform(0.9, 1.1)
        size = (
            SizeClass.LARGE
            if last_output >= 4e8
            else SizeClass.MEDIUM
            if last_output >= 2e7
            else SizeClass.SMALL
            if last_output >= 3e6
            else SizeClass.MICRO
        )
        enterprise = Enterprise(
            uscc=demo_uscc(district.code or district.parent.code, self.seed, index),
            name_zh=f"{DEMO_PREFIX_ZH}苏州{trade_zh}{suffix_zh}",
            name_en=f"{DEMO_PREFIX_EN}Suzhou {trade_en} {suffix_en}",
            district=district,
            park=self.nanopolis
            if district.name_zh == "苏州工业园区" and rng.random() < NANOPOLIS_SHARE_OF_SIP
            else None,
            founded_on=founded,
            size_class=size,
            status=status,
            above_designated_size=last_output * revenue_share >= 2e7,
            is_demo=True,
        )
        memberships = [
            ClusterMembership(
                enterprise=enterprise,
                cluster=home.cluster,
                sector=material,
                joined_on=joined,
                left_on=until,
            )
        ]
        second = self.clusters[1] if len(self.clusters) > 1 else None
        if home is self.clusters[0] and second and rng.random() < SECOND_MEMBERSHIP_SHARE:
            # A later step into a neighbouring cluster, while the firm is in its first one.
            also = min(joined + dt.timedelta(days=rng.randrange(0, 1500)), until or self.last.end)
            memberships.append(
                ClusterMembership(
                    enterprise=enterprise,
                    cluster=second.cluster,
                    sector=second.material(rng),
                    joined_on=also,
                    left_on=until,
                )
            )
        profile = {
            "rng": rng,
            "rank": rank,
            "last_output": last_output,
            "growth": growth,
            "revenue_share": revenue_share,
            "joined": joined,
            "until": until,
            "memberships": memberships,
            "cluster": home,
        }
        return enterprise, profile

    def _reports(self, enterprise: Enterprise, profile: dict) -> list[QuarterlyReport]:
        rng = profile["rng"]
        reports = []
        annual = {}
        for year in reversed(self.years):
            annual[year] = (
                profile["last_output"]
                / (1 + profile["growth"]) ** (self.years[-1] - year)
                * math.exp(rng.gauss(0, 0.04))
            )
        scope = (
            StatisticalScope.ABOVE_SIZE
            if enterprise.above_designated_size
            else StatisticalScope.BELOW_SIZE
        )
        employees_per_yuan = 1 / rng.uniform(1.0e6, 2.5e6)
        for quarter in self.quarters:
            # A firm reports once for all its clusters, while it is a member of one.
            if quarter.end < profile["joined"]:
                continue
            if profile["until"] and quarter.start > profile["until"]:
                continue
            share = SEASONALITY[quarter.quarter - 1] * rng.uniform(0.95, 1.05)
            output = annual[quarter.year] * share
            revenue = output * profile["revenue_share"] * rng.uniform(0.97, 1.03)
            status, submitted_at, approved_at = self._workflow(rng, quarter)
            reports.append(
                QuarterlyReport(
                    enterprise=enterprise,
                    year=quarter.year,
                    quarter=quarter.quarter,
                    output_value=_money(output),
                    operating_revenue=_money(revenue),
                    rd_spending=_money(revenue * rng.uniform(0.02, 0.08)),
                    employees=max(3, int(annual[quarter.year] * employees_per_yuan)),
                    invention_patents=int(rng.expovariate(1.0) * math.log10(output + 10) / 3),
                    high_value_patents=0,
                    statistical_scope=scope,
                    status=status,
                    submitted_at=submitted_at,
                    approved_at=approved_at,
                    returned_at=submitted_at + dt.timedelta(days=3)
                    if status == ReportStatus.RETURNED
                    else None,
                    return_reason=RETURN_REASON if status == ReportStatus.RETURNED else "",
                    revision=1 if status == ReportStatus.APPROVED else 0,
                )
            )
            reports[-1].high_value_patents = rng.randint(0, reports[-1].invention_patents)
        return reports

    def _workflow(self, rng: random.Random, quarter: Quarter):
        """Older quarters are approved; the latest one is still partly in the workflow."""
        submitted = timezone.make_aware(
            dt.datetime.combine(quarter.end + dt.timedelta(days=rng.randint(5, 14)), dt.time(10))
        )
        if quarter != self.last:
            return (
                ReportStatus.APPROVED,
                submitted,
                submitted + dt.timedelta(days=rng.randint(2, 8)),
            )
        draw = rng.random()
        if draw < 0.78:
            return (
                ReportStatus.APPROVED,
                submitted,
                submitted + dt.timedelta(days=rng.randint(2, 8)),
            )
        if draw < 0.90:
            return ReportStatus.SUBMITTED, submitted, None
        if draw < 0.95:
            return ReportStatus.RETURNED, submitted, None
        return ReportStatus.DRAFT, None, None

    def _designations(self, enterprise: Enterprise, profile: dict):
        rng = profile["rng"]
        output = profile["last_output"]
        designations, milestones = [], []

        def award(type_, tier, issuer, year, years_valid):
            start = _date_in_year(rng, year)
            designations.append(
                Designation(
                    enterprise=enterprise,
                    type=type_,
                    tier=tier,
                    issuer=issuer,
                    certificate_no=f"DEMO-{type_[:3].upper()}-{year}-{rng.randrange(10**6):06d}",
                    valid_from=start,
                    valid_to=_years_later(start, years_valid) - dt.timedelta(days=1),
                )
            )
            milestones.append(
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.DESIGNATION_WON,
                    occurred_on=start,
                    note=f"{DEMO_PREFIX_ZH}{DesignationType(type_).label}",
                )
            )

        first_year = self.years[0] - 2
        if rng.random() < min(0.85, 0.25 + output / 2e9):
            year = rng.randint(first_year, self.years[-1])
            award(
                DesignationType.HIGH_TECH,
                DesignationTier.NATIONAL,
                "江苏省高新技术企业认定管理工作协调小组",
                year,
                3,
            )
            if year + 3 <= self.years[-1] and rng.random() < 0.7:
                award(
                    DesignationType.HIGH_TECH,
                    DesignationTier.NATIONAL,
                    "江苏省高新技术企业认定管理工作协调小组",
                    year + 3,
                    3,
                )
        mid_sized = 2e7 <= output <= 2e9
        for year in range(first_year, self.years[-1] + 1):
            if mid_sized and profile["growth"] > 0.15 and rng.random() < 0.07:
                award(DesignationType.GAZELLE, DesignationTier.CITY, "苏州市科学技术局", year, 2)
            elif mid_sized and profile["growth"] > 0.08 and rng.random() < 0.03:
                award(
                    DesignationType.GAZELLE_CULTIVATION,
                    DesignationTier.CITY,
                    "苏州市科学技术局",
                    year,
                    2,
                )
            if 5e7 <= output <= 3e9 and profile["growth"] > 0.12 and rng.random() < 0.03:
                award(
                    DesignationType.UNICORN_CULTIVATION,
                    DesignationTier.CITY,
                    "苏州市科学技术局",
                    year,
                    3,
                )
            if output >= 5e7 and rng.random() < 0.015:
                award(
                    DesignationType.LITTLE_GIANT,
                    DesignationTier.NATIONAL,
                    "工业和信息化部",
                    year,
                    3,
                )
        return designations, milestones

    def _market(self, enterprise: Enterprise, profile: dict):
        rng = profile["rng"]
        listings, milestones = [], []
        rank = profile["rank"]
        if rank <= 60 and rng.random() < 0.14:
            listed_on = _date_in_year(rng, rng.randint(2010, self.years[-1]))
            venue = rng.choices(
                [
                    ListingVenue.STAR,
                    ListingVenue.CHINEXT,
                    ListingVenue.SSE_MAIN,
                    ListingVenue.SZSE_MAIN,
                    ListingVenue.HKEX,
                    ListingVenue.BSE,
                ],
                weights=[35, 25, 12, 12, 10, 6],
            )[0]
            listings.append(
                Listing(
                    enterprise=enterprise,
                    venue=venue,
                    ticker=f"D{self.seed % 100:02d}{next(self.tickers):05d}",
                    listed_on=listed_on,
                )
            )
            milestones += [
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.IPO_FILING_ACCEPTED,
                    occurred_on=listed_on - dt.timedelta(days=rng.randint(180, 420)),
                    note=f"{DEMO_PREFIX_ZH}{venue.label}",
                ),
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.LISTED,
                    occurred_on=listed_on,
                    note=f"{DEMO_PREFIX_ZH}{venue.label}",
                ),
            ]
        elif rank <= 150 and rng.random() < 0.05:
            milestones.append(
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.IPO_FILING_ACCEPTED,
                    occurred_on=_date_in_year(rng, self.years[-1]),
                    note=f"{DEMO_PREFIX_ZH}{ListingVenue.STAR.label}",
                )
            )
        elif rng.random() < 0.006:
            listings.append(
                Listing(
                    enterprise=enterprise,
                    venue=ListingVenue.NEEQ,
                    ticker=f"N{self.seed % 100:02d}{next(self.tickers):05d}",
                    listed_on=_date_in_year(rng, rng.randint(2014, 2020)),
                )
            )
        if profile["last_output"] < 2e8 and rng.random() < 0.05:
            milestones.append(
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.FINANCING_ROUND,
                    occurred_on=_date_in_year(rng, rng.choice(self.years)),
                    amount=_money(rng.choice([5e6, 1e7, 3e7, 5e7, 1e8, 2e8])),
                    note=f"{DEMO_PREFIX_ZH}" + rng.choice(["天使轮", "A轮", "B轮", "C轮"]),
                )
            )
        if profile["joined"].year >= self.years[0]:
            milestones.append(
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.MOVED_IN,
                    occurred_on=profile["joined"],
                    note=DEMO_PREFIX_ZH,
                )
            )
        if enterprise.status == EnterpriseStatus.MOVED_OUT:
            milestones.append(
                Milestone(
                    enterprise=enterprise,
                    kind=MilestoneKind.MOVED_OUT,
                    occurred_on=profile["until"],
                    note=DEMO_PREFIX_ZH,
                )
            )
        return listings, milestones

    # --- the whole population -----------------------------------------------------------
    def _batches(self) -> Iterator[range]:
        for start in range(0, self.firms, self.batch_size):
            yield range(start, min(start + self.batch_size, self.firms))

    def run(self, progress=None) -> DemoSummary:
        summary = DemoSummary()
        # Each cluster's largest firms by rank, the leads of its research projects.
        top_firms: dict[Cluster, list[tuple[int, Enterprise]]] = {}
        for batch in self._batches():
            with transaction.atomic():
                drawn = [self._firm(index) for index in batch]
                firms = [enterprise for enterprise, _ in drawn]
                bulk_create_with_history(
                    firms,
                    Enterprise,
                    batch_size=1000,
                    default_change_reason=CHANGE_REASON,
                    default_date=self.now,
                )
                memberships = [m for _enterprise, profile in drawn for m in profile["memberships"]]
                bulk_create_with_history(
                    memberships,
                    ClusterMembership,
                    batch_size=2000,
                    default_change_reason=CHANGE_REASON,
                    default_date=self.now,
                )
                reports, designations, listings, milestones = [], [], [], []
                for enterprise, profile in drawn:
                    reports += self._reports(enterprise, profile)
                    more_designations, designation_milestones = self._designations(
                        enterprise, profile
                    )
                    designations += more_designations
                    more_listings, market_milestones = self._market(enterprise, profile)
                    listings += more_listings
                    milestones += designation_milestones + market_milestones
                    if profile["rank"] <= 120:
                        top_firms.setdefault(profile["cluster"].cluster, []).append(
                            (profile["rank"], enterprise)
                        )
                bulk_create_with_history(
                    reports,
                    QuarterlyReport,
                    batch_size=2000,
                    default_change_reason=CHANGE_REASON,
                    default_date=self.now,
                )
                revisions_record(
                    reports=[r for r in reports if r.status == ReportStatus.APPROVED],
                    batch_size=2000,
                )
                for model, objects in (
                    (Designation, designations),
                    (Listing, listings),
                    (Milestone, milestones),
                ):
                    bulk_create_with_history(
                        objects,
                        model,
                        batch_size=2000,
                        default_change_reason=CHANGE_REASON,
                        default_date=self.now,
                    )
                summary.firms += len(firms)
                summary.memberships += len(memberships)
                summary.reports += len(reports)
                summary.designations += len(designations)
                summary.listings += len(listings)
                summary.milestones += len(milestones)
                for report in reports:
                    summary.counts_by_status[report.status] = (
                        summary.counts_by_status.get(report.status, 0) + 1
                    )
            # With DEBUG on, Django keeps the SQL of every query; bulk inserts are large.
            reset_queries()
            if progress:
                progress(summary)
        summary.projects = self._projects(
            {
                cluster: sorted(firms, key=lambda pair: pair[0])
                for cluster, firms in top_firms.items()
            }
        )
        return summary

    def _projects(self, top_firms: dict[Cluster, list[tuple[int, Enterprise]]]) -> int:
        """Research projects of each cluster, in proportion to its firms, each counting
        toward its cluster's plans."""
        rng = random.Random(f"{self.seed}:projects")
        count = max(12, min(40, self.firms // 100))
        projects, clusters = [], []
        for number in range(count):
            home = rng.choices(self.clusters, weights=[c.firms for c in self.clusters])[0]
            material = home.material(rng)
            leads = top_firms.get(home.cluster, [])
            level = rng.choices(
                [ProjectLevel.NATIONAL, ProjectLevel.PROVINCIAL, ProjectLevel.CITY],
                weights=[25, 40, 35],
            )[0]
            started = _date_in_year(rng, rng.randint(self.years[0] - 1, self.years[-1]))
            lead = leads[rng.randrange(len(leads))][1] if leads and rng.random() < 0.7 else None
            projects.append(
                ResearchProject(
                    title=f"{DEMO_PREFIX_ZH}{material.name_zh}关键技术攻关（{number + 1:02d}）",
                    lead_enterprise=lead,
                    lead_institution="" if lead else rng.choice(INSTITUTIONS),
                    partner_institutions=rng.choice(INSTITUTIONS),
                    district=lead.district if lead else self.districts["苏州工业园区"],
                    level=level,
                    is_major=level == ProjectLevel.NATIONAL
                    or (level == ProjectLevel.PROVINCIAL and rng.random() < 0.5),
                    funding=_money(rng.choice([2e6, 5e6, 1e7, 3e7, 5e7, 1e8])),
                    started_on=started,
                    ends_on=started + dt.timedelta(days=365 * rng.randint(2, 4)),
                    status=rng.choices(
                        [ProjectStatus.ONGOING, ProjectStatus.COMPLETED, ProjectStatus.TERMINATED],
                        weights=[75, 20, 5],
                    )[0],
                )
            )
            clusters.append(home.cluster)
        bulk_create_with_history(
            projects, ResearchProject, default_change_reason=CHANGE_REASON, default_date=self.now
        )
        ResearchProject.clusters.through.objects.bulk_create(
            ResearchProject.clusters.through(researchproject_id=project.pk, cluster_id=cluster.pk)
            for project, cluster in zip(projects, clusters, strict=True)
        )
        return len(projects)


def demo_present() -> int:
    return Enterprise.objects.filter(is_demo=True).count()
