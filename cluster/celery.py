"""The Celery application, beside the settings it reads (namespace CELERY_)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cluster.settings")

app = Celery("cluster")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["cluster"], related_name="jobs")

# Every periodic job, in one place (run by `celery -A cluster beat`).
app.conf.beat_schedule = {
    # Jobs that could not be sent while the broker was down (cluster.jobs).
    "dispatch-waiting-jobs": {"task": "cluster.dispatch_pending", "schedule": 60.0},
    "nightly-progress-recompute": {
        "task": "targets.recompute_progress",
        "schedule": crontab(hour=2, minute=0),
    },
    # Briefs of newly released quarters to their subscribers; failures are retried here.
    "brief-deliveries": {"task": "targets.send_brief_deliveries", "schedule": 600.0},
    "daily-alert-evaluation": {
        "task": "targets.evaluate_alerts",
        "schedule": crontab(hour=7, minute=30),
    },
}
