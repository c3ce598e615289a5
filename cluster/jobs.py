"""Background jobs through a transactional outbox (`cluster.models.PendingJob`).

`enqueue_on_commit` writes the job in the caller's transaction and sends it to the broker
once that transaction commits. If the broker (Redis) is down the change still stands and its
job waits in the table: `dispatch_pending` sends it when the broker is back. celery beat runs
`dispatch_pending` every minute and every worker runs it when it starts, so progress catches
up without anyone calling anything by hand. The jobs are idempotent, so a job sent twice (a
crash between sending and deleting its row) does no harm.

The register enqueues the targets engine's tasks by name so that it never imports the
targets app. A task registered in this process goes through its own apply_async (so the
embedded set-up runs it eagerly, in-process); otherwise it is sent to the broker by name.
"""

from __future__ import annotations

import functools
import logging

from celery import current_app, shared_task
from celery.signals import worker_ready
from django.db import transaction

from .models import PendingJob

log = logging.getLogger(__name__)


@functools.cache
def _import_tasks() -> None:
    """Import the apps' tasks modules (autodiscovery), once a process, so their tasks are
    registered here. Never again: each call sends Celery's `import_modules` signal, on which
    its Django fix-up runs `django.setup()` and so the logging configuration once more. In
    a worker, whose stdout and stderr Celery redirects into its log, the console handler
    that builds writes into that redirection, which drops the lines: the worker's log fell
    silent after its first job that enqueued another (tests/test_worker_log.py)."""
    current_app.loader.import_default_modules()


def _send(name: str, args: list) -> None:
    if name not in current_app.tasks:  # a worker has them all from its start
        _import_tasks()
    task = current_app.tasks.get(name)
    if task is not None:
        task.apply_async(args=args)
    else:
        current_app.send_task(name, args=args)


def _dispatch(job: PendingJob) -> bool:
    try:
        _send(job.task, job.args)
    except Exception as exc:  # the broker is unreachable: the job waits for dispatch_pending
        log.warning("could not send %s (attempt %d): %s", job, job.attempts + 1, exc)
        PendingJob.objects.filter(pk=job.pk).update(
            attempts=job.attempts + 1, last_error=str(exc)[:2000]
        )
        return False
    PendingJob.objects.filter(pk=job.pk).delete()
    return True


def enqueue_on_commit(name: str, *args) -> PendingJob:
    job = PendingJob.objects.create(task=name, args=list(args))
    transaction.on_commit(lambda: _dispatch(job))
    return job


def dispatch_pending(limit: int = 1000) -> int:
    """Send waiting jobs, oldest first; stops at the first failure (the broker is still
    down). Returns how many were sent."""
    sent = 0
    for job in PendingJob.objects.order_by("created_at", "pk")[:limit]:
        if not _dispatch(job):
            break
        sent += 1
    if sent:
        log.info("sent %d waiting job(s)", sent)
    return sent


@shared_task(name="cluster.dispatch_pending", acks_late=True)
def dispatch_pending_task() -> int:
    return dispatch_pending()


@worker_ready.connect
def _catch_up_when_a_worker_starts(sender=None, **kwargs) -> None:
    try:
        dispatch_pending()
    except Exception:  # never keep a worker from starting
        log.exception("dispatching waiting jobs at worker start failed")
