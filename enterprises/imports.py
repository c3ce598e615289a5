"""Excel/CSV templates, export and the quarterly-report import.

Files are read and written with django-import-export's formats (tablib underneath). A report
file's rows go through the report pipeline (enterprises.services.report_entry), the same one
as the worksheet, the API and the admin: checked as a whole with a fixed number of queries,
written in bulk with history. django-import-export's row-by-row pipeline would look each row up
and validate it with queries of its own, and would be a second owner of the rules.

Any error anywhere in the file and nothing is written. Importing the same file again changes
nothing (unchanged rows are left alone).
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Iterable

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist
from django.db.models import QuerySet
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from cluster.models import District
from cluster.quarters import Quarter
from cluster.spreadsheets import SheetError, Table, read_table, safe_cell

from .choices import Unit
from .models import (
    COUNT_FIGURES,
    FIGURE_LABELS,
    FIGURES,
    MONEY_FIGURES,
    ClusterMembership,
    Enterprise,
)
from .resources import (
    ENTERPRISE_COLUMNS,
    FIRM_COLUMNS,
    MEMBERSHIP_FIELD_COLUMNS,
    EnterpriseResource,
)
from .selectors import expected_to_report
from .services.report_entry import EntryOutcome, FigureRow, RowError, reports_enter
from .uscc import normalise_uscc

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
    "anomaly_note": "波动说明",
    "change_reason": "修改原因",
}
REQUIRED_COLUMNS = ("uscc", "period")
NOTE_COLUMNS = ("anomaly_note", "change_reason")
# Shown to the person filling the template, read by no one: the import names the firm by its
# code.
READER_COLUMNS = {"name": "企业名称"}
# The template's columns in the order an officer fills them: the firm, then its figures.
TEMPLATE_COLUMNS = ("uscc", "name", "period", *FIGURES, "anomaly_note", "change_reason")
# A column's header in the user's language; money columns add the unit (column_label).
COLUMN_LABELS = {
    "uscc": gettext_lazy("USCC"),
    "name": gettext_lazy("Firm name"),
    "period": gettext_lazy("Reporting period"),
    **FIGURE_LABELS,
    "anomaly_note": gettext_lazy("note on an unusual change"),
    "change_reason": gettext_lazy("reason for the change after approval"),
    "status": gettext_lazy("status"),
    "version": gettext_lazy("version"),
}
UNIT_WORDS = {
    Unit.YUAN: gettext_lazy("yuan"),
    Unit.WAN: gettext_lazy("¥10,000"),
    Unit.YI: gettext_lazy("¥100 m"),
}
# The unit a template's money columns are in: the upload form's default.
TEMPLATE_UNIT = Unit.WAN
# The example row's firm: the standard's own example code, which no registered firm has; the
# row is known by the tag its name starts with (EXAMPLE_TAG, in either language), so that
# it is left out on import whatever figures it holds.
EXAMPLE_USCC = "91350100M000100Y43"
EXAMPLE_TAG = gettext_lazy("Example")
EXAMPLE_FIGURES = {
    "output_value": 1234.56,
    "operating_revenue": 1100,
    "rd_spending": 85.5,
    "employees": 120,
    "invention_patents": 3,
    "high_value_patents": 1,
}
LANGUAGES = ("zh-hans", "en")


def bilingual(columns: dict) -> list[str]:
    return [f"{key} / {zh}" for key, zh in columns.items()]


def render(dataset: tablib.Dataset, fmt: str) -> tuple[bytes, str]:
    content = FORMATS[fmt].export_data(dataset)
    if isinstance(content, str):
        content = content.encode("utf-8-sig")
    return content, CONTENT_TYPES[fmt]


def column_label(key: str, unit: str = TEMPLATE_UNIT) -> str:
    """A report column's header in the active language, money with its unit: 营业收入（万元）,
    "Operating revenue (¥10,000)". A key that is no column (a header the file had) as is."""
    if key not in COLUMN_LABELS:
        return key
    label = capfirst(str(COLUMN_LABELS[key]))
    if key in MONEY_FIGURES:
        return _("%(column)s (%(unit)s)") % {"column": label, "unit": UNIT_WORDS[Unit(unit)]}
    return label


def expected_firms(user, quarter: Quarter, district: District | None = None) -> QuerySet:
    """The firms the user sees whose report for the quarter is expected (of one district when
    given), as the template lists them."""
    firms = Enterprise.objects.visible_to(user).filter(expected_to_report(quarter))
    if district is not None:
        firms = firms.filter(district=district)
    return firms.order_by("district__sort_order", "district__code", "name_zh", "pk")


def example_name() -> str:
    return _("【%(example)s, ignored on import】 Suzhou Nano Materials Co., Ltd.") % {
        "example": EXAMPLE_TAG
    }


@functools.cache
def _example_starts() -> tuple[str, ...]:
    """How the example row's name starts, in each language (asked once: a file asks per row)."""
    starts = []
    for language in LANGUAGES:
        with translation.override(language):
            starts.append(f"【{EXAMPLE_TAG}".casefold())
    return tuple(starts)


def is_example(name) -> bool:
    """The template's example row, in either language, left in the file."""
    if not name:
        return False
    return unicodedata.normalize("NFKC", str(name)).strip().casefold().startswith(_example_starts())


def report_template(
    fmt: str, *, firms: Iterable[Enterprise] = (), quarter: Quarter | None = None
) -> tuple[bytes, str]:
    """The quarterly-report template in the user's language: a header, an example row, then
    a row per firm with its code, name and the quarter, for the officer to type the figures
    into (money in 万元, the upload form's default)."""
    headers = [column_label(key) for key in TEMPLATE_COLUMNS]
    period = str(quarter) if quarter else ""
    example = {"uscc": EXAMPLE_USCC, "name": example_name(), "period": period, **EXAMPLE_FIGURES}
    rows = [[example.get(key) for key in TEMPLATE_COLUMNS]]
    for firm in firms:
        rows.append([firm.uscc, safe_cell(firm.name_zh), period] + [None] * (len(headers) - 3))
    title = _("Quarterly reports")
    if fmt == "xlsx":
        return _template_workbook(title, headers, rows), CONTENT_TYPES[fmt]
    rows = [["" if cell is None else cell for cell in row] for row in rows]
    return render(tablib.Dataset(*rows, headers=headers, title=title), fmt)


def _template_workbook(title: str, headers: list[str], rows: list[list]) -> bytes:
    """The template as a workbook: the sheet named for what it holds, the example row set
    apart, the codes kept as text, and the figure columns formatted and limited to numbers
    not below zero (Excel says so as the officer types)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    sheet.freeze_panes = "C2"
    # Room for firms the officer adds below the listed ones.
    last = len(rows) + 1 + 500
    for index, key in enumerate(TEMPLATE_COLUMNS, 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 24 if key in ("uscc", "name") else 16
        if key in FIGURES:
            money = key in MONEY_FIGURES
            check = DataValidation(
                type="decimal" if money else "whole",
                operator="greaterThanOrEqual",
                formula1="0",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=column_label(key),
                error=_("Enter a number not below zero, in 万元.")
                if money
                else _("Enter a whole number not below zero."),
            )
            check.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(check)
        number_format = (
            "#,##0.00"
            if key in MONEY_FIGURES
            else "#,##0"
            if key in COUNT_FIGURES
            else "@"
            if key in ("uscc", "period")
            else None
        )
        if number_format:
            for line in range(2, last + 1):
                sheet.cell(line, index).number_format = number_format
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def enterprise_template(fmt: str) -> tuple[bytes, str]:
    return render(
        tablib.Dataset(headers=bilingual(ENTERPRISE_COLUMNS), title=_("Enterprises")), fmt
    )


def export_reports(queryset, fmt: str) -> tuple[bytes, str]:
    """The reports in the import template's layout, money in yuan."""
    dataset = tablib.Dataset(headers=bilingual(REPORT_COLUMNS))
    for report in queryset.select_related("enterprise").order_by(
        "enterprise__name_zh", "year", "quarter"
    ):
        dataset.append(
            [report.enterprise.uscc, str(report.period)]
            + ["" if getattr(report, f) is None else getattr(report, f) for f in FIGURES]
            + [safe_cell(report.anomaly_note), safe_cell(report.change_reason)]
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


def _normal(text) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text or "")).split()).lower()


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


_WITH_UNIT = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]*)\)$")


def _report_spellings() -> tuple[dict[str, str], dict[str, Unit]]:
    """How a report column's header and a unit in it may be written: the key, the Chinese
    name, "key / 中文" (earlier templates) or the template's label in either language."""
    columns, units = {}, {}
    for key, zh in {**REPORT_COLUMNS, **READER_COLUMNS}.items():
        for spelling in (key, zh, f"{key} / {zh}", f"{key}/{zh}"):
            columns[_normal(spelling)] = key
    for language in LANGUAGES:
        with translation.override(language):
            for key in (*REPORT_COLUMNS, *READER_COLUMNS):
                columns.setdefault(_normal(capfirst(str(COLUMN_LABELS[key]))), key)
            for unit, words in UNIT_WORDS.items():
                units[_normal(words)] = unit
    units.update({"元": Unit.YUAN, "万元": Unit.WAN, "亿元": Unit.YI})
    return columns, units


def _report_columns(headers: list) -> tuple[dict[str, int], dict[str, Unit]]:
    """Header cell → column key, and the unit a money column's header names."""
    spellings, unit_spellings = _report_spellings()
    found, units = {}, {}
    for index, header in enumerate(headers):
        text = _normal(header)
        key, unit = spellings.get(text), None
        if key is None:
            match = _WITH_UNIT.match(text)
            if match:
                key = spellings.get(match["name"])
                unit = unit_spellings.get(match["unit"])
                if key in MONEY_FIGURES and unit is None:
                    key = None  # a unit the import does not know: an unknown column
        if key is None:
            key = spellings.get(text.split("/")[0].strip())
        if key and key not in found:
            found[key] = index
            if unit is not None and key in MONEY_FIGURES:
                units[key] = unit
    return found, units


def _column_map(headers: list) -> dict[str, int]:
    return _report_columns(headers)[0]


def _as_table(dataset) -> Table:
    if isinstance(dataset, Table):
        return dataset
    return Table(1, list(dataset.headers or []), [(i, list(r)) for i, r in enumerate(dataset, 2)])


def reports_import(*, actor, dataset: Table | tablib.Dataset, unit: str, mode: str, dry_run: bool):
    """Check a whole file of quarterly reports through the report pipeline and, when it has no
    error and this is not a dry run, write it. Returns what was (or would be) new, changed and
    unchanged, or the errors with the file's line, column, value and reason. The template's
    example row and rows without figures (firms it lists that the officer left empty) are
    left out."""
    unit_of_upload = Unit(unit)
    table = _as_table(dataset)
    columns, units = _report_columns(table.headers)
    outcome = EntryOutcome()
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
        return outcome
    for index, header in enumerate(table.headers):
        if header not in (None, "") and index not in columns.values():
            # A misspelt figure column would otherwise be dropped without a word.
            outcome.errors.append(
                RowError(
                    table.header_line,
                    str(header),
                    str(header),
                    _("Unknown column; the template's columns are: %(expected)s.")
                    % {"expected": ", ".join(column_label(key, unit) for key in TEMPLATE_COLUMNS)},
                )
            )
    for key, unit in units.items():
        if unit != unit_of_upload:
            # Read in the upload's unit, the column's amounts would be off by a factor.
            header = table.headers[columns[key]]
            outcome.errors.append(
                RowError(
                    table.header_line,
                    key,
                    str(header),
                    _(
                        "The column is in %(column_unit)s but the upload says %(unit)s: choose "
                        "%(column_unit)s as the unit of money columns, or correct the header."
                    )
                    % {"column_unit": UNIT_WORDS[unit], "unit": UNIT_WORDS[unit_of_upload]},
                )
            )
    if outcome.errors:
        return outcome
    rows = []
    for line, values in table.rows:
        cells = {key: values[i] if i < len(values) else None for key, i in columns.items()}
        if is_example(cells.get("name")):
            continue
        if all(cells.get(key) in (None, "") for key in (*FIGURES, *NOTE_COLUMNS)):
            # A firm of the pre-filled template the officer has no figures for (yet).
            continue
        rows.append(
            FigureRow(
                {figure: cells[figure] for figure in FIGURES if figure in cells},
                ref=line,
                uscc=cells.get("uscc"),
                period=cells.get("period"),
                anomaly_note=_text(cells.get("anomaly_note")),
                change_reason=_text(cells.get("change_reason")),
            )
        )
    return reports_enter(
        actor=actor, rows=rows, unit=unit, mode=mode, dry_run=dry_run, source="import"
    )


def shown_errors(errors: list[RowError], unit: str, headers: list) -> list[RowError]:
    """The errors as the preview shows them: each column by its header in the user's
    language, money in the unit its header names (else the upload's), never by its key."""
    units = _report_columns(headers)[1]
    return [
        RowError(
            error.line,
            ", ".join(
                column_label(key, units.get(key, unit))
                for key in (part.strip() for part in error.column.split(","))
            ),
            error.value,
            error.reason,
        )
        for error in errors
    ]


def enterprise_column_label(key: str) -> str:
    """An enterprise file's column (or a firm's field an error is on) in the user's language:
    the label of the field the column fills."""
    if key == NON_FIELD_ERRORS:
        return ""
    if key in FIRM_COLUMNS:
        model, name = Enterprise, key
    else:
        fields = {column: field for field, column in MEMBERSHIP_FIELD_COLUMNS.items()}
        model, name = ClusterMembership, fields.get(key, key)
    try:
        return capfirst(str(model._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return key


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def file_format(name: str) -> str | None:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else None
