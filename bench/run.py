"""The benchmark: `make bench` (Suzhou scale) or `make bench SCALE=national`.

Runs against the PostgreSQL that DATABASE_URL names (make bench starts a throwaway one):
migrates, seeds the deterministic demo population at the scale (timed, with the peak memory
of the seeding process), computes progress, then runs every scenario of bench/scenarios.py
and writes bench/results/<date>-<scale>.json and .md. Each figure is the median of several
runs after a warm-up, and each comparison is measured in the same run on the same data.
Nothing here asserts a time: the goals are reported as met or missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCALES = {
    # DESIGN.md: Suzhou 5,000 firms × 12 quarters; national 35,000 firms × 100 quarters.
    "suzhou": {"firms": 5_000, "first": "2023Q1", "last": "2025Q4"},
    "national": {"firms": 35_000, "first": "2000Q1", "last": "2025Q4"},
}
SEED = 2025


def manage(*args: str) -> dict:
    """Run a management command in a child process: its wall time and peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(max(peak_kib, before) / 1024)}


def machine() -> dict:
    memory = ""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory": memory,
        "postgresql": postgres,
        "database_settings": "fsync=off, synchronous_commit=off (make bench's throwaway cluster)",
    }


def goals(results: dict) -> list[dict]:
    imp, rec, pages = results["import"], results["recompute"], results["pages"]
    per_row = list(imp["peak_bytes_per_row"].values())
    rows = [
        {
            "scenario": "import 10,000 rows (xlsx, validation, history)",
            "ours": f"{imp['ours']['rows_per_s']:,} rows/s; "
            f"peak {max(imp['peak_python_memory_bytes'].values()) / 2**20:.1f} MiB",
            "beside": f"plain ModelResource {imp['plain_resource']['rows_per_s']:,} rows/s "
            f"({imp['speedup_over_plain']}× slower); COPY {imp['copy']['rows_per_s']:,} rows/s",
            "goal": "≥ 2,000 rows/s; ≥ 5× plain; within 10× of COPY; memory flat per row",
            "met": imp["ours"]["rows_per_s"] >= 2000
            and imp["speedup_over_plain"] >= 5
            and imp["times_slower_than_copy"] <= 10
            and max(per_row) <= 1.5 * min(per_row),
        },
        {
            "scenario": f"recompute 7 targets × {rec['districts']} districts, {rec['quarter']}",
            "ours": f"{rec['ours_latest_quarter']['median_s']} s "
            f"(whole plan {rec['ours_whole_plan']['median_s']} s)",
            "beside": f"hand-written SQL {rec['hand_written_sql']['median_s']} s "
            f"(×{rec['ratio_to_sql']})",
            "goal": "≤ 3 s at national scale; ≤ 2× the hand-written SQL",
            "met": rec["ours_latest_quarter"]["median_s"] <= 3 and rec["ratio_to_sql"] <= 2,
        },
    ]
    limits = {
        "city_dashboard": 300,
        "district_page": 300,
        "enterprise_profile": 300,
        "worksheet_largest_district": 300,
        "api_enterprises_100": 150,
        "api_reports_100": 150,
        "quarterly_brief": None,
    }
    for name, limit in limits.items():
        page = pages[name]
        rows.append(
            {
                "scenario": name.replace("_", " "),
                "ours": f"p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms, "
                f"{page['queries']} queries",
                "beside": "see the other scale's report",
                "goal": f"p95 ≤ {limit} ms" if limit else "recorded",
                "met": None if limit is None else page["p95_ms"] <= limit,
            }
        )
    rows.append(
        {
            "scenario": f"seed_demo ({results['data']['firms']:,} firms)",
            "ours": f"{results['seed']['seconds']} s, peak RSS {results['seed']['peak_rss_mb']} MB",
            "beside": "—",
            "goal": "recorded",
            "met": None,
        }
    )
    return rows


def markdown(results: dict) -> str:
    lines = [
        f"# Benchmark, {results['scale']} scale, {results['date']}",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()),
        "",
        "Data: "
        + ", ".join(
            f"{k} {v:,}" if isinstance(v, int) and not k.endswith("year") else f"{k} {v}"
            for k, v in results["data"].items()
        ),
        "",
        "| scenario | our figure | measured beside it | goal | met |",
        "|---|---|---|---|---|",
    ]
    for row in results["goals"]:
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]]
        lines.append(
            f"| {row['scenario']} | {row['ours']} | {row['beside']} | {row['goal']} | {met} |"
        )
    other = sorted(
        RESULTS.glob(f"*-{'national' if results['scale'] == 'suzhou' else 'suzhou'}.json")
    )
    if other:
        previous = json.loads(other[-1].read_text())
        lines += [
            "",
            f"Pages at both scales (the other from {other[-1].name}):",
            "",
            "| page | "
            + " | ".join(f"{s} p95 ms | {s} queries" for s in (results["scale"], previous["scale"]))
            + " |",
            "|---|---|---|---|---|",
        ]
        for name, page in results["pages"].items():
            if "p95_ms" not in page or name not in previous["pages"]:
                continue
            there = previous["pages"][name]
            lines.append(
                f"| {name} | {page['p95_ms']} | {page['queries']} "
                f"| {there['p95_ms']} | {there['queries']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=SCALES, default="suzhou")
    parser.add_argument("--firms", type=int, help="override the scale's number of firms")
    parser.add_argument("--requests", type=int, default=30, help="requests per page")
    options = parser.parse_args()
    scale = dict(SCALES[options.scale])
    if options.firms:
        scale["firms"] = options.firms
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cluster.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-key-not-for-production"),
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            # Production settings, but the test client speaks plain http: every page would
            # measure a redirect to https instead of itself.
            "SECURE_SSL_REDIRECT": "0",
            # Jobs enqueued by writes stay out of the measurements.
            "CELERY_BROKER_URL": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("bench: DATABASE_URL must name a PostgreSQL database (make bench starts one)")
        return 2
    print(f"bench: {options.scale} scale, {scale}", flush=True)
    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    seed = manage(
        "seed_demo",
        "--firms",
        str(scale["firms"]),
        "--seed",
        str(SEED),
        "--first",
        scale["first"],
        "--last",
        scale["last"],
    )
    manage("create_demo_users")
    recompute = manage("recompute_progress")

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from bench import scenarios

    results = {
        "scale": options.scale,
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "data": scenarios.data_summary(),
        "seed": seed,
        "recompute_progress_command": recompute,
    }
    for name, run in (
        ("recompute", scenarios.recompute_scenario),
        ("pages", lambda: scenarios.pages_scenario(requests=options.requests)),
        ("import", scenarios.import_scenario),
    ):
        print(f"bench: {name}", flush=True)
        started = time.perf_counter()
        results[name] = run()
        print(f"bench: {name} took {time.perf_counter() - started:.0f} s", flush=True)
    results["goals"] = goals(results)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{results['date']}-{options.scale}"
    stem.with_suffix(".json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str)
    )
    stem.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
