"""Celery tasks of the targets engine: thin wrappers over the services.

They take ids, are idempotent (recomputing writes the same snapshots; alert evaluation
reconciles by deduplication key; e-mails are claimed before they are sent), acknowledge
late so a worker killed mid-task has it redelivered, and retry with backoff when the
database is unreachable.
"""

import logging
import time
from collections import defaultdict

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from cluster import clock
from cluster.jobs import enqueue_on_commit
from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport

from .choices import Basis
from .models import Target
from .selectors.metrics import Figures
from .services.alerts import alerts_evaluate, notifications_send
from .services.briefs import brief_deliveries_send
from .services.progress import progress_recompute, reporting_quarters, targets_touched_by_reports
from .services.stored import (
    completeness_store,
    counting_changes_drain,
    recompute_everything,
    stored_figures_refresh,
    touched,
)

log = logging.getLogger(__name__)

RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_kwargs": {"max_retries": 8},
}


@shared_task(name="targets.recompute_progress", **RELIABLE)
def recompute_progress(target_ids: list[int] | None = None) -> int:
    """All snapshots of the given targets (all targets by default), approved and preview,
    and every stored part of the pages from the same figures; then the alerts, which read
    the snapshots."""
    count = recompute_everything(today=clock.today(), target_ids=target_ids)
    enqueue_on_commit("targets.evaluate_alerts")
    return count


@shared_task(name="targets.recompute_for_reports", **RELIABLE)
def recompute_for_reports(report_ids: list[int]) -> int:
    """After reports were submitted, approved or sent back: the targets computed from reports,
    for the quarters the reports' figures move (their own, the later ones of the year, and
    the following years' year-ago figures and seasonality). Figures of a target's baseline
    year move its baseline and milestones, and with them every quarter's milestone: then
    all its quarters."""
    # (cluster id of the firm, or None, year, quarter) of each report.
    changes = set(
        QuarterlyReport.objects.filter(pk__in=report_ids)
        .order_by()
        .values_list("enterprise__memberships__cluster_id", "year", "quarter")
    )
    periods = {(year, number) for _c, year, number in changes}
    if not periods:
        return 0
    count = 0
    # The targets by the quarters they recompute (None: all of them, baseline included).
    work: dict[tuple[Quarter, ...] | None, list[int]] = defaultdict(list)
    for target in Target.objects.filter(pk__in=targets_touched_by_reports()).select_related("plan"):
        cluster_id = target.plan.cluster_id
        if target.baseline_year in {y for c, y, _q in changes if c == cluster_id}:
            work[None].append(target.pk)
            continue
        # The quarters these figures move (services.stored.touched: one owner for the
        # snapshots and the stored parts), within the target's plan: its own firms' move
        # their year's later quarters, any firm's the following years' (the seasonality is
        # the city's). None: nothing of this plan moves.
        quarters = touched(changes, reporting_quarters(target), cluster_id)
        if quarters:
            work[tuple(quarters)].append(target.pk)
    # First the completeness (the reports' statuses, whatever the vintage shown): until it
    # is stored again every page counts it itself, the heaviest part a page can compute.
    started = time.perf_counter()
    completeness_store(
        sorted(Quarter(y, q) for y, q in periods),
        today=clock.today(),
        changed_only=True,
        report_ids=report_ids,
    )
    phases = {"completeness": time.perf_counter() - started}
    for basis in (Basis.APPROVED, Basis.PREVIEW):
        started = time.perf_counter()
        # One commit a basis, the official one first: the pages move to the new vintage when
        # its snapshots and parts are all stored, never in between (a page that saw the new
        # snapshots before the parts would compute the parts itself, and slowly).
        with transaction.atomic():
            # The same figures for every target: each year-to-date pass is read once.
            figures = Figures.latest(basis, keep=True)
            for quarters, target_ids in work.items():
                count += progress_recompute(
                    target_ids=target_ids,
                    quarters=None if quarters is None else list(quarters),
                    basis=basis,
                    figures=figures,
                    # The baseline and milestones move only with the baseline year's
                    # figures, and are the approved figures' whatever the basis: once.
                    baselines=quarters is None and basis == Basis.APPROVED,
                )
            # The pages' parts of the quarters these figures changed in, from the same
            # figures; these reports' own even where a job of a later approval already moved
            # the mark (their approval was stamped before it, and committed after).
            stored_figures_refresh(
                basis=basis, today=clock.today(), figures=figures, report_ids=report_ids
            )
        phases[basis] = time.perf_counter() - started
    # What an operator (and bench/'s approval scenario) reads to see where the time went.
    log.info(
        "recomputed for %d report(s): %s",
        len(report_ids),
        ", ".join(f"{phase} {seconds:.3f} s" for phase, seconds in phases.items()),
    )
    enqueue_on_commit("targets.evaluate_alerts")
    return count


@shared_task(name="targets.store_figures_again", **RELIABLE)
def store_figures_again() -> int:
    """After register changes that can move who counts where (a firm's district or status, a
    membership): every stored part of their clusters and the changed firms' lines, from the
    figures in force (the snapshots follow at the nightly recompute). Drains the changes it
    can see; a job that finds none (another drained them) does nothing."""
    return counting_changes_drain(today=clock.today())


@shared_task(name="targets.evaluate_alerts", **RELIABLE)
def evaluate_alerts() -> dict:
    result = alerts_evaluate()
    return result.__dict__


@shared_task(name="targets.send_notifications", **RELIABLE)
def send_notifications(alert_ids: list[int], event: str) -> int:
    return notifications_send(alert_ids, event)


@shared_task(name="targets.send_brief_deliveries", **RELIABLE)
def send_brief_deliveries() -> dict:
    """The briefs of released quarters to their subscribers (beat, every ten minutes); each
    delivery is claimed before it is sent, so overlapping runs never send one twice."""
    return brief_deliveries_send(now=clock.now(), today=clock.today())
