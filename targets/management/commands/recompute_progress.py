import time

from django.core.management.base import BaseCommand

from cluster import clock
from targets.models import Target
from targets.services.alerts import alerts_evaluate
from targets.services.stored import recompute_everything


class Command(BaseCommand):
    help = (
        "Recompute the progress snapshots of all targets (or --target KEY ...) synchronously, "
        "approved figures and preview, store every part of the pages, then evaluate the alert "
        "rules: the same job as the nightly Celery task."
    )

    def add_arguments(self, parser):
        parser.add_argument("--target", action="append", dest="keys", help="target key")
        parser.add_argument("--no-alerts", action="store_true", help="skip alert evaluation")

    def handle(self, *args, keys=None, no_alerts=False, **options):
        ids = (
            list(Target.objects.filter(key__in=keys).values_list("pk", flat=True)) if keys else None
        )
        started = time.perf_counter()
        count = recompute_everything(today=clock.today(), target_ids=ids)
        self.stdout.write(
            f"Recomputed {count} target-quarters in {time.perf_counter() - started:.2f} s."
        )
        if not no_alerts:
            result = alerts_evaluate()
            self.stdout.write(
                f"Alerts: {result.opened} opened, {result.refreshed} still open, "
                f"{result.resolved} resolved, {result.escalated} escalated."
            )
