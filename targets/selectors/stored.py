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

from django.db.models import Exists, OuterRef, Subquery
from django.utils.functional import cached_property

from cluster.quarters import Quarter

from ..models import StoredFigures, StoredThrough


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

    def get(self, part: str, compute: Callable[[], object]):
        """The stored payload of `part`, or `compute()`'s where the store is not current."""
        if part in self._rows:
            return self._rows[part]
        self.computed.append(part)
        return compute()
