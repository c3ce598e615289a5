"""Now and today, from one place (STYLE 15: right on any date).

Code that needs the date asks here, at the edge (a view, a task, a command), and passes it
down to services and selectors as an argument. Tests pin the clock with time-machine, which
moves what these return (and everything else that reads the system clock)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """The current moment, time-zone aware (stored in UTC)."""
    return timezone.now()


def today() -> dt.date:
    """Today's date in the city's time zone (Asia/Shanghai)."""
    return timezone.localdate()
