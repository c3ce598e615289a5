"""The benchmark scenarios. Each returns a dict of figures, measured side by side with what it
is compared with, in the same process, on the same data.

Writes happen inside a transaction that is rolled back, so every run starts from the same
database and the runs of different paths can be compared.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import tablib
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Sum
from django.test import Client
from django.utils import timezone
from import_export import resources
from import_export.formats.base_formats import XLSX

from cluster import clock
from cluster.models import Cluster, District
from cluster.quarters import Quarter
from cluster.spreadsheets import calamine_rows, openpyxl_rows
from enterprises.choices import ListingVenue, ReportStatus
from enterprises.imports import REPORT_COLUMNS, bilingual, read_file, render, reports_import
from enterprises.models import (
    FIGURES,
    MONEY_FIGURES,
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    QuarterlyReport,
    ReportRevision,
    ResearchProject,
)
from enterprises.services.reports import revisions_record
from targets.choices import Basis
from targets.models import Metric, ProgressSnapshot, Target
from targets.selectors.dashboard import AsOf, Board, BoardScope
from targets.selectors.metrics import Figures, counted_period
from targets.selectors.plans import cluster_plans, default_cluster, phase_of
from targets.services.progress import newest_reported_quarter, progress_recompute
from targets.services.stored import (
    seasonality_forget,
    stored_figures_refresh,
    stored_quarters,
)

from .measure import latency, median_seconds, peak_python_memory, percentile, queries

IMPORT_ROWS = 10_000
# Each quarter grows by this much on the one before: well inside the jump threshold (50 %) and
# the unit-mistake ratio (1000×), so every generated row passes validation like a real file.
IMPORT_GROWTH = Decimal("1.03")


def rolled_back(run: Callable[[], object]) -> Callable[[], None]:
    def wrapped() -> None:
        with transaction.atomic():
            run()
            transaction.set_rollback(True)

    return wrapped


def steward():
    return get_user_model().objects.get(username="steward")


# --- import ------------------------------------------------------------------------------------


def _import_rows(count: int) -> list[tuple[Enterprise, Quarter, list]]:
    """`count` new report rows for the quarters after the seeded ones, firm by firm, each
    firm's figures following on from its report of the last seeded quarter (a file that
    ignored the stored history would be refused as unit mistakes, and would measure the
    refusal). Firms without a report then (closed, moved out) are left out."""
    last = latest_quarter()
    reports = list(
        QuarterlyReport.objects.filter(year=last.year, quarter=last.quarter)
        .select_related("enterprise")
        .order_by("enterprise")[:count]
    )
    rows = []
    for step in range(1, math.ceil(count / len(reports)) + 1):
        growth = IMPORT_GROWTH**step
        for report in reports[: count - len(rows)]:
            figures = [
                round((getattr(report, f) or 0) * growth, 2)
                if f in MONEY_FIGURES
                else getattr(report, f) or 0
                for f in FIGURES
            ]
            rows.append((report.enterprise, last + step, figures))
    return rows


def _our_file(rows) -> bytes:
    columns = {c: REPORT_COLUMNS[c] for c in ("uscc", "period", *FIGURES)}
    dataset = tablib.Dataset(headers=bilingual(columns))
    for firm, quarter, figures in rows:
        dataset.append([firm.uscc, str(quarter), *figures])
    return render(dataset, "xlsx")[0]


class PlainReportResource(resources.ModelResource):
    """django-import-export as its documentation starts: a ModelResource, default options."""

    class Meta:
        model = QuarterlyReport


def _plain_file(rows) -> bytes:
    dataset = tablib.Dataset(headers=["id", "enterprise", "year", "quarter", *FIGURES])
    for firm, quarter, figures in rows:
        dataset.append(["", firm.pk, quarter.year, quarter.quarter, *figures])
    return XLSX().export_data(dataset)


def _copy_rows(rows) -> tuple[list[str], list[tuple]]:
    """The same rows as the database stores them, every column given (what COPY needs)."""
    fields = [f for f in QuarterlyReport._meta.concrete_fields if not f.primary_key]
    prepared = []
    for firm, quarter, figures in rows:
        report = QuarterlyReport(
            enterprise=firm,
            year=quarter.year,
            quarter=quarter.quarter,
            **dict(zip(FIGURES, figures, strict=True)),
        )
        prepared.append(
            tuple(
                field.get_db_prep_save(field.pre_save(report, add=True), connection)
                for field in fields
            )
        )
    return [f.column for f in fields], prepared


def _copy(columns: list[str], prepared: list[tuple]) -> None:
    table = QuarterlyReport._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in prepared:
            copy.write_row(row)


def import_scenario(rows_count: int = IMPORT_ROWS, runs: int = 3) -> dict:
    actor = steward()
    rows = _import_rows(rows_count)
    ours = _our_file(rows)
    plain = _plain_file(rows)
    columns, prepared = _copy_rows(rows)

    def our_import(content=ours):
        outcome = reports_import(
            actor=actor,
            dataset=read_file(content, "xlsx"),
            unit="yuan",
            mode="quarterly",
            dry_run=False,
        )
        assert outcome.written and outcome.count("new") == len(rows), outcome.errors[:3]

    def plain_import():
        dataset = XLSX().create_dataset(plain)
        result = PlainReportResource().import_data(dataset, dry_run=False, raise_errors=True)
        assert result.totals["new"] == len(rows)

    def copy_import():
        _copy(columns, prepared)

    ours_time = median_seconds(rolled_back(our_import), runs=runs)
    # The reader is chosen by this measurement (cluster.spreadsheets): both on the same file.
    readers = {
        name: median_seconds(lambda read=read: read(ours), runs=runs)
        for name, read in (("calamine", calamine_rows), ("openpyxl", openpyxl_rows))
    }
    plain_time = median_seconds(rolled_back(plain_import), runs=runs)
    copy_time = median_seconds(rolled_back(copy_import), runs=runs)
    memory = {}
    for size in (rows_count // 4, rows_count // 2, rows_count):
        content = _our_file(rows[:size])
        memory[size] = peak_python_memory(
            rolled_back(
                lambda content=content, size=size: reports_import(
                    actor=actor,
                    dataset=read_file(content, "xlsx"),
                    unit="yuan",
                    mode="quarterly",
                    dry_run=False,
                )
            )
        )
    per_row = {size: round(peak / size) for size, peak in memory.items()}
    return {
        "rows": rows_count,
        "ours": {**ours_time, "rows_per_s": round(rows_count / ours_time["median_s"])},
        "plain_resource": {**plain_time, "rows_per_s": round(rows_count / plain_time["median_s"])},
        "copy": {**copy_time, "rows_per_s": round(rows_count / copy_time["median_s"])},
        "xlsx_readers": {
            name: {**timing, "rows_per_s": round(rows_count / timing["median_s"])}
            for name, timing in readers.items()
        },
        "speedup_over_plain": round(plain_time["median_s"] / ours_time["median_s"], 1),
        "times_slower_than_copy": round(ours_time["median_s"] / copy_time["median_s"], 1),
        "peak_python_memory_bytes": memory,
        "peak_bytes_per_row": per_row,
        "file_bytes": len(ours),
    }


# --- progress recompute ----------------------------------------------------------------------

# The firm e was a member of the target's cluster on the day (both ends of a membership count).
MEMBER_ON_DAY = """
          AND EXISTS (SELECT 1 FROM {membership} m WHERE m.enterprise_id = e.id
                      AND m.cluster_id = %(cluster)s
                      AND (m.joined_on IS NULL OR m.joined_on <= %(day)s)
                      AND (m.left_on IS NULL OR m.left_on >= %(day)s))"""

# The approved figures of the year to date at a vintage, of the cluster's members then.
APPROVED_YEAR_TO_DATE = (
    """
        FROM {revision} r JOIN {enterprise} e ON e.id = r.enterprise_id
        WHERE r.year = %(year)s AND r.quarter <= %(quarter)s AND r.approved_at <= %(vintage)s
          AND (r.superseded_at IS NULL OR r.superseded_at > %(vintage)s)"""
    + MEMBER_ON_DAY
)

# What counts on the day: a stock in force then, or a flow within the metric's period
# (counted_period, the application's owner of that period).
COUNTED = {
    Metric.Kind.COUNT_LISTED: (
        "l.listed_on <= %(day)s AND (l.delisted_on IS NULL OR l.delisted_on > %(day)s)",
        "l.listed_on BETWEEN %(start)s AND %(day)s",
    ),
    Metric.Kind.COUNT_DESIGNATED: (
        "d.valid_from <= %(day)s AND (d.valid_to IS NULL OR d.valid_to >= %(day)s)",
        "d.valid_from BETWEEN %(start)s AND %(day)s",
    ),
    Metric.Kind.COUNT_PROJECTS: ("TRUE", "p.started_on >= %(start)s"),
}

HAND_SQL = {
    Metric.Kind.SUM_OUTPUT: "SELECT e.district_id, SUM(r.{figure})"
    + APPROVED_YEAR_TO_DATE
    + " GROUP BY e.district_id",
    Metric.Kind.COUNT_FIRMS_OVER: "SELECT district_id, COUNT(*) FROM ("
    + "SELECT e.district_id, r.enterprise_id"
    + APPROVED_YEAR_TO_DATE
    + " GROUP BY e.district_id, r.enterprise_id HAVING SUM(r.{figure}) > %(threshold)s"
    + ") over GROUP BY district_id",
    Metric.Kind.COUNT_LISTED: """
        SELECT e.district_id, COUNT(DISTINCT l.enterprise_id)
        FROM {listing} l JOIN {enterprise} e ON e.id = l.enterprise_id
        WHERE l.venue <> %(neeq)s AND {counted}"""
    + MEMBER_ON_DAY
    + """
        GROUP BY e.district_id""",
    Metric.Kind.COUNT_DESIGNATED: """
        SELECT e.district_id, COUNT(DISTINCT d.enterprise_id)
        FROM {designation} d JOIN {enterprise} e ON e.id = d.enterprise_id
        WHERE d.type = %(designation_type)s AND {counted}"""
    + MEMBER_ON_DAY
    + """
        GROUP BY e.district_id""",
    Metric.Kind.COUNT_PROJECTS: """
        SELECT p.district_id, COUNT(*) FROM {project} p
        WHERE p.is_major AND p.started_on <= %(day)s AND {counted}
          AND p.status <> 'terminated'
          AND EXISTS (SELECT 1 FROM {project_clusters} pc WHERE pc.researchproject_id = p.id
                      AND pc.cluster_id = %(cluster)s)
        GROUP BY p.district_id""",
}


# The projection's input, by hand: each district's figures per quarter of the three complete
# years before (the seasonality and growth a sum or threshold target is projected with).
HAND_SEASONALITY = """
    SELECT e.district_id, r.year, r.quarter, SUM(r.output_value), SUM(r.operating_revenue),
           SUM(r.rd_spending)
    FROM {revision} r JOIN {enterprise} e ON e.id = r.enterprise_id
    WHERE r.year >= %(year)s - 3 AND r.year < %(year)s AND r.approved_at <= %(vintage)s
      AND (r.superseded_at IS NULL OR r.superseded_at > %(vintage)s)
    GROUP BY e.district_id, r.year, r.quarter"""


def hand_written_seasonality(quarter: Quarter, vintage) -> int:
    """The same figures as `hand_written_progress` need to be projected to the deadline, as
    our recompute projects them: one aggregate over the three years before."""
    with connection.cursor() as cursor:
        cursor.execute(
            HAND_SEASONALITY.format(
                revision=ReportRevision._meta.db_table, enterprise=Enterprise._meta.db_table
            ),
            {"year": quarter.year, "vintage": vintage},
        )
        return len(cursor.fetchall())


def hand_written_progress(quarter: Quarter, vintage) -> dict:
    """One aggregate per target (of the kinds written here), by district, written by hand:
    the floor under any recompute of the same figures."""
    tables = {
        "revision": ReportRevision._meta.db_table,
        "enterprise": Enterprise._meta.db_table,
        "membership": ClusterMembership._meta.db_table,
        "listing": Listing._meta.db_table,
        "designation": Designation._meta.db_table,
        "project": ResearchProject._meta.db_table,
        "project_clusters": ResearchProject.clusters.through._meta.db_table,
    }
    results = {}
    with connection.cursor() as cursor:
        targets = Target.objects.filter(metric__kind__in=HAND_SQL).select_related("metric", "plan")
        for target in targets:
            metric = target.metric
            period = counted_period(metric, quarter.end)
            # A stock of projects may count from a start date of its own.
            start = period[0] if period else metric.counted_since
            stock, flow = COUNTED.get(metric.kind, ("TRUE", "TRUE"))
            sql = HAND_SQL[metric.kind].format(
                figure=metric.figure or "output_value",
                counted=flow if start is not None else stock,
                **tables,
            )
            cursor.execute(
                sql,
                {
                    "cluster": target.plan.cluster_id,
                    "year": quarter.year,
                    "quarter": quarter.quarter,
                    "vintage": vintage,
                    "day": quarter.end,
                    "threshold": metric.threshold,
                    "neeq": ListingVenue.NEEQ,
                    "designation_type": metric.designation_type,
                    "start": start,
                },
            )
            results[target.pk] = dict(cursor.fetchall())
    return results


def recompute_scenario(runs: int = 3) -> dict:
    latest = ProgressSnapshot.objects.filter(scope_kind="city").aggregate(
        y=Max("year"), q=Max("quarter")
    )
    last = ProgressSnapshot.objects.filter(year=latest["y"]).aggregate(q=Max("quarter"))["q"] or 4
    quarter = Quarter(latest["y"], last)
    vintage = Figures.latest(Basis.APPROVED).vintage
    # The quarter's figures: the baselines (of the baseline year's figures) are not among
    # them; the whole plan below computes those too.
    ours = median_seconds(
        rolled_back(
            lambda: progress_recompute(quarters=[quarter], basis=Basis.APPROVED, baselines=False)
        ),
        runs=runs,
    )
    sql = median_seconds(lambda: hand_written_progress(quarter, vintage), runs=max(runs, 5))
    # With the projection's input read by hand too: ours projects every sum and threshold.
    projected = median_seconds(
        lambda: (
            hand_written_progress(quarter, vintage),
            hand_written_seasonality(quarter, vintage),
        ),
        runs=max(runs, 5),
    )
    full = median_seconds(
        rolled_back(lambda: progress_recompute(basis=Basis.APPROVED)), runs=1, warmup=0
    )
    today = clock.today()
    # The pages' parts, as the job stores them: every stored quarter of every cluster (the
    # nightly run, a register change), and one quarter (what an approval of the newest
    # quarter touches), for one basis.
    store_all = median_seconds(
        rolled_back(
            lambda: stored_figures_refresh(basis=Basis.APPROVED, today=today, everything=True)
        ),
        runs=1,
        warmup=0,
    )
    store_quarter = median_seconds(
        rolled_back(lambda: _store_quarter(quarter, today)), runs=runs, warmup=1
    )
    # The whole plan with its parts as the nightly job computes them on one basis
    # (services.stored.recompute_everything): the stored seasonality forgotten first, one
    # figures for the snapshots and the parts (each year-to-date pass read once for both).
    nightly = median_seconds(rolled_back(lambda: _nightly_one_basis(today)), runs=1, warmup=0)
    targets = Target.objects.count()
    districts = District.objects.count()
    plans = cluster_plans(Cluster.objects.all())
    # The floor computes the same figures: the city totals must agree with the snapshots.
    limit = hand_written_progress(quarter, vintage)
    stored = {
        s.target_id: s.actual
        for s in ProgressSnapshot.objects.filter(
            scope_kind="city",
            year=quarter.year,
            quarter=quarter.quarter,
            basis=Basis.APPROVED,
            vintage=vintage,
        )
    }
    disagreeing = sorted(
        Target.objects.get(pk=key).key
        for key in limit
        if sum(limit[key].values(), Decimal(0)) != stored.get(key)
    )
    return {
        "same_figures_as_the_sql": not disagreeing,
        "targets_not_as_the_sql": disagreeing,
        "quarter": str(quarter),
        "targets": targets,
        "districts": districts,
        "ours_latest_quarter": ours,
        "hand_written_sql": sql,
        "ratio_to_sql": round(ours["median_s"] / sql["median_s"], 1),
        "hand_written_sql_with_projection": projected,
        "ratio_to_sql_with_projection": round(ours["median_s"] / projected["median_s"], 1),
        "ours_whole_plan": full,
        "store_every_quarter": store_all,
        "store_one_quarter": store_quarter,
        "nightly_one_basis": nightly,
        "stored_quarters": sum(
            len(stored_quarters(c, plans[c.pk], today)) for c in Cluster.objects.all()
        ),
    }


def _nightly_one_basis(today: dt.date) -> None:
    seasonality_forget()
    figures = Figures.latest(Basis.APPROVED, keep=True)
    progress_recompute(basis=Basis.APPROVED, figures=figures, baselines=True)
    stored_figures_refresh(basis=Basis.APPROVED, today=today, figures=figures, everything=True)


def _store_quarter(quarter: Quarter, today: dt.date) -> None:
    """The parts of one quarter of every cluster, as the job stores them after an approval."""
    figures = Figures.latest(Basis.APPROVED)
    for cluster in Cluster.objects.all():
        board = Board(
            None,
            BoardScope(cluster),
            AsOf(quarter, Basis.APPROVED, figures.vintage),
            phase_of(cluster, quarter, today),
            today=today,
        )
        board.parts_to_store()


# --- "as known at V" ---------------------------------------------------------------------------

# The share of the latest year's approved reports approved once more for the vintage reads: the
# seeded data has one revision per report, where a real register has corrections.
REVISED_SHARE = 0.1


def anti_join_as_of(moment):
    """The reading of "as known at V" before the interval: per report, the newest revision
    approved by V, found as "no newer one approved by then". Kept as the measured reference."""
    newer = ReportRevision.objects.filter(
        report_id=OuterRef("report_id"), approved_at__lte=moment, revision__gt=OuterRef("revision")
    )
    return ReportRevision.objects.filter(approved_at__lte=moment).exclude(Exists(newer)).order_by()


VINTAGE_READS = {
    # The progress job's and the pages' usual read: a quarter's year to date, by district.
    "year_to_date_by_district": lambda rows, quarter: (
        rows.filter(year=quarter.year, quarter__lte=quarter.quarter)
        .values("enterprise__district")
        .annotate(total=Sum("output_value"))
    ),
    # The trend and the seasonality: every quarter of every year.
    "every_quarter": lambda rows, quarter: rows.values("year", "quarter").annotate(
        total=Sum("output_value")
    ),
}


def _revise(share: float) -> int:
    """Approve again `share` of the latest year's approved reports, a minute after the last
    approval, through the service that records revisions."""
    year = latest_quarter().year
    last = ReportRevision.objects.aggregate(m=Max("approved_at"))["m"]
    approved = QuarterlyReport.objects.filter(year=year, status=ReportStatus.APPROVED)
    step = max(1, round(1 / share))
    reports = list(approved.order_by("pk")[::step])
    for report in reports:
        report.revision += 1
        report.approved_at = last + dt.timedelta(minutes=1)
        report.output_value = (report.output_value or Decimal(0)) * Decimal("1.01")
    QuarterlyReport.objects.bulk_update(reports, ["revision", "approved_at", "output_value"])
    revisions_record(reports=reports)
    return len(reports)


def vintage_scenario(runs: int = 5) -> dict:
    """The interval read (approved_at <= V < superseded_at) beside the anti-join it replaced,
    on the same rows, at the newest vintage and at the one before the corrections; both must
    read the same figures. Rolled back."""
    quarter = latest_quarter()
    results = {}
    with transaction.atomic():
        before = ReportRevision.objects.aggregate(m=Max("approved_at"))["m"]
        revised = _revise(REVISED_SHARE)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ReportRevision._meta.db_table}")
        newest = ReportRevision.objects.aggregate(m=Max("approved_at"))["m"]
        for vintage_name, vintage in (("newest", newest), ("before_corrections", before)):
            for read_name, read in VINTAGE_READS.items():

                def interval(read=read, vintage=vintage):
                    rows = ReportRevision.objects.as_of(vintage).order_by()
                    return sorted(read(rows, quarter), key=str)

                def anti_join(read=read, vintage=vintage):
                    return sorted(read(anti_join_as_of(vintage), quarter), key=str)

                ours = median_seconds(interval, runs=runs)
                beside = median_seconds(anti_join, runs=runs)
                results[f"{read_name}_{vintage_name}"] = {
                    "interval": ours,
                    "anti_join": beside,
                    "interval_over_anti_join": round(ours["median_s"] / beside["median_s"], 3),
                    "same_rows": interval() == anti_join(),
                }
        transaction.set_rollback(True)
    return {
        "revisions": ReportRevision.objects.count() + revised,
        "revised_reports": revised,
        "quarter": str(quarter),
        "reads": results,
    }


# --- pages and API ---------------------------------------------------------------------------


def _client() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(steward())
    return client


class PageError(RuntimeError):
    """A measured page answered something else than 200: the benchmark stops, since it
    would otherwise time a redirect or an error page."""


def fetch(client: Client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    if response.status_code != 200:
        raise PageError(
            f"{url} answered {response.status_code}"
            + (f" (to {response['Location']})" if response.has_header("Location") else "")
        )
    return response.content.decode()


def _get(client: Client, url: str):
    def run():
        fetch(client, url)

    return run


def largest_district() -> District:
    row = (
        Enterprise.objects.values("district")
        .annotate(n=Count("pk"))
        .order_by("-n", "district")
        .first()
    )
    return District.objects.get(pk=row["district"])


def latest_quarter() -> Quarter:
    return newest_reported_quarter()


def board_pages(district: District, quarter: Quarter) -> dict[str, str]:
    """The pages that show the targets' figures: the city dashboard of the first cluster
    (where the old /dashboard/ leads), a district page and the brief of the quarter."""
    key = default_cluster().key
    return {
        "city_dashboard": f"/clusters/{key}/",
        "district_page": f"/clusters/{key}/districts/{district.pk}/",
        "quarterly_brief": f"/clusters/{key}/brief/{quarter}/",
    }


def _measure(pages: dict[str, str], requests: int) -> dict:
    client = _client()
    results = {}
    for name, url in pages.items():
        run = _get(client, url)
        results[name] = {"url": url, **latency(run, requests=requests), "queries": queries(run)}
    return results


def pages_scenario(requests: int = 30) -> dict:
    def deep(url: str, hops: int = 20) -> str:
        """The page reached by following `next` `hops` times from `url` (the last page of a
        smaller register), found before the timing: a keyset page costs what the first does."""
        client = _client()
        for _ in range(hops):
            response = client.get(url)
            if response.status_code != 200:
                raise PageError(f"{url} answered {response.status_code}")
            if response.json()["next"] is None:
                break
            url = response.json()["next"]
        return url

    district = largest_district()
    quarter = latest_quarter()
    firm = (
        Enterprise.objects.filter(district=district)
        .annotate(n=Count("reports"))
        .order_by("-n", "pk")
        .first()
    )
    pages = {
        **board_pages(district, quarter),
        "enterprise_profile": f"/enterprises/{firm.pk}/",
        "worksheet_largest_district": f"/reports/{district.pk}/{quarter}/",
        "api_enterprises_100": "/api/enterprises/?page_size=100",
        "api_reports_100": "/api/quarterly-reports/?page_size=100",
        "api_enterprises_100_deep": deep("/api/enterprises/?page_size=100"),
        "api_reports_100_deep": deep("/api/quarterly-reports/?page_size=100"),
    }
    results = _measure(pages, requests)
    results["largest_district"] = {
        "name": district.name_zh,
        "firms": Enterprise.objects.filter(district=district).count(),
    }
    return results


def embedded_scenario(requests: int = 30) -> dict:
    """The pages of the embedded default (SQLite, as `make run` sets it up); bench/run.py
    runs this in a process of its own on a SQLite file. Each page also in Chromium."""
    district = largest_district()
    pages = board_pages(district, latest_quarter())
    results = _measure(pages, requests)
    for name, figures in browser_scenario(pages, requests=min(requests, 10)).items():
        results[name]["chromium"] = figures
    results["largest_district"] = {
        "name": district.name_zh,
        "firms": Enterprise.objects.filter(district=district).count(),
    }
    return results


# --- the pages in a browser ------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# When the last byte the page asked for arrived (the document, scripts, styles, fonts, any
# request its scripts made), in ms from the start of the navigation: the moment the network
# went idle, without the quiet window a "network idle" wait adds to know it.
LAST_BYTE = """() => Math.max(
    ...performance.getEntriesByType("navigation").map((e) => e.responseEnd),
    ...performance.getEntriesByType("resource").map((e) => e.responseEnd))"""


def browser_scenario(pages: dict[str, str], requests: int = 10) -> dict:
    """Each page loaded in Debian's Chromium (Playwright) from a server in this process, as
    a signed-in steward: the network idle moment (LAST_BYTE) and the load event, p50/p95
    over `requests` loads after a warm-up, cache on as for a returning reader."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from playwright.sync_api import sync_playwright

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = _client()
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    results = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            context = browser.new_context(locale="zh-CN")
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
            )
            page = context.new_page()
            for name, url in pages.items():
                idle, load = [], []
                for attempt in range(requests + 1):
                    response = page.goto(base + url, wait_until="networkidle")
                    if response.status != 200:
                        raise PageError(f"{url} answered {response.status} in Chromium")
                    if attempt:  # the first load warms the cache
                        idle.append(page.evaluate(LAST_BYTE))
                        load.append(
                            page.evaluate(
                                '() => performance.getEntriesByType("navigation")[0].loadEventEnd'
                            )
                        )
                results[name] = {
                    "network_idle_p50_ms": round(percentile(idle, 0.5)),
                    "network_idle_p95_ms": round(percentile(idle, 0.95)),
                    "load_p95_ms": round(percentile(load, 0.95)),
                    "loads": requests,
                }
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return results


# --- one approval -> pages updated ---------------------------------------------------------

# The figure of the output target on a page: its card's value (dashboard, district page) or
# its row's actual (brief).
OUTPUT_FIGURE = re.compile(
    r'data-target="total_output".*?class="(?:value|num)"[^>]*>([^<]*)<', re.DOTALL
)


def shown_output(html: str, url: str) -> str:
    found = OUTPUT_FIGURE.search(html)
    if not found:
        raise PageError(f"{url} shows no figure for the output target")
    return found.group(1).strip()


# The worker's log at INFO (tests.services.start_worker): when the job arrived, its phases
# (targets.tasks.recompute_for_reports) and its seconds.
LOG_LINE = re.compile(r"^\[(?P<at>[\d-]+ [\d:]+,\d+): \w+/\w+\] (?P<message>.*)$", re.MULTILINE)
JOB = "targets.recompute_for_reports"
JOB_DONE = re.compile(r"recomputed for \d+ report\(s\): (?P<phases>.*)$", re.MULTILINE)


def job_timings(log: str, started_at: float, run: int) -> dict:
    """The `run`-th recompute job (from 0) as its worker logged it: seconds from the approve
    request until the worker received it and until it ended (its last line names its
    phases), and each phase's seconds."""
    received, ended = [], []
    for line in LOG_LINE.finditer(log):
        at = dt.datetime.strptime(line["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        message = line["message"]
        if message.startswith(f"Task {JOB}[") and message.endswith("received"):
            received.append(at)
        elif done := JOB_DONE.search(message):
            phases = {
                name: float(seconds)
                for name, seconds, _unit in (
                    part.rsplit(" ", 2) for part in done["phases"].split(", ")
                )
            }
            ended.append((at, phases))
    return {
        "received_after_s": round(received[run] - started_at, 3),
        "ended_after_s": round(ended[run][0] - started_at, 3),
        "phases_s": ended[run][1],
    }


def _reports_to_approve(count: int) -> list[QuarterlyReport]:
    """The biggest submitted reports of the latest quarter of members of the pages' cluster:
    the approval of each moves the figures enough to show on every page."""
    quarter = latest_quarter()
    reports = list(
        QuarterlyReport.objects.filter(
            status=ReportStatus.SUBMITTED,
            year=quarter.year,
            quarter=quarter.quarter,
            enterprise__in=ClusterMembership.objects.filter(cluster=default_cluster())
            .exclude(joined_on__gt=quarter.end)
            .exclude(left_on__lt=quarter.end)
            .values("enterprise"),
        )
        .select_related("enterprise__district")
        .order_by("-output_value", "pk")[:count]
    )
    if len(reports) < count:
        raise RuntimeError(f"fewer than {count} submitted reports in {quarter} to approve")
    return reports


def approval_scenario(*, runs: int = 3, timeout: float = 120, poll: float = 0.05) -> dict:
    """The time from the steward's approve request until every page that shows the approved
    report's figures (city dashboard, the firm's district page, the brief of its quarter)
    shows the new output figure, with the recompute done by a real Celery worker on the
    broker: the median of `runs` approvals of different reports after a warm-up one (the
    first job of a freshly started worker, reported beside them), each from an idle worker.

    The watcher asks the database every `poll` s whether the official figures are stored
    through the approval (one indexed read) and from then on loads the three pages until
    each shows the new figure, as a reader who loads them once the figures changed. Beside
    it, `runs` more approvals watched by loading the three pages over and over from the
    approval on (the way this scenario first watched): on this two-core machine that
    watcher takes a core from the worker (its job ran 1.0 s alone and 1.7 s so watched,
    2026-12-02). Run in a process whose settings name the broker (bench/run.py does); the
    approvals are committed, so this runs last."""
    import redis
    from django.conf import settings

    from cluster.celery import app
    from tests.services import start_worker, stop, wait_for

    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise RuntimeError("the approval scenario needs CELERY_BROKER_URL (a real worker)")
    reports = _reports_to_approve(2 * runs + 1)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client = _client()
    app.control.purge()  # jobs left by the seeding would be timed with ours
    log = Path(tempfile.mkdtemp(prefix="bench-worker-")) / "worker.log"
    worker = start_worker(settings.CELERY_BROKER_URL, logfile=log)

    def idle() -> bool:
        """The worker answers (a solo worker does only between jobs) and nothing waits: the
        alert evaluation each recompute enqueues is over too."""
        waiting = broker.llen(app.conf.task_default_queue)
        return not waiting and bool(app.control.ping(timeout=1))

    measured = []
    try:
        wait_for(lambda: app.control.ping(timeout=1), 60, "the Celery worker answers")
        for run, report in enumerate(reports):
            # The warm-up and the first `runs` with the database probe, then the others
            # watched by loading the pages non-stop.
            probe = run <= runs
            measured.append(_approve_and_watch(client, report, log, run, timeout, poll, probe))
            wait_for(idle, timeout, "the worker is idle")
    finally:
        stop(worker)
    warm_up, *runs_measured = measured
    probed, hammered = runs_measured[:runs], runs_measured[runs:]

    def middle(results: list[dict]) -> dict:
        return sorted(results, key=lambda r: r["all_pages_updated_s"])[len(results) // 2]

    return {
        **middle(probed),
        "runs": [r["all_pages_updated_s"] for r in probed],
        "warm_up": warm_up,
        "pages_loaded_non_stop": {
            **middle(hammered),
            "runs": [r["all_pages_updated_s"] for r in hammered],
        },
    }


def _approve_and_watch(
    client, report, log: Path, run: int, timeout: float, poll: float, probe: bool = True
):
    """Approve `report` as the steward does (the review row's htmx request) and fetch its
    pages until each shows a new output figure: the seconds of each. With `probe`, the pages
    are fetched once the official figures are stored through the approval (asked of the
    database every `poll` s), otherwise from the approval on."""
    from targets.models import StoredThrough
    from tests.services import wait_for

    quarter, district = report.period, report.enterprise.district
    # The report's quarter on every page (a dashboard opens on the latest quarter whose
    # approvals cover the official share, which may be an earlier one).
    pages = {
        name: url if name == "quarterly_brief" else f"{url}?period={quarter}"
        for name, url in board_pages(district, quarter).items()
    }
    before = {name: shown_output(fetch(client, url), url) for name, url in pages.items()}
    review = f"/reports/{district.pk}/{quarter}/review/"
    started = time.perf_counter()
    answer = client.post(review, {"report": report.pk, "action": "approve"}, HTTP_HX_REQUEST="true")
    if answer.status_code != 200:
        raise PageError(f"{review} answered {answer.status_code}")
    approved_s = time.perf_counter() - started
    started_at = time.time() - approved_s
    updated: dict[str, float] = {}
    after: dict[str, str] = {}
    approved_at = QuarterlyReport.objects.values_list("approved_at", flat=True).get(pk=report.pk)
    stored_through = StoredThrough.objects.filter(
        cluster=default_cluster(),  # the pages' (board_pages)
        basis=Basis.APPROVED,
        through__gte=approved_at,
    )
    while probe and not stored_through.exists():
        if time.perf_counter() - started > timeout:
            raise PageError(f"the figures not stored {timeout:.0f} s after the approval")
        time.sleep(poll)
    stored_s = round(time.perf_counter() - started, 3)
    while len(updated) < len(pages):
        if time.perf_counter() - started > timeout:
            raise PageError(
                f"not updated {timeout:.0f} s after the approval: "
                + ", ".join(sorted(set(pages) - set(updated)))
            )
        for name, url in pages.items():
            if name in updated:
                continue
            shown = shown_output(fetch(client, url), url)
            if shown != before[name]:
                updated[name] = round(time.perf_counter() - started, 3)
                after[name] = shown
        time.sleep(poll)
    wait_for(lambda: len(JOB_DONE.findall(log.read_text())) > run, timeout, "the job ends")
    return {
        "report": {"firm": report.enterprise.name, "quarter": str(quarter)},
        "approve_request_s": round(approved_s, 3),
        "watched_by": "database probe, then the pages" if probe else "the pages non-stop",
        "stored_s": stored_s if probe else None,
        "page_updated_s": updated,
        "all_pages_updated_s": max(updated.values()),
        "job": job_timings(log.read_text(), started_at, run),
        "output_figure_before": before,
        "output_figure_after": after,
    }


def data_summary() -> dict:
    return {
        "firms": Enterprise.objects.count(),
        "cluster_memberships": ClusterMembership.objects.count(),
        "reports": QuarterlyReport.objects.count(),
        "approved_revisions": ReportRevision.objects.count(),
        "designations": Designation.objects.count(),
        "snapshots": ProgressSnapshot.objects.count(),
        "first_year": QuarterlyReport.objects.order_by("year")
        .values_list("year", flat=True)
        .first(),
        "last_year": QuarterlyReport.objects.order_by("-year")
        .values_list("year", flat=True)
        .first(),
        "measured_at": timezone.now().isoformat(timespec="seconds"),
    }
