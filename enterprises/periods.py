"""Which quarters may be reported, and when reports are due: the one owner of a period's
bounds for every door (worksheet, API, bulk API, import, admin) and every page that offers a
quarter.

- A quarter is reported once it has ended. The steward may open the current quarter for
  drafts from its first day (ReportingPolicy); it is submitted once it has ended.
- Nothing is reported before the register's first year, nor for a quarter that ended before
  the firm was founded.
- Reports are due REPORT_DEADLINE_DAYS after the quarter ends (days_to_deadline counts down
  to it, then counts the days late).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from cluster.quarters import Quarter

from .models import ReportingPolicy


def deadline_of(quarter: Quarter) -> dt.date:
    return quarter.end + dt.timedelta(days=settings.REPORT_DEADLINE_DAYS)


@dataclass(frozen=True)
class Countdown:
    """Where `today` stands against a quarter's deadline, as DHIS2's data entry shows it: the
    days left before it, or the days late after it."""

    deadline: dt.date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_late(self) -> int:
        return max(-self.days_left, 0)


def days_to_deadline(quarter: Quarter, today: dt.date) -> Countdown:
    """The countdown to the quarter's deadline on `today`: 0 on the day itself, negative
    once it has passed. Every page that states a deadline says it through this."""
    deadline = deadline_of(quarter)
    return Countdown(deadline=deadline, days_left=(deadline - today).days)


def has_ended(quarter: Quarter, today: dt.date) -> bool:
    return quarter.end < today


def founded_by(quarter: Quarter) -> dt.date:
    """The last founding date of a firm that has figures for `quarter`: a firm founded after
    the quarter ended reports nothing for it (ReportingWindow.problem, expected_to_report)."""
    return quarter.end


@dataclass(frozen=True)
class ReportingWindow:
    """The quarters open for reporting on `today`: `first` to `last`, both included."""

    first: Quarter
    last: Quarter
    today: dt.date

    @classmethod
    def on(cls, today: dt.date, policy: ReportingPolicy | None = None) -> ReportingWindow:
        policy = policy or ReportingPolicy.current()
        current = Quarter.from_date(today)
        last = current if policy.current_quarter_drafts else current.previous()
        return cls(Quarter(policy.first_year, 1), max(last, Quarter(policy.first_year, 1)), today)

    @property
    def being_reported(self) -> Quarter:
        """The quarter districts are reporting now: the latest one that has ended."""
        return max(self.first, Quarter.from_date(self.today).previous())

    def __contains__(self, quarter: Quarter) -> bool:
        return self.first <= quarter <= self.last

    def clamp(self, quarter: Quarter) -> Quarter:
        return min(max(quarter, self.first), self.last)

    @property
    def current_open(self) -> bool:
        """The quarter under way is open for drafts (the steward allows it)."""
        return self.last == Quarter.from_date(self.today)

    @property
    def has_opened(self) -> bool:
        """A quarter of the register has ended, or the one under way takes drafts. Before the
        register's first quarter has ended (the clock before its first year), `first` to
        `last` is that quarter only, by clamping, and nothing is open yet."""
        return has_ended(self.first, self.today) or self.current_open

    def statement(self) -> str:
        """The rule in words, as every page, the import and the API state it."""
        if not self.has_opened:
            return _(
                "Reporting opens on %(opens)s, once %(first)s has ended; reports are due "
                "%(days)d days later."
            ) % {
                "opens": formats.date_format(self.first.end + dt.timedelta(days=1)),
                "first": self.first.label(),
                "days": settings.REPORT_DEADLINE_DAYS,
            }
        text = _(
            "Open for reporting: %(first)s to %(last)s. A quarter opens once it has ended; "
            "reports are due %(days)d days later."
        ) % {
            "first": self.first.label(),
            "last": self.last.label(),
            "days": settings.REPORT_DEADLINE_DAYS,
        }
        if self.current_open:
            text += " " + _(
                "The quarter under way takes drafts already; they are submitted once it has ended."
            )
        return text

    def problem(
        self, quarter: Quarter, *, founded_on: dt.date | None = None, submitting: bool = False
    ) -> str | None:
        """Why figures for `quarter` cannot be entered (or submitted) now, or None."""
        if quarter < self.first:
            return _(
                "%(quarter)s is before the register's first year (%(year)s); no reports are "
                "kept for it."
            ) % {"quarter": quarter.label(), "year": self.first.year}
        if not has_ended(quarter, self.today) and (submitting or quarter not in self):
            return _(
                "%(quarter)s has not ended yet: its reports open on %(opens)s, once it has ended."
            ) % {
                "quarter": quarter.label(),
                "opens": formats.date_format(quarter.end + dt.timedelta(days=1)),
            }
        if founded_on is not None and founded_on > founded_by(quarter):
            return _(
                "The firm was founded on %(founded)s, after %(quarter)s ended: it has no "
                "figures for that quarter."
            ) % {"founded": formats.date_format(founded_on), "quarter": quarter.label()}
        return None
