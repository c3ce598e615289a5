import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError

from enterprises.demo import DemoGenerator, demo_present


class Command(BaseCommand):
    help = (
        "Create a deterministic demo population (firms named 【演示】/[Demo], is_demo=True) "
        "with 16 quarters of reports (the baseline year 2022 and the plan's 2023-2025), "
        "designations, listings, milestones and projects."
    )

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=1500, help="number of firms")
        parser.add_argument("--seed", type=int, default=2025, help="random seed")
        parser.add_argument(
            "--first", default="2022Q1", help="first quarter with reports (default 2022Q1)"
        )
        parser.add_argument(
            "--last", default="2025Q4", help="last quarter with reports (default 2025Q4)"
        )
        parser.add_argument(
            "--measure-memory",
            action="store_true",
            help="report peak Python memory (slows the run down)",
        )

    def handle(self, *args, firms, seed, first, last, measure_memory, **options):
        from cluster.quarters import Quarter

        existing = demo_present()
        if existing:
            self.stdout.write(
                f"Demo data already present ({existing} firms); nothing to do. "
                "Start from an empty database to seed again."
            )
            return
        try:
            first_quarter, last_quarter = Quarter.parse(first), Quarter.parse(last)
            generator = DemoGenerator(
                firms=firms, seed=seed, first=first_quarter, last=last_quarter
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if measure_memory:
            tracemalloc.start()
        started = time.perf_counter()
        verbosity = options["verbosity"]

        def progress(summary):
            if verbosity >= 2:
                self.stdout.write(f"  {summary.firms}/{firms} firms, {summary.reports} reports")

        summary = generator.run(progress=progress)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.firms} demo firms, {summary.reports} quarterly reports "
                f"({first_quarter}-{last_quarter}), {summary.designations} designations, "
                f"{summary.listings} listings/quotations, {summary.milestones} milestones, "
                f"{summary.projects} research projects in {elapsed:.1f} s."
            )
        )
        if measure_memory:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.stdout.write(f"Peak traced Python memory: {peak / 2**20:.1f} MiB")
