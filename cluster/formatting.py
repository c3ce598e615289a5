"""Money as people in the cluster read it: 万元 and 亿元 with digit grouping."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

WAN = Decimal(10_000)
YI = Decimal(100_000_000)


def _grouped(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return number_format(
        value.quantize(quantum, rounding=ROUND_HALF_UP), places, force_grouping=True
    )


def yuan_as_wan(yuan: Decimal | None, places: int = 2) -> str:
    """¥12,345,678.90 → '1,234.57 万元'."""
    if yuan is None:
        return "—"
    return _("%(amount)s ten-thousand yuan") % {"amount": _grouped(yuan / WAN, places)}


def yuan_as_yi(yuan: Decimal | None, places: int = 2) -> str:
    """¥123,456,789,000 → '1,234.57 亿元'."""
    if yuan is None:
        return "—"
    return _("%(amount)s hundred-million yuan") % {"amount": _grouped(yuan / YI, places)}
