"""The city overview: every cluster side by side, each on its own official quarter and in
that quarter's phase (selectors.plans): the plan in force (or the one that ended, and the
next), its headline targets with their status or final result, and how complete the
quarter's reporting is. A firm in two clusters counts in each; the overview says how many
firms are shared and never adds the clusters' figures up.

A fixed number of queries whatever the number of clusters, plans, targets and firms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q

from cluster.models import Cluster, Plan, PlanPhase
from enterprises.models import ClusterMembership

from ..choices import Basis, ScopeKind, Status
from ..models import ProgressSnapshot, Target
from .dashboard import newest_at
from .evaluation import Line, evaluations_of
from .plans import Coverage, Phase, cluster_plans, official_quarters, phase_of


@dataclass
class Headline:
    """A target of the plan shown, with where it stands in the quarter's phase."""

    target: Target
    snapshot: ProgressSnapshot | None = None  # in force: the city snapshot
    line: Line | None = None  # at the evaluated deadline: the final result

    @property
    def value(self) -> str:
        if self.line is not None:
            return self.line.shown_value
        if self.snapshot is None:
            return "—"
        return self.target.display_value(self.snapshot.actual, places=2)

    @property
    def status(self) -> str:
        """The CSS status the badge takes."""
        if self.line is not None:
            if self.line.achieved is None:
                return ""
            return Status.ACHIEVED if self.line.achieved else Status.OFF_TRACK
        return self.snapshot.status if self.snapshot else ""

    @property
    def status_label(self) -> str:
        if self.line is not None:
            return self.line.result
        if self.snapshot is None or not self.snapshot.status:
            return "—"
        return str(Status(self.snapshot.status).label)


@dataclass
class ClusterRow:
    cluster: Cluster
    coverage: Coverage
    phase: Phase  # the phase of the cluster's official quarter
    plans: list[Plan]
    headlines: list[Headline] = field(default_factory=list)
    firms: int = 0  # members today
    shared: int = 0  # of them, members of another cluster too

    def _on(self, phase: str) -> list[Plan]:
        return [p for p in self.plans if p.phase_on(self.phase.today) == phase]

    @property
    def in_force(self) -> Plan | None:
        """The plan in force today (not necessarily the one of the quarter shown)."""
        plans = self._on(PlanPhase.IN_FORCE)
        return plans[-1] if plans else None

    @property
    def last_ended(self) -> Plan | None:
        plans = self._on(PlanPhase.ENDED)
        return plans[-1] if plans else None

    @property
    def upcoming(self) -> Plan | None:
        plans = self._on(PlanPhase.UPCOMING)
        return plans[0] if plans else None


@dataclass
class Overview:
    rows: list[ClusterRow]
    firms: int  # distinct firms in any cluster today
    shared: int  # of them, in more than one


def _memberships(today: dt.date) -> tuple[dict, int, int]:
    """Per cluster: its members today and how many of them belong to another cluster too;
    and the distinct firms of all clusters. Two queries."""
    other = (
        ClusterMembership.objects.valid_on(today)
        .filter(enterprise=OuterRef("enterprise"))
        .exclude(cluster=OuterRef("cluster"))
    )
    per_cluster = {
        row["cluster"]: row
        for row in ClusterMembership.objects.valid_on(today)
        .values("cluster")
        .annotate(
            firms=Count("enterprise", distinct=True),
            shared=Count("enterprise", distinct=True, filter=Q(Exists(other))),
        )
        .order_by()
    }
    firms = (
        ClusterMembership.objects.valid_on(today)
        .values("enterprise")
        .annotate(clusters=Count("cluster", distinct=True))
        .order_by()
    )
    totals = firms.aggregate(
        firms=Count("enterprise"), shared=Count("enterprise", filter=Q(clusters__gt=1))
    )
    return per_cluster, totals["firms"] or 0, totals["shared"] or 0


def city_overview(today: dt.date) -> Overview:
    clusters = list(Cluster.objects.order_by("sort_order", "key"))
    plans = cluster_plans(clusters)
    official = official_quarters(clusters, today)
    rows = []
    for cluster in clusters:
        covered = official[cluster.pk]
        phase = phase_of(cluster, covered.quarter, today, plans=plans[cluster.pk])
        rows.append(ClusterRow(cluster, covered, phase, plans[cluster.pk]))
    shown = [row.phase.plan for row in rows if row.phase.shows_targets]
    targets = list(
        Target.objects.filter(plan__in=shown)
        .select_related("metric", "plan")
        .order_by("plan", "sort_order", "key")
    )
    wanted = Q(pk__in=[])
    for row in rows:
        if row.phase.in_force:
            quarter = row.phase.quarter
            wanted |= Q(target__plan=row.phase.plan, year=quarter.year, quarter=quarter.quarter)
    snapshots = {
        s.target_id: s
        for s in newest_at(
            ProgressSnapshot.objects.current().filter(
                wanted, scope_kind=ScopeKind.CITY, basis=Basis.APPROVED
            ),
            None,
        )
    }
    evaluations = evaluations_of([row.phase.plan for row in rows if row.phase.evaluation])
    for row in rows:
        plan = row.phase.plan
        if plan is None:
            continue
        if row.phase.evaluation:
            lines = evaluations[plan.pk].lines
            row.headlines = [Headline(line.target, line=line) for line in lines]
        else:
            row.headlines = [
                Headline(t, snapshot=snapshots.get(t.pk)) for t in targets if t.plan_id == plan.pk
            ]
    per_cluster, firms, shared = _memberships(today)
    for row in rows:
        counts = per_cluster.get(row.cluster.pk, {})
        row.firms, row.shared = counts.get("firms", 0), counts.get("shared", 0)
    return Overview(rows, firms, shared)
