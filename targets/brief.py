"""The quarterly brief (运行形势分析): the plan's targets, their drivers, the districts ahead
and behind, firms crossing thresholds, new designations and listings, and the risks from
open alerts, for one quarter.

The brief is read from the same Board as the dashboard, so its figures are the dashboard's.
It renders as a print-ready page; the PDF is that page printed by WeasyPrint and the Excel
workbook carries the same tables, each row with the address of the page it comes from.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cluster.formatting import percent, signed_percent, yuan_as_yi
from cluster.quarters import Quarter
from cluster.spreadsheets import safe_cell
from enterprises.models import Designation, Enterprise, Listing

from .charts import bars_svg, in_money_unit, money_unit, trend_svg
from .choices import Severity, Status
from .dashboard import AsOf, Board, BoardScope, Card, Contribution
from .models import Alert, Metric, Target
from .services.metrics import evaluate

RISKS_SHOWN = 10
NEW_DESIGNATION_TYPES = ("gazelle", "gazelle_cultivation", "unicorn_cultivation", "little_giant")


@dataclass
class Crossing:
    target: Target
    entered: list[Enterprise] = field(default_factory=list)
    left: list[Enterprise] = field(default_factory=list)


class Brief:
    """The brief of one quarter for a scope (the city, or a district user's district)."""

    def __init__(self, user, scope: BoardScope, as_of: AsOf, *, base_url: str = ""):
        self.board = Board(user, scope, as_of)
        self.user = user
        self.scope = scope
        self.as_of = as_of
        self.quarter: Quarter = as_of.quarter
        self.base_url = base_url.rstrip("/")
        self.generated_at = timezone.now()

    # -- where each number comes from

    def url(self, name: str, *args, query: bool = True) -> str:
        path = reverse(name, args=args)
        return f"{self.base_url}{path}" + (f"?{self.as_of.params()}" if query else "")

    @property
    def board_url(self) -> str:
        if self.scope.district:
            return self.url("targets:district", self.scope.district.pk)
        return self.url("targets:dashboard")

    def district_url(self, part: Contribution) -> str:
        return self.url("targets:district", part.key)

    def firm_url(self, enterprise: Enterprise) -> str:
        return self.url("targets:enterprise", enterprise.pk, query=False)

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
        return next((c for c in self.cards if c.target.metric.kind == Metric.Kind.SUM_OUTPUT), None)

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
        figures = self.as_of.figures
        crossings = []
        for card in self.cards:
            target = card.target
            if target.metric.kind != Metric.Kind.COUNT_FIRMS_OVER:
                continue
            now = evaluate(target, self.quarter, figures).counted
            before = (
                frozenset()
                if self.quarter.quarter == 1
                else evaluate(target, self.quarter.previous(), figures).counted
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
        firms = Enterprise.objects.visible_to(self.user)
        if self.scope.district:
            firms = firms.filter(district=self.scope.district)
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
        alerts = Alert.objects.visible_to(self.user).active().filter(severity__gte=Severity.WARNING)
        if self.scope.district:
            alerts = alerts.filter(Q(owner=self.scope.district) | Q(district=self.scope.district))
        return list(
            alerts.select_related("rule", "enterprise").order_by("-severity", "-opened_at", "-pk")[
                :RISKS_SHOWN
            ]
        )

    # -- the narrative, in the active language

    def narrative(self) -> list[tuple[str, str, str]]:
        """Paragraphs as (heading, text, address of the page the figures come from)."""
        paragraphs = []
        card = self.output_card
        if card and card.snapshot:
            values = {
                "quarter": self.quarter.label(),
                "scope": self.scope.subject,
                "actual": yuan_as_yi(card.actual),
                "yoy": signed_percent(card.year_on_year),
                "share": percent(card.share),
                "year": card.target.deadline.year,
                "target": yuan_as_yi(card.target.target_value),
                "projection": yuan_as_yi(card.snapshot.projection),
                "status": card.status_label,
                "of_city": percent(card.share_of_city),
            }
            if self.scope.is_city:
                text = (
                    _(
                        "By the end of %(quarter)s, %(scope)s produced %(actual)s of nano "
                        "new-materials output this year, %(yoy)s on the same period last year: "
                        "%(share)s of the %(year)s target of %(target)s. On each district's usual "
                        "seasonality the year ends near %(projection)s; the target is %(status)s."
                    )
                    % values
                )
            else:
                text = (
                    _(
                        "By the end of %(quarter)s, %(scope)s produced %(actual)s of nano "
                        "new-materials output this year, %(yoy)s on the same period last year and "
                        "%(of_city)s of the city's output; on its usual seasonality it contributes "
                        "about %(projection)s to the city's %(year)s target of %(target)s."
                    )
                    % values
                )
            paragraphs.append((_("Output"), text, self.board_url))
        counts = self.status_counts
        lines = "; ".join(
            _("%(target)s %(actual)s of %(value)s (%(status)s)")
            % {
                "target": c.target.name,
                "actual": c.target.display_value(c.actual, places=2),
                "value": c.target.display_value(c.target.target_value, places=2),
                "status": c.status_label,
            }
            for c in self.cards
            if c.snapshot
        )
        if self.scope.is_city:
            summary = _(
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
        else:
            summary = _("Contribution to the city's targets: %(lines)s.") % {"lines": lines or "—"}
        paragraphs.append((_("Targets"), summary, self.board_url))
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
            paragraphs.append(
                (
                    crossing.target.name,
                    _(
                        "Firms passing the threshold during the quarter: %(entered)d%(names)s; "
                        "dropping below it: %(left)d. Projected between half the threshold and "
                        "the threshold: %(pipeline)d%(closest)s."
                    )
                    % {
                        "entered": len(crossing.entered),
                        "names": (": " + _(", ").join(f.name for f in crossing.entered[:8]))
                        if crossing.entered
                        else "",
                        "left": len(crossing.left),
                        "pipeline": len(pipeline),
                        "closest": (
                            _(", the closest %(firm)s needing %(gap)s")
                            % {
                                "firm": pipeline[0].enterprise.name,
                                "gap": yuan_as_yi(pipeline[0].gap),
                            }
                        )
                        if pipeline
                        else "",
                    },
                    self.board_url,
                )
            )
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


# --- Excel -----------------------------------------------------------------------------------

HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5EE")
MONEY_FORMAT = "#,##0.00"


def _sheet(workbook, title: str, headers: list[str], rows: list[list], widths=None):
    sheet = workbook.create_sheet(title[:31])
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER, HEADER_FILL
    for row in rows:
        # Firm names come from users: text that Excel would run as a formula is defused.
        sheet.append([safe_cell(value) for value in row])
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(index, max(12, min(len(str(header)) * 2 + 4, 60)))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _number(card: Card, value) -> float | None:
    if value is None:
        return None
    return in_money_unit(value) if card.is_money else float(value)


def brief_workbook(brief: Brief) -> bytes:
    """The brief as an Excel workbook: the narrative, then one sheet per table; money in the
    brief's unit (亿元 / ¥ bn) as numbers; every row ends with the page it comes from."""
    unit = money_unit()[1]
    source = _("Source page")
    workbook = Workbook()
    summary = workbook.active
    summary.title = _("Brief")[:31]
    summary.append(
        [
            _("Quarterly brief: %(scope)s, %(quarter)s")
            % {"scope": brief.scope.name, "quarter": brief.quarter.label()}
        ]
    )
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(
        [
            _("Figures: %(basis)s, as known on %(vintage)s; generated %(now)s")
            % {
                "basis": brief.as_of.basis_label,
                "vintage": timezone.localtime(brief.as_of.vintage).strftime("%Y-%m-%d %H:%M")
                if brief.as_of.vintage
                else "—",
                "now": timezone.localtime(brief.generated_at).strftime("%Y-%m-%d %H:%M"),
            }
        ]
    )
    summary.append([])
    for heading, text, url in brief.narrative():
        summary.append([heading])
        summary.cell(summary.max_row, 1).font = HEADER
        summary.append([text])
        summary.cell(summary.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        summary.append([f"{source}: {url}"])
        summary.append([])
    summary.column_dimensions["A"].width = 120

    _sheet(
        workbook,
        _("Targets"),
        [
            _("Target"),
            _("Unit"),
            _("Actual"),
            _("Target value"),
            _("Share reached"),
            _("Milestone expected"),
            _("Projection to the deadline"),
            _("Status"),
            _("Change since last quarter"),
            _("Basis of the projection"),
            source,
        ],
        [
            [
                c.target.name,
                unit if c.is_money else c.target.get_unit_display(),
                _number(c, c.actual),
                _number(c, c.target.target_value),
                None if c.share is None else float(c.share),
                _number(c, c.snapshot.milestone_expected) if c.snapshot else None,
                _number(c, c.snapshot.projection) if c.snapshot else None,
                c.status_label,
                _number(c, c.change),
                c.basis_text,
                brief.board_url,
            ]
            for c in brief.cards
        ],
        widths={1: 26, 10: 60, 11: 50},
    )
    targets_sheet = workbook[_("Targets")[:31]]
    for row in targets_sheet.iter_rows(min_row=2):
        row[4].number_format = "0.0%"
        for cell in (row[2], row[3], row[5], row[6], row[8]):
            cell.number_format = MONEY_FORMAT

    districts = _sheet(
        workbook,
        _("Districts"),
        [
            _("District"),
            _("Output year to date (%(unit)s)") % {"unit": unit},
            _("Same period last year (%(unit)s)") % {"unit": unit},
            _("Year on year, same firms (%)"),
            _("Share"),
            source,
        ],
        [
            [
                str(p.label),
                in_money_unit(p.actual),
                in_money_unit(p.year_ago),
                None if p.year_on_year is None else float(round(p.year_on_year, 1)),
                None if p.share is None else float(p.share),
                brief.district_url(p),
            ]
            for p in brief.districts
        ],
        widths={1: 22, 6: 60},
    )
    for row in districts.iter_rows(min_row=2):
        row[1].number_format = row[2].number_format = MONEY_FORMAT
        row[4].number_format = "0.0%"
    if brief.districts:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("Output year to date by district")
        chart.y_axis.title = unit
        data = Reference(
            districts, min_col=2, max_col=3, min_row=1, max_row=len(brief.districts) + 1
        )
        names = Reference(districts, min_col=1, min_row=2, max_row=len(brief.districts) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(names)
        chart.height, chart.width = 10, 18
        districts.add_chart(chart, "H2")

    _sheet(
        workbook,
        _("Focus directions"),
        [
            _("Focus direction"),
            _("Output year to date (%(unit)s)") % {"unit": unit},
            _("Share"),
            _("Year on year, same firms (%)"),
            source,
        ],
        [
            [
                str(p.label),
                in_money_unit(p.actual),
                None if p.share is None else float(p.share),
                None if p.year_on_year is None else float(round(p.year_on_year, 1)),
                brief.board_url,
            ]
            for p in brief.board.by_direction
        ],
        widths={1: 30, 5: 60},
    )

    threshold_rows = []
    for crossing in brief.crossings:
        for firm in crossing.entered:
            threshold_rows.append(
                [
                    crossing.target.name,
                    _("passed the threshold"),
                    firm.name,
                    str(firm.district),
                    None,
                    brief.firm_url(firm),
                ]
            )
        for firm in crossing.left:
            threshold_rows.append(
                [
                    crossing.target.name,
                    _("dropped below"),
                    firm.name,
                    str(firm.district),
                    None,
                    brief.firm_url(firm),
                ]
            )
    for target, lines in brief.board.threshold_pipelines:
        for line in lines:
            threshold_rows.append(
                [
                    target.name,
                    _("gap to the threshold"),
                    line.enterprise.name,
                    str(line.enterprise.district),
                    in_money_unit(line.gap),
                    brief.firm_url(line.enterprise),
                ]
            )
    _sheet(
        workbook,
        _("Thresholds"),
        [
            _("Target"),
            _("Event"),
            _("Firm"),
            _("District"),
            _("Gap (%(unit)s)") % {"unit": unit},
            source,
        ],
        threshold_rows,
        widths={1: 22, 3: 36, 6: 60},
    )
    _sheet(
        workbook,
        _("Designations and listings"),
        [_("Kind"), _("Firm"), _("District"), _("Date"), source],
        [
            [
                d.get_type_display(),
                d.enterprise.name,
                str(d.enterprise.district),
                d.valid_from,
                brief.firm_url(d.enterprise),
            ]
            for d in brief.new_designations
        ]
        + [
            [
                _("Listing: %(venue)s") % {"venue": listing.get_venue_display()},
                listing.enterprise.name,
                str(listing.enterprise.district),
                listing.listed_on,
                brief.firm_url(listing.enterprise),
            ]
            for listing in brief.new_listings
        ],
        widths={1: 30, 2: 36, 5: 60},
    )
    _sheet(
        workbook,
        _("Risks"),
        [_("Severity"), _("Rule"), _("Alert"), _("Opened"), source],
        [
            [
                a.get_severity_display(),
                a.rule.name,
                a.message,
                timezone.localtime(a.opened_at).date(),
                brief.alerts_url,
            ]
            for a in brief.risks
        ],
        widths={2: 26, 3: 80, 5: 50},
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def brief_pdf(html: str, base_url: str) -> bytes:
    """The print-ready page as PDF (WeasyPrint; fonts from the system, Noto CJK for Chinese)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
