"""The firms behind any count: for one target at the end of a quarter, with one vintage of
figures, the rows its counting rule looks at, each with what is counted for it and whether
it counts. The API's list and the page behind each dashboard card both read it.

The counting rules are the metrics' own (`Metric.passing`, `listings_counted`,
`designations_counted`, `projects_counted`), so the counted rows are the snapshot's figure.
Whatever the number of rows, a page of them costs the same few queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.db.models import (
    BooleanField,
    Case,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _

from cluster.models import District
from cluster.quarters import Quarter
from enterprises.models import ClusterMembership, Designation, Listing, ResearchProject

from ..models import Metric, Target
from .metrics import (
    Figures,
    Scope,
    counted_firms,
    designations_counted,
    listings_counted,
    members_joined,
    projects_counted,
)

MONEY = DecimalField(max_digits=20, decimal_places=2)
# Kinds whose rows carry each firm's year-to-date figure (a ratio: its numerator's).
FIGURE_KINDS = (Metric.Kind.SUM_OUTPUT, Metric.Kind.COUNT_FIRMS_OVER, Metric.Kind.RATIO)


def _day(value: dt.date | None) -> str:
    return formats.date_format(value) if value else "—"


@dataclass
class CountedRow:
    """One row behind a count: a firm (or, for research projects, a project)."""

    enterprise_id: int | None
    uscc: str | None
    name: str
    district: District | None
    value: Decimal | None  # the year-to-date figure, for sums, thresholds and ratios
    # What counts for it: a listing, a designation, a project, or the membership it joined by.
    evidence: Listing | Designation | ResearchProject | ClusterMembership | None
    counts: bool

    @property
    def evidence_kind(self) -> str | None:
        return {
            Listing: "listing",
            Designation: "designation",
            ResearchProject: "project",
            ClusterMembership: "membership",
        }.get(type(self.evidence))

    @property
    def evidence_text(self) -> str:
        item = self.evidence
        if isinstance(item, Listing):
            text = _("%(venue)s, listed on %(day)s") % {
                "venue": item.get_venue_display(),
                "day": _day(item.listed_on),
            }
            if item.delisted_on:
                text += _(", delisted on %(day)s") % {"day": _day(item.delisted_on)}
            return text
        if isinstance(item, Designation):
            return _("%(type)s, valid from %(start)s to %(end)s") % {
                "type": item.get_type_display(),
                "start": _day(item.valid_from),
                "end": _day(item.valid_to),
            }
        if isinstance(item, ClusterMembership):
            return _("joined the cluster on %(day)s") % {"day": _day(item.joined_on)}
        if isinstance(item, ResearchProject):
            return _("%(title)s, started on %(day)s (%(status)s)") % {
                "title": item.title,
                "day": _day(item.started_on),
                "status": item.get_status_display(),
            }
        return ""


class FirmsBehindCount:
    """The rows behind `target` at the end of `quarter`, seen by `user`, optionally narrowed
    to a district or a focus direction (a district user never sees another district's)."""

    def __init__(
        self,
        target: Target,
        quarter: Quarter,
        figures: Figures,
        *,
        user,
        district_id: int | None = None,
        direction_id: int | None = None,
    ) -> None:
        self.target = target
        self.metric = target.metric
        self.quarter = quarter
        self.figures = figures
        self.user = user
        own = Scope.of(target)
        # Narrowing a target of one district to another leaves nothing.
        self.empty = bool(
            (district_id and own.district_id and district_id != own.district_id)
            or (direction_id and own.direction_id and direction_id != own.direction_id)
        )
        self.scope = Scope(
            cluster_id=own.cluster_id,
            district_id=own.district_id or district_id,
            direction_id=own.direction_id or direction_id,
        )

    @property
    def shows_figures(self) -> bool:
        return self.metric.kind in FIGURE_KINDS

    @cached_property
    def queryset(self):
        """The rows, counted ones first: firms, or projects for a count of projects."""
        if self.metric.kind == Metric.Kind.COUNT_PROJECTS:
            rows = self._projects()
        else:
            day = self.quarter.end
            firms = counted_firms(day, self.scope).visible_to(self.user).select_related("district")
            rows = {
                Metric.Kind.SUM_OUTPUT: self._with_figures,
                Metric.Kind.COUNT_FIRMS_OVER: self._with_figures,
                Metric.Kind.RATIO: self._with_figures,
                Metric.Kind.COUNT_LISTED: self._listed,
                Metric.Kind.COUNT_DESIGNATED: self._designated,
                Metric.Kind.COUNT_NEW_MEMBERS: self._new_members,
                # Nothing is counted for a qualitative target: the steward assesses it.
                Metric.Kind.QUALITATIVE: lambda firms, day: firms.annotate(
                    counts=Value(False)
                ).none(),
            }[self.metric.kind](firms, day)
        return rows.none() if self.empty else rows

    def _with_figures(self, firms, day: dt.date):
        quarter = self.quarter
        year_to_date = (
            self.figures.rows()
            .filter(enterprise=OuterRef("pk"), year=quarter.year, quarter__lte=quarter.quarter)
            .values("enterprise")
            .annotate(total=Sum(self.metric.figure))
            .values("total")[:1]
        )
        firms = firms.annotate(value=Subquery(year_to_date, output_field=MONEY)).filter(
            value__isnull=False
        )
        if self.metric.kind in (Metric.Kind.SUM_OUTPUT, Metric.Kind.RATIO):
            counts = Value(True)
        else:
            counts = Case(
                When(self.metric.passing("value"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        return firms.annotate(counts=counts).order_by("-counts", "-value", "name_zh", "pk")

    def _with_evidence(self, firms, counting, held):
        """Firms holding any of `held` (correlated to the firm), `counts` when one of
        `counting` counts, and the item to show: the counting one, else the latest held."""
        return (
            firms.filter(Exists(held))
            .annotate(
                counts=Exists(counting),
                evidence_id=Coalesce(
                    Subquery(counting.order_by("-pk").values("pk")[:1]),
                    Subquery(held.order_by("-pk").values("pk")[:1]),
                ),
            )
            .order_by("-counts", "name_zh", "pk")
        )

    def _listed(self, firms, day: dt.date):
        mine = Listing.objects.filter(enterprise=OuterRef("pk"))
        held = mine.listings().filter(listed_on__lte=day)
        return self._with_evidence(firms, listings_counted(self.metric, day, mine), held)

    def _designated(self, firms, day: dt.date):
        mine = Designation.objects.filter(enterprise=OuterRef("pk"))
        held = mine.filter(type=self.metric.designation_type, valid_from__lte=day)
        return self._with_evidence(firms, designations_counted(self.metric, day, mine), held)

    def _new_members(self, firms, day: dt.date):
        """The firms that joined the cluster within the metric's period (members_joined),
        each with the membership it joined by."""
        joined = members_joined(self.target, day, self.scope).visible_to(self.user)
        return (
            joined.select_related("district")
            .annotate(counts=Value(True), evidence_id=F("memberships__pk"))
            .order_by("memberships__joined_on", "name_zh", "pk")
        )

    def _projects(self):
        day = self.quarter.end
        projects = ResearchProject.objects.visible_to(self.user).filter(
            is_major=True, started_on__lte=day, clusters=self.scope.cluster_id
        )
        if self.scope.district_id:
            projects = projects.filter(district_id=self.scope.district_id)
        if self.scope.direction_id:
            # Projects are counted by district only: a focus direction has none of them.
            projects = projects.none()
        counting = projects_counted(
            self.metric, day, ResearchProject.objects.filter(pk=OuterRef("pk"))
        )
        return (
            projects.annotate(counts=Exists(counting))
            .select_related("lead_enterprise", "district")
            .order_by("-counts", "started_on", "pk")
        )

    # -- figures of the whole list (not only the page shown)

    @cached_property
    def counted(self) -> int:
        return self.queryset.filter(counts=True).count()

    @cached_property
    def total(self) -> Decimal | None:
        """For a sum, the counted rows' total: the snapshot's figure."""
        if self.metric.kind != Metric.Kind.SUM_OUTPUT:
            return None
        return self.queryset.aggregate(total=Sum("value"))["total"] or Decimal(0)

    # -- rows of a page

    def rows(self, objects) -> list[CountedRow]:
        objects = list(objects)
        if self.metric.kind == Metric.Kind.COUNT_PROJECTS:
            return [
                CountedRow(
                    enterprise_id=p.lead_enterprise_id,
                    uscc=p.lead_enterprise.uscc if p.lead_enterprise else None,
                    name=p.lead_enterprise.name if p.lead_enterprise else p.lead_institution,
                    district=p.district,
                    value=None,
                    evidence=p,
                    counts=bool(p.counts),
                )
                for p in objects
            ]
        evidence = {}
        if not self.shows_figures:
            model = {
                Metric.Kind.COUNT_LISTED: Listing,
                Metric.Kind.COUNT_NEW_MEMBERS: ClusterMembership,
            }.get(self.metric.kind, Designation)
            evidence = model.objects.in_bulk([f.evidence_id for f in objects])
        return [
            CountedRow(
                enterprise_id=f.pk,
                uscc=f.uscc,
                name=f.name,
                district=f.district,
                value=getattr(f, "value", None),
                evidence=evidence.get(getattr(f, "evidence_id", None)),
                counts=bool(f.counts),
            )
            for f in objects
        ]
