"""Alert rules, one module each, registered by kind (`registry.RULES`).

A rule is a function of its AlertRule row (the steward's parameters) and the date; it yields
the conditions that hold now. `targets.services.alerts.alerts_evaluate` reconciles them with the
stored alerts (open, refresh, resolve) and owns the alert lifecycle.
"""

from . import (  # noqa: F401  (each module registers its rules)
    designation_expiring,
    duplicate_firm,
    figure_jump,
    peer_outlier,
    report_overdue,
    target_status,
    threshold_crossed,
    unit_mistake,
)
from .registry import RULES, Condition

__all__ = ["RULES", "Condition"]
