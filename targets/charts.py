"""Charts of the dashboard pages and the brief.

Pages draw ECharts (vendored) from the option objects built here and passed with
`json_script`; every chart sits beside a table with the same numbers, so nothing is only in
a picture. The brief is printed and turned into PDF, so its charts are plain SVG drawn here.
"""

from __future__ import annotations

import math
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from cluster.formatting import firm_unit, total_unit

from .selectors.dashboard import Board, Contribution

COLOURS = {
    "actual": "#21507a",
    "milestone": "#9a5b00",
    "projection": "#1d7a46",
    "band": "rgba(29,122,70,0.15)",
    "previous": "#9aa5b1",
}


# Where a chart's parts go, the same for every chart: the legend in one scrolling row above
# the plot, and the plot area (grid) below it. The grid's rectangle is also the bound of the
# axis labels and axis names (ECharts 6's successor of `containLabel`), so neither a long
# label nor the unit above the value axis can reach into the legend's row, at any width.
LEGEND_ROW = 30  # px from the top of the chart kept for the legend
NARROW = 520  # px; narrower charts (phones) take the `media` option below


def _legend() -> dict:
    # "scroll": many series stay in one row with arrows instead of wrapping over the plot.
    return {"type": "scroll", "top": 0, "left": "center"}


def _grid(*, right: int = 16) -> dict:
    return {
        "left": 8,
        "right": right,
        "top": LEGEND_ROW + 10,
        "bottom": 8,
        "outerBoundsMode": "same",
        "outerBoundsContain": "all",
    }


def _framed(option: dict, *, narrow: dict | None = None) -> dict:
    """The chart's option with the shared frame, as a base option with a media query for
    narrow charts: ECharts applies `narrow` (smaller labels, fewer gaps) below NARROW px and
    takes it back when the chart grows again (charts.js resizes charts with the window)."""
    narrow_option = {
        "legend": {"itemGap": 6, "itemWidth": 18, "textStyle": {"fontSize": 11}},
        **(narrow or {}),
    }
    return {
        "baseOption": {"aria": {"enabled": True}, "legend": _legend(), **option},
        "media": [{"query": {"maxWidth": NARROW}, "option": narrow_option}],
    }


def money_unit() -> tuple[Decimal, str]:
    """The divisor and unit name for totals: 亿元 in Chinese, ¥ bn in English."""
    return total_unit()


def in_money_unit(value) -> float | None:
    """A sum of yuan in the unit of `money_unit`, to the cent of that unit."""
    if value is None:
        return None
    divisor, _unit = money_unit()
    return float((Decimal(value) / divisor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def trend_chart(board: Board) -> dict:
    """Output year to date by quarter, the milestone path and (while the plan is in force)
    the projection to the deadline with the range of the last four quarters' projections;
    between plans, the output of the year to date alone."""
    unit = money_unit()[1]
    points = board.trend
    labels = [p.quarter.label() for p in points]
    band = board.projection_band
    series = [
        {
            "name": _("Output year to date"),
            "type": "bar",
            "data": [in_money_unit(p.actual) for p in points],
            "itemStyle": {"color": COLOURS["actual"]},
        },
    ]
    # Projections only while the plan is in force; milestones only where a plan applies.
    if board.phase.shows_projection:
        series.append(
            {
                "name": _("Projection to the deadline"),
                "type": "line",
                "data": [in_money_unit(p.projection) for p in points],
                "lineStyle": {"type": "dashed"},
                "itemStyle": {"color": COLOURS["projection"]},
            }
        )
    if board.scope.is_city and board.phase.shows_targets:
        series.insert(
            1,
            {
                "name": _("Milestone expected"),
                "type": "line",
                "data": [in_money_unit(p.milestone) for p in points],
                "itemStyle": {"color": COLOURS["milestone"]},
            },
        )
    if band and points:
        low, high = in_money_unit(band[0]), in_money_unit(band[1])
        series.append(
            {
                "name": _("Range of the last four projections"),
                "type": "line",
                "data": [],
                "markArea": {
                    "itemStyle": {"color": COLOURS["band"]},
                    "data": [
                        [
                            {"yAxis": low, "xAxis": labels[max(len(labels) - 4, 0)]},
                            {"yAxis": high, "xAxis": labels[-1]},
                        ]
                    ],
                },
                "itemStyle": {"color": COLOURS["band"]},
            }
        )
    if board.output_target is not None:
        series[0]["markLine"] = {
            "symbol": "none",
            "label": {
                "position": "insideEndTop",
                "formatter": _("Target %(value)s")
                % {"value": in_money_unit(board.output_target.target_value)},
            },
            "lineStyle": {"color": "#b42318"},
            "data": [{"yAxis": in_money_unit(board.output_target.target_value)}],
        }
    return _framed(
        {
            "tooltip": {"trigger": "axis"},
            "grid": _grid(),
            "xAxis": {"type": "category", "data": labels, "axisLabel": {"hideOverlap": True}},
            # The unit above the axis, left-aligned so that it never runs into the labels.
            "yAxis": {"type": "value", "name": unit, "nameTextStyle": {"align": "left"}},
            "series": series,
        },
        narrow={"xAxis": {"axisLabel": {"fontSize": 10, "rotate": 45}}},
    )


def contribution_chart(parts: list[Contribution]) -> dict:
    unit = money_unit()[1]
    parts = [p for p in parts if p.actual][:15]
    return _framed(
        {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "grid": _grid(right=24),
            # The unit centred under the value axis, below its tick labels.
            "xAxis": {
                "type": "value",
                "name": unit,
                "nameLocation": "middle",
                "nameGap": 26,
                "axisLabel": {"hideOverlap": True},
            },
            # Long names (English districts) wrap within a fixed column instead of pushing the
            # bars off the chart.
            "yAxis": {
                "type": "category",
                "inverse": True,
                "data": [str(p.label) for p in parts],
                "axisLabel": {"width": 140, "overflow": "break"},
            },
            "series": [
                {
                    "name": _("Year to date"),
                    "type": "bar",
                    "data": [in_money_unit(p.actual) for p in parts],
                    "itemStyle": {"color": COLOURS["actual"]},
                },
                {
                    "name": _("Same period last year"),
                    "type": "bar",
                    "data": [in_money_unit(p.year_ago) for p in parts],
                    "itemStyle": {"color": COLOURS["previous"]},
                },
            ],
        },
        narrow={"yAxis": {"axisLabel": {"width": 80, "fontSize": 11}}},
    )


def enterprise_output_chart(rows: list[dict]) -> dict:
    """A firm's quarterly output and its year-on-year change."""
    return _framed(
        {
            "tooltip": {"trigger": "axis"},
            "grid": _grid(),
            "xAxis": {
                "type": "category",
                "data": [r["label"] for r in rows],
                "axisLabel": {"hideOverlap": True},
            },
            # Each unit above its own axis, aligned outwards so that the two never meet.
            "yAxis": [
                {"type": "value", "name": firm_unit()[1], "nameTextStyle": {"align": "left"}},
                {
                    "type": "value",
                    "name": "%",
                    "nameTextStyle": {"align": "right"},
                    "splitLine": {"show": False},
                },
            ],
            "series": [
                {
                    "name": _("Output value"),
                    "type": "bar",
                    "data": [
                        None
                        if r["output"] is None
                        else round(float(r["output"] / firm_unit()[0]), 2)
                        for r in rows
                    ],
                    "itemStyle": {"color": COLOURS["actual"]},
                },
                {
                    "name": _("Year on year"),
                    "type": "line",
                    "yAxisIndex": 1,
                    "data": [None if r["yoy"] is None else round(float(r["yoy"]), 1) for r in rows],
                    "itemStyle": {"color": COLOURS["projection"]},
                },
            ],
        },
        narrow={"xAxis": {"axisLabel": {"fontSize": 10, "rotate": 45}}},
    )


# --- SVG for the printed brief ---------------------------------------------------------------


FONT = 12  # px, the labels' size in the printed brief
AXIS = "#5f6b7a"


def _text_width(text: str, size: int = FONT) -> float:
    """A label's width, estimated: CJK glyphs are square, Latin ones about 0.6 em wide (the
    printed brief's sans-serif)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def _wrapped(text: str, width: float) -> list[str]:
    """The label in lines no wider than `width`, broken between words (a Chinese name is
    short enough for one line)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and _text_width(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line]


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least `top`: 0, 20, 40, 60 … (1, 2, 2.5 or 5 × 10^n)."""
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


def _tick_label(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _svg(width: int, height: int, label: str, items) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        label,
        SafeString("".join(items)),
    )


def bars_svg(parts: list[tuple[str, Decimal]], *, width: int = 640) -> SafeString:
    """Horizontal bars with their labels and values, and a value axis in the brief's money
    unit. Labels too long for their column (English district names) wrap onto more lines,
    never cut at the picture's edge."""
    parts = [(label, value) for label, value in parts if value][:12]
    if not parts:
        return SafeString("")
    # The label column fits the longest label, up to a third of the width; longer wrap.
    label_width = min(max(_text_width(label) for label, _value in parts) + 8, width / 3)
    wrapped = [_wrapped(label, label_width - 8) for label, _value in parts]
    line, gap, axis_height, value_room = FONT + 3, 8, 34, 60
    ticks = _ticks(max(in_money_unit(value) for _label, value in parts))
    scale = (width - label_width - value_room) / ticks[-1]
    items, y = [], 4
    for lines, (_label, value) in zip(wrapped, parts, strict=True):
        row = max(len(lines) * line, 16)
        amount = in_money_unit(value)
        text_top = y + (row - len(lines) * line) / 2 + FONT
        spans = format_html_join(
            "",
            '<tspan x="{}" y="{}">{}</tspan>',
            (
                (f"{label_width - 6:.1f}", f"{text_top + i * line:.1f}", text)
                for i, text in enumerate(lines)
            ),
        )
        items.append(
            format_html(
                '<text text-anchor="end" font-size="{}">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="16" fill="#21507a"/>'
                '<text x="{}" y="{}" font-size="{}">{}</text>',
                FONT,
                spans,
                f"{label_width:.1f}",
                f"{y + (row - 16) / 2:.1f}",
                f"{max(amount, 0) * scale:.1f}",
                f"{label_width + max(amount, 0) * scale + 4:.1f}",
                f"{y + row / 2 + 4:.1f}",
                FONT,
                f"{amount:,.2f}",
            )
        )
        y += row + gap
    # The value axis under the bars: a line, round ticks, and the unit.
    items.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>',
            f"{label_width:.1f}",
            f"{label_width + ticks[-1] * scale:.1f}",
            y,
            y,
            AXIS,
        )
    )
    for tick in ticks:
        x = label_width + tick * scale
        items.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text class="tick" x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
                f"{x:.1f}",
                f"{x:.1f}",
                y,
                y + 4,
                AXIS,
                f"{x:.1f}",
                y + 15,
                _tick_label(tick),
            )
        )
    items.append(
        format_html(
            '<text class="unit" x="{}" y="{}" font-size="10" text-anchor="end">{}</text>',
            f"{width - 4}",
            y + 30,
            money_unit()[1],
        )
    )
    height = int(y + axis_height)
    label = _("Bar chart; the same figures are in the table beside it.")
    return _svg(width, height, label, items)


def trend_svg(points, *, width: int = 640, height: int = 200) -> SafeString:
    """Output year to date by quarter as columns, with the milestone expected as ticks, on
    a value axis in the brief's money unit."""
    points = [p for p in points if p.actual is not None]
    if not points:
        return SafeString("")
    top = max(max(in_money_unit(p.actual), in_money_unit(p.milestone) or 0) for p in points)
    ticks = _ticks(top or 1.0)
    left, right, bottom, above = 56, 10, 30, 22
    step = (width - left - right) / len(points)
    scale = (height - bottom - above) / ticks[-1]
    base = height - bottom
    items = [
        # The value axis: its unit above it, round ticks with light grid lines.
        format_html(
            '<text class="unit" x="{}" y="{}" font-size="10" text-anchor="end">{}</text>'
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>',
            left - 6,
            above - 10,
            money_unit()[1],
            left,
            left,
            above,
            base,
            AXIS,
            left,
            width - right,
            base,
            base,
            AXIS,
        )
    ]
    for tick in ticks:
        y = base - tick * scale
        items.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e3e8ee"/>'
                '<text class="tick" x="{}" y="{}" font-size="10" text-anchor="end">{}</text>',
                left,
                width - right,
                f"{y:.1f}",
                f"{y:.1f}",
                left - 4,
                f"{y + 3:.1f}",
                _tick_label(tick),
            )
        )
    for i, p in enumerate(points):
        x = left + i * step
        h = in_money_unit(p.actual) * scale
        items.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#21507a"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
                f"{x + 2:.1f}",
                f"{base - h:.1f}",
                f"{step - 4:.1f}",
                f"{h:.1f}",
                f"{x + step / 2:.1f}",
                base + 14,
                f"{p.quarter.year % 100:02d}Q{p.quarter.quarter}",
            )
        )
        if p.milestone:
            y = base - in_money_unit(p.milestone) * scale
            items.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#9a5b00" stroke-width="3"/>',
                    f"{x:.1f}",
                    f"{x + step:.1f}",
                    f"{y:.1f}",
                    f"{y:.1f}",
                )
            )
    label = _("Column chart; the same figures are in the table beside it.")
    return _svg(width, height, label, items)
