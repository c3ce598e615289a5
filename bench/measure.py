"""Timing helpers: medians after a warm-up, percentiles, query counts, peak memory."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def median_seconds(run: Callable[[], object], *, runs: int = 5, warmup: int = 1) -> dict:
    """The median wall time of `runs` calls after `warmup` unmeasured ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 4), "runs_s": [round(t, 4) for t in times]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def latency(run: Callable[[], object], *, requests: int = 30, warmup: int = 3) -> dict:
    """p50 and p95 in milliseconds of `requests` calls after a warm-up."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "requests": requests,
    }


def queries(run: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def peak_python_memory(run: Callable[[], object]) -> int:
    """Peak bytes allocated by Python while `run` runs (tracemalloc; slows it down, so it is
    measured in a run of its own, never in a timed one)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
