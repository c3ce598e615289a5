"""Excel/CSV templates, export and the quarterly-report import.

Files are read and written with django-import-export's formats (tablib underneath). The
report import validates the whole file in memory with a fixed number of queries (firms by
USCC, then the stored reports of the years in the file) and writes in bulk with history:
django-import-export's row-by-row pipeline would look each row up and validate its
constraints with queries of its own, one set per row.

Any error anywhere in the file and nothing is written. Importing the same file again changes
nothing (unchanged rows are left alone).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import tablib
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, XLSX
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from cluster.access import scope_of
from cluster.numbers import NumberError, parse_amount, parse_count
from cluster.quarters import Quarter
from cluster.spreadsheets import SheetError, Table, read_table, safe_cell

from .choices import ReportStatus
from .models import FIGURE_LABELS, FIGURES, MONEY_FIGURES, Enterprise, QuarterlyReport
from .resources import ENTERPRISE_COLUMNS, EnterpriseResource
from .selectors import to_display
from .services.reports import (
    CUMULATIVE_FIGURES,
    EntryMode,
    Unit,
    jumps_between,
    unit_mistakes,
)
from .uscc import uscc_problem

FORMATS = {"xlsx": XLSX(), "csv": CSV(encoding="utf-8-sig")}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

# Column key → Chinese header. The template header is "key / 中文" and either half is
# accepted on import.
REPORT_COLUMNS = {
    "uscc": "统一社会信用代码",
    "period": "报告期",
    "output_value": "工业总产值",
    "operating_revenue": "营业收入",
    "rd_spending": "研发投入",
    "employees": "从业人员",
    "invention_patents": "发明专利授权数",
    "high_value_patents": "高价值专利数",
}
REQUIRED_COLUMNS = ("uscc", "period")


def bilingual(columns: dict) -> list[str]:
    return [f"{key} / {zh}" for key, zh in columns.items()]


def render(dataset: tablib.Dataset, fmt: str) -> tuple[bytes, str]:
    content = FORMATS[fmt].export_data(dataset)
    if isinstance(content, str):
        content = content.encode("utf-8-sig")
    return content, CONTENT_TYPES[fmt]


def report_template(fmt: str) -> tuple[bytes, str]:
    return render(tablib.Dataset(headers=bilingual(REPORT_COLUMNS)), fmt)


def enterprise_template(fmt: str) -> tuple[bytes, str]:
    return render(tablib.Dataset(headers=bilingual(ENTERPRISE_COLUMNS)), fmt)


def export_reports(queryset, fmt: str) -> tuple[bytes, str]:
    """The reports in the import template's layout, money in yuan."""
    dataset = tablib.Dataset(headers=bilingual(REPORT_COLUMNS))
    for report in queryset.select_related("enterprise").order_by(
        "enterprise__name_zh", "year", "quarter"
    ):
        dataset.append(
            [report.enterprise.uscc, str(report.period)]
            + ["" if getattr(report, f) is None else getattr(report, f) for f in FIGURES]
        )
    return render(dataset, fmt)


def export_enterprises(queryset, fmt: str) -> tuple[bytes, str]:
    exported = EnterpriseResource().export(queryset=queryset)
    dataset = tablib.Dataset(headers=bilingual(ENTERPRISE_COLUMNS))
    for row in exported.dict:
        dataset.append(
            [safe_cell("" if row[key] is None else str(row[key])) for key in ENTERPRISE_COLUMNS]
        )
    return render(dataset, fmt)


def normalise_uscc(value) -> str:
    """Codes as typed: full-width characters, inner spaces and lower case are normalised; the
    check character is still checked."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return re.sub(r"\s+", "", text).upper()


def _is_report_header(row: list) -> bool:
    """The code column and at least one more of the template's (a missing one is then named
    as missing)."""
    columns = _column_map(row)
    return "uscc" in columns and len(columns) >= 2


def read_file(content: bytes, fmt: str) -> Table:
    """A quarterly-report file as numbered rows (cluster.spreadsheets.read_table)."""
    return read_table(content, fmt, _is_report_header)


def _enterprise_columns(headers: list) -> dict[str, int]:
    return _match_columns(headers, ENTERPRISE_COLUMNS)


def read_enterprise_rows(content: bytes, fmt: str) -> tuple[tablib.Dataset, list[int]]:
    """An enterprise file for the resource, with the template's bilingual headers turned into
    its column keys and the codes normalised; and each dataset row's line in the file."""
    table = read_table(
        content,
        fmt,
        lambda row: {"uscc", "name_zh"} <= set(_enterprise_columns(row)),
    )
    columns = _enterprise_columns(table.headers)
    unknown = [
        header
        for index, header in enumerate(table.headers)
        if header and index not in columns.values()
    ]
    if unknown:
        raise SheetError(
            _("Unknown column %(columns)s; the template's columns are: %(expected)s.")
            % {"columns": "、".join(unknown), "expected": ", ".join(ENTERPRISE_COLUMNS)}
        )
    dataset, lines = tablib.Dataset(headers=list(columns)), []
    for line, cells in table.rows:
        values = [cells[i] if i < len(cells) else None for i in columns.values()]
        if all(v in (None, "") for v in values):
            continue
        row = dict(zip(columns, values, strict=True))
        row["uscc"] = normalise_uscc(row["uscc"])
        dataset.append([row[key] for key in columns])
        lines.append(line)
    return dataset, lines


# --- the report import ------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return _("Line %(line)s, column %(column)s, value %(value)r: %(reason)s") % {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


class ParsedRow(NamedTuple):
    """A row that passed the checks needing no database."""

    line: int
    uscc: str
    quarter: Quarter
    figures: dict
    entered: dict  # figure → the cell as the user wrote it


@dataclass
class PlannedRow:
    line: int
    enterprise: Enterprise
    quarter: Quarter
    figures: dict
    report: QuarterlyReport | None
    changes: dict = field(default_factory=dict)  # figure → (old, new)
    warnings: list[str] = field(default_factory=list)
    cumulative: dict = field(default_factory=dict)  # as written, in year-to-date mode
    entered: dict = field(default_factory=dict)  # figure → the cell as the user wrote it

    @property
    def kind(self) -> str:
        if self.report is None:
            return "new"
        return "changed" if self.changes else "unchanged"

    @property
    def change_list(self) -> list[tuple[str, object, object]]:
        """(label, old, new) with money in 万元, for the preview."""
        return [
            (str(FIGURE_LABELS[figure]), to_display(figure, old), to_display(figure, new))
            for figure, (old, new) in self.changes.items()
        ]


@dataclass
class ImportOutcome:
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    written: bool = False

    def count(self, kind: str) -> int:
        return sum(1 for row in self.rows if row.kind == kind)

    @property
    def totals(self) -> dict:
        return {kind: self.count(kind) for kind in ("new", "changed", "unchanged")}


def _match_columns(headers: list, columns: dict) -> dict[str, int]:
    """Header cell → column key; a header is the key, its Chinese name or "key / 中文"."""
    spellings = {}
    for key, zh in columns.items():
        for spelling in (key, zh, f"{key} / {zh}", f"{key}/{zh}"):
            spellings[spelling.lower()] = key
    found = {}
    for index, header in enumerate(headers):
        text = unicodedata.normalize("NFKC", str(header or "")).strip().lower()
        key = spellings.get(text) or spellings.get(text.split("/")[0].strip())
        if key and key not in found:
            found[key] = index
    return found


def _column_map(headers: list) -> dict[str, int]:
    return _match_columns(headers, REPORT_COLUMNS)


def _money(value: Decimal, factor: Decimal) -> Decimal:
    return (value * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _as_table(dataset) -> Table:
    if isinstance(dataset, Table):
        return dataset
    return Table(1, list(dataset.headers or []), [(i, list(r)) for i, r in enumerate(dataset, 2)])


def _parse_rows(table: Table, unit: Unit, outcome: ImportOutcome):
    """Parse and check every row without the database."""
    columns = _column_map(table.headers)
    missing = [key for key in REQUIRED_COLUMNS if key not in columns]
    if missing:
        outcome.errors.append(
            RowError(
                table.header_line,
                ", ".join(missing),
                "",
                _("Required column missing from the header."),
            )
        )
        return []
    for index, header in enumerate(table.headers):
        if header not in (None, "") and index not in columns.values():
            # A misspelt figure column would otherwise be dropped without a word.
            outcome.errors.append(
                RowError(
                    table.header_line,
                    str(header),
                    str(header),
                    _("Unknown column; the template's columns are: %(expected)s.")
                    % {"expected": ", ".join(REPORT_COLUMNS)},
                )
            )
    parsed, seen = [], {}
    for index, values in table.rows:
        cells = {key: values[i] if i < len(values) else None for key, i in columns.items()}
        if all(v in (None, "") for v in cells.values()):
            continue
        errors_before = len(outcome.errors)
        uscc = normalise_uscc(cells.get("uscc"))
        problem = uscc_problem(uscc) if uscc else _("Empty.")
        if problem:
            outcome.errors.append(RowError(index, "uscc", str(cells.get("uscc") or ""), problem))
        period = cells.get("period")
        period_text = "" if period is None else str(period).strip()
        try:
            quarter = Quarter.parse_spelling(period)
        except ValueError as exc:
            quarter = None
            outcome.errors.append(RowError(index, "period", period_text, str(exc)))
        figures = {}
        for figure in FIGURES:
            if figure not in columns:
                continue
            raw = cells.get(figure)
            if isinstance(raw, dt.date):
                outcome.errors.append(RowError(index, figure, str(raw), _("A date, not a number.")))
                continue
            try:
                if figure in MONEY_FIGURES:
                    value, factor = parse_amount(raw)
                else:
                    value, factor = parse_count(raw), None
            except NumberError as exc:
                outcome.errors.append(RowError(index, figure, str(raw), exc.reason))
                continue
            if value is None:
                figures[figure] = None
            elif value < 0:
                outcome.errors.append(RowError(index, figure, str(raw), _("Cannot be negative.")))
            elif figure in MONEY_FIGURES:
                figures[figure] = _money(value, factor or unit.factor)
            elif value != value.to_integral_value():
                outcome.errors.append(
                    RowError(index, figure, str(raw), _("Must be a whole number."))
                )
            else:
                figures[figure] = int(value)
        if quarter and not problem:
            key = (uscc, quarter)
            if key in seen:
                outcome.errors.append(
                    RowError(
                        index,
                        "period",
                        period_text,
                        _("Duplicate of line %(line)s (same firm and quarter).")
                        % {"line": seen[key]},
                    )
                )
            seen.setdefault(key, index)
        if len(outcome.errors) == errors_before:
            entered = {f: "" if cells.get(f) is None else str(cells[f]) for f in figures}
            parsed.append(ParsedRow(index, uscc, quarter, figures, entered))
    return parsed


def _convert_year_to_date(planned: list[PlannedRow], stored: dict, outcome: ImportOutcome):
    """Cumulative values → the quarter's own, using earlier quarters from the file first and
    the stored reports otherwise."""
    in_file = {(row.enterprise.pk, row.quarter): row for row in planned}
    for row in sorted(planned, key=lambda r: (r.enterprise.pk, r.quarter)):
        cumulative = dict(row.figures)
        for figure in CUMULATIVE_FIGURES:
            total = cumulative.get(figure)
            if total is None or figure not in row.figures:
                continue
            before = Decimal(0) if figure in MONEY_FIGURES else 0
            for q in range(1, row.quarter.quarter):
                earlier = Quarter(row.quarter.year, q)
                source = in_file.get((row.enterprise.pk, earlier))
                value = source.cumulative[figure] if source else None
                if source is None:
                    stored_report = stored.get((row.enterprise.pk, earlier))
                    value = getattr(stored_report, figure, None) if stored_report else None
                    if value is None:
                        outcome.errors.append(
                            RowError(
                                row.line,
                                figure,
                                str(total),
                                _(
                                    "Year-to-date entry needs %(quarter)s, which is neither in "
                                    "the file nor stored."
                                )
                                % {"quarter": earlier},
                            )
                        )
                        break
                    before += value
                else:
                    before = value
            else:
                if total < before:
                    outcome.errors.append(
                        RowError(
                            row.line,
                            figure,
                            str(total),
                            _(
                                "The year-to-date value is smaller than the previous quarter's "
                                "(%(previous)s)."
                            )
                            % {"previous": before},
                        )
                    )
                row.figures[figure] = total - before
        row.cumulative = cumulative


def reports_import(*, actor, dataset: Table | tablib.Dataset, unit: str, mode: str, dry_run: bool):
    """Check a whole file of quarterly reports and, when it has no error and this is not a dry
    run, write it. Returns what was (or would be) new, changed and unchanged."""
    scope = scope_of(actor)
    if not scope.can_edit:
        raise PermissionDenied
    outcome = ImportOutcome()
    parsed = _parse_rows(_as_table(dataset), Unit(unit), outcome)

    usccs = {row.uscc for row in parsed}
    firms = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=usccs)}
    years = {row.quarter.year for row in parsed}
    stored = {
        (r.enterprise_id, r.period): r
        for r in QuarterlyReport.objects.filter(
            enterprise__in=[f.pk for f in firms.values()],
            year__in=years | {y - 1 for y in years},
        )
    }
    planned = []
    for line, uscc, quarter, figures, entered in parsed:
        firm = firms.get(uscc)
        if firm is None:
            outcome.errors.append(
                RowError(line, "uscc", uscc, _("No firm with this code is registered."))
            )
            continue
        if not scope.covers(firm.district_id):
            outcome.errors.append(
                RowError(line, "uscc", uscc, _("The firm belongs to another district."))
            )
            continue
        planned.append(
            PlannedRow(
                line, firm, quarter, figures, stored.get((firm.pk, quarter)), entered=entered
            )
        )
    if mode == EntryMode.YEAR_TO_DATE:
        _convert_year_to_date(planned, stored, outcome)

    threshold = settings.REPORT_JUMP_THRESHOLD
    for row in planned:
        report = row.report
        if report is not None:
            row.changes = {
                figure: (getattr(report, figure), value)
                for figure, value in row.figures.items()
                if getattr(report, figure) != value
            }
            if row.changes and report.status == ReportStatus.SUBMITTED:
                outcome.errors.append(
                    RowError(
                        row.line,
                        "period",
                        str(row.quarter),
                        _("The report is submitted and awaits review; it cannot be changed now."),
                    )
                )
            elif row.changes and report.status == ReportStatus.APPROVED:
                outcome.errors.append(
                    RowError(
                        row.line,
                        "period",
                        str(row.quarter),
                        _(
                            "The report is approved; change it on the worksheet with the "
                            "reason for the change."
                        ),
                    )
                )
        previous = stored.get((row.enterprise.pk, row.quarter.previous()))
        last_year = stored.get((row.enterprise.pk, row.quarter.same_quarter_last_year()))
        mistakes = unit_mistakes(
            row.figures,
            [
                {f: getattr(report, f) for f in MONEY_FIGURES} if report else None
                for report in (previous, last_year)
            ],
        )
        for figure, reason in mistakes.items():
            outcome.errors.append(RowError(row.line, figure, row.entered[figure], reason))
        jumps = jumps_between(
            row.figures,
            {f: getattr(previous, f) for f in FIGURES} if previous else None,
            threshold,
        )
        row.warnings = [
            _("%(figure)s %(change)+.0f%% against the previous quarter")
            % {
                "figure": QuarterlyReport._meta.get_field(j.figure).verbose_name,
                "change": j.change * 100,
            }
            for j in jumps
        ]
    outcome.rows = sorted(planned, key=lambda r: r.line)
    outcome.errors.sort(key=lambda e: e.line)
    if outcome.errors or dry_run:
        return outcome
    _write(actor, outcome.rows)
    outcome.written = True
    return outcome


@transaction.atomic
def _write(actor, rows: list[PlannedRow]) -> None:
    now = timezone.now()
    new = [
        QuarterlyReport(
            enterprise=row.enterprise,
            year=row.quarter.year,
            quarter=row.quarter.quarter,
            **{f: row.figures.get(f) for f in FIGURES},
        )
        for row in rows
        if row.kind == "new"
    ]
    changed = []
    for row in rows:
        if row.kind != "changed":
            continue
        for figure, (_old, value) in row.changes.items():
            setattr(row.report, figure, value)
        row.report.version += 1
        row.report.updated_at = now
        changed.append(row.report)
    bulk_create_with_history(
        new,
        QuarterlyReport,
        batch_size=1000,
        default_user=actor,
        default_change_reason="import",
    )
    if changed:
        bulk_update_with_history(
            changed,
            QuarterlyReport,
            [*FIGURES, "version", "updated_at"],
            batch_size=1000,
            default_user=actor,
            default_change_reason="import",
        )


def file_format(name: str) -> str | None:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else None
