"""Storing what the pages show (targets.models.StoredFigures), kept current by the jobs.

After the progress snapshots, the job stores each cluster's parts (Board.parts_to_store) for
the quarters its figures changed in since the cluster was last stored, computed from the
snapshots' figures and filed under the vintage each quarter's page shows, and moves the
cluster's mark (StoredThrough) to the figures' vintage in the same transaction. The firm
tables of the newest quarters are stored as lines (StoredFirmRow), again for the changed
firms only; register changes reach them through an outbox (CountingChange). A change of a
quarter's figures touches that quarter and the later ones of its year (year-to-date sums),
and the quarters of the following years whose year-ago figures and seasonality it enters.
Everything else stays as stored: a page reads, per part, the newest row known at its
vintage (selectors.stored).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import CharField, Count, IntegerField, Max, Min, Q, Value
from django.utils import timezone

from cluster.bulk import insert_select
from cluster.models import Cluster
from cluster.quarters import Quarter, quarter_range
from enterprises.choices import ReportStatus
from enterprises.models import CountingChange, Enterprise, QuarterlyReport, ReportRevision
from enterprises.periods import ReportingWindow
from enterprises.selectors import completeness_counts

from ..choices import Basis, ScopeKind
from ..models import (
    ApprovalCount,
    ProgressSnapshot,
    StoredCompleteness,
    StoredFigures,
    StoredFirmRow,
    StoredSeasonality,
    StoredThrough,
)
from ..selectors.dashboard import (
    FIRM_ROW,
    AsOf,
    Board,
    BoardScope,
    firm_rows_firms,
    firm_rows_part,
)
from ..selectors.metrics import LATE_COMMIT, SEASONAL_YEARS, Figures, lock_if_free
from ..selectors.plans import cluster_plans, phase_of
from .progress import newest_reported_quarter, progress_recompute

# The newest stored quarters whose firm tables are stored too (a district page opens on the
# official quarter; an older quarter's table is computed when asked for).
FIRM_TABLE_QUARTERS = 4
# Quarters before the cluster's first plan that are stored too: the comparisons a page of
# the first plan's early quarters makes, and the monitoring pages of a cluster without one.
QUARTERS_BEFORE_PLANS = 4


def stored_quarters(cluster: Cluster, plans, today: dt.date) -> list[Quarter]:
    """The quarters whose parts are stored: from a year before the cluster's first plan to
    the newest quarter with reports (never past the quarter being reported). Pages of older
    quarters compute their parts on the fly."""
    newest = newest_reported_quarter()
    if newest is None:
        return []
    newest = min(newest, ReportingWindow.on(today).being_reported)
    first = Quarter.from_date(min(p.starts_on for p in plans)) if plans else newest
    for _ in range(QUARTERS_BEFORE_PLANS):
        first = first.previous()
    return list(quarter_range(first, newest)) if first <= newest else []


def _changed(basis: str, since: dt.datetime, until: dt.datetime) -> set[tuple[int, int, int, int]]:
    """(cluster id, year, quarter, firm id) of the figures changed in (since, until]:
    approvals; in preview, every change of a report's status or figures."""
    if basis == Basis.APPROVED:
        rows = ReportRevision.objects.filter(approved_at__gt=since, approved_at__lte=until)
    else:
        rows = QuarterlyReport.objects.filter(updated_at__gt=since, updated_at__lte=until)
    return set(
        rows.order_by()
        .values_list("enterprise__memberships__cluster_id", "year", "quarter", "enterprise")
        .distinct()
    )


def touched(
    changes: set[tuple[int | None, int, int]], quarters: list[Quarter], cluster_id: int
) -> list[Quarter]:
    """The quarters of a cluster, of those given, that changes of figures move, each change
    as (cluster id of the firm — None for a firm of no cluster —, year, quarter): one of the
    cluster's own firms moves the later quarters of its year and the following years' (their
    year-ago figures and seasonality); any other firm the following years' only (the
    seasonality is the city's, whatever the cluster). The one owner for the snapshots the
    job recomputes and the parts it stores."""
    moved = set()
    for changed_cluster, year, number in changes:
        own = changed_cluster == cluster_id
        for quarter in quarters:
            if (own and quarter.year == year and quarter.quarter >= number) or (
                year < quarter.year <= year + SEASONAL_YEARS
            ):
                moved.add(quarter)
    return sorted(moved)


def stored_figures_refresh(
    *,
    basis: str,
    today: dt.date,
    figures: Figures | None = None,
    everything: bool = False,
    cluster_ids: list[int] | None = None,
    firm_ids: list[int] | None = None,
    report_ids: list[int] | None = None,
) -> int:
    """Store the parts of every cluster's quarters its figures changed in since it was last
    stored (`everything`: all its stored quarters), from `figures` (the newest by default:
    pass the snapshots' own), and mark the cluster stored through their vintage. A cluster
    already stored through a later vintage is left alone
    (its rows cover these figures). `cluster_ids`: those clusters only;
    `firm_ids`: the firms whose lines of the firm tables changed
    (all, when storing everything without them); `report_ids`: reports whose quarters are
    stored whatever the mark says (their approval may have committed after a later one's
    job moved it). Idempotent. Returns the number of cluster-quarters computed."""
    figures = figures or Figures.latest(basis, keep=True)
    own = set()
    if report_ids:
        own = set(
            QuarterlyReport.objects.filter(pk__in=report_ids)
            .order_by()
            .values_list("enterprise__memberships__cluster_id", "year", "quarter", "enterprise")
            .distinct()
        )
    if basis == Basis.APPROVED:
        # The moment of these reports' approval (not of their first revision: the counts
        # recorded since a report was first approved are all still right).
        earliest = (
            QuarterlyReport.objects.filter(
                pk__in=report_ids, status=ReportStatus.APPROVED
            ).aggregate(moment=Min("approved_at"))["moment"]
            if report_ids
            else None
        )
        approvals_count(figures.vintage, recount_from=earliest)
    clusters = Cluster.objects.order_by("pk")
    if cluster_ids is not None:
        clusters = clusters.filter(pk__in=cluster_ids)
    clusters = list(clusters)
    plans = cluster_plans(clusters)
    count = 0
    for cluster in clusters:
        with transaction.atomic():
            until = figures.vintage
            mark, first = StoredThrough.objects.select_for_update().get_or_create(
                cluster=cluster, basis=basis, defaults={"through": until}
            )
            # Storing everything makes the mark the figures' vintage whatever it was (it may
            # have been set with no figures at all); storing what changed leaves a cluster
            # a later run has stored already.
            if not first and not everything and mark.through >= until and not own:
                continue
            quarters = stored_quarters(cluster, plans[cluster.pk], today)
            with_lines = set(quarters[-FIRM_TABLE_QUARTERS:])
            _firm_rows_keep(cluster, basis, with_lines)
            firms = firm_ids
            if not (everything or first):
                changes = own | _changed(basis, mark.through, until)
                quarters = touched({(c, y, q) for c, y, q, _f in changes}, quarters, cluster.pk)
                firms = sorted({f for c, _y, _q, f in changes if c == cluster.pk})
            elif first:
                firms = None
            now = timezone.now()
            rows = []
            shown = _shown_vintages(cluster, basis, figures.vintage)
            for quarter in quarters:
                board = Board(
                    None,
                    BoardScope(cluster),
                    AsOf(quarter, basis, figures.vintage),
                    phase_of(cluster, quarter, today, plans=plans[cluster.pk]),
                    today=today,
                )
                # The same figures (and their memo of seasonality) for every quarter.
                board.as_of.__dict__["figures"] = figures
                # No line changes where none of the cluster's firms changed (a quarter
                # moved by the seasonality alone).
                if board.as_of.vintage is not None and quarter in with_lines and firms != []:
                    _firm_rows_store(board, firms)
                rows.extend(
                    StoredFigures(
                        cluster=cluster,
                        year=quarter.year,
                        quarter=quarter.quarter,
                        basis=basis,
                        part=part,
                        vintage=shown.get(quarter, figures.vintage),
                        payload=payload,
                        computed_at=now,
                    )
                    for part, payload in board.parts_to_store().items()
                )
            StoredFigures.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["cluster", "year", "quarter", "basis", "part", "vintage"],
                update_fields=["payload", "computed_at"],
            )
            mark.through = max(mark.through, until) if not everything else until
            mark.save(update_fields=["through"])
            count += len(quarters)
    return count


def _shown_vintages(cluster: Cluster, basis: str, vintage: dt.datetime) -> dict:
    """The vintage a page of each of the cluster's quarters shows as the newest (its newest
    city snapshot, no later than `vintage`): rows stored under it are what that page reads,
    also where these figures did not move the quarter's snapshots (a register change)."""
    rows = (
        ProgressSnapshot.objects.filter(
            target__plan__cluster=cluster,
            scope_kind=ScopeKind.CITY,
            basis=basis,
            vintage__lte=vintage,
        )
        .values("year", "quarter")
        .annotate(newest=Max("vintage"))
        .order_by()
    )
    return {Quarter(row["year"], row["quarter"]): row["newest"] for row in rows}


def _firm_rows_keep(cluster: Cluster, basis: str, quarters: set[Quarter]) -> None:
    """Drop the firm tables of the quarters no longer among the newest stored."""
    kept = Q(pk__in=[])
    for quarter in quarters:
        kept |= Q(year=quarter.year, quarter=quarter.quarter)
    StoredFirmRow.objects.filter(cluster=cluster, basis=basis).exclude(kept).delete()


def _firm_rows_store(board: Board, firm_ids: list[int] | None) -> None:
    """The firm table's lines of the board's quarter (all, or the given firms'): each line
    written where it is new or differs from the stored one, and the lines of firms no longer
    counted (or of another figure) dropped. A store that changes nothing writes nothing."""
    quarter, basis = board.as_of.quarter, board.as_of.basis
    cluster = board.scope.cluster
    stored = StoredFirmRow.objects.filter(
        cluster=cluster, year=quarter.year, quarter=quarter.quarter, basis=basis
    )
    if firm_ids is not None and not stored.filter(figure=board.figure).exists():
        # The quarter's first lines (it just entered the newest, or its figure changed):
        # every firm's, not only the changed ones'.
        firm_ids = None
    stored.exclude(figure=board.figure).delete()
    mine = stored.filter(figure=board.figure)
    if firm_ids is not None:
        mine = mine.filter(enterprise_id__any=firm_ids)
    mine.exclude(
        enterprise__in=firm_rows_firms(cluster, board.as_of, firm_ids).values("pk")
    ).delete()
    constant = {
        "cluster": (cluster.pk, IntegerField()),
        "year": (quarter.year, IntegerField()),
        "quarter": (quarter.quarter, IntegerField()),
        "basis": (basis, CharField()),
        "figure": (board.figure, CharField()),
    }
    lines = firm_rows_part(cluster, board.as_of, board.figure, firm_ids).annotate(
        **{
            f"stored_{name}": Value(value, output_field=kind)
            for name, (value, kind) in constant.items()
        }
    )
    insert_select(
        StoredFirmRow,
        [*constant, *FIRM_ROW],
        lines.order_by().values_list(*(f"stored_{name}" for name in constant), *FIRM_ROW.values()),
        unique=[*constant, "enterprise"],
    )


def completeness_store(
    quarters: list[Quarter] | None = None,
    *,
    today: dt.date,
    changed_only: bool = False,
    report_ids: list[int] = (),
) -> int:
    """Count and store the completeness of the given quarters (every stored quarter of every
    cluster by default), stamped with the newest change of the reports and firms counted.
    `changed_only` (an approval's job): where a quarter's stored counts are of the firms as
    they are, only the districts of its reports changed since are counted again, and their
    counts replace those districts' in the stored ones — the rule the pages' freshness check
    (stored_completeness) reads, so the result is the full count's; the districts of
    `report_ids` (the job's own, whose change may have committed after a later count) are
    counted again whatever their stamps. Returns the number of quarters stored."""
    if quarters is None:
        clusters = list(Cluster.objects.all())
        plans = cluster_plans(clusters)
        quarters = sorted({q for c in clusters for q in stored_quarters(c, plans[c.pk], today)})
    if not quarters:
        return 0
    with transaction.atomic():
        stored = {}
        if changed_only:
            # Locked first: two jobs merging into the same counts wait for each other, and
            # the second reads the first's counts and stamps.
            periods = Q()
            for q in quarters:
                periods |= Q(year=q.year, quarter=q.quarter)
            stored = {
                Quarter(row.year, row.quarter): row
                for row in StoredCompleteness.objects.select_for_update().filter(periods)
            }
        # Read before counting: a change made while counting leaves the row older than it,
        # so the pages count for themselves until the next run.
        reports_at = QuarterlyReport.objects.aggregate(m=Max("updated_at"))["m"]
        firms_at = Enterprise.objects.aggregate(m=Max("updated_at"))["m"]
        payloads: dict[Quarter, dict] = {}
        recount: dict[Quarter, set[int]] = {}
        for q in quarters:
            row = stored.get(q)
            if (
                row is None
                or row.reports_at is None
                or row.firms_at != firms_at
                # A firm deleted leaves no report to find its district by.
                or Enterprise.history.filter(
                    history_type="-", history_date__gt=row.computed_at - LATE_COMMIT
                ).exists()
            ):
                payloads[q] = {}
                continue
            payloads[q] = dict(row.payload)
            period = {"year": q.year, "quarter": q.quarter}
            # Reports changed since (or the job's own), and drafts deleted since (their
            # history's last record); "since" with a margin for a change stamped before the
            # count and committed after it, which no later stamp shows.
            since = row.reports_at - LATE_COMMIT
            changed = QuarterlyReport.objects.filter(
                Q(updated_at__gt=since) | Q(pk__in=report_ids), **period
            )
            deleted = QuarterlyReport.history.filter(
                **period, history_type="-", history_date__gt=since
            )
            recount[q] = set(
                changed.values_list("enterprise__district", flat=True).distinct()
            ) | set(
                Enterprise.objects.filter(pk__in=deleted.values("enterprise_id")).values_list(
                    "district", flat=True
                )
            )
        full = [q for q in quarters if q not in recount]
        counts = completeness_counts(full) if full else {}
        districts = set().union(*recount.values())
        partial = [q for q in recount if recount[q]]
        if partial:
            counts.update(completeness_counts(partial, districts=districts))
        for (district_id, quarter), values in counts.items():
            payloads[quarter][str(district_id)] = values
        StoredCompleteness.objects.bulk_create(
            [
                StoredCompleteness(
                    year=q.year,
                    quarter=q.quarter,
                    reports_at=reports_at,
                    firms_at=firms_at,
                    payload=payload,
                    computed_at=timezone.now(),
                )
                for q, payload in payloads.items()
            ],
            update_conflicts=True,
            unique_fields=["year", "quarter"],
            update_fields=["reports_at", "firms_at", "payload", "computed_at"],
        )
    return len(quarters)


def approvals_count(vintage: dt.datetime, *, recount_from: dt.datetime | None = None) -> int:
    """Record how many approvals were known at `vintage` (ApprovalCount): the newest count
    before it plus the approvals since, a range of the index of approval moments.
    `recount_from`: approvals stamped then and committed late; the counts recorded from
    that moment on are counted again."""
    if recount_from is not None:
        _approvals_recount(recount_from)
    known = ApprovalCount.objects.filter(vintage=vintage).values_list("approvals", flat=True)
    if known:
        return known[0]
    before = ApprovalCount.objects.filter(vintage__lt=vintage).order_by("-vintage").first()
    approvals = ReportRevision.objects.filter(approved_at__lte=vintage)
    if before is not None:
        approvals = approvals.filter(approved_at__gt=before.vintage)
    count = approvals.count() + (before.approvals if before else 0)
    ApprovalCount.objects.get_or_create(vintage=vintage, defaults={"approvals": count})
    return count


def _approvals_recount(since: dt.datetime) -> None:
    """Count again the approvals known at each vintage recorded from `since` on: the count
    before them plus, for each, the approvals up to it (one query, a range of the index of
    approval moments). Dropping them instead left the version picker counting every
    revision on every page (0.2 s at national scale) for the days they were missing."""
    stale = list(ApprovalCount.objects.filter(vintage__gte=since).order_by("vintage"))
    if not stale:
        return
    before = ApprovalCount.objects.filter(vintage__lt=since).order_by("-vintage").first()
    approvals = ReportRevision.objects.filter(approved_at__lte=stale[-1].vintage)
    if before is not None:
        approvals = approvals.filter(approved_at__gt=before.vintage)
    counts = approvals.aggregate(
        **{
            f"v{i}": Count("pk", filter=Q(approved_at__lte=row.vintage))
            for i, row in enumerate(stale)
        }
    )
    for i, row in enumerate(stale):
        row.approvals = counts[f"v{i}"] + (before.approvals if before else 0)
    ApprovalCount.objects.bulk_update(stale, ["approvals"])


def counting_changes_drain(*, today: dt.date) -> int:
    """Store again what the register's changes of who counts where (CountingChange) move:
    every part of their clusters (both bases) and the changed firms' lines, and the
    completeness; then delete the changes drained. Rows another job holds are left to it.
    Returns the number of changes drained."""
    with transaction.atomic():
        changes = list(
            CountingChange.objects.select_for_update(skip_locked=True).values_list(
                "pk", "cluster_id", "enterprise_id"
            )
        )
        if not changes:
            return 0
        clusters = sorted({cluster for _pk, cluster, _firm in changes})
        firms = sorted({firm for _pk, _cluster, firm in changes})
        seasonality_forget()  # by district: a firm moved moves it
        for basis in (Basis.APPROVED, Basis.PREVIEW):
            stored_figures_refresh(
                basis=basis, today=today, everything=True, cluster_ids=clusters, firm_ids=firms
            )
        completeness_store(today=today)
        CountingChange.objects.filter(pk__in=[pk for pk, _c, _f in changes]).delete()
    return len(changes)


def seasonality_forget() -> None:
    """Drop the stored seasonality: read from the figures again at the next recompute (the
    nightly, whatever the checks say; a register change, whose commit may come after a
    job read the firms). A row a job is writing (its lock taken) is left to that job, and
    the rows dropped stay locked to this transaction's end: no job waits on them."""
    with transaction.atomic():
        mine = [
            pk
            for pk, basis, year in StoredSeasonality.objects.values_list("pk", "basis", "year")
            if lock_if_free("seasonality", basis, year)
        ]
        StoredSeasonality.objects.filter(pk__in=mine).delete()


def recompute_everything(*, today: dt.date, target_ids: list[int] | None = None) -> int:
    """The nightly job (and `manage.py recompute_progress`): the snapshots of the given
    targets (all by default) on both bases, every stored part of the pages from the same
    figures, and the completeness. Returns the number of target-quarters computed."""
    seasonality_forget()  # read again from the figures, whatever was kept
    count = 0
    for basis in (Basis.APPROVED, Basis.PREVIEW):
        figures = Figures.latest(basis, keep=True)
        # The baselines are the approved figures' whatever the basis: refreshed once.
        count += progress_recompute(
            target_ids=target_ids,
            basis=basis,
            figures=figures,
            baselines=basis == Basis.APPROVED,
        )
        stored_figures_refresh(basis=basis, today=today, figures=figures, everything=True)
    completeness_store(today=today)
    approvals_backfill()
    return count


def approvals_backfill() -> int:
    """Record the approvals known at each vintage of the approved city snapshots that has
    no count (dropped by an earlier version of `approvals_count`): without it the version
    picker counts every revision on every page that lists that day. Oldest first, each the
    count before it plus a range of the index of approval moments. Returns how many."""
    missing = (
        ProgressSnapshot.objects.filter(scope_kind=ScopeKind.CITY, basis=Basis.APPROVED)
        .exclude(vintage__in=ApprovalCount.objects.values("vintage"))
        .order_by("vintage")
        .values_list("vintage", flat=True)
        .distinct()
    )
    recorded = 0
    for vintage in missing:
        approvals_count(vintage)
        recorded += 1
    return recorded
