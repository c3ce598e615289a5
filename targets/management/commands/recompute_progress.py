import time

from django.core.management.base import BaseCommand

from cluster import clock
from targets.choices import Basis
from targets.models import Target
from targets.selectors.metrics import Figures
from targets.services.alerts import alerts_evaluate
from targets.services.progress import progress_recompute
from targets.services.stored import completeness_store, stored_figures_refresh


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
        count = 0
        for basis in Basis.values:
            figures = Figures.latest(basis)
            count += progress_recompute(target_ids=ids, basis=basis, figures=figures)
            stored_figures_refresh(
                basis=basis, today=clock.today(), figures=figures, everything=True
            )
        completeness_store(today=clock.today())
        self.stdout.write(
            f"Recomputed {count} target-quarters in {time.perf_counter() - started:.2f} s."
        )
        if not no_alerts:
            result = alerts_evaluate()
            self.stdout.write(
                f"Alerts: {result.opened} opened, {result.refreshed} still open, "
                f"{result.resolved} resolved, {result.escalated} escalated."
            )
