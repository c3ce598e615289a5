"""The registry of alert rules: each rule is a function of (rule row, today) that yields the
conditions holding now, registered under its AlertKind by the module that defines it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport

from ..models import AlertRule

YI = Decimal(100_000_000)


@dataclass
class Condition:
    """One thing a rule finds wrong now, with its deduplication key and the numbers behind it."""

    key: str
    severity: int
    owner_id: int | None
    message: Callable[[], str]
    numbers: dict = field(default_factory=dict)
    target_id: int | None = None
    enterprise_id: int | None = None
    designation_id: int | None = None
    district_id: int | None = None


Evaluator = Callable[[AlertRule, dt.date], Iterable[Condition]]
RULES: dict[str, Evaluator] = {}


def register(kind: str) -> Callable[[Evaluator], Evaluator]:
    def wrap(evaluator: Evaluator) -> Evaluator:
        if kind in RULES:
            raise ValueError(f"alert rule {kind} registered twice")
        RULES[kind] = evaluator
        return evaluator

    return wrap


def money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def latest_quarter() -> Quarter | None:
    latest = (
        QuarterlyReport.objects.order_by("-year", "-quarter").values_list("year", "quarter").first()
    )
    return Quarter(*latest) if latest else None
