"""Reading uploaded spreadsheets safely, and writing cells that cannot run as formulas.

`read_table` turns an uploaded .xlsx or .csv into numbered rows, the way the user sees them
in Excel (line 1 is the first line of the sheet), refusing with a translated reason:
files that expand beyond IMPORT_MAX_UNCOMPRESSED_BYTES when unpacked (xlsx "zip bombs"),
damaged files, binary files labelled .csv, and formulas whose result was never saved.

Normalised (README, "Import: what is normalised"):
- CSV in UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text") or GB18030/GBK (what
  Excel on a Chinese Windows saves as "CSV"); comma, tab or semicolon separated.
- A header row below title lines: the first of the first 10 rows the caller recognises.
- Merged cells: the value shown applies to every cell of the merged range.
- Formulas: the result Excel saved with the file.
- Excel dates stay dates (the period parser reads them as the quarter holding the date).

Two xlsx readers give the same cells: calamine (Rust) for a plain workbook, openpyxl for one
with formulas or a DTD, which only it reads the way the user must hear about them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import openpyxl
import python_calamine
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils.cell import range_boundaries

HEADER_SEARCH_ROWS = 10
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class SheetError(ValueError):
    """The file as a whole cannot be read; the message says why, in the active language."""


@dataclass
class Table:
    header_line: int
    headers: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)  # (line in the file, cells)


def safe_cell(value):
    """A value for a spreadsheet cell that Excel will not run as a formula (CSV/formula
    injection, OWASP): text starting with = + - @ or a tab/CR gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- reading ---------------------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.0f}"


def _check_archive(content: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise SheetError(
            _("This is not an .xlsx workbook (the file is damaged or of another kind).")
        ) from None
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    # zipfile never reads a member past its declared size, so the declared sizes bound
    # what parsing can unpack.
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > limit:
        raise SheetError(
            _(
                "The workbook expands to %(size)s MB when unpacked, more than the %(limit)s MB "
                "allowed; it may be a 'zip bomb'. Save only the data sheet and try again."
            )
            % {"size": _megabytes(unpacked), "limit": _megabytes(limit)}
        )
    return archive


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')
# What only openpyxl reads as the user meant it: a formula (calamine gives its saved result,
# and nothing for one never calculated, where the user must hear which cell holds it) and a
# DTD (defusedxml refuses its entities; calamine would show them as text).
_NEEDS_OPENPYXL = re.compile(rb"<(?:\w+:)?f[\s>/]|<!DOCTYPE")
_SCAN_OVERLAP = 64


def _scan(archive: zipfile.ZipFile, name: str, pattern: re.Pattern) -> list[bytes]:
    """The matches of `pattern` in a member of the archive, read in chunks (a member's size
    is bounded by _check_archive, its content is not trusted)."""
    found, tail = [], b""
    with archive.open(name) as source:
        while chunk := source.read(1 << 20):
            data = tail + chunk
            found.extend(match.group(0) for match in pattern.finditer(data))
            tail = data[-_SCAN_OVERLAP:]
    return found


def _needs_openpyxl(archive: zipfile.ZipFile) -> bool:
    return any(
        _scan(archive, info.filename, _NEEDS_OPENPYXL)
        for info in archive.infolist()
        if info.filename.endswith(".xml")
    )


def _merged_ranges(sheet) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a read-only sheet, from its XML (read-only sheets do not keep them);
    they follow the cell data, so the stream is scanned in chunks."""
    ranges, tail = [], b""
    with sheet._get_source() as source:
        while chunk := source.read(1 << 20):
            data = tail + chunk
            ranges.extend(match.group(1) for match in _MERGE.finditer(data))
            tail = data[-200:]
            # A match inside the overlap is found twice: keep each range once.
    return [range_boundaries(ref.decode()) for ref in dict.fromkeys(ranges)]


def _unreadable(exc: Exception) -> SheetError:
    cause = exc
    while cause.__cause__ or cause.__context__:  # openpyxl wraps the XML parser's error
        cause = cause.__cause__ or cause.__context__
    return SheetError(
        _("The workbook cannot be read: %(error)s") % {"error": cause.__class__.__name__}
    )


def openpyxl_rows(content: bytes) -> list[list]:
    """The first worksheet's cells read by openpyxl (read-only), formulas replaced by the
    results Excel saved, merged ranges filled."""
    _check_archive(content)
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        merges = _merged_ranges(sheet)
        book.close()
    except SheetError:
        raise
    except Exception as exc:  # any parser failure is a damaged file to the user
        raise _unreadable(exc) from None
    formulas = [
        (r, c)
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if isinstance(value, str) and value.startswith("=")
    ]
    if formulas:
        # The results Excel saved with the file; a formula never calculated has none.
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        computed = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        for r, c in formulas:
            value = computed[r][c] if r < len(computed) and c < len(computed[r]) else None
            if value is None:
                raise SheetError(
                    _(
                        "Line %(line)s, column %(column)s holds the formula %(formula)s with no "
                        "saved result; open the file in Excel and save it, or paste values."
                    )
                    % {
                        "line": r + 1,
                        "column": openpyxl.utils.get_column_letter(c + 1),
                        "formula": rows[r][c],
                    }
                )
            rows[r][c] = value
    return _fill_merges(rows, merges)


# Every whole number up to this is exactly a float; Excel writes larger ones as 1E+20.
_EXACT_FLOAT_INTEGERS = 2**53


def _as_openpyxl_reads(value):
    """A calamine cell as openpyxl gives it: an empty cell is None, a whole number an int (Excel
    writes 1000, not 1000.0), a date cell a datetime at midnight."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < _EXACT_FLOAT_INTEGERS:
        return int(value)
    if type(value) is dt.date:
        return dt.datetime.combine(value, dt.time())
    return value


def calamine_rows(content: bytes) -> list[list]:
    """The first worksheet's cells read by calamine (Rust), as openpyxl_rows gives them, for a
    workbook without formulas or a DTD."""
    _check_archive(content)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        index = next(
            i
            for i, sheet in enumerate(book.sheets_metadata)
            if sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
        )
        sheet = book.get_sheet_by_index(index)
        # From A1, so that a row's index is its line in Excel.
        rows = [
            [_as_openpyxl_reads(value) for value in row]
            for row in sheet.to_python(skip_empty_area=False)
        ]
        merges = [
            (first_col + 1, first_row + 1, last_col + 1, last_row + 1)
            for (first_row, first_col), (last_row, last_col) in sheet.merged_cell_ranges or ()
        ]
        book.close()
    except Exception as exc:  # any parser failure is a damaged file to the user
        raise _unreadable(exc) from None
    return _fill_merges(rows, merges)


def _fill_merges(rows: list[list], merges: list[tuple[int, int, int, int]]) -> list[list]:
    """The value shown in a merged range applies to every cell of it."""
    for min_col, min_row, max_col, max_row in merges:
        if min_row > len(rows):
            continue
        top = rows[min_row - 1]
        value = top[min_col - 1] if min_col - 1 < len(top) else None
        for r in range(min_row - 1, min(max_row, len(rows))):
            row = rows[r]
            row.extend([None] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                row[c] = value
    return rows


def _xlsx_rows(content: bytes) -> list[list]:
    """calamine reads a plain workbook about ten times faster than openpyxl (bench/,
    "xlsx reader"); openpyxl reads those with formulas or a DTD."""
    if _needs_openpyxl(_check_archive(content)):
        return openpyxl_rows(content)
    return calamine_rows(content)


def decode_text(content: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (a superset of GBK and GB2312)."""
    utf16 = content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in content[:4096] and not utf16:
        raise SheetError(_("This is not a text (CSV) file."))
    for encoding in ("utf-8-sig", "utf-16" if utf16 else "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(_('The text is neither UTF-8 nor GBK/GB18030; save the file as "CSV UTF-8".'))


def _csv_rows(content: bytes) -> list[list]:
    text = decode_text(content)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise SheetError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from None


def read_table(content: bytes, fmt: str, is_header: Callable[[list], bool]) -> Table:
    """The rows of the first sheet (or the CSV), from the header row on."""
    if not content.strip():
        raise SheetError(_("The file is empty."))
    rows = _xlsx_rows(content) if fmt == "xlsx" else _csv_rows(content)
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if is_header(row):
            headers = ["" if cell is None else str(cell).strip() for cell in row]
            return Table(
                header_line=index + 1,
                headers=headers,
                rows=[(line, cells) for line, cells in enumerate(rows[index + 1 :], index + 2)],
            )
    raise SheetError(
        _(
            "No header row found in the first %(count)s lines; use the template's headers "
            "(English or Chinese)."
        )
        % {"count": HEADER_SEARCH_ROWS}
    )
