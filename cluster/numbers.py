"""Numbers as people type them into forms and spreadsheets.

Normalised (documented in the README, "Import: what is normalised"): full-width digits and
punctuation (１２３，４５６．７), thousands separators (1,234.5), surrounding spaces, a
currency sign (¥ ￥ RMB CNY) and, for money, a unit written in the cell (1,234.5万元,
3.2亿, 800元), which then overrides the unit chosen for the file. Refused with a reason:
scientific notation (Excel saves long numbers to CSV as 1.23457E+11, dropping digits),
misplaced separators, percentages and text.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

# A number as most cells hold it (12345.67, 120): read as it is, nothing to normalise; a
# tenth of a 10,000-row import went into normalising such cells.
_SIMPLE = re.compile(r"[0-9]+(\.[0-9]+)?\Z")
_GROUPED = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?e[+-]?\d+$", re.IGNORECASE)
_CURRENCY = re.compile(r"^(¥|RMB|CNY)", re.IGNORECASE)
# Longest first, so that 万元 is not read as 元.
MONEY_UNITS = {
    "亿元": Decimal(100_000_000),
    "亿": Decimal(100_000_000),
    "万元": Decimal(10_000),
    "万": Decimal(10_000),
    "千元": Decimal(1_000),
    "元": Decimal(1),
}
COUNT_UNITS = ("人", "件", "项", "个")


class NumberError(ValueError):
    """A cell that is not a number, with the reason in the active language."""

    def __init__(self, text: str, reason: str | None = None) -> None:
        self.text = text
        self.reason = reason or _("Not a number; write it like 1,234.56.")
        super().__init__(self.reason)


def _normalise(text) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "").replace("\u3000", "")


def _plain(cleaned: str, original) -> Decimal:
    if _SCIENTIFIC.match(cleaned):
        raise NumberError(
            str(original),
            _(
                "Written in scientific notation, as Excel saves long numbers to CSV, which may "
                "have dropped digits; format the column as a number and save again."
            ),
        )
    if cleaned.endswith("%"):
        raise NumberError(str(original), _("A percentage, not an amount."))
    if not _GROUPED.match(cleaned):
        raise NumberError(str(original))
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise NumberError(str(original)) from None


def parse_decimal(text) -> Decimal | None:
    """'1,234.5' / '１，２３４．５' / ' 1234.50 ' → Decimal('1234.5'); '' → None.

    Raises NumberError (a ValueError) for anything else."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise NumberError(str(text))
    if isinstance(text, Decimal):
        return text
    if isinstance(text, int | float):
        return Decimal(str(text))
    if isinstance(text, str) and _SIMPLE.match(text):
        return Decimal(text)
    cleaned = _normalise(text)
    if not cleaned:
        return None
    return _plain(cleaned, text)


def parse_amount(text) -> tuple[Decimal | None, Decimal | None]:
    """Money as written in a cell: (value, unit factor written in the cell or None).

    '1,234.5万元' → (Decimal('1234.5'), Decimal(10000)); '￥800' → (Decimal(800), None)."""
    if text is None or (isinstance(text, int | float | Decimal) and not isinstance(text, bool)):
        return parse_decimal(text), None
    if isinstance(text, str) and _SIMPLE.match(text):
        return Decimal(text), None
    cleaned = _CURRENCY.sub("", _normalise(text))
    if not cleaned:
        return None, None
    for unit, factor in MONEY_UNITS.items():
        if cleaned.endswith(unit):
            number = cleaned[: -len(unit)]
            if not number:
                raise NumberError(str(text))
            return _plain(number, text), factor
    return _plain(cleaned, text), None


def parse_count(text) -> Decimal | None:
    """A count as written in a cell: '120人' / '１２０' → Decimal(120)."""
    if isinstance(text, str) and not _SIMPLE.match(text):
        cleaned = _normalise(text)
        for unit in COUNT_UNITS:
            if cleaned.endswith(unit) and len(cleaned) > len(unit):
                return _plain(cleaned[: -len(unit)], text)
    return parse_decimal(text)
