"""Charts of the dashboard pages and the brief.

Pages draw ECharts (vendored) from the option objects built here and passed with
`json_script`; every chart sits beside a table with the same numbers, so nothing is only in
a picture. The brief is printed and turned into PDF, so its charts are plain SVG drawn here.
"""

from __future__ import annotations

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
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": unit},
        "series": series,
    }


def contribution_chart(parts: list[Contribution]) -> dict:
    unit = money_unit()[1]
    parts = [p for p in parts if p.actual][:15]
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "right": 0},
        "grid": {"left": 150, "right": 30, "top": 40, "bottom": 30},
        "xAxis": {"type": "value", "name": unit},
        "yAxis": {"type": "category", "inverse": True, "data": [str(p.label) for p in parts]},
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
    }


def enterprise_output_chart(rows: list[dict]) -> dict:
    """A firm's quarterly output and its year-on-year change."""
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": [r["label"] for r in rows]},
        "yAxis": [
            {"type": "value", "name": firm_unit()[1]},
            {"type": "value", "name": "%", "splitLine": {"show": False}},
        ],
        "series": [
            {
                "name": _("Output value"),
                "type": "bar",
                "data": [
                    None if r["output"] is None else round(float(r["output"] / firm_unit()[0]), 2)
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
    }


# --- SVG for the printed brief ---------------------------------------------------------------


def bars_svg(parts: list[tuple[str, Decimal]], *, width: int = 640) -> SafeString:
    """Horizontal bars with their labels and values, in the brief's money unit."""
    parts = [(label, value) for label, value in parts if value][:12]
    if not parts:
        return SafeString("")
    row, label_width = 24, 170
    top = max(value for _label, value in parts)
    scale = (width - label_width - 90) / float(top)
    height = row * len(parts) + 8
    bars = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="#21507a"/>'
        '<text x="{}" y="{}" font-size="12">{}</text>',
        (
            (
                label_width - 6,
                i * row + 17,
                label,
                label_width,
                i * row + 4,
                f"{float(value) * scale:.1f}",
                f"{label_width + float(value) * scale + 4:.1f}",
                i * row + 17,
                f"{in_money_unit(value):,.2f}",
            )
            for i, (label, value) in enumerate(parts)
        ),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        _("Bar chart; the same figures are in the table beside it."),
        bars,
    )


def trend_svg(points, *, width: int = 640, height: int = 200) -> SafeString:
    """Output year to date by quarter as columns, with the milestone expected as ticks."""
    points = [p for p in points if p.actual is not None]
    if not points:
        return SafeString("")
    top = max(max(float(p.actual), float(p.milestone or 0)) for p in points) or 1.0
    left, bottom = 10, 30
    step = (width - left * 2) / len(points)
    scale = (height - bottom - 10) / top
    items = []
    for i, p in enumerate(points):
        x = left + i * step
        h = float(p.actual) * scale
        items.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#21507a"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
                f"{x + 2:.1f}",
                f"{height - bottom - h:.1f}",
                f"{step - 4:.1f}",
                f"{h:.1f}",
                f"{x + step / 2:.1f}",
                height - bottom + 14,
                f"{p.quarter.year % 100:02d}Q{p.quarter.quarter}",
            )
        )
        if p.milestone:
            y = height - bottom - float(p.milestone) * scale
            items.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#9a5b00" stroke-width="3"/>',
                    f"{x:.1f}",
                    f"{x + step:.1f}",
                    f"{y:.1f}",
                    f"{y:.1f}",
                )
            )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        _("Column chart; the same figures are in the table beside it."),
        SafeString("".join(items)),
    )
