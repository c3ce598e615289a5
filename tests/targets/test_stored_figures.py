"""Pages read the parts the progress job stored (targets.selectors.stored): the same figures
the page would compute itself, kept current by the job after each approval for just the
quarters it touches, and, while a recompute is pending, the page says so."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from celery import current_app
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cluster.models import Cluster, PendingJob, Sector
from cluster.quarters import Quarter
from enterprises.models import ClusterMembership, CountingChange, Enterprise, QuarterlyReport
from enterprises.selectors import completeness_counts
from enterprises.services.register.rules import counting_changed
from enterprises.services.reports import reports_approve, reports_return
from targets.choices import Basis
from targets.models import (
    ApprovalCount,
    Metric,
    ProgressSnapshot,
    StoredCompleteness,
    StoredFigures,
    StoredFirmRow,
    StoredSeasonality,
    StoredThrough,
    Target,
)
from targets.selectors.dashboard import data_versions
from targets.selectors.metrics import Figures, seasonal_rows
from targets.selectors.plans import coverage, official_quarters
from targets.selectors.stored import stored_completeness
from targets.services.stored import (
    approvals_count,
    completeness_store,
    counting_changes_drain,
)
from targets.tasks import recompute_for_reports, recompute_progress

from .conftest import YI

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2025, 8, 20, 10, tzinfo=dt.UTC)


def pages(sip) -> dict[str, str]:
    direction = Sector.objects.directions().filter(cluster__key="nano").order_by("pk").first()
    return {
        "dashboard": reverse("targets:dashboard", args=["nano"]),
        "district": reverse("targets:district", args=["nano", sip.pk]),
        "direction": reverse("targets:sector", args=["nano", direction.pk]),
        "brief": reverse("targets:brief", args=["nano", "2025Q2"]),
    }


def shown(response) -> dict:
    """What a page shows of the stored parts, as plain values."""
    context = response.context
    board = context["brief"].board if "brief" in context else context["board"]
    figures = {
        "district": [(p.key, p.actual, p.year_ago) for p in board.by_district],
        "direction": [(p.key, p.actual, p.year_ago) for p in board.by_direction],
        "material": [(p.key, p.actual, p.year_ago) for p in board.by_material],
        "pipelines": [
            (target.key, [(line.enterprise.pk, line.value, line.gap) for line in lines])
            for target, lines in board.threshold_pipelines
        ],
    }
    if "brief" in context:
        figures["crossings"] = [
            (c.target.key, [f.pk for f in c.entered], [f.pk for f in c.left])
            for c in context["brief"].crossings
        ]
    return figures


def worker_runs_the_outbox(limit: int | None = None) -> int:
    """What a Celery worker does with the jobs the outbox holds (cluster.jobs), here in this
    process: the tests run without one, with or without a broker. Jobs the jobs enqueue run
    too. Returns how many ran."""
    current_app.loader.import_default_modules()
    ran = 0
    while limit is None or ran < limit:
        job = PendingJob.objects.order_by("created_at", "pk").first()
        if job is None:
            break
        job.delete()
        current_app.tasks[job.task](*job.args)
        ran += 1
    return ran


def get(client, url):
    with translation.override("zh-hans"):
        return client.get(url, {"period": "2025Q2"})


@time_machine.travel(TODAY, tick=False)
def test_stored_parts_are_what_the_page_computes(client, city_viewer, population, sip):
    client.force_login(city_viewer)
    urls = pages(sip)
    live = {name: get(client, url) for name, url in urls.items()}
    for response in live.values():
        # Nothing stored yet: every part computed by the page itself.
        board = response.context.get("board") or response.context["brief"].board
        assert board.computed_on_the_fly

    recompute_progress()

    assert StoredThrough.objects.filter(cluster__key="nano").count() == 2  # both bases
    for name, url in urls.items():
        response = get(client, url)
        board = response.context.get("board") or response.context["brief"].board
        assert board.computed_on_the_fly == [], name
        assert shown(response) == shown(live[name]), name
    # The figures themselves, hand-computed (tests/targets/conftest.py population).
    district = {k: a for k, a, _y in shown(get(client, urls["dashboard"]))["district"]}
    assert district[sip.pk] == 26 * YI
    sip_page = shown(get(client, urls["district"]))
    assert [(k, a) for k, a, _y in sip_page["district"]] == [(sip.pk, 26 * YI)]
    crossings = {k: (e, lft) for k, e, lft in shown(get(client, urls["brief"]))["crossings"]}
    assert crossings["firms_output_over_1bn"] == ([population["a"].pk], [])


def revise(report: QuarterlyReport, output: Decimal) -> None:
    report.output_value = report.operating_revenue = output
    report.status = "submitted"
    report.submitted_at = timezone.now()
    report.save()


@time_machine.travel(TODAY, tick=True)
def test_an_approval_stores_just_the_quarters_it_touches(
    client, city_viewer, city_steward, population, sip, django_capture_on_commit_callbacks
):
    recompute_progress()
    before = set(StoredFigures.objects.values_list("pk", "vintage"))
    report = QuarterlyReport.objects.get(enterprise=population["c"], year=2025, quarter=1)
    revise(report, 5 * YI)  # C's 2025Q1: 2 → 5

    # Committed: the outbox sends the recompute (eager here, a worker in production).
    with django_capture_on_commit_callbacks():
        reports_approve(actor=city_steward, report_ids=[report.pk])
    worker_runs_the_outbox()

    vintage = QuarterlyReport.objects.get(pk=report.pk).approved_at
    through = StoredThrough.objects.get(cluster__key="nano", basis=Basis.APPROVED).through
    assert through == vintage
    written = set(
        StoredFigures.objects.filter(cluster__key="nano", basis=Basis.APPROVED, vintage=vintage)
        .values_list("year", "quarter")
        .distinct()
    )
    # 2025Q1 and the later quarters with reports of 2025; nothing of 2024 or before.
    assert written == {(2025, 1), (2025, 2)}
    assert before <= set(StoredFigures.objects.values_list("pk", "vintage"))  # nothing lost

    client.force_login(city_viewer)
    for period, sip_output in (("2025Q1", 15 * YI), ("2025Q2", 29 * YI)):
        with translation.override("zh-hans"):
            response = client.get(reverse("targets:dashboard", args=["nano"]), {"period": period})
        board = response.context["board"]
        assert board.computed_on_the_fly == []
        assert {p.key: p.actual for p in board.by_district}[sip.pk] == sip_output
        assert board.pending_changes == 0
        assert "data-pending" not in response.content.decode()


@time_machine.travel(TODAY, tick=True)
def test_a_pending_recompute_is_said_until_the_job_has_run(
    client, city_viewer, city_steward, population, sip, django_capture_on_commit_callbacks
):
    recompute_progress()
    report = QuarterlyReport.objects.get(enterprise=population["c"], year=2025, quarter=2)
    revise(report, 9 * YI)
    with django_capture_on_commit_callbacks():
        reports_approve(actor=city_steward, report_ids=[report.pk])

    client.force_login(city_viewer)
    urls = pages(sip)
    for name in ("dashboard", "district", "brief"):
        response = get(client, urls[name])
        html = response.content.decode()
        # The figures shown are the version before the approval, consistently (cards and
        # stored parts), and the page says one report is being counted.
        assert 'data-pending="1"' in html, name
        assert "有 1 份报表的数据在所示版本之后有变动，正在计入，稍后刷新即可看到。" in html, name
    board = get(client, urls["dashboard"]).context["board"]
    assert {p.key: p.actual for p in board.by_district}[sip.pk] == 26 * YI

    worker_runs_the_outbox()  # the recompute the approval enqueued

    response = get(client, urls["dashboard"])
    assert "data-pending" not in response.content.decode()
    board = response.context["board"]
    assert board.computed_on_the_fly == []
    assert {p.key: p.actual for p in board.by_district}[sip.pk] == 33 * YI  # A 22 + C 2 + 9


@time_machine.travel(TODAY, tick=True)
def test_an_approval_s_official_figures_are_stored_in_one_commit(
    client, city_viewer, city_steward, population, sip, monkeypatch
):
    """The approval job stores the completeness, then commits the official basis whole
    (snapshots and the pages' parts), then the preview: a page never sees the new
    vintage's snapshots without its parts (it would compute them itself), and a job that
    dies midway leaves the figures before it, said to be pending, or the official ones
    complete."""
    import targets.tasks as tasks

    recompute_progress()
    report = QuarterlyReport.objects.get(enterprise=population["c"], year=2025, quarter=2)
    revise(report, 9 * YI)
    reports_approve(actor=city_steward, report_ids=[report.pk])
    vintage = QuarterlyReport.objects.get(pk=report.pk).approved_at
    client.force_login(city_viewer)

    def dies_at(name, basis=None):
        real = getattr(tasks, name)

        def run(*args, **kwargs):
            if basis in (None, kwargs.get("basis")):
                raise RuntimeError("the worker dies")
            return real(*args, **kwargs)

        monkeypatch.setattr(tasks, name, run)

    # Dying at the last step of the official pass: none of its rows stay.
    dies_at("stored_figures_refresh", Basis.APPROVED)
    with pytest.raises(RuntimeError):
        recompute_for_reports([report.pk])
    assert not ProgressSnapshot.objects.filter(vintage=vintage).exists()
    assert not StoredFigures.objects.filter(vintage=vintage).exists()
    board = sip_output(client, "2025Q2")
    assert board.pending_changes == 1
    assert {p.key: p.actual for p in board.by_district}[sip.pk] == 26 * YI
    monkeypatch.undo()

    # Dying in the preview pass: the official figures are all there, nothing to compute.
    dies_at("stored_figures_refresh", Basis.PREVIEW)
    preview = ProgressSnapshot.objects.filter(basis=Basis.PREVIEW)
    preview_before = set(preview.values_list("pk", "vintage", "actual"))
    with pytest.raises(RuntimeError):
        recompute_for_reports([report.pk])
    response = get(client, pages(sip)["dashboard"])
    board = response.context["board"]
    assert board.as_of.vintage == vintage
    assert board.pending_changes == 0 and board.computed_on_the_fly == []
    assert stored_completeness(Quarter(2025, 2)) is not None
    assert {p.key: p.actual for p in board.by_district}[sip.pk] == 33 * YI
    assert "data-pending" not in response.content.decode()
    assert set(preview.values_list("pk", "vintage", "actual")) == preview_before


def page_queries(client, urls) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        get(client, url)  # caches warm
        with CaptureQueriesContext(connection) as queries:
            response = get(client, url)
        assert response.status_code == 200
        counts[name] = len(queries)
    return counts


@time_machine.travel(TODAY, tick=False)
def test_query_counts_do_not_grow_with_firms(
    client, city_viewer, population, enterprise_factory, approve, sip, kunshan
):
    client.force_login(city_viewer)
    urls = pages(sip)
    recompute_progress()
    small = page_queries(client, urls)
    for n in range(30):
        firm = enterprise_factory(district=sip if n % 2 else kunshan)
        for year in (2024, 2025):
            for quarter in (1, 2, 3, 4) if year == 2024 else (1, 2):
                approve(firm, year, quarter, (n + 1) * YI / 4)
    recompute_progress()
    large = page_queries(client, urls)
    assert large == small
    assert get(client, urls["dashboard"]).context["board"].computed_on_the_fly == []


@time_machine.travel(TODAY, tick=False)
def test_the_official_quarter_and_coverage_read_the_store_and_agree_with_the_count(
    population, django_assert_num_queries
):
    nano = Cluster.objects.get(key="nano")
    today = TODAY.date()
    counted = official_quarters([nano], today)[nano.pk]
    quarters = [Quarter(2025, 1), Quarter(2025, 2), Quarter(2024, 4)]
    counted_coverage = coverage({nano.pk: quarters}, needed=75, moment=TODAY)
    recompute_progress()

    # The reporting policy, the newest approval, the mark, the stored rows.
    with django_assert_num_queries(4):
        stored = official_quarters([nano], today)[nano.pk]
    assert stored == counted
    assert (stored.quarter, stored.expected, stored.approved) == (Quarter(2025, 2), 3, 3)
    with django_assert_num_queries(3):
        assert coverage({nano.pk: quarters}, needed=75, moment=TODAY) == counted_coverage
    # A moment before the newest approval reads the rows known then: 2025Q2 approved on
    # 2025-07-10 (tests/targets/conftest.py), so on 2025-07-01 it has no approved report.
    before = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    assert (
        coverage({nano.pk: [Quarter(2025, 2)]}, needed=75, moment=before)[
            (nano.pk, Quarter(2025, 2))
        ].approved
        == 0
    )


@time_machine.travel(TODAY, tick=True)
def test_a_firm_moving_district_is_stored_again(
    client,
    city_viewer,
    city_steward,
    population,
    sip,
    kunshan,
    api,
    django_capture_on_commit_callbacks,
):
    recompute_progress()
    with django_capture_on_commit_callbacks():
        moved = api(city_steward).patch(
            f"/api/enterprises/{population['c'].pk}/", {"district": kunshan.code}, format="json"
        )
    assert moved.status_code == 200, moved.json()
    worker_runs_the_outbox()

    client.force_login(city_viewer)
    board = get(client, reverse("targets:dashboard", args=["nano"])).context["board"]
    assert board.computed_on_the_fly == []
    by_district = {p.key: p.actual for p in board.by_district}
    assert (by_district[sip.pk], by_district[kunshan.pk]) == (22 * YI, 10 * YI)


# On the real clock, as the fixtures wrote the reports: a change must come after them.
def test_completeness_is_stored_and_counted_again_after_a_change_of_its_quarter(
    client, city_viewer, officer_sip, population, sip, django_assert_num_queries
):
    quarter = Quarter(2025, 2)
    counted = completeness_counts([quarter])
    assert stored_completeness(quarter) is None  # nothing stored yet
    recompute_progress()

    with django_assert_num_queries(1):
        stored = stored_completeness(quarter)
    assert stored == {key: value for key, value in counted.items() if key[1] == quarter}
    # A and C: entered, approved, submitted on 2025-07-10, before the deadline.
    assert stored[(sip.pk, quarter)] == [2, 2, 0, 2, 0, 2]

    # An officer's draft of the next quarter: that quarter is not stored; this one stands,
    # since a report of another quarter moves nothing of it.
    firm = population["a"]
    draft = QuarterlyReport.objects.create(enterprise=firm, year=2025, quarter=3)
    assert stored_completeness(Quarter(2025, 3)) is None
    draft.output_value = 1
    draft.save()
    assert stored_completeness(quarter) == stored
    # A change of one of its own reports: counted again, by the page itself.
    QuarterlyReport.objects.get(enterprise=firm, year=2025, quarter=2).save()
    assert stored_completeness(quarter) is None
    client.force_login(officer_sip)
    board = get(client, reverse("targets:district", args=["nano", sip.pk])).context["board"]
    assert [(c.district.pk, c.expected, c.approved) for c in board.completeness] == [(sip.pk, 2, 2)]


def test_an_approval_counts_again_only_the_districts_whose_reports_changed(
    population, sip, kunshan, enterprise_factory
):
    """The approval job's completeness: the districts of the reports changed (or drafts
    deleted) since the stored count — with a margin for a change stamped before it and
    committed after — and of the job's own reports, merged into it; the same counts as a
    full count. A firm changed or deleted since: everything counted again."""
    quarter = Quarter(2025, 3)
    a, b, c = population["a"], population["b"], population["c"]
    start = timezone.now() + dt.timedelta(days=1)

    def at(minutes: int):
        return time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False)

    def store(**kwargs):
        completeness_store([quarter], today=dt.date(2025, 11, 1), changed_only=True, **kwargs)
        return stored_completeness(quarter)

    with at(0):
        QuarterlyReport.objects.create(enterprise=b, year=2025, quarter=3, output_value=3 * YI)
    with at(60):
        x = QuarterlyReport.objects.create(enterprise=c, year=2025, quarter=3)
        completeness_store([quarter], today=dt.date(2025, 11, 1))
    full = completeness_counts([quarter])
    assert stored_completeness(quarter) == full
    assert full[(kunshan.pk, quarter)][:2] == [1, 1]  # B expected, entered
    assert full[(sip.pk, quarter)][:2] == [2, 0]

    # Kunshan's stored counts made wrong by hand: a partial count leaves them as they are,
    # which shows it counted SIP alone (Kunshan's report is older than the margin).
    row = StoredCompleteness.objects.get(year=2025, quarter=3)
    row.payload[str(kunshan.pk)] = [9, 9, 9, 9, 9, 9]
    row.save(update_fields=["payload"])
    with at(120):
        draft = QuarterlyReport.objects.create(enterprise=a, year=2025, quarter=3, output_value=YI)
        stored = store()
    assert stored[(sip.pk, quarter)] == completeness_counts([quarter])[(sip.pk, quarter)]
    assert stored[(sip.pk, quarter)][:2] == [2, 1]
    assert stored[(kunshan.pk, quarter)] == [9, 9, 9, 9, 9, 9]

    # A change stamped a little before the stored count, committed after it: in the margin.
    x.output_value = YI
    x.save()
    QuarterlyReport.objects.filter(pk=x.pk).update(updated_at=start + dt.timedelta(minutes=115))
    with at(130):
        assert store()[(sip.pk, quarter)][:2] == [2, 2]
    # The job's own report, stamped long before: counted because it is the job's. (A report
    # of another quarter is the newest change: the stored stamp moves past the margin.)
    with at(135):
        QuarterlyReport.objects.get(enterprise=b, year=2025, quarter=2).save()
        store()
    x.output_value = None
    x.save()
    QuarterlyReport.objects.filter(pk=x.pk).update(updated_at=start)
    with at(150):
        assert store()[(sip.pk, quarter)][:2] == [2, 2]
        assert store(report_ids=[x.pk])[(sip.pk, quarter)][:2] == [2, 1]

    # A draft deleted since: its district counted again.
    with at(160):
        draft.delete()
        assert stored_completeness(quarter) is not None  # the pages' check cannot see it
        assert store()[(sip.pk, quarter)][:2] == [2, 0]
        assert store()[(kunshan.pk, quarter)] == [9, 9, 9, 9, 9, 9]

    # A firm deleted since (not the newest change of the firms): every district counted.
    with at(170):
        gone = enterprise_factory(name_zh="戊纳米公司", district=kunshan)
    with at(180):
        a.save()
        completeness_store([quarter], today=dt.date(2025, 11, 1))
    row = StoredCompleteness.objects.get(year=2025, quarter=3)
    row.payload[str(kunshan.pk)] = [9, 9, 9, 9, 9, 9]
    row.save(update_fields=["payload"])
    with at(190):
        gone.delete()
        assert store() == completeness_counts([quarter])
        assert store()[(kunshan.pk, quarter)][:2] == [1, 1]

    # A firm changed since the count: every district counted again.
    with at(260):
        row = StoredCompleteness.objects.get(year=2025, quarter=3)
        row.payload[str(kunshan.pk)] = [9, 9, 9, 9, 9, 9]
        row.save(update_fields=["payload"])
        enterprise_factory(name_zh="丁纳米公司", district=sip)
        assert store() == completeness_counts([quarter])
        assert store()[(kunshan.pk, quarter)][:2] == [1, 1]


def test_the_seasonality_is_read_from_the_store_while_it_is_that_of_the_figures(
    population, approve, sip, kunshan
):
    """Seasonality's rows (the years before the one evaluated, per district and quarter): a
    job stores them; a page or job reads them back while no approval of those years came
    between the two vintages or committed late before the stored one, and no firm changed;
    a register change that moves firms forgets them."""
    a, c = population["a"], population["c"]

    def read() -> tuple[dict, bool]:
        with CaptureQueriesContext(connection) as queries:
            rows = seasonal_rows(Figures.latest(), 2025)
        grouped = any("GROUP BY" in q["sql"] for q in queries.captured_queries)
        return {
            (r["enterprise__district"], r["year"], r["quarter"]): r["total_output_value"]
            for r in rows
        }, grouped

    stored = StoredSeasonality.objects.get(basis=Basis.APPROVED, year=2025)
    assert stored.vintage == Figures.latest().vintage  # the fixture's recompute stored them
    rows, grouped = read()
    assert (rows[(sip.pk, 2024, 1)], rows[(kunshan.pk, 2024, 1)], grouped) == (
        12 * YI,
        3 * YI,
        False,
    )

    # A revision of 2024 approved after the stored vintage: read from the figures, and a
    # page's read stores nothing.
    report = approve(a, 2024, 1, 20 * YI, at=timezone.make_aware(dt.datetime(2025, 8, 1)))
    rows, grouped = read()
    assert (rows[(sip.pk, 2024, 1)], grouped) == (22 * YI, True)
    assert StoredSeasonality.objects.get(year=2025).vintage == stored.vintage
    recompute_for_reports.run([report.pk])
    assert StoredSeasonality.objects.get(year=2025).vintage == Figures.latest().vintage
    assert read() == ({**rows}, False)

    # One stamped before the stored vintage and committed after it: counted among those
    # approved by the stored vintage, so read from the figures, and its job stores them.
    stamped = StoredSeasonality.objects.get(year=2025).vintage - dt.timedelta(minutes=1)
    late = approve(a, 2024, 2, 30 * YI, at=stamped)
    rows, grouped = read()
    assert (rows[(sip.pk, 2024, 2)], grouped) == (32 * YI, True)
    recompute_for_reports.run([late.pk])
    assert read() == (rows, False)

    # A firm moved: read from the figures again.
    c.district = kunshan
    c.save()
    rows, grouped = read()
    assert (rows[(sip.pk, 2024, 3)], rows[(kunshan.pk, 2024, 3)], grouped) == (
        10 * YI,
        5 * YI,
        True,
    )
    recompute_for_reports.run([late.pk])
    assert read() == (rows, False)
    # Moved back by a write that leaves the firms' stamp as it was (an import committed
    # after a job read the firms): its counting change's job drops the stored rows.
    Enterprise.objects.filter(pk=c.pk).update(district=sip)
    counting_changed(Enterprise.objects.get(pk=c.pk))
    counting_changes_drain(today=dt.date(2025, 11, 1))
    rows, grouped = read()
    assert (rows[(sip.pk, 2024, 3)], rows[(kunshan.pk, 2024, 3)]) == (12 * YI, 3 * YI)


def test_a_report_sent_back_leaves_the_stored_preview(
    client, city_viewer, city_steward, population, kunshan, django_capture_on_commit_callbacks
):
    recompute_progress()
    report = QuarterlyReport.objects.get(enterprise=population["b"], year=2025, quarter=2)
    revise(report, 9 * YI)  # B's 2025Q2 submitted again: 3 → 9, in preview only
    recompute_for_reports([report.pk])
    client.force_login(city_viewer)
    url = reverse("targets:dashboard", args=["nano"])

    def kunshan_in_preview():
        with translation.override("zh-hans"):
            board = client.get(url, {"period": "2025Q2", "basis": "preview"}).context["board"]
        assert board.computed_on_the_fly == []
        return {p.key: p.actual for p in board.by_district}[kunshan.pk]

    assert kunshan_in_preview() == 12 * YI  # 3 + 9
    with django_capture_on_commit_callbacks():
        reports_return(actor=city_steward, report_ids=[report.pk], reason="单位错误")
    worker_runs_the_outbox()
    # Sent back: out of the preview, which no newer vintage announces.
    assert kunshan_in_preview() == 3 * YI


def test_the_version_pickers_counts_are_the_recorded_differences(population, approve):
    nano = Cluster.objects.get(key="nano")
    plan = nano.plans.get()
    quarter = Quarter(2025, 2)
    recompute_progress()  # records the approvals known at the newest vintage (42)
    approve(population["a"], 2025, 2, 13 * YI, at=timezone.now())
    approve(population["b"], 2025, 2, 4 * YI, at=timezone.now())
    recompute_progress()
    assert sorted(ApprovalCount.objects.values_list("approvals", flat=True)) == [42, 44]
    recorded = data_versions(plan, quarter)
    # Today's version: the two approvals since 2025-07-10's; that one: all 42 by then.
    assert [v.approvals for v in recorded] == [2, 42]
    ApprovalCount.objects.all().delete()
    assert data_versions(plan, quarter) == recorded  # counted, the same


def test_the_nightly_recompute_records_the_counts_a_vintage_lacks(population, approve):
    recompute_progress()
    approve(population["a"], 2025, 2, 13 * YI, at=timezone.now())
    recompute_progress()
    ApprovalCount.objects.all().delete()  # as an earlier version of the job left them
    recompute_progress()
    assert sorted(ApprovalCount.objects.values_list("approvals", flat=True)) == [42, 43]


@time_machine.travel(TODAY, tick=True)
def test_approving_a_report_approved_before_keeps_the_counts_recorded_since(
    population, city_steward, django_capture_on_commit_callbacks
):
    plan = Cluster.objects.get(key="nano").plans.get()
    recompute_progress()  # records the 42 approvals known at the newest vintage
    recorded = dict(ApprovalCount.objects.values_list("vintage", "approvals"))
    assert list(recorded.values()) == [42]
    report = QuarterlyReport.objects.get(enterprise=population["b"], year=2025, quarter=2)
    revise(report, 9 * YI)  # first approved on 2025-07-10, now submitted again
    with django_capture_on_commit_callbacks():
        reports_approve(actor=city_steward, report_ids=[report.pk])
    worker_runs_the_outbox()
    counts = dict(ApprovalCount.objects.values_list("vintage", "approvals"))
    # The count recorded before this approval stands (it had been dropped: the job took
    # the report's first approval for a late-committed one), the new vintage's adds it.
    assert {vintage: counts[vintage] for vintage in recorded} == recorded
    assert sorted(counts.values()) == [42, 43]
    # So the version picker reads the two recorded counts, without counting revisions.
    with CaptureQueriesContext(connection) as queries:
        versions = data_versions(plan, Quarter(2025, 2))
    assert [v.approvals for v in versions] == [1, 42]
    assert len(queries) == 2


def test_an_approval_committed_late_recounts_the_counts_recorded_after_its_moment(
    population, approve
):
    recompute_progress()
    first = ApprovalCount.objects.get()
    stamped = first.vintage + dt.timedelta(minutes=1)
    # Another approval's job records the count at its vintage, two minutes later...
    later = first.vintage + dt.timedelta(minutes=2)
    approvals_count(later)
    assert ApprovalCount.objects.get(vintage=later).approvals == 42
    # ...while an approval stamped before it commits only now: counted again from its moment.
    approve(population["c"], 2025, 2, 3 * YI, at=stamped)
    newest = first.vintage + dt.timedelta(minutes=3)
    approvals_count(newest, recount_from=stamped)
    assert dict(ApprovalCount.objects.values_list("vintage", "approvals")) == {
        first.vintage: 42,
        later: 43,
        newest: 43,
    }


def firm_table(client, url, *, counted=False, **params) -> list:
    """The lines of a page's firm table (and, `counted`, the number of firms it says)."""
    with translation.override("zh-hans"):
        response = client.get(url, {"period": "2025Q2", **params})
    page = response.context["firms"]
    lines = [(f.pk, f.ytd, f.ytd_last, round(f.growth or 0, 6), f.material) for f in page]
    return (lines, page.paginator.count) if counted else lines


@time_machine.travel(TODAY, tick=True)
def test_the_firm_table_reads_the_stored_lines_as_it_would_count_them(
    client,
    city_viewer,
    sip_viewer,
    city_steward,
    population,
    sip,
    django_capture_on_commit_callbacks,
):
    urls = pages(sip)
    views = [
        (user, name, params)
        for user, names in ((city_viewer, ("district", "direction")), (sip_viewer, ("district",)))
        for name in names
        for params in ({}, {"order": "name"}, {"order": "growth"}, {"q": "甲"})
    ]

    def table(user, name, params):
        client.force_login(user)
        return firm_table(client, urls[name], counted=True, **params)

    live = {(u.pk, n, str(p)): table(u, n, p) for u, n, p in views}
    recompute_progress()
    assert StoredFirmRow.objects.filter(cluster__key="nano", year=2025, quarter=2).count() == 6
    for user, name, params in views:
        with CaptureQueriesContext(connection) as queries:
            stored = table(user, name, params)
        assert any("storedfirmrow" in q["sql"] for q in queries.captured_queries)
        # The lines and their number (counted on the stored lines' index) as computed.
        assert stored == live[(user.pk, name, str(params))], (user, name, params)
    assert live[(city_viewer.pk, "district", "{}")][1] == 2
    assert [line[:2] for line in live[(city_viewer.pk, "district", "{}")][0]] == [
        (population["a"].pk, 22 * YI),
        (population["c"].pk, 4 * YI),
    ]
    client.force_login(city_viewer)

    report = QuarterlyReport.objects.get(enterprise=population["c"], year=2025, quarter=2)
    revise(report, 30 * YI)
    with django_capture_on_commit_callbacks():
        reports_approve(actor=city_steward, report_ids=[report.pk])
    worker_runs_the_outbox()
    # C is the largest now; only C's lines were stored again.
    assert [line[:2] for line in firm_table(client, urls["district"])] == [
        (population["c"].pk, 32 * YI),
        (population["a"].pk, 22 * YI),
    ]


@time_machine.travel(TODAY, tick=True)
def test_storing_again_writes_only_the_firm_lines_that_changed(population, city_steward):
    """The nightly store of 35,000 unchanged lines rewrote them all (a second a quarter at
    national scale): a line is written where it is new or differs, and dropped where its
    firm is no longer counted."""
    recompute_progress()

    def lines() -> dict:
        return {
            (r.year, r.quarter, r.basis, r.enterprise_id): (r.pk, r.ytd)
            for r in StoredFirmRow.objects.filter(cluster__key="nano")
        }

    first = lines()
    a, b, c = population["a"], population["b"], population["c"]
    assert first[(2025, 2, Basis.APPROVED, c.pk)][1] == 4 * YI
    recompute_progress()
    assert lines() == first  # the same rows: none deleted and written again

    report = QuarterlyReport.objects.get(enterprise=c, year=2025, quarter=2)
    revise(report, 5 * YI)
    reports_approve(actor=city_steward, report_ids=[report.pk])
    ClusterMembership.objects.filter(enterprise=b).update(left_on=dt.date(2025, 4, 30))
    recompute_progress()
    after = lines()
    assert {key for key in first.keys() | after.keys() if first.get(key) != after.get(key)} == {
        (2025, 2, basis, firm) for basis in (Basis.APPROVED, Basis.PREVIEW) for firm in (b.pk, c.pk)
    }
    for basis in (Basis.APPROVED, Basis.PREVIEW):
        key = (2025, 2, basis, c.pk)
        assert after[key] == (first[key][0], 7 * YI)  # C's line, updated where it was
        assert (2025, 2, basis, b.pk) not in after  # B left the cluster in April
        assert (2025, 1, basis, b.pk) in after and (2025, 2, basis, a.pk) in after


# --- defects an independent review found (each failed before its fix) ---------------------


def sip_output(client, period, basis=None) -> Decimal:
    params = {"period": period, **({"basis": basis} if basis else {})}
    with translation.override("zh-hans"):
        board = client.get(reverse("targets:dashboard", args=["nano"]), params).context["board"]
    return board


def test_an_approval_committed_after_a_later_ones_job_is_stored(
    client, city_viewer, population, approve, sip
):
    recompute_progress()
    later = approve(population["a"], 2025, 2, 14 * YI, at=timezone.now())
    recompute_for_reports([later.pk])
    # Stamped before the later approval, committed after its job moved the mark.
    earlier = approve(population["c"], 2025, 1, 5 * YI, at=later.approved_at - dt.timedelta(1))
    recompute_for_reports([earlier.pk])
    client.force_login(city_viewer)
    board = sip_output(client, "2025Q1")
    assert {p.key: p.actual for p in board.by_district}[sip.pk] == 15 * YI  # A 10 + C 5
    assert board.computed_on_the_fly == []


def test_a_quarters_first_stored_firm_table_holds_every_firm(
    client, city_viewer, population, approve, sip
):
    recompute_progress()
    report = approve(population["a"], 2025, 3, 10 * YI, at=timezone.now())
    recompute_for_reports([report.pk])
    assert StoredFirmRow.objects.filter(year=2025, quarter=3, basis=Basis.APPROVED).count() == 3
    client.force_login(city_viewer)
    assert [line[0] for line in firm_table(client, pages(sip)["district"], period="2025Q3")] == [
        population["a"].pk,
        population["c"].pk,
    ]


def test_a_move_reaches_an_older_quarters_page_and_no_other_districts_officer(
    client,
    officer_sip,
    city_steward,
    population,
    approve,
    sip,
    kunshan,
    api,
    django_capture_on_commit_callbacks,
):
    recompute_progress()
    # A later approval of 2025Q2 only: 2025Q1's newest version stays the older one.
    report = approve(population["a"], 2025, 2, 12 * YI, at=timezone.now())
    recompute_for_reports([report.pk])
    with django_capture_on_commit_callbacks():
        moved = api(city_steward).patch(
            f"/api/enterprises/{population['c'].pk}/", {"district": kunshan.code}, format="json"
        )
    assert moved.status_code == 200
    worker_runs_the_outbox()
    client.force_login(officer_sip)
    with translation.override("zh-hans"):
        board = client.get(
            reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q1"}
        ).context["board"]
    assert {p.key: p.actual for p in board.by_district} == {sip.pk: 10 * YI}  # A only
    shown = {population["c"].pk} & {
        line.enterprise.pk for _t, lines in board.threshold_pipelines for line in lines
    }
    assert shown == set()  # C is Kunshan's now


def test_a_changed_counting_rule_is_computed_until_stored_again(client, city_viewer, population):
    recompute_progress()
    target = Target.objects.get(key="firms_output_over_1bn")
    Metric.objects.filter(pk=target.metric_id).update(threshold=3 * YI)
    Target.objects.filter(pk=target.pk).update(rule_version=target.rule_version + 1)
    client.force_login(city_viewer)
    board = sip_output(client, "2025Q2")
    assert f"pipeline:{target.pk}:{target.rule_version + 1}" in board.computed_on_the_fly
    pipeline = dict(board.threshold_pipelines)
    assert [line.enterprise.pk for line in pipeline[Target.objects.get(pk=target.pk)]] == []


def test_a_report_sent_back_is_pending_in_preview_until_counted(
    client, city_viewer, city_steward, population, django_capture_on_commit_callbacks
):
    recompute_progress()
    report = QuarterlyReport.objects.get(enterprise=population["b"], year=2025, quarter=2)
    revise(report, 9 * YI)
    recompute_for_reports([report.pk])
    with django_capture_on_commit_callbacks(execute=False):
        reports_return(actor=city_steward, report_ids=[report.pk], reason="单位错误")
    client.force_login(city_viewer)
    assert sip_output(client, "2025Q2", basis="preview").pending_changes == 1


def test_a_burst_of_register_changes_is_drained_once(
    population, kunshan, django_capture_on_commit_callbacks
):
    recompute_progress()
    worker_runs_the_outbox()  # the alerts the recompute enqueued: the outbox is empty
    with django_capture_on_commit_callbacks():
        for firm in (population["a"], population["c"]):
            firm.district = kunshan
            firm.save()
            counting_changed(firm)
    assert CountingChange.objects.count() == 2
    assert PendingJob.objects.filter(task="targets.store_figures_again").count() == 2
    worker_runs_the_outbox(limit=1)  # the first job drains both
    assert CountingChange.objects.count() == 0
    assert counting_changes_drain(today=timezone.localdate()) == 0  # the second: nothing
    sip_lines = StoredFirmRow.objects.filter(year=2025, quarter=2, basis=Basis.APPROVED)
    assert set(sip_lines.values_list("enterprise_id", "district_id")) == {
        (population["a"].pk, kunshan.pk),
        (population["b"].pk, kunshan.pk),
        (population["c"].pk, kunshan.pk),
    }
