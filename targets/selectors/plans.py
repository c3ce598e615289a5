"""Which plan applies to a quarter of a cluster, and in which phase: the one owner of the
phase logic that the dashboard, the brief, the alerts, the API and the exports follow."""

from __future__ import annotations

from cluster.models import Cluster, Plan
from cluster.quarters import Quarter


def plan_for(cluster: Cluster, quarter: Quarter) -> Plan | None:
    """The plan in force at the end of `quarter`, else the latest one that ended before it."""
    plans = Plan.objects.filter(cluster=cluster, starts_on__lte=quarter.end)
    return plans.order_by("-starts_on").first()
