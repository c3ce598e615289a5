"""Money as people in the cluster read it.

Chinese: 万元 and 亿元 with three-digit grouping, as statistical bulletins print them (Django's
zh-hans locale would group by four). English: yuan in ten-thousands for entry, and billions
for totals.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
BILLION = Decimal(1_000_000_000)


def grouped(value: Decimal, places: int) -> str:
    """Three-digit grouping with a fixed number of decimals: 1234567.891 → '1,234,567.89'."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def percent(share, places: int = 1) -> str:
    """A share as a percentage: 0.0321 → '3.2%'; '—' when unknown."""
    if share is None:
        return "—"
    return f"{grouped(Decimal(share) * 100, places)}%"


def signed_percent(change, places: int = 1, missing: str = "—") -> str:
    """A change already in percent, with its sign: 6.666 → '+6.7%'."""
    if change is None:
        return missing
    quantum = Decimal(1).scaleb(-places)
    return f"{Decimal(change).quantize(quantum, rounding=ROUND_HALF_UP):+}%"


def yuan_as_wan(yuan: Decimal | None, places: int = 2) -> str:
    """¥12,345,678.90 → '1,234.57 万元' / '1,234.57 ten-thousand yuan'."""
    if yuan is None:
        return "—"
    return _("%(amount)s ten-thousand yuan") % {"amount": grouped(yuan / WAN, places)}


def yuan_as_yi(yuan: Decimal | None, places: int = 2) -> str:
    """¥123,456,789,000 → '1,234.57 亿元' in Chinese, '¥123.46 bn' in English."""
    if yuan is None:
        return "—"
    if (get_language() or "").startswith("en"):
        return f"¥{grouped(yuan / BILLION, places)} bn"
    return f"{grouped(yuan / YI, places)} 亿元"
