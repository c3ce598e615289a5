import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from enterprises.demo import DemoGenerator, demo_present


class Command(BaseCommand):
    help = (
        "Create a deterministic demo population (firms named 【演示】/[Demo], is_demo=True) of "
        "the clusters in the database: their memberships, quarterly reports from the earliest "
        "plan's baseline year to the latest quarter that has ended, designations, listings, "
        "milestones and projects."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--firms",
            type=int,
            default=1500,
            help="firms of the first cluster (each further cluster gets a fifth as many)",
        )
        parser.add_argument("--seed", type=int, default=2025, help="random seed")
        parser.add_argument(
            "--first",
            help="first quarter with reports (default: Q1 of the earliest plan's baseline year)",
        )
        parser.add_argument(
            "--last", help="last quarter with reports (default: the latest that has ended)"
        )
        parser.add_argument(
            "--measure-memory",
            action="store_true",
            help="report peak Python memory (slows the run down)",
        )

    def handle(self, *args, firms, seed, first, last, measure_memory, **options):
        from cluster import clock
        from cluster.quarters import Quarter

        existing = demo_present()
        if existing:
            self.stdout.write(
                f"Demo data already present ({existing} firms); nothing to do. "
                "Start from an empty database to seed again."
            )
            return
        try:
            generator = DemoGenerator(
                firms=firms,
                seed=seed,
                first=Quarter.parse(first) if first else None,
                last=Quarter.parse(last) if last else None,
                today=clock.today(),
            )
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None
        if measure_memory:
            tracemalloc.start()
        started = time.perf_counter()
        verbosity = options["verbosity"]

        def progress(summary):
            if verbosity >= 2:
                self.stdout.write(
                    f"  {summary.firms}/{generator.firms} firms, {summary.reports} reports"
                )

        summary = generator.run(progress=progress)
        # A bulk load leaves the query planner without statistics: on SQLite (make run) it
        # then reads a firm's revisions through the period index instead of the firm's, and a
        # district page of 1,800 firms took 2.4 s instead of 0.1 s. PostgreSQL's autovacuum
        # would get there later; both take ANALYZE now.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.firms} demo firms with {summary.memberships} memberships of "
                f"{len(generator.clusters)} clusters, {summary.reports} quarterly reports "
                f"({generator.first}-{generator.last}), {summary.designations} designations, "
                f"{summary.listings} listings/quotations, {summary.milestones} milestones, "
                f"{summary.projects} research projects in {elapsed:.1f} s."
            )
        )
        if measure_memory:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.stdout.write(f"Peak traced Python memory: {peak / 2**20:.1f} MiB")
