"""Which plan applies to a quarter of a cluster on a given day, and how: the one owner of the
phase logic that the dashboard, the district and direction pages, the brief, the alerts, the
API and the exports follow.

On `today`, a quarter of a cluster is shown in one of three modes (`Mode`):

- in force: the quarter falls within a plan, and that plan has not ended today or the quarter
  is before its deadline quarter. Progress, milestones, projections toward the plan's own
  deadline, status. A past quarter of an ended plan shows its progress as it was; the page
  names the plan's end and links its final evaluation (`Phase.plan_ended`).
- evaluation: the quarter is the plan's deadline quarter and the plan has ended today: the
  final evaluation (终期评估), the official figure at the deadline, achieved or not, no
  projection.
- monitoring: no plan covers the quarter (before the first plan, between two plans, after
  the last one): output, year on year, firm counts, designations, listings and reporting
  completeness, no targets; the page names the plan that ended and the next one.

A page opens on its cluster's official quarter (`official_quarters`): the latest quarter, up
to the one being reported, whose approved reports cover at least the steward's official
share of the cluster's expected firms, never the latest quarter someone typed into.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cluster.models import Cluster, Plan, PlanPhase
from cluster.quarters import Quarter, quarter_range
from enterprises.models import ClusterMembership, ReportingPolicy, ReportRevision
from enterprises.periods import ReportingWindow

from .stored import stored_coverage

# The newest quarters with approved figures looked at for the official quarter: a cluster
# whose four newest such quarters all fall short of the share opens on the newest of them.
CANDIDATE_QUARTERS = 4


class Mode(models.TextChoices):
    IN_FORCE = "in_force", gettext_lazy("plan in force")
    EVALUATION = "evaluation", gettext_lazy("final evaluation")
    MONITORING = "monitoring", gettext_lazy("monitoring without targets")


def deadline_quarter(plan: Plan) -> Quarter:
    """The quarter holding the plan's deadline: the one its final evaluation reads."""
    return Quarter.from_date(plan.ends_on)


def covers(plan: Plan, quarter: Quarter) -> bool:
    """Whether the quarter falls within the plan's period (shares a day with it)."""
    return plan.starts_on <= quarter.end and quarter.start <= plan.ends_on


def mode_of(plan: Plan, quarter: Quarter, today: dt.date) -> str:
    """The mode of a quarter the plan covers: its deadline quarter, once the plan has ended,
    is evaluated; every other quarter shows progress (as it was, if the plan has ended)."""
    if quarter >= deadline_quarter(plan) and plan.phase_on(today) == PlanPhase.ENDED:
        return Mode.EVALUATION
    return Mode.IN_FORCE


def _day(day: dt.date) -> str:
    return formats.date_format(day)


@dataclass(frozen=True)
class Phase:
    """How a quarter of a cluster is shown on `today`."""

    cluster: Cluster
    quarter: Quarter
    today: dt.date
    mode: str
    plan: Plan | None = None  # the plan whose targets are shown (in force, evaluation)
    previous: Plan | None = None  # monitoring: the plan that ended last before the quarter
    following: Plan | None = None  # the first plan starting after the quarter

    @property
    def in_force(self) -> bool:
        return self.mode == Mode.IN_FORCE

    @property
    def evaluation(self) -> bool:
        return self.mode == Mode.EVALUATION

    @property
    def monitoring(self) -> bool:
        return self.mode == Mode.MONITORING

    @property
    def shows_targets(self) -> bool:
        return self.mode != Mode.MONITORING

    @property
    def shows_projection(self) -> bool:
        """Projections only while the deadline lies ahead of the quarter shown."""
        return self.mode == Mode.IN_FORCE

    @property
    def plan_ended(self) -> bool:
        """The plan shown has ended today (its past quarters show progress as it was)."""
        return self.plan is not None and self.plan.phase_on(self.today) == PlanPhase.ENDED

    @property
    def ended_plan(self) -> Plan | None:
        """The plan whose end the page names: the one shown if it has ended, else in
        monitoring the one that ended before the quarter."""
        if self.plan_ended:
            return self.plan
        return self.previous if self.monitoring else None

    @property
    def label(self) -> str:
        return str(Mode(self.mode).label)

    def statement(self) -> str:
        """The phase in one sentence, as the pages, the brief and its files state it."""
        if self.evaluation:
            return _(
                "%(plan)s ended on %(end)s: %(quarter)s is its deadline quarter, shown as the "
                "final evaluation (the official figures at the deadline, achieved or not; no "
                "projection)."
            ) % {
                "plan": self.plan.name,
                "end": _day(self.plan.ends_on),
                "quarter": self.quarter.label(),
            }
        if self.in_force and self.plan_ended:
            return _(
                "%(plan)s ended on %(end)s: %(quarter)s shows its progress as it was then, "
                "toward the deadline of %(end)s; the result is in its final evaluation."
            ) % {
                "plan": self.plan.name,
                "end": _day(self.plan.ends_on),
                "quarter": self.quarter.label(),
            }
        if self.in_force:
            return _(
                "%(plan)s is in force (%(start)s to %(end)s): progress toward its targets for "
                "%(end)s."
            ) % {
                "plan": self.plan.name,
                "start": _day(self.plan.starts_on),
                "end": _day(self.plan.ends_on),
            }
        parts = [
            _("No plan covers %(quarter)s: monitoring goes on without targets.")
            % {"quarter": self.quarter.label()}
        ]
        if self.previous:
            parts.append(
                _("%(plan)s ended on %(end)s.")
                % {"plan": self.previous.name, "end": _day(self.previous.ends_on)}
            )
        if self.following:
            parts.append(
                _("The next plan, %(plan)s, runs from %(start)s.")
                % {"plan": self.following.name, "start": _day(self.following.starts_on)}
            )
        elif self.previous:
            parts.append(_("No next plan has been entered yet."))
        return " ".join(parts)


def cluster_plans(clusters) -> dict[int, list[Plan]]:
    """The plans of each cluster, oldest first. One query."""
    plans = defaultdict(list)
    for plan in Plan.objects.filter(cluster__in=clusters).order_by("starts_on", "pk"):
        plans[plan.cluster_id].append(plan)
    return plans


def phase_of(
    cluster: Cluster, quarter: Quarter, today: dt.date, *, plans: list[Plan] | None = None
) -> Phase:
    """The one owner of "which plan applies to this quarter, and how" (see the module).
    `plans`: the cluster's plans, when already read (else one query)."""
    if plans is None:
        plans = cluster_plans([cluster])[cluster.pk]
    covering = [p for p in plans if covers(p, quarter)]
    # Two plans may share a quarter (one ends mid-quarter, the next starts): the one holding
    # the quarter's end, then the later one.
    covering.sort(key=lambda p: (p.starts_on <= quarter.end <= p.ends_on, p.starts_on))
    following = next((p for p in plans if p.starts_on > quarter.end), None)
    if covering:
        plan = covering[-1]
        return Phase(
            cluster,
            quarter,
            today,
            mode_of(plan, quarter, today),
            plan=plan,
            following=following,
        )
    previous = next((p for p in reversed(plans) if p.ends_on < quarter.start), None)
    return Phase(cluster, quarter, today, Mode.MONITORING, previous=previous, following=following)


def plans_in_force(today: dt.date):
    """Plans in force today: the only ones whose targets raise status and milestone alerts."""
    return Plan.objects.in_force_on(today)


# --- the official quarter --------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """How far a quarter's approved reports cover the firms expected to report for it (the
    cluster's members at some point of the quarter)."""

    quarter: Quarter
    expected: int
    approved: int
    needed: int  # percent: the steward's official share

    @property
    def share(self) -> Decimal | None:
        if not self.expected:
            return None
        return Decimal(self.approved) / Decimal(self.expected)

    @property
    def complete(self) -> bool:
        """Complete enough to open on (ReportingPolicy.official_share)."""
        return bool(self.expected) and self.approved * 100 >= self.needed * self.expected

    def statement(self) -> str:
        return _(
            "Approved reports for %(quarter)s across the cluster: %(approved)d of the "
            "%(expected)d firms expected (%(share)s; %(needed)d%% makes a quarter official)."
        ) % {
            "quarter": self.quarter.label(),
            "approved": self.approved,
            "expected": self.expected,
            "share": "—" if self.share is None else f"{self.share * 100:.1f}%",
            "needed": self.needed,
        }


def _membership_during(quarter: Quarter, prefix: str = "") -> Q:
    """A membership in force during the quarter (ClusterMembership.overlapping_q)."""
    return ClusterMembership.overlapping_q(quarter.start, quarter.end, prefix)


def coverage(
    wanted: dict[int, list[Quarter]], *, needed: int, moment: dt.datetime
) -> dict[tuple[int, Quarter], Coverage]:
    """The coverage of each (cluster id, quarter) asked for, with the approvals known at
    `moment`: the stored counts where the progress job holds them (selectors.stored), the
    others counted. A fixed number of queries whatever the number of firms and clusters."""
    pairs = [(cluster_id, q) for cluster_id, quarters in wanted.items() for q in quarters]
    if not pairs:
        return {}
    stored = stored_coverage(list(wanted), moment, [q for _c, q in pairs])
    counts = {(c, q): stored[c][q] for c, q in pairs if q in stored.get(c, {})}
    missing = [pair for pair in pairs if pair not in counts]
    if missing:
        counts.update(coverage_counts(missing, moment))
    return {(c, q): Coverage(q, *counts[(c, q)], needed) for c, q in pairs}


def coverage_counts(
    pairs: list[tuple[int, Quarter]], moment: dt.datetime
) -> dict[tuple[int, Quarter], tuple[int, int]]:
    """(expected, approved) of each (cluster id, quarter), counted from the register and the
    approvals known at `moment`: what the progress job stores. Two aggregate queries."""

    def name(kind, cluster_id, quarter):
        return f"{kind}_{cluster_id}_{quarter.ordinal}"

    cluster_ids = {c for c, _q in pairs}
    expected = ClusterMembership.objects.filter(cluster_id__in=cluster_ids).aggregate(
        **{
            name("e", c, q): Count(
                "enterprise", distinct=True, filter=Q(cluster_id=c) & _membership_during(q)
            )
            for c, q in pairs
        }
    )
    periods = Q()
    for quarter in {q for _c, q in pairs}:
        periods |= Q(year=quarter.year, quarter=quarter.quarter)
    approved = (
        ReportRevision.objects.filter(periods, approved_at__lte=moment)
        .filter(enterprise__memberships__cluster_id__in=cluster_ids)
        .aggregate(
            **{
                name("a", c, q): Count(
                    "enterprise",
                    distinct=True,
                    filter=Q(year=q.year, quarter=q.quarter)
                    & Q(enterprise__memberships__cluster_id=c)
                    & _membership_during(q, "enterprise__memberships__"),
                )
                for c, q in pairs
            }
        )
    )
    return {
        (c, q): (expected[name("e", c, q)] or 0, approved[name("a", c, q)] or 0) for c, q in pairs
    }


def _quarters_with_figures(cluster_ids, last: Quarter, moment: dt.datetime) -> dict[int, list]:
    """The quarters up to `last` with approved figures known at `moment`, per cluster: one
    scan of the approvals."""
    with_figures = defaultdict(list)
    rows = (
        ReportRevision.objects.filter(
            approved_at__lte=moment,
            year__lte=last.year,
            enterprise__memberships__cluster_id__in=cluster_ids,
        )
        .order_by()
        .values_list("enterprise__memberships__cluster_id", "year", "quarter")
        .distinct()
    )
    for cluster_id, year, number in rows:
        quarter = Quarter(year, number)
        if quarter <= last:
            with_figures[cluster_id].append(quarter)
    return with_figures


def official_quarters(
    clusters,
    today: dt.date,
    *,
    moment: dt.datetime | None = None,
    policy: ReportingPolicy | None = None,
) -> dict[int, Coverage]:
    """The one owner of a page's default quarter, for each cluster: the latest quarter up to
    the one being reported (ReportingWindow.being_reported) whose approved reports cover at
    least the steward's official share of the cluster's expected firms. Quarters without any
    approved report are never candidates, so a submission typed for a later quarter does
    not move a page. Failing that, the newest quarter with approved figures; without any, the
    quarter being reported. Read from the stored coverage where the progress job holds it
    (enough of it to decide), else counted. A fixed number of queries whatever the number of
    clusters."""
    policy = policy or ReportingPolicy.current()
    last = ReportingWindow.on(today, policy).being_reported
    # The approvals known by the end of `today`, unless a moment is asked for.
    moment = moment or timezone.make_aware(dt.datetime.combine(today, dt.time.max))
    cluster_ids = [c.pk for c in clusters]
    chosen = {}
    for cluster_id, quarters in stored_coverage(cluster_ids, moment).items():
        held = sorted(
            (
                Coverage(q, expected, approved, policy.official_share)
                for q, (expected, approved) in quarters.items()
                if approved and q <= last
            ),
            key=lambda c: c.quarter,
            reverse=True,
        )[:CANDIDATE_QUARTERS]
        complete = next((c for c in held if c.complete), None)
        # Fewer candidates than are looked at and none complete: an older quarter, not
        # stored, could be the one; counted below.
        if complete or len(held) == CANDIDATE_QUARTERS:
            chosen[cluster_id] = complete or held[0]
    counted = [c for c in cluster_ids if c not in chosen]
    if counted:
        with_figures = _quarters_with_figures(counted, last, moment)
        candidates = {
            c: sorted(with_figures[c], reverse=True)[:CANDIDATE_QUARTERS] or [last] for c in counted
        }
        found = coverage(candidates, needed=policy.official_share, moment=moment)
        for cluster_id, quarters in candidates.items():
            covered = [found[(cluster_id, q)] for q in quarters]
            chosen[cluster_id] = next((c for c in covered if c.complete), covered[0])
    return chosen


def official_quarter(cluster: Cluster, today: dt.date) -> Coverage:
    return official_quarters([cluster], today)[cluster.pk]


def picker_quarters(today: dt.date, *, policy: ReportingPolicy | None = None) -> list[Quarter]:
    """The quarters a page offers, each once, newest first: from the register's first year
    to the quarter being reported."""
    policy = policy or ReportingPolicy.current()
    last = ReportingWindow.on(today, policy).being_reported
    return list(reversed(list(quarter_range(Quarter(policy.first_year, 1), last))))


def default_cluster() -> Cluster | None:
    """The cluster the old single-cluster addresses lead to: the first in the city's order."""
    return Cluster.objects.order_by("sort_order", "key").first()
