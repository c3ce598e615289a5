"""The brief's printed charts: every chart has a value axis with its unit, and no label is
cut at the picture's edge, in either language."""

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from cluster.quarters import Quarter
from targets.charts import _text_width, bars_svg, trend_svg

YI = Decimal(100_000_000)
DISTRICTS = [
    ("苏州高新区·虎丘区", "Suzhou New & Hi-tech Zone / Huqiu District", 120 * YI),
    ("苏州工业园区", "Suzhou Industrial Park", 260 * YI),
    ("昆山市", "Kunshan", 40 * YI),
]


def labels(svg: str) -> list[list[tuple[float, str]]]:
    """Each label of a bar chart as its lines: (x of the line's right end, text)."""
    return [
        [(float(x), text) for x, text in re.findall(r'<tspan x="([\d.]+)" y="[\d.]+">(.*?)<', t)]
        for t in re.findall(r'<text text-anchor="end"[^>]*>(.*?)</text>', svg)
    ]


@pytest.mark.parametrize(("language", "name", "unit"), [("zh-hans", 0, "亿元"), ("en", 1, "¥ bn")])
def test_district_bars_show_every_name_whole_and_a_value_axis(language, name, unit):
    with translation.override(language):
        svg = str(bars_svg([(d[name], d[2]) for d in DISTRICTS]))
    shown = labels(svg)
    assert [" ".join(text for _x, text in lines).replace("&amp;", "&") for lines in shown] == [
        d[name] for d in DISTRICTS
    ]
    # Right-aligned at x: each line starts inside the picture.
    assert all(
        x - _text_width(text.replace("&amp;", "&")) >= 0 for lines in shown for x, text in lines
    )
    assert 'class="axis"' in svg
    assert re.findall(r'class="tick"[^>]*>([^<]*)<', svg)[:2] == [
        "0",
        "100" if language == "zh-hans" else "10",
    ]
    assert re.search(r'class="unit"[^>]*>([^<]*)<', svg).group(1) == unit


@pytest.mark.parametrize(
    ("language", "unit", "top"), [("zh-hans", "亿元", "40"), ("en", "¥ bn", "4")]
)
def test_quarterly_columns_stand_on_a_value_axis_with_the_unit(language, unit, top):
    points = [
        SimpleNamespace(quarter=Quarter(2025, q), actual=value * YI, milestone=None)
        for q, value in ((1, 15), (2, 32))
    ]
    with translation.override(language):
        svg = str(trend_svg(points))
    assert 'class="axis"' in svg
    assert re.search(r'class="unit"[^>]*>([^<]*)<', svg).group(1) == unit
    ticks = re.findall(r'class="tick"[^>]*>([^<]*)<', svg)
    assert ticks[0] == "0" and ticks[-1] == top
