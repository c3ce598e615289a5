"""Numbers as people type them into forms and spreadsheets."""

import re
from decimal import Decimal, InvalidOperation

# Full-width digits and punctuation (１２３，４５６．７) as Chinese input methods produce them.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９，．－＋　", "0123456789,.-+ ")
_GROUPED = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def parse_decimal(text) -> Decimal | None:
    """'1,234.5' / '１，２３４．５' / ' 1234.50 ' → Decimal('1234.5'); '' → None.

    Raises ValueError for anything else (text, misplaced separators, several dots)."""
    if text is None:
        return None
    if isinstance(text, Decimal):
        return text
    if isinstance(text, int | float):
        return Decimal(str(text))
    cleaned = str(text).translate(_FULL_WIDTH).strip().replace(" ", "")
    if not cleaned:
        return None
    if not _GROUPED.match(cleaned):
        raise ValueError(cleaned)
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise ValueError(cleaned) from None
