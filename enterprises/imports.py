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

import unicodedata

import tablib
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, XLSX

from cluster.spreadsheets import SheetError, Table, read_table, safe_cell

from .models import FIGURES
from .resources import ENTERPRISE_COLUMNS, EnterpriseResource
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


def _as_table(dataset) -> Table:
    if isinstance(dataset, Table):
        return dataset
    return Table(1, list(dataset.headers or []), [(i, list(r)) for i, r in enumerate(dataset, 2)])


def reports_import(*, actor, dataset: Table | tablib.Dataset, unit: str, mode: str, dry_run: bool):
    """Check a whole file of quarterly reports through the report pipeline and, when it has no
    error and this is not a dry run, write it. Returns what was (or would be) new, changed and
    unchanged, or the errors with the file's line, column, value and reason."""
    table = _as_table(dataset)
    columns = _column_map(table.headers)
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
                    % {"expected": ", ".join(REPORT_COLUMNS)},
                )
            )
    if outcome.errors:
        return outcome
    rows = []
    for line, values in table.rows:
        cells = {key: values[i] if i < len(values) else None for key, i in columns.items()}
        if all(v in (None, "") for v in cells.values()):
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


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def file_format(name: str) -> str | None:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else None
