"""An administrator on a 390×844 phone: the summary strip is on the first screen, the header
keeps to a fifth of it, nothing widens the page, and no chart's legend covers its plot or its
axes (the legend's and the axes' boxes as ECharts laid them out)."""

import pytest
from django.urls import reverse

from targets.models import Target

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

PHONE = {"width": 390, "height": 844}

# The boxes ECharts laid out, in the chart's pixels: the legend (its group, moved where the
# layout put it), the plot area (the grid's rectangle) and each axis with its labels and name.
CHART_BOXES = """
(el) => {
  const chart = echarts.getInstanceByDom(el);
  const model = chart.getModel();
  const box = (view) => {
    const rect = view.group.getBoundingRect().clone();
    rect.applyTransform(view.group.getLocalTransform());
    return {x: rect.x, y: rect.y, width: rect.width, height: rect.height};
  };
  const legend = model.getComponent("legend");
  const grid = model.getComponent("grid").coordinateSystem.getRect();
  const axes = [];
  for (const kind of ["xAxis", "yAxis"]) {
    model.eachComponent(kind, (axis) => axes.push(box(chart.getViewOfComponentModel(axis))));
  }
  return {
    width: chart.getWidth(),
    legend: box(chart.getViewOfComponentModel(legend)),
    plot: {x: grid.x, y: grid.y, width: grid.width, height: grid.height},
    axes: axes,
  };
}
"""


def overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_charts_keep_legends_clear(page):
    charts = page.locator("[data-chart][data-drawn=true]")
    assert charts.count() >= 1
    for i in range(charts.count()):
        boxes = charts.nth(i).evaluate(CHART_BOXES)
        legend = boxes["legend"]
        name = charts.nth(i).get_attribute("data-chart")
        assert legend["height"] > 0, name
        assert not overlap(legend, boxes["plot"]), (name, boxes)
        for axis in boxes["axes"]:
            assert not overlap(legend, axis), (name, boxes)
        # One row above the plot (a scrolling legend clips the rest), not a block wrapped over it.
        assert legend["height"] <= 30 and legend["y"] + legend["height"] <= boxes["plot"]["y"]


def assert_phone_first_screen(page, header_selector):
    viewport = page.viewport_size
    header = page.locator(header_selector).first.bounding_box()
    assert header["y"] + header["height"] <= 0.2 * viewport["height"], header
    strip = page.locator("[data-summary]")
    assert strip.bounding_box()["y"] < viewport["height"]
    tiles = strip.locator("[data-tile]")
    assert tiles.count() >= 2
    for tile in (tiles.nth(0), tiles.nth(1)):
        box = tile.bounding_box()
        assert box["y"] + box["height"] <= viewport["height"], box
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    # Nothing widens the page: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def tile_status(page, key) -> str:
    return page.locator(f'[data-tile="{key}"] [data-field="status"]').inner_text().strip()


def test_administrator_reads_the_summary_and_the_charts_on_a_phone(
    live_server, login, screenshot, city_viewer, population, sip
):
    # The administrator's start page is the dashboard (the only cluster's, here).
    page = login("city_viewer")
    page.locator('[data-chart="trend-chart"][data-drawn="true"]').wait_for()
    page.locator("[data-chart][data-drawn=true]").nth(2).wait_for()
    assert_charts_keep_legends_clear(page)
    screenshot(page, "dashboard-desktop")

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(400)  # the charts redraw on resize, with their narrow options
    assert_phone_first_screen(page, "header.top")
    # Each tile: the value, the share of the target and the status as a word, not colour alone.
    tile = page.locator('[data-tile="total_output"]')
    assert tile.locator('[data-field="value"]').inner_text() == "32.00 亿元"
    assert tile.locator('[data-field="share"]').inner_text() == "完成目标的 3.2%"
    assert tile_status(page, "total_output") == "✕ 偏离目标"
    assert tile.get_attribute("href") == "#card-total_output"
    assert_charts_keep_legends_clear(page)
    screenshot(page, "dashboard-phone")

    # From the strip to the card further down.
    tile.click()
    page.wait_for_url("**#card-total_output")
    heading = page.locator("#card-total_output").bounding_box()
    assert -1 <= heading["y"] < PHONE["height"]  # scrolled to its top (sub-pixel)

    # The district page: its own strip, its charts, no page-wide table.
    page.goto(f"{live_server.url}/clusters/nano/districts/{sip.pk}/")
    page.locator("[data-chart][data-drawn=true]").first.wait_for()
    assert_phone_first_screen(page, "header.top")
    assert page.locator('[data-tile="total_output"] [data-field="value"]').inner_text() == (
        "26.00 亿元"  # A 10 + 12 and C 2 + 2, year to date
    )
    assert tile_status(page, "total_output")
    assert_charts_keep_legends_clear(page)
    screenshot(page, "district-phone")

    # The brief: its tool bar is its header; the tiles lead to the table of the targets.
    page.goto(f"{live_server.url}/clusters/nano/brief/2025Q2/")
    assert_phone_first_screen(page, "nav.toolbar")
    assert tile_status(page, "total_output") == "✕ 偏离目标"
    assert page.locator('[data-tile="total_output"]').get_attribute("href") == "#targets-title"
    screenshot(page, "brief-phone")


# A squashed column is narrower than its text's first few characters: Chinese then stands one
# character a line. Every cell with a few characters of text keeps at least three of them.
SQUASHED_CELLS = """
() => Array.from(document.querySelectorAll("table th, table td")).filter((cell) => {
  const text = cell.innerText.trim();
  if (text.length < 3 || cell.offsetParent === null) return false;
  const size = parseFloat(getComputedStyle(cell).fontSize);
  return cell.clientWidth < 3 * size;
}).map((cell) => cell.innerText.trim().slice(0, 20))
"""


def test_every_table_scrolls_sideways_on_a_phone_instead_of_squashing(
    live_server, login, city_steward, population, sip
):
    page = login("city_steward")
    page.set_viewport_size(PHONE)
    direction = population["a"].memberships.get().sector.parent_id
    output = Target.objects.get(key="total_output")
    for path in (
        reverse("targets:dashboard", args=["nano"]),
        reverse("targets:district", args=["nano", sip.pk]),
        reverse("targets:sector", args=["nano", direction]),
        reverse("targets:firms", args=["nano", output.pk]),
        reverse("targets:brief", args=["nano", "2025Q2"]),
        reverse("targets:alerts"),
        reverse("reports:completeness"),
        reverse("reports:worksheet", args=[sip.pk, "2025Q2"]),
    ):
        page.goto(f"{live_server.url}{path}")
        # Open every folded table too (the figures of a chart, by material).
        page.evaluate("document.querySelectorAll('details').forEach((d) => d.open = true)")
        assert page.evaluate(SQUASHED_CELLS) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
