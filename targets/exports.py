"""The quarterly brief as files: an Excel workbook with the brief's tables, and the PDF (the
print-ready page printed by WeasyPrint). The figures are the brief's (targets.selectors.brief)."""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cluster.spreadsheets import safe_cell

from .charts import in_money_unit, money_unit
from .selectors.brief import Brief
from .selectors.dashboard import Card

# --- Excel -----------------------------------------------------------------------------------

HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5EE")
MONEY_FORMAT = "#,##0.00"
# Shares and growth alike are fractions shown as percentages, on every sheet.
PERCENT_FORMAT = "0.0%"


def _fraction(percent) -> float | None:
    """A change given in percent (16.4) as the fraction Excel formats as 16.4%."""
    return None if percent is None else float(round(percent, 1)) / 100


def _cell(value):
    """A value openpyxl can write: labels from the selectors are often lazy translations,
    which it refuses (rendered here, in the language the workbook is made in); firm names
    come from users, so text that Excel would run as a formula is defused."""
    return safe_cell(str(value) if isinstance(value, Promise) else value)


def _sheet(workbook, title: str, headers: list[str], rows: list[list], widths=None, formats=None):
    """A sheet of a table; `formats` gives each numeric column its one number format."""
    sheet = workbook.create_sheet(str(title)[:31])
    sheet.append([_cell(header) for header in headers])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER, HEADER_FILL
    for row in rows:
        sheet.append([_cell(value) for value in row])
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(index, max(12, min(len(str(header)) * 2 + 4, 60)))
        sheet.column_dimensions[get_column_letter(index)].width = width
    for index, number_format in (formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = number_format
    sheet.freeze_panes = "A2"
    return sheet


def _number(card: Card, value) -> float | None:
    if value is None:
        return None
    return in_money_unit(value) if card.is_money else float(value)


def _targets_sheet(workbook, brief: Brief, source: str, unit: str) -> None:
    """Progress of each target (a quarter of a plan; projections while it is in force)."""
    in_force = brief.phase.in_force
    headers = [
        _("Target"),
        _("Unit"),
        _("Actual"),
        _("Target value"),
        _("Share reached"),
    ]
    if in_force:
        headers += [
            _("Milestone expected"),
            _("Projection to the deadline"),
            _("Status"),
            _("Change since last quarter"),
            _("Basis of the projection"),
        ]
    rows = []
    for c in brief.cards:
        row = [
            c.target.name,
            unit if c.is_money else c.target.get_unit_display(),
            _number(c, c.actual),
            _number(c, c.target.target_value),
            None if c.share is None else float(c.share),
        ]
        if in_force:
            row += [
                _number(c, c.snapshot.milestone_expected) if c.snapshot else None,
                _number(c, c.snapshot.projection) if c.snapshot else None,
                c.status_label,
                _number(c, c.change),
                c.basis_text,
            ]
        rows.append([*row, brief.board_url])
    figures = (3, 4, 6, 7, 9) if in_force else (3, 4)
    _sheet(
        workbook,
        _("Targets"),
        [*headers, source],
        rows,
        widths={1: 26, 10: 60, len(headers) + 1: 50},
        formats={5: PERCENT_FORMAT, **dict.fromkeys(figures, MONEY_FORMAT)},
    )


def _evaluation_sheet(workbook, brief: Brief, source: str) -> None:
    """The final evaluation: each target's official value at the deadline, achieved or not."""
    evaluation = brief.board.evaluation
    _sheet(
        workbook,
        _("Final evaluation"),
        [
            _("Target"),
            _("Official value at the deadline"),
            _("Target value"),
            _("Result"),
            _("Completion"),
            _("Revised after the evaluation"),
            source,
        ],
        [
            [
                line.target.name,
                line.shown_value,
                line.target.display_goal(),
                line.result,
                None if line.share is None else float(line.share),
                line.shown_revised if line.revised is not None else None,
                brief.evaluation_url,
            ]
            for line in evaluation.lines
        ],
        widths={1: 26, 2: 20, 3: 20, 7: 60},
        formats={5: PERCENT_FORMAT},
    )


def _monitored_sheet(workbook, brief: Brief, source: str, unit: str) -> None:
    """Between plans: the monitored figures, now and a year before."""
    _sheet(
        workbook,
        _("Monitored figures"),
        [
            _("Figure"),
            _("At the end of the quarter"),
            _("A year before"),
            _("Year on year"),
            source,
        ],
        [
            [
                f"{figure.label} ({unit})" if figure.is_money else figure.label,
                in_money_unit(figure.value) if figure.is_money else figure.value,
                in_money_unit(figure.year_ago) if figure.is_money else figure.year_ago,
                _fraction(figure.year_on_year),
                brief.board_url,
            ]
            for figure in brief.board.monitored
        ],
        widths={1: 40, 5: 60},
        formats={2: MONEY_FORMAT, 3: MONEY_FORMAT, 4: PERCENT_FORMAT},
    )


def brief_workbook(brief: Brief) -> bytes:
    """The brief as an Excel workbook: the narrative, then one sheet per table; money in the
    brief's unit (亿元 / ¥ bn) as numbers; every row ends with the page it comes from."""
    unit = money_unit()[1]
    source = _("Source page")
    workbook = Workbook()
    summary = workbook.active
    summary.title = _("Brief")[:31]
    summary.append(
        [
            _("%(cluster)s: quarterly brief, %(scope)s, %(quarter)s")
            % {
                "cluster": brief.scope.cluster.name,
                "scope": brief.scope.name,
                "quarter": brief.quarter.label(),
            }
        ]
    )
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(
        [
            _("Figures: %(basis)s, as known on %(vintage)s; generated %(now)s")
            % {
                "basis": brief.as_of.basis_label,
                "vintage": timezone.localtime(brief.as_of.vintage).strftime("%Y-%m-%d %H:%M")
                if brief.as_of.vintage
                else "—",
                "now": timezone.localtime(brief.generated_at).strftime("%Y-%m-%d %H:%M"),
            }
        ]
    )
    summary.append([])
    for heading, text, url in brief.narrative():
        summary.append([heading])
        summary.cell(summary.max_row, 1).font = HEADER
        summary.append([text])
        summary.cell(summary.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        summary.append([f"{source}: {url}"])
        summary.append([])
    summary.column_dimensions["A"].width = 120

    if brief.phase.evaluation and brief.board.evaluation is not None and brief.scope.is_city:
        _evaluation_sheet(workbook, brief, source)
    elif brief.phase.monitoring:
        _monitored_sheet(workbook, brief, source, unit)
    else:
        _targets_sheet(workbook, brief, source, unit)

    districts = _sheet(
        workbook,
        _("Districts"),
        [
            _("District"),
            _("Output year to date (%(unit)s)") % {"unit": unit},
            _("Same period last year (%(unit)s)") % {"unit": unit},
            _("Year on year, same firms"),
            _("Share"),
            source,
        ],
        [
            [
                str(p.label),
                in_money_unit(p.actual),
                in_money_unit(p.year_ago),
                _fraction(p.year_on_year),
                None if p.share is None else float(p.share),
                brief.district_url(p),
            ]
            for p in brief.districts
        ],
        widths={1: 22, 6: 60},
        formats={2: MONEY_FORMAT, 3: MONEY_FORMAT, 4: PERCENT_FORMAT, 5: PERCENT_FORMAT},
    )
    if brief.districts:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("Output year to date by district")
        chart.y_axis.title = unit
        # openpyxl marks both axes deleted by default: Excel would draw the bars without them.
        chart.x_axis.delete = chart.y_axis.delete = False
        data = Reference(
            districts, min_col=2, max_col=3, min_row=1, max_row=len(brief.districts) + 1
        )
        names = Reference(districts, min_col=1, min_row=2, max_row=len(brief.districts) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(names)
        chart.height, chart.width = 10, 18
        districts.add_chart(chart, "H2")

    _sheet(
        workbook,
        _("Focus directions"),
        [
            _("Focus direction"),
            _("Output year to date (%(unit)s)") % {"unit": unit},
            _("Share"),
            _("Year on year, same firms"),
            source,
        ],
        [
            [
                str(p.label),
                in_money_unit(p.actual),
                None if p.share is None else float(p.share),
                _fraction(p.year_on_year),
                brief.board_url,
            ]
            for p in brief.board.by_direction
        ],
        widths={1: 30, 5: 60},
        formats={2: MONEY_FORMAT, 3: PERCENT_FORMAT, 4: PERCENT_FORMAT},
    )

    threshold_rows = []
    for crossing in brief.crossings:
        for firm in crossing.entered:
            threshold_rows.append(
                [
                    crossing.target.name,
                    _("passed the threshold"),
                    firm.name,
                    str(firm.district),
                    None,
                    brief.firm_url(firm),
                ]
            )
        for firm in crossing.left:
            threshold_rows.append(
                [
                    crossing.target.name,
                    _("dropped below"),
                    firm.name,
                    str(firm.district),
                    None,
                    brief.firm_url(firm),
                ]
            )
    for target, lines in brief.board.threshold_pipelines:
        for line in lines:
            threshold_rows.append(
                [
                    target.name,
                    _("gap to the threshold"),
                    line.enterprise.name,
                    str(line.enterprise.district),
                    in_money_unit(line.gap),
                    brief.firm_url(line.enterprise),
                ]
            )
    _sheet(
        workbook,
        _("Thresholds"),
        [
            _("Target"),
            _("Event"),
            _("Firm"),
            _("District"),
            _("Gap (%(unit)s)") % {"unit": unit},
            source,
        ],
        threshold_rows,
        widths={1: 22, 3: 36, 6: 60},
        formats={5: MONEY_FORMAT},
    )
    _sheet(
        workbook,
        _("Designations and listings"),
        [_("Kind"), _("Firm"), _("District"), _("Date"), source],
        [
            [
                d.get_type_display(),
                d.enterprise.name,
                str(d.enterprise.district),
                d.valid_from,
                brief.firm_url(d.enterprise),
            ]
            for d in brief.new_designations
        ]
        + [
            [
                _("Listing: %(venue)s") % {"venue": listing.get_venue_display()},
                listing.enterprise.name,
                str(listing.enterprise.district),
                listing.listed_on,
                brief.firm_url(listing.enterprise),
            ]
            for listing in brief.new_listings
        ],
        widths={1: 30, 2: 36, 5: 60},
    )
    _sheet(
        workbook,
        _("Risks"),
        [_("Severity"), _("Rule"), _("Alert"), _("Opened"), source],
        [
            [
                a.get_severity_display(),
                a.rule.name,
                a.message,
                timezone.localtime(a.opened_at).date(),
                brief.alerts_url,
            ]
            for a in brief.risks
        ],
        widths={2: 26, 3: 80, 5: 50},
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def brief_document(brief: Brief, fmt: str) -> bytes:
    """The brief as a file ("pdf" or "xlsx") in the active language: the download link and
    the e-mailed brief both ask this."""
    if fmt == "xlsx":
        return brief_workbook(brief)
    cluster = brief.scope.cluster
    html = render_to_string(
        "dashboard/brief.html",
        {"brief": brief, "cluster": cluster, "page_cluster": cluster, "printing": True},
    )
    return brief_pdf(html, base_url=f"{brief.base_url}/")


def brief_filename(brief: Brief, fmt: str, language: str) -> str:
    scope = brief.scope.district.code if brief.scope.district else "city"
    return f"brief-{brief.scope.cluster.key}-{brief.quarter}-{scope}-{language}.{fmt}"


def brief_pdf(html: str, base_url: str) -> bytes:
    """The print-ready page as PDF (WeasyPrint; fonts from the system, Noto CJK for Chinese)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
