"""Money as people in the cluster read it.

Chinese: 万元 and 亿元 with three-digit grouping, as statistical bulletins print them (Django's
zh-hans locale would group by four). English: ¥ m for a firm's figures and ¥ bn for totals, as
English-language reporting on China writes them. A minus sign goes before the currency
("−¥4.27 bn"), as people write a loss, never inside it ("¥-4.27 bn").
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
MILLION = Decimal(1_000_000)
BILLION = Decimal(1_000_000_000)
MINUS = "\u2212"


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


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _money(yuan: Decimal, divisor: Decimal, places: int, chinese_unit: str, english_unit: str):
    amount = grouped(abs(Decimal(yuan)) / divisor, places)
    # Rounded to zero, a tiny loss reads as zero, not "−0.00".
    sign = MINUS if yuan < 0 and amount.strip("0.,") else ""
    if _english():
        return f"{sign}¥{amount} {english_unit}"
    return f"{sign}{amount} {chinese_unit}"


def firm_unit() -> tuple[Decimal, str]:
    """The divisor and unit name of a firm's figures (tables' headers, charts' axes)."""
    return (MILLION, "¥ m") if _english() else (WAN, "万元")


def total_unit() -> tuple[Decimal, str]:
    """The divisor and unit name of totals (tables' headers, charts' axes, spreadsheets)."""
    return (BILLION, "¥ bn") if _english() else (YI, "亿元")


def yuan_as_wan(yuan: Decimal | None, places: int = 2) -> str:
    """A firm's figure: ¥12,345,678.90 → '1,234.57 万元' in Chinese, '¥12.35 m' in English."""
    if yuan is None:
        return "—"
    return _money(yuan, firm_unit()[0], places, "万元", "m")


def yuan_as_yi(yuan: Decimal | None, places: int = 2) -> str:
    """A total: ¥123,456,789,000 → '1,234.57 亿元' in Chinese, '¥123.46 bn' in English."""
    if yuan is None:
        return "—"
    return _money(yuan, total_unit()[0], places, "亿元", "bn")
