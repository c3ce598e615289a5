"""Enqueue background jobs by task name, after the surrounding transaction commits.

The register enqueues the targets engine's tasks by name so that it never imports the
targets app. A task registered in this process goes through its own apply_async (so the
embedded set-up runs it eagerly, in-process); otherwise it is sent to the broker by name.
If the broker is down the write that triggered the job still stands: the failure is
logged and the nightly recompute catches up.
"""

import logging

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(name: str, *args) -> None:
    try:
        # Imports the apps' tasks modules (autodiscovery) so their tasks are registered here.
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(name)
        if task is not None:
            task.apply_async(args=args)
        else:
            current_app.send_task(name, args=args)
    except Exception:  # the broker is unreachable: the periodic jobs catch up later
        log.exception("could not enqueue %s%r", name, args)


def enqueue_on_commit(name: str, *args) -> None:
    transaction.on_commit(lambda: enqueue(name, *args))
