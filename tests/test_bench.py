"""`make bench` at its tiny scale (CI): every scenario runs end to end on this test database
and writes its report. Figures are recorded, never asserted against a time: a change that
breaks the benchmark (a page that answers other than 200, an import the checks refuse, a
worker that never updates the pages) fails here instead of on the next release."""

import json
import numbers
import subprocess
import sys

import pytest

from tests.services import ROOT, require_services, service_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

BOARD_PAGES = {"city_dashboard", "district_page", "quarterly_brief"}
PAGES = BOARD_PAGES | {
    "enterprise_profile",
    "worksheet_largest_district",
    "api_enterprises_100",
    "api_reports_100",
    "api_enterprises_100_deep",
    "api_reports_100_deep",
}


def positive(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0


def test_the_tiny_benchmark_runs_every_scenario_and_reports_its_figures(tmp_path):
    require_services()
    from django.conf import settings

    log = tmp_path / "bench.log"
    with log.open("w") as output:  # a file, not a pipe: a stray worker cannot hold it open
        run = subprocess.run(
            [sys.executable, "bench/run.py", "--scale", "tiny", "--out", str(tmp_path)],
            cwd=ROOT,
            env=service_env(settings.CELERY_BROKER_URL),
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    assert run.returncode == 0, log.read_text()[-5000:]
    [report_file] = tmp_path.glob("*-tiny.json")
    report = json.loads(report_file.read_text())

    assert report["scale"] == "tiny"
    assert report["data"]["firms"] >= 300  # and the photonics plan's own firms
    for name in PAGES:
        page = report["pages"][name]
        assert positive(page["p50_ms"]) and positive(page["p95_ms"]), (name, page)
        assert positive(page["queries"]), (name, page)
        assert page["requests"] == 3
    assert report["pages"]["city_dashboard"]["url"].startswith("/clusters/")
    for name in ("api_enterprises_100_deep", "api_reports_100_deep"):
        assert "cursor=" in report["pages"][name]["url"], name  # a page past the first

    embedded = report["embedded"]
    assert embedded["database"].startswith("SQLite")
    assert embedded["data"]["firms"] == report["data"]["firms"]
    for name in BOARD_PAGES:
        assert positive(embedded["pages"][name]["p95_ms"]), name
        # The same pages; the demo's brief is of its own latest quarter (make run seeds up to
        # the latest that has ended).
        assert (
            embedded["pages"][name]["url"].split("/")[:4]
            == (report["pages"][name]["url"].split("/")[:4])
        )

    imported = report["import"]
    assert imported["rows"] == 600
    for path in ("ours", "plain_resource", "copy"):
        assert positive(imported[path]["rows_per_s"]), path
    assert report["recompute"]["same_figures_as_the_sql"] is True
    assert positive(report["recompute"]["ours_latest_quarter"]["median_s"])
    assert positive(report["recompute"]["hand_written_sql"]["median_s"])
    for path in ("ours_whole_plan", "store_every_quarter", "nightly_one_basis"):
        assert positive(report["recompute"][path]["median_s"]), path
    projected = report["recompute"]["hand_written_sql_with_projection"]["median_s"]
    assert positive(projected)

    approval = report["approval"]
    assert set(approval["page_updated_s"]) == BOARD_PAGES
    assert positive(approval["approve_request_s"])
    assert approval["all_pages_updated_s"] == max(approval["page_updated_s"].values())
    for name in BOARD_PAGES:
        assert approval["output_figure_after"][name] != approval["output_figure_before"][name]
    # Watched by the database probe: the pages showed the figures once they were stored.
    assert approval["watched_by"] == "database probe, then the pages"
    assert 0 < approval["stored_s"] <= approval["all_pages_updated_s"]
    # Beside it, the same watched by loading the pages non-stop, as many runs.
    non_stop = approval["pages_loaded_non_stop"]
    assert non_stop["watched_by"] == "the pages non-stop" and non_stop["stored_s"] is None
    assert len(non_stop["runs"]) == len(approval["runs"])
    assert set(non_stop["page_updated_s"]) == BOARD_PAGES

    vintage = report["vintage"]
    assert vintage["revised_reports"] > 0
    assert set(vintage["reads"]) == {
        f"{read}_{moment}"
        for read in ("year_to_date_by_district", "every_quarter")
        for moment in ("newest", "before_corrections")
    }
    for name, read in vintage["reads"].items():
        # The interval reads the figures the anti-join read, before and after corrections.
        assert read["same_rows"] is True, name
        assert positive(read["interval_over_anti_join"]), name

    # Three pages beside the demo, each vintage read, and five more: the import beside the
    # plain resource and COPY, the recompute beside the SQL with and without the projection's
    # read, the approval beside its request.
    assert len(report["side_by_side"]) == 3 + len(vintage["reads"]) + 5
    for row in report["side_by_side"]:
        assert positive(row["ours"]) and positive(row["beside"]) and positive(row["ratio"]), row
    assert {row["met"] for row in report["goals"]} <= {True, False, None}

    markdown = report_file.with_suffix(".md").read_text()
    assert "Side by side, measured in this run" in markdown
    assert "one approval → dashboard, district page and brief updated" in markdown
    assert "SQLite demo (" in markdown and "city dashboard" in markdown
