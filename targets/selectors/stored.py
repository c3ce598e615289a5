"""Reading the stored figures (targets.models.StoredFigures): the one owner of "are a
cluster's stored figures current for the vintage a page shows" and of falling back to
computing a part on the fly when they are not.

The progress job stores each part city-wide, per cluster, quarter, basis and vintage (the
services in targets.services.stored); a district's or direction's page takes its rows of the
city's part. A vintage's row stays valid for the later vintages until a change of figures
touches its quarter, when the job writes a new row, so a page reads, per part, the newest
row known at its vintage — provided the job has stored the cluster's figures through that
vintage. Otherwise (the job has not run since the figures changed, or the vintage is older
than anything stored) the page computes the part itself, from the same function the job
uses, so both give the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.functional import cached_property

from cluster.quarters import Quarter
from enterprises.models import Enterprise, QuarterlyReport, ReportRevision

from ..choices import Basis
from ..models import StoredCompleteness, StoredFigures, StoredThrough


def money(value) -> str | None:
    """A Decimal as the payload keeps it: exact, as text."""
    return None if value is None else str(value)


def decimal(text) -> Decimal | None:
    return None if text is None else Decimal(text)


class StoredParts:
    """The stored parts of one cluster's quarter on one basis as known at `vintage`: one
    query, on the first part asked for."""

    def __init__(self, cluster_id: int, quarter: Quarter, basis: str, vintage: dt.datetime | None):
        self.cluster_id = cluster_id
        self.quarter = quarter
        self.basis = basis
        self.vintage = vintage
        # The parts this page had to compute itself (none when the store is current).
        self.computed: list[str] = []

    @cached_property
    def _rows(self) -> dict[str, object]:
        if self.vintage is None:
            return {}
        same = {
            "cluster_id": self.cluster_id,
            "year": self.quarter.year,
            "quarter": self.quarter.quarter,
            "basis": self.basis,
        }
        newest = (
            StoredFigures.objects.filter(**same, part=OuterRef("part"), vintage__lte=self.vintage)
            .order_by("-vintage")
            .values("vintage")[:1]
        )
        current = StoredThrough.objects.filter(
            cluster_id=self.cluster_id, basis=self.basis, through__gte=self.vintage
        )
        rows = StoredFigures.objects.filter(
            Exists(current), **same, vintage=Subquery(newest)
        ).values_list("part", "payload")
        return dict(rows)

    @property
    def held(self) -> bool:
        """The store holds this quarter through the vintage shown."""
        return bool(self._rows)

    def get(self, part: str, compute: Callable[[], object]):
        """The stored payload of `part`, or `compute()`'s where the store is not current."""
        if part in self._rows:
            return self._rows[part]
        self.computed.append(part)
        return compute()


COVERAGE = "coverage"


def stored_coverage(
    cluster_ids, moment: dt.datetime, quarters: list[Quarter] | None = None
) -> dict[int, dict[Quarter, tuple[int, int]]]:
    """(expected, approved) of the clusters' stored quarters (those asked for, or all), as
    known at `moment`, for the clusters whose store holds every approval known then; the
    others are not in the answer. Three queries."""
    known = (
        ReportRevision.objects.filter(approved_at__lte=moment)
        .order_by("-approved_at")
        .values_list("approved_at", flat=True)
        .first()
    )
    if known is None:
        return {}
    current = list(
        StoredThrough.objects.filter(
            cluster_id__in=cluster_ids, basis=Basis.APPROVED, through__gte=known
        ).values_list("cluster_id", flat=True)
    )
    if not current:
        return {}
    newest = (
        StoredFigures.objects.filter(
            cluster_id=OuterRef("cluster_id"),
            year=OuterRef("year"),
            quarter=OuterRef("quarter"),
            basis=Basis.APPROVED,
            part=COVERAGE,
            vintage__lte=known,
        )
        .order_by("-vintage")
        .values("vintage")[:1]
    )
    rows = StoredFigures.objects.filter(
        cluster_id__in=current, basis=Basis.APPROVED, part=COVERAGE, vintage=Subquery(newest)
    )
    if quarters is not None:
        periods = Q(pk__in=[])
        for quarter in set(quarters):
            periods |= Q(year=quarter.year, quarter=quarter.quarter)
        rows = rows.filter(periods)
    found: dict[int, dict[Quarter, tuple[int, int]]] = {c: {} for c in current}
    for cluster_id, year, number, (expected, approved) in rows.values_list(
        "cluster_id", "year", "quarter", "payload"
    ):
        found[cluster_id][Quarter(year, number)] = (expected, approved)
    return found


def _newest(model):
    return Subquery(model.objects.order_by("-updated_at").values("updated_at")[:1])


def stored_completeness(quarter: Quarter) -> dict[tuple[int, Quarter], list] | None:
    """The stored completeness counts of `quarter` (completeness_counts' shape), or None
    where a report of that quarter or a firm changed since they were counted. A report of
    another quarter moves nothing of it: checked against every report, an approval made
    every other quarter's pages count it themselves until the night (0.25 s a page at
    national scale). One query: the reports changed since are a range of the index of
    changes."""
    changed = QuarterlyReport.objects.filter(
        updated_at__gt=OuterRef("reports_at"), year=quarter.year, quarter=quarter.quarter
    )
    row = (
        StoredCompleteness.objects.filter(
            year=quarter.year,
            quarter=quarter.quarter,
            reports_at__isnull=False,
            firms_at=_newest(Enterprise),
        )
        .exclude(Exists(changed))
        .values_list("payload", flat=True)
        .first()
    )
    if row is None:
        return None
    return {(int(district), quarter): counts for district, counts in row.items()}
