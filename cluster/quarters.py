"""Quarters: the period every figure of the cluster is reported in.

Statistics offices publish year-to-date cumulative values (1-3月, 1-6月 ...); the helpers
at the bottom turn those into quarterly values and back.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import total_ordering

from django.utils.translation import gettext as _

_PATTERN = re.compile(r"^\s*(\d{4})\s*Q([1-4])\s*$", re.IGNORECASE)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_Q = r"(?P<quarter>[1-4一二三四])"
_SPELLINGS = [
    re.compile(rf"^(?P<year>\d{{4}}|\d{{2}}) ?[-/._]? ?Q ?{_Q}$", re.IGNORECASE),
    re.compile(rf"^Q ?{_Q} ?[-/._,]? ?(?P<year>\d{{4}})$", re.IGNORECASE),
    re.compile(rf"^(?P<year>\d{{4}}) ?年 ?(?:第 ?)?{_Q} ?季(?:度)?$"),
    re.compile(rf"^(?P<year>\d{{4}}) ?年 ?Q ?{_Q}$", re.IGNORECASE),
]
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?: 00:00(?::00)?)?$")

MIN_YEAR = 1990
MAX_YEAR = 2100


@total_ordering
@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not isinstance(self.year, int) or not isinstance(self.quarter, int):
            raise TypeError("Quarter takes integers")
        if not 1 <= self.quarter <= 4:
            raise ValueError(_("Quarter must be between 1 and 4, got %(q)s") % {"q": self.quarter})
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(
                _("Year must be between %(min)s and %(max)s, got %(year)s")
                % {"min": MIN_YEAR, "max": MAX_YEAR, "year": self.year}
            )

    # --- construction -----------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Parse the canonical form `2025Q3` (case-insensitive, surrounding spaces allowed)."""
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(
                _("%(value)r is not a quarter; write it like 2025Q3") % {"value": text}
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def parse_spelling(cls, value) -> Quarter:
        """A period as people write it in spreadsheets, for the import (documented in
        README, "Import: what is normalised"):

        2025Q3, 2025 q3, 2025-Q3, 2025/Q3, 2025.Q3, 25Q3, Q3 2025, Q3-2025, 2025年第三季度,
        2025年三季度, 2025年第3季度, 2025年3季度, 2025年Q3, full-width forms of all of
        these (２０２５Ｑ３), and a date (an Excel date cell or 2025-09-30), meaning the
        quarter holding it. Month spellings (2025年9月, 2025-3) are refused: they do not say
        a quarter.
        """
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls.from_date(value)
        text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
        text = re.sub(r"\s+", " ", text)
        for pattern in _SPELLINGS:
            match = pattern.match(text)
            if match:
                year, quarter = match.group("year"), match.group("quarter")
                year = int(year) + 2000 if len(year) == 2 else int(year)
                quarter = _CHINESE_DIGITS.get(quarter) or int(quarter)
                return cls(year, quarter)
        match = _ISO_DATE.match(text)
        if match:
            try:
                return cls.from_date(dt.date(*map(int, match.groups())))
            except ValueError:
                pass
        raise ValueError(_("Not a quarter; write it like 2025Q3, 2025-Q3 or 2025年第三季度."))

    @classmethod
    def from_date(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def from_ordinal(cls, ordinal: int) -> Quarter:
        year, index = divmod(ordinal, 4)
        return cls(year, index + 1)

    # --- arithmetic ---------------------------------------------------------------------
    @property
    def ordinal(self) -> int:
        """Quarters since year 0: consecutive quarters differ by one."""
        return self.year * 4 + self.quarter - 1

    def __add__(self, quarters: int) -> Quarter:
        if not isinstance(quarters, int):
            return NotImplemented
        return Quarter.from_ordinal(self.ordinal + quarters)

    def __sub__(self, other: int | Quarter):
        if isinstance(other, Quarter):
            return self.ordinal - other.ordinal
        if isinstance(other, int):
            return Quarter.from_ordinal(self.ordinal - other)
        return NotImplemented

    def __lt__(self, other: Quarter) -> bool:
        if not isinstance(other, Quarter):
            return NotImplemented
        return self.ordinal < other.ordinal

    def step(self, quarters: int) -> Quarter | None:
        """The quarter `quarters` away, or None past the years a Quarter holds: for a page's
        "earlier" and "later" links, which end there instead of failing."""
        try:
            return self + quarters
        except ValueError:
            return None

    def next(self) -> Quarter:
        return self + 1

    def previous(self) -> Quarter:
        return self - 1

    def same_quarter_last_year(self) -> Quarter:
        return Quarter(self.year - 1, self.quarter)

    # --- dates ----------------------------------------------------------------------------
    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        # From the quarter's own last month: the quarter after the last one there is
        # (MAX_YEAR Q4) is no Quarter.
        month = 3 * self.quarter
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    # --- year to date ---------------------------------------------------------------------
    def year_to_date(self) -> list[Quarter]:
        """The quarters a year-to-date figure for this quarter covers (Q1 up to this one)."""
        return [Quarter(self.year, q) for q in range(1, self.quarter + 1)]

    @property
    def is_year_end(self) -> bool:
        return self.quarter == 4

    # --- text ------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    def label(self) -> str:
        """Human label in the active language: 2025年第3季度 / Q3 2025."""
        return _("%(year)s Q%(quarter)s") % {"year": self.year, "quarter": self.quarter}

    def ytd_label(self) -> str:
        """Label of the year-to-date period: 2025年1-3季度 / 2025 Q1-Q3."""
        return _("%(year)s Q1-Q%(quarter)s cumulative") % {
            "year": self.year,
            "quarter": self.quarter,
        }


def quarter_range(first: Quarter, last: Quarter) -> Iterator[Quarter]:
    """Every quarter from first to last, both included."""
    for ordinal in range(first.ordinal, last.ordinal + 1):
        yield Quarter.from_ordinal(ordinal)


class YearToDateError(ValueError):
    """A cumulative series that goes down: the later figure cannot be right."""

    def __init__(self, quarter: Quarter, value: Decimal, previous: Decimal) -> None:
        self.quarter = quarter
        self.value = value
        self.previous = previous
        super().__init__(
            _(
                "The year-to-date value for %(quarter)s (%(value)s) is smaller than "
                "the one for the previous quarter (%(previous)s)"
            )
            % {"quarter": quarter, "value": value, "previous": previous}
        )


def quarterly_from_year_to_date(
    year: int, cumulative: Sequence[Decimal], *, first_quarter: int = 1, opening=Decimal(0)
) -> list[Decimal]:
    """Turn cumulative values Q1..Qn (or from `first_quarter`, given the cumulative value
    before it as `opening`) into the value of each single quarter."""
    values = []
    previous = opening
    for offset, total in enumerate(cumulative):
        quarter = Quarter(year, first_quarter + offset)
        if total < previous:
            raise YearToDateError(quarter, total, previous)
        values.append(total - previous)
        previous = total
    return values


def year_to_date_from_quarterly(quarterly: Sequence[Decimal]) -> list[Decimal]:
    """Running totals of quarterly values from Q1 on."""
    totals = []
    running = Decimal(0)
    for value in quarterly:
        running += value
        totals.append(running)
    return totals
