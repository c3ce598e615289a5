"""The ECharts options of the dashboard pages: the legend in one scrolling row above the plot,
a plot area that holds its axis labels and names below that row, and narrower settings that
take over on a phone."""

import pytest
from django.urls import reverse

from targets.charts import LEGEND_ROW, NARROW

pytestmark = pytest.mark.django_db


def charts_of(client, url) -> dict[str, dict]:
    context = client.get(url).context
    return {
        name: context[name]
        for name in ("trend_chart", "district_chart", "direction_chart", "output_chart")
        if name in context
    }


@pytest.fixture
def charts(client, city_steward, population):
    client.force_login(city_steward)
    found = charts_of(client, reverse("targets:dashboard", args=["nano"]))
    found |= charts_of(client, reverse("targets:enterprise", args=[population["a"].pk]))
    assert set(found) == {"trend_chart", "district_chart", "direction_chart", "output_chart"}
    return found


def test_every_legend_is_one_scrolling_row_above_a_plot_that_holds_its_labels(charts):
    for name, option in charts.items():
        base = option["baseOption"]
        assert base["legend"] == {"type": "scroll", "top": 0, "left": "center"}, name
        grid = base["grid"]
        # The grid is the bound of the axes' labels and names (ECharts 6's containLabel)…
        assert (grid["outerBoundsMode"], grid["outerBoundsContain"]) == ("same", "all"), name
        # …and it starts below the legend's row.
        assert grid["top"] >= LEGEND_ROW + 8, name
        assert base["series"], name


def test_axis_names_sit_clear_of_the_tick_labels(charts):
    trend = charts["trend_chart"]["baseOption"]
    assert trend["yAxis"]["name"] == "亿元"
    assert trend["yAxis"]["nameTextStyle"] == {"align": "left"}
    district = charts["district_chart"]["baseOption"]
    assert (district["xAxis"]["name"], district["xAxis"]["nameLocation"]) == ("亿元", "middle")
    assert district["xAxis"]["nameGap"] >= 24  # below the tick labels, not on them
    assert district["yAxis"]["axisLabel"] == {"width": 140, "overflow": "break"}
    firm = charts["output_chart"]["baseOption"]
    assert [axis["nameTextStyle"]["align"] for axis in firm["yAxis"]] == ["left", "right"]


def test_narrow_charts_take_smaller_legends_and_labels(charts):
    for name, option in charts.items():
        (media,) = option["media"]
        assert media["query"] == {"maxWidth": NARROW}, name
        assert media["option"]["legend"]["textStyle"] == {"fontSize": 11}, name
    assert charts["trend_chart"]["media"][0]["option"]["xAxis"]["axisLabel"]["rotate"] == 45
    assert charts["district_chart"]["media"][0]["option"]["yAxis"]["axisLabel"]["width"] == 80
