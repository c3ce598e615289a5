"""The quarterly brief (运行形势分析) of a cluster: the phase of the quarter, the plan's targets
(their progress while the plan is in force, the final evaluation at its deadline, the
monitored figures between plans), the drivers, the districts ahead and behind, firms crossing
thresholds, new designations and listings, and the risks from open alerts.

The brief is read from the same Board as the dashboard, so its figures are the dashboard's.
It renders as a print-ready page; the PDF is that page printed by WeasyPrint and the Excel
workbook carries the same tables, each row with the address of the page it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cluster.access import scope_of
from cluster.formatting import percent, signed_percent, yuan_as_yi
from cluster.models import Cluster, District
from cluster.quarters import Quarter
from enterprises.models import Designation, Enterprise, Listing

from ..charts import bars_svg, trend_svg
from ..choices import ScopeKind, Severity, Status
from ..models import Alert, Metric, Target
from .dashboard import Board, BoardScope, Card, Contribution, Reading, first_alerts
from .evaluation import result_text
from .explanation import FirmLine
from .metrics import counted_firms

RISKS_SHOWN = 10
NEW_DESIGNATION_TYPES = ("gazelle", "gazelle_cultivation", "unicorn_cultivation", "little_giant")


def _closest(line: FirmLine) -> str:
    values = {"firm": line.enterprise.name, "gap": yuan_as_yi(line.gap)}
    if line.needs_more_than:
        return _(", the closest %(firm)s needing more than %(gap)s") % values
    return _(", the closest %(firm)s needing %(gap)s") % values


@dataclass
class Crossing:
    target: Target
    entered: list[Enterprise] = field(default_factory=list)
    left: list[Enterprise] = field(default_factory=list)


def brief_scope_of(user, cluster: Cluster) -> BoardScope | None:
    """The scope of the brief `user` reads by default: the city for city-wide users, else
    their first district; None for a user who sees nothing. The brief page and the e-mailed
    brief both ask this."""
    scope = scope_of(user)
    if scope.is_city:
        return BoardScope(cluster)
    if not scope.district_ids:
        return None
    district = District.objects.filter(pk__in=scope.district_ids).order_by("sort_order").first()
    return BoardScope(cluster, kind=ScopeKind.DISTRICT, district=district)


class Brief:
    """The brief of one quarter for a scope (the city, or a district user's district)."""

    def __init__(self, user, scope: BoardScope, reading: Reading, *, base_url: str = ""):
        self.reading = reading
        self.phase = reading.phase
        self.board = Board(user, scope, reading.as_of, reading.phase, today=reading.phase.today)
        self.user = user
        self.scope = scope
        self.as_of = reading.as_of
        self.quarter: Quarter = reading.as_of.quarter
        self.base_url = base_url.rstrip("/")
        self.generated_at = timezone.now()

    # -- where each number comes from

    def url(self, name: str, *args, query: bool = True) -> str:
        path = reverse(name, args=(self.scope.cluster.key, *args))
        return f"{self.base_url}{path}" + (f"?{self.as_of.params()}" if query else "")

    @property
    def board_url(self) -> str:
        if self.scope.district:
            return self.url("targets:district", self.scope.district.pk)
        return self.url("targets:dashboard")

    def district_url(self, part: Contribution) -> str:
        return self.url("targets:district", part.key)

    @property
    def evaluation_url(self) -> str | None:
        plan = self.phase.ended_plan
        if plan is None:
            return None
        return self.url("targets:evaluation", plan.key, query=False)

    def firm_url(self, enterprise: Enterprise) -> str:
        path = reverse("targets:enterprise", args=[enterprise.pk])
        return f"{self.base_url}{path}"

    @property
    def alerts_url(self) -> str:
        path = reverse("targets:alerts")
        suffix = f"?district={self.scope.district.pk}" if self.scope.district else ""
        return f"{self.base_url}{path}{suffix}"

    # -- contents

    @property
    def cards(self) -> list[Card]:
        return self.board.cards

    @cached_property
    def output_card(self) -> Card | None:
        return next((c for c in self.cards if c.target == self.board.output_target), None)

    @cached_property
    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(
            (Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK), 0
        )
        for card in self.cards:
            if card.status in counts:
                counts[card.status] += 1
        return counts

    @cached_property
    def districts(self) -> list[Contribution]:
        return [p for p in self.board.by_district if p.actual or p.year_ago]

    @cached_property
    def scope_growth(self) -> Decimal | None:
        now = sum((p.actual for p in self.districts), Decimal(0))
        before = sum((p.year_ago for p in self.districts), Decimal(0))
        return (now / before - 1) * 100 if before else None

    @cached_property
    def ahead(self) -> list[Contribution]:
        """Districts growing faster than the scope as a whole, fastest first."""
        if self.scope_growth is None:
            return []
        return sorted(
            (
                p
                for p in self.districts
                if p.year_on_year is not None and p.year_on_year > self.scope_growth
            ),
            key=lambda p: -p.year_on_year,
        )

    @cached_property
    def behind(self) -> list[Contribution]:
        if self.scope_growth is None:
            return []
        return sorted(
            (
                p
                for p in self.districts
                if p.year_on_year is not None and p.year_on_year <= self.scope_growth
            ),
            key=lambda p: p.year_on_year,
        )

    @cached_property
    def crossings(self) -> list[Crossing]:
        """Firms whose year-to-date figure passed a threshold during the quarter (and any
        that dropped back, after a revision or a move)."""
        if self.as_of.vintage is None:
            return []
        crossings = []
        for card in self.cards:
            target = card.target
            if target.metric.kind != Metric.Kind.COUNT_FIRMS_OVER:
                continue
            now = self.board.counted(target, self.quarter)
            before = (
                frozenset()
                if self.quarter.quarter == 1
                else self.board.counted(target, self.quarter.previous())
            )
            firms = (
                Enterprise.objects.visible_to(self.user)
                .select_related("district")
                .in_bulk(list(now ^ before))
            )
            if self.scope.district:
                firms = {k: v for k, v in firms.items() if v.district_id == self.scope.district.pk}
            crossings.append(
                Crossing(
                    target,
                    entered=[firms[pk] for pk in sorted(now - before) if pk in firms],
                    left=[firms[pk] for pk in sorted(before - now) if pk in firms],
                )
            )
        return crossings

    def _in_scope(self, queryset):
        """Rows of the firms counted in the scope at the quarter's end (this cluster's)."""
        firms = counted_firms(self.quarter.end, self.scope.metrics_scope).visible_to(self.user)
        return queryset.filter(enterprise__in=firms.values("pk"))

    @cached_property
    def new_designations(self) -> list[Designation]:
        return list(
            self._in_scope(Designation.objects.filter(type__in=NEW_DESIGNATION_TYPES))
            .filter(valid_from__gte=self.quarter.start, valid_from__lte=self.quarter.end)
            .select_related("enterprise__district")
            .order_by("type", "valid_from", "pk")
        )

    @cached_property
    def new_listings(self) -> list[Listing]:
        return list(
            self._in_scope(Listing.objects.listings())
            .filter(listed_on__gte=self.quarter.start, listed_on__lte=self.quarter.end)
            .select_related("enterprise__district")
            .order_by("listed_on", "pk")
        )

    @cached_property
    def risks(self) -> list[Alert]:
        alerts = self.board.alerts_queryset().filter(severity__gte=Severity.WARNING)
        return first_alerts(alerts, RISKS_SHOWN, ("rule", "enterprise"))

    # -- the narrative, in the active language

    def narrative(self) -> list[tuple[str, str, str]]:
        """Paragraphs as (heading, text, address of the page the figures come from)."""
        paragraphs = [(_("Phase"), self.phase.statement(), self.evaluation_url or self.board_url)]
        output = self._output_paragraph()
        if output:
            paragraphs.append((_("Output"), output, self.board_url))
        if self.phase.evaluation and self.board.evaluation is not None:
            paragraphs.append((_("Final evaluation"), self._evaluation_text(), self.evaluation_url))
        elif self.phase.in_force:
            paragraphs.append((_("Targets"), self._targets_text(), self.board_url))
        else:
            paragraphs.append((_("Monitored figures"), self._monitored_text(), self.board_url))
        paragraphs.extend(self._drivers())
        return paragraphs

    def _output_paragraph(self) -> str:
        values = {
            "quarter": self.quarter.label(),
            "cluster": self.scope.cluster.name,
            "scope": self.scope.subject,
            "figure": self.board.figure_name,
        }
        card = self.output_card
        if card is None or not card.snapshot:
            if not self.board.output_total and not self.board.output_year_ago:
                return ""
            growth = self.board.output_year_ago and (
                (self.board.output_total / self.board.output_year_ago - 1) * 100
            )
            return _(
                "By the end of %(quarter)s, the firms of %(cluster)s in %(scope)s reached "
                "%(actual)s of %(figure)s this year, %(yoy)s on the same period last year "
                "(same firms)."
            ) % {
                **values,
                "actual": yuan_as_yi(self.board.output_total),
                "yoy": signed_percent(growth or None),
            }
        values.update(
            {
                "actual": yuan_as_yi(card.actual),
                "yoy": signed_percent(card.year_on_year),
                "share": percent(card.share),
                "year": card.target.deadline.year,
                "target": card.target.display_goal(),
                "projection": yuan_as_yi(card.snapshot.projection),
                "status": card.status_label,
                "of_city": percent(card.share_of_city),
                "result": "—" if card.achieved is None else result_text(card.achieved),
            }
        )
        if self.phase.evaluation:
            if self.scope.is_city:
                return (
                    _(
                        "At the deadline, the end of %(quarter)s, the firms of %(cluster)s in "
                        "%(scope)s reached %(actual)s of %(figure)s for the year, %(yoy)s on the "
                        "year before: %(share)s of the %(year)s target (%(target)s), %(result)s."
                    )
                    % values
                )
            return (
                _(
                    "At the deadline, the end of %(quarter)s, the firms of %(cluster)s in "
                    "%(scope)s reached %(actual)s of %(figure)s for the year, %(yoy)s on the year "
                    "before: %(of_city)s of the city's figure."
                )
                % values
            )
        if self.scope.is_city:
            return (
                _(
                    "By the end of %(quarter)s, the firms of %(cluster)s in %(scope)s reached "
                    "%(actual)s of %(figure)s this year, %(yoy)s on the same period last year: "
                    "%(share)s of the %(year)s target (%(target)s). On each district's usual "
                    "seasonality the year ends near %(projection)s; the target is %(status)s."
                )
                % values
            )
        return (
            _(
                "By the end of %(quarter)s, the firms of %(cluster)s in %(scope)s reached "
                "%(actual)s of %(figure)s this year, %(yoy)s on the same period last year and "
                "%(of_city)s of the city's figure; on its usual seasonality it contributes about "
                "%(projection)s to the city's %(year)s target (%(target)s)."
            )
            % values
        )

    def _targets_text(self) -> str:
        counts = self.status_counts
        lines = "; ".join(
            _("%(target)s %(actual)s of %(value)s (%(status)s)")
            % {
                "target": c.target.name,
                "actual": c.target.display_value(c.actual, places=2),
                "value": c.target.display_goal(),
                "status": c.status_label,
            }
            for c in self.cards
            if c.snapshot
        )
        if self.scope.is_city:
            return _(
                "Of the %(n)d targets, %(achieved)d are achieved, %(on_track)d on track, "
                "%(at_risk)d at risk and %(off_track)d off track: %(lines)s."
            ) % {
                "n": len(self.cards),
                "achieved": counts[Status.ACHIEVED],
                "on_track": counts[Status.ON_TRACK],
                "at_risk": counts[Status.AT_RISK],
                "off_track": counts[Status.OFF_TRACK],
                "lines": lines or "—",
            }
        return _("Contribution to the city's targets: %(lines)s.") % {"lines": lines or "—"}

    def _evaluation_text(self) -> str:
        evaluation = self.board.evaluation
        if not self.scope.is_city:
            lines = "; ".join(
                _("%(target)s %(actual)s (%(of_city)s of the city)")
                % {
                    "target": c.target.name,
                    "actual": c.target.display_value(c.actual, places=2),
                    "of_city": percent(c.share_of_city),
                }
                for c in self.cards
                if c.snapshot
            )
            return _("Contribution to the city's final figures: %(lines)s.") % {
                "lines": lines or "—"
            }
        lines = "; ".join(
            _("%(target)s %(value)s against %(goal)s: %(result)s (%(share)s)")
            % {
                "target": line.target.name,
                "value": line.shown_value,
                "goal": line.target.display_goal(),
                "result": line.result,
                "share": percent(line.share),
            }
            for line in evaluation.lines
        )
        return f"{evaluation.summary()} {lines}."

    def _monitored_text(self) -> str:
        parts = [
            _("%(label)s %(value)s (a year before %(before)s)")
            % {"label": figure.label, "value": figure.shown, "before": figure.shown_year_ago}
            for figure in self.board.monitored
        ]
        return _("No targets apply. At the end of %(quarter)s: %(figures)s.") % {
            "quarter": self.quarter.label(),
            "figures": _("; ").join(parts) or "—",
        }

    def _drivers(self) -> list[tuple[str, str, str]]:
        paragraphs = []
        directions = [p for p in self.board.by_direction if p.actual][:3]
        by_direction = _(", ").join(
            f"{p.label} {yuan_as_yi(p.actual)} ({percent(p.share)})" for p in directions
        )
        if len(self.districts) > 1:
            paragraphs.append(
                (
                    _("Drivers"),
                    _(
                        "The largest contributors are %(districts)s. "
                        "By focus direction: %(directions)s."
                    )
                    % {
                        "districts": _(", ").join(
                            f"{p.label} {yuan_as_yi(p.actual)} ({percent(p.share)})"
                            for p in self.districts[:3]
                        ),
                        "directions": by_direction or "—",
                    },
                    self.board_url,
                )
            )
            if self.scope_growth is not None:
                paragraphs.append(
                    (
                        _("Districts ahead and behind"),
                        _(
                            "Output of the same firms grew %(growth)s year on year. Growing "
                            "faster: %(ahead)s. Growing slower: %(behind)s."
                        )
                        % {
                            "growth": signed_percent(self.scope_growth),
                            "ahead": _(", ").join(
                                f"{p.label} {signed_percent(p.year_on_year)}" for p in self.ahead
                            )
                            or _("none"),
                            "behind": _(", ").join(
                                f"{p.label} {signed_percent(p.year_on_year)}" for p in self.behind
                            )
                            or _("none"),
                        },
                        self.board_url,
                    )
                )
        elif directions:
            paragraphs.append(
                (
                    _("Drivers"),
                    _("By focus direction: %(directions)s.") % {"directions": by_direction},
                    self.board_url,
                )
            )
        for crossing in self.crossings:
            pipeline = next(
                (
                    lines
                    for target, lines in self.board.threshold_pipelines
                    if target == crossing.target
                ),
                [],
            )
            values = {
                "entered": len(crossing.entered),
                "names": (": " + _(", ").join(f.name for f in crossing.entered[:8]))
                if crossing.entered
                else "",
                "left": len(crossing.left),
                "pipeline": len(pipeline),
                "closest": _closest(pipeline[0]) if pipeline else "",
            }
            if self.phase.shows_projection:
                text = (
                    _(
                        "Firms passing the threshold during the quarter: %(entered)d%(names)s; "
                        "dropping below it: %(left)d. Projected between half the threshold and "
                        "the threshold: %(pipeline)d%(closest)s."
                    )
                    % values
                )
            else:
                text = (
                    _(
                        "Firms passing the threshold during the quarter: %(entered)d%(names)s; "
                        "dropping below it: %(left)d."
                    )
                    % values
                )
            paragraphs.append((crossing.target.name, text, self.board_url))
        paragraphs.append(
            (
                _("New designations and listings"),
                _(
                    "Designations awarded in the quarter: %(designations)d. Firms listed: "
                    "%(listings)d%(names)s."
                )
                % {
                    "designations": len(self.new_designations),
                    "listings": len(self.new_listings),
                    "names": (": " + _(", ").join(x.enterprise.name for x in self.new_listings))
                    if self.new_listings
                    else "",
                },
                self.board_url,
            )
        )
        paragraphs.append(
            (
                _("Risks"),
                _(
                    "Open alerts of warning level or above: %(n)d, of which critical: "
                    "%(critical)d. The most serious: %(top)s"
                )
                % {
                    "n": self.board.alert_counts.get(Severity.CRITICAL, 0)
                    + self.board.alert_counts.get(Severity.WARNING, 0),
                    "critical": self.board.alert_counts.get(Severity.CRITICAL, 0),
                    "top": _("; ").join(a.message for a in self.risks[:3]) or _("none"),
                },
                self.alerts_url,
            )
        )
        return paragraphs

    # -- pictures for the printed page

    def district_svg(self):
        return bars_svg([(str(p.label), p.actual) for p in self.districts])

    def trend_svg(self):
        return trend_svg(self.board.trend)
