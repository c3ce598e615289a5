"""Bounded load: officers saving worksheet rows and stewards approving, over real HTTP.

    python bench/soak.py --seconds 180 [--officers 20 --stewards 5] [--out bench/results/x.json]

`make soak` runs it for three minutes against throwaway PostgreSQL and Redis
(tests/run_with_services.py --exec); tests/test_soak.py runs a 20-second form in CI. The
script serves the product with gunicorn on a loopback port, so nothing leaves the machine,
and stops by itself after --seconds (or, with --at-least-saves, once that many saves were
accepted, three times --seconds at most in all).

Officers come in pairs per district, so two of them edit the same rows: each save sends the
version the officer loaded (the worksheet's optimistic lock), and a stale one must come back
409. Stewards approve submitted reports through the API. Afterwards every save the server
accepted is looked up in the reports' history (same firm, quarter, version and figure), and
every report's current figure must be the last accepted one: a save that vanished or was
overwritten unseen is a lost update. The report (JSON) has the counts, latencies and
lost_updates, which must be 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cluster.settings")
# gunicorn serves plain http on loopback as the laptop set-up does (DEBUG on: no HTTPS
# redirect, static files without collectstatic), with a key of the run's own.
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "soak-only-key-not-for-production")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from cluster.access import Role  # noqa: E402
from cluster.models import District, Membership, Sector  # noqa: E402
from enterprises.models import ClusterMembership, Enterprise, QuarterlyReport  # noqa: E402
from enterprises.uscc import check_character  # noqa: E402
from tests.services import start_gunicorn  # noqa: E402
from tests.services import stop as stop_process  # noqa: E402

PASSWORD = "soak-password-2025"
PERIOD = "2025Q3"
# Every worksheet row carries the report's version, editable or not.
VERSION = re.compile(r'data-version="(\d*)"')


def uscc(n: int) -> str:
    first17 = f"91320594{n:08d}7"
    return first17 + check_character(first17)


def prepare(officers: int, stewards: int, firms_per_district: int):
    """Users and firms (idempotent: a second run reuses them)."""
    User = get_user_model()
    call_command("migrate", verbosity=0)
    districts = list(District.objects.exclude(code=None).order_by("code")[: max(1, officers // 2)])
    material = Sector.objects.filter(level=Sector.Level.MATERIAL).first()
    plan = {"officers": [], "stewards": [], "firms": {}}
    for i in range(officers):
        district = districts[i // 2 % len(districts)]
        user, created = User.objects.get_or_create(username=f"soak_officer_{i}")
        if created:
            user.set_password(PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name=Role.DISTRICT_OFFICER))
            Membership.objects.create(user=user, district=district)
        plan["officers"].append((user.username, district.pk))
    for i in range(stewards):
        user, created = User.objects.get_or_create(username=f"soak_steward_{i}", is_staff=True)
        if created:
            user.groups.add(Group.objects.get(name=Role.CITY_STEWARD))
            Membership.objects.create(user=user, district=None)
        plan["stewards"].append(Token.objects.get_or_create(user=user)[0].key)
    for d, district in enumerate(districts):
        ids = []
        for f in range(firms_per_district):
            firm, _ = Enterprise.objects.get_or_create(
                uscc=uscc(d * 100 + f),
                defaults={
                    "name_zh": f"压测企业{d}-{f}",
                    "district": district,
                    "size_class": "small",
                },
            )
            ClusterMembership.objects.get_or_create(
                enterprise=firm, cluster=material.cluster, defaults={"sector": material}
            )
            ids.append(firm.pk)
        plan["firms"][district.pk] = ids
    return plan


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes = Counter()
        self.latency = {}
        self.accepted = []  # (enterprise_id, version, output in 万元)
        self.client_errors = []

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.outcomes[f"{kind} {status}"] += 1
            self.latency.setdefault(kind, []).append(seconds)


def guarded(loop):
    """A client thread that fails is counted (and fails the run), never lost silently."""

    def run(*args):
        stats = args[-2]
        try:
            loop(*args)
        except Exception as exc:
            with stats.lock:
                stats.outcomes[f"client exception {exc.__class__.__name__}"] += 1
                stats.client_errors.append(repr(exc))

    return run


@guarded
def officer(base: str, username: str, district: int, firms: list[int], stop, stats, seed) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    login = session.get(f"{base}/accounts/login/")
    session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": login.cookies.get("csrftoken") or session.cookies["csrftoken"],
        },
    )
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "HX-Request": "true"}
    while not stop.is_set():
        firm = rng.choice(firms)
        row = f"{base}/reports/{district}/{PERIOD}/rows/{firm}/"
        loaded = session.get(row)
        version = VERSION.search(loaded.text).group(1) if loaded.ok else ""
        time.sleep(rng.uniform(0, 0.05))  # the officer types; the other one may save first
        value = rng.randint(100, 99_999)
        started = time.monotonic()
        saved = session.post(
            row,
            data={
                "version": version,
                "output_value": str(value),
                "operating_revenue": str(value),
                "anomaly_note": "soak",
                "change_reason": "soak revision",
            },
            headers=headers,
        )
        stats.record("save", saved.status_code, time.monotonic() - started)
        if saved.status_code == 200:
            new_version = int(VERSION.search(saved.text).group(1))
            with stats.lock:
                stats.accepted.append((firm, new_version, value))
        if rng.random() < 0.2:
            started = time.monotonic()
            submitted = session.post(
                f"{base}/reports/{district}/{PERIOD}/submit/",
                data={"selected": [firm]},
                headers={"X-CSRFToken": session.cookies["csrftoken"]},
                allow_redirects=False,
            )
            stats.record("submit", submitted.status_code, time.monotonic() - started)


@guarded
def steward(base: str, token: str, stop, stats, seed) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    while not stop.is_set():
        started = time.monotonic()
        listing = session.get(f"{base}/api/quarterly-reports/?status=submitted&page_size=20")
        stats.record("list", listing.status_code, time.monotonic() - started)
        results = listing.json().get("results", []) if listing.ok else []
        if not results:
            time.sleep(0.2)
            continue
        report = rng.choice(results)
        started = time.monotonic()
        approved = session.post(f"{base}/api/quarterly-reports/{report['id']}/approve/")
        stats.record("approve", approved.status_code, time.monotonic() - started)


def verify(stats: Stats) -> dict:
    History = QuarterlyReport.history.model
    # Every saved state of the quarter's reports: (firm, version, output in yuan).
    stored = {
        (firm, version, int(output))
        for firm, version, output in History.objects.filter(
            year=2025, quarter=3, output_value__isnull=False
        ).values_list("enterprise_id", "version", "output_value")
    }
    missing = [
        (firm, version, value)
        for firm, version, value in stats.accepted
        if (firm, version, value * 10_000) not in stored
    ]
    last = {}
    for firm, version, value in stats.accepted:
        if version >= last.get(firm, (0, 0))[0]:
            last[firm] = (version, value)
    current = dict(
        QuarterlyReport.objects.filter(year=2025, quarter=3).values_list(
            "enterprise_id", "output_value"
        )
    )
    overwritten = [f for f, (_v, value) in last.items() if current.get(f) != value * 10_000]
    return {"missing_from_history": len(missing), "final_value_not_last_accepted": len(overwritten)}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--stewards", type=int, default=5)
    parser.add_argument("--firms-per-district", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--at-least-saves",
        type=int,
        default=0,
        help="after --seconds, go on until the server accepted this many saves (a busy "
        "machine's short run still checks enough of them), three times --seconds at most in all",
    )
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / f"{dt.date.today()}-soak.json")
    )
    args = parser.parse_args()

    plan = prepare(args.officers, args.stewards, args.firms_per_district)
    server, base = start_gunicorn(
        {**os.environ, "LOG_LEVEL": "WARNING", "AXES_FAILURE_LIMIT": "1000"},
        workers=args.workers,
        threads=4,
    )
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/accounts/login/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.5)
        stats, stop = Stats(), threading.Event()
        threads = [
            threading.Thread(
                target=officer,
                args=(base, name, district, plan["firms"][district], stop, stats, i),
            )
            for i, (name, district) in enumerate(plan["officers"])
        ] + [
            threading.Thread(target=steward, args=(base, token, stop, stats, 1000 + i))
            for i, token in enumerate(plan["stewards"])
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        ends = started + 3 * args.seconds
        while len(stats.accepted) < args.at_least_saves and time.monotonic() < ends:
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(60)
        elapsed = time.monotonic() - started
    finally:
        stop_process(server)

    checks = verify(stats)
    errors = sum(
        n
        for key, n in stats.outcomes.items()
        if key.split()[-1].isdigit() and int(key.split()[-1]) >= 500
    )
    report = {
        "date": str(dt.date.today()),
        "seconds": round(elapsed, 1),
        "officers": args.officers,
        "stewards": args.stewards,
        "gunicorn": f"{args.workers} workers x 4 threads",
        "outcomes": dict(sorted(stats.outcomes.items())),
        "accepted_saves": len(stats.accepted),
        "conflicts_409": stats.outcomes.get("save 409", 0),
        "server_errors_5xx": errors,
        "client_exceptions": stats.client_errors[:10],
        "saves_per_second": round(len(stats.accepted) / elapsed, 1),
        "latency_ms": {
            kind: {
                "median": round(1000 * statistics.median(values), 1),
                "p95": round(1000 * percentile(values, 0.95), 1),
            }
            for kind, values in sorted(stats.latency.items())
        },
        **checks,
        "lost_updates": checks["missing_from_history"] + checks["final_value_not_last_accepted"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    ok = report["lost_updates"] == 0 and errors == 0 and not stats.client_errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
