"""Reads for the reporting pages: querysets and aggregates, computed by the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Window
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cluster.access import scope_of
from cluster.formatting import percent
from cluster.models import District
from cluster.quarters import MIN_YEAR, Quarter, quarter_range

from .choices import EnterpriseStatus, EntryMode, MilestoneKind, ReportStatus
from .models import (
    FIGURE_LABELS,
    FIGURES,
    MONEY_FIGURES,
    ClusterMembership,
    Enterprise,
    Milestone,
    QuarterlyReport,
    ReportRevision,
)
from .periods import days_to_deadline, deadline_of, founded_by
from .services.report_entry import (
    CUMULATIVE_FIGURES,
    in_wan,
    jump_message,
    jumps_between,
    unit_mistakes,
)
from .services.reports import EDITABLE, review_problem


def _firm(prefix: str) -> str:
    return prefix.removesuffix("__") or "pk"


def expected_to_report(quarter: Quarter, prefix: str = "") -> Q:
    """The firms whose report for `quarter` is expected: the one owner of that rule for the
    completeness page, the worksheet, the outstanding list and the overdue alert. `prefix`
    reaches the firm from another model ("enterprise__" from a report).

    A firm is expected when it was founded by the end of the quarter (periods.founded_by),
    was a member of a cluster during it, and had not closed or moved out before it began.
    Closing and moving out are dated by the register's own records: a membership's end
    (left_on) ends it like any membership; a firm whose status is closed or moved out and
    whose membership has no end is dated by its "moved out of the cluster" milestone. When
    neither record has a date, the firm is expected only for the quarters it has a report
    for: nothing says when it stopped, and a firm that no longer exists must not stay
    overdue for ever, while the quarters it did report keep counting."""
    firm = OuterRef(_firm(prefix))
    founded = Q(**{f"{prefix}founded_on__isnull": True}) | Q(
        **{f"{prefix}founded_on__lte": founded_by(quarter)}
    )
    dated_membership = ClusterMembership.objects.overlapping(quarter.start, quarter.end).filter(
        enterprise=firm, left_on__isnull=False
    )
    open_membership = ClusterMembership.objects.overlapping(quarter.start, quarter.end).filter(
        enterprise=firm, left_on__isnull=True
    )
    moved_out = Milestone.objects.filter(enterprise=firm, kind=MilestoneKind.MOVED_OUT)
    undated_end = ~Exists(moved_out) & Exists(
        QuarterlyReport.objects.filter(enterprise=firm, year=quarter.year, quarter=quarter.quarter)
    )
    still_there = (
        Q(**{f"{prefix}status": EnterpriseStatus.ACTIVE})
        | Exists(moved_out.filter(occurred_on__gte=quarter.start))
        | undated_end
    )
    return founded & (Exists(dated_membership) | (Exists(open_membership) & still_there))


def visible_districts(user) -> QuerySet[District]:
    return scope_of(user).filter(District.objects.all(), "pk")


# --- worksheet ----------------------------------------------------------------------------


def worksheet_enterprises(user, district: District, quarter: Quarter, search: str = ""):
    queryset = (
        Enterprise.objects.visible_to(user)
        .filter(district=district)
        .filter(expected_to_report(quarter))
        .order_by("name_zh", "pk")
    )
    if search:
        queryset = queryset.filter(
            Q(name_zh__icontains=search) | Q(name_en__icontains=search) | Q(uscc=search.upper())
        )
    return queryset


def change(value, before) -> Decimal | None:
    if value is None or not before:
        return None
    return (Decimal(value) / Decimal(before) - 1) * 100


@dataclass
class Cell:
    figure: str
    label: str
    is_money: bool
    value: Decimal | int | None
    previous: Decimal | int | None
    last_year: Decimal | int | None
    qoq: Decimal | None
    yoy: Decimal | None
    flagged: bool
    entered: str | None = None
    error: str | None = None

    @property
    def input_value(self) -> str:
        if self.entered is not None:
            return self.entered
        if self.value is None:
            return ""
        return f"{self.value:,.2f}" if self.is_money else str(self.value)


@dataclass
class Row:
    enterprise: Enterprise
    report: QuarterlyReport | None
    cells: list[Cell]
    editable: bool
    needs_reason: bool
    reviewable: bool
    flagged: bool
    review_blocked: str = ""  # why this user may not review it (four-eyes), shown instead
    errors: list[str] = field(default_factory=list)
    field_errors: dict[str, str] = field(default_factory=dict)  # not tied to a figure
    revising: bool = False
    note: str = ""
    reason: str = ""
    saved: bool = False

    @property
    def status(self) -> str:
        return self.report.status if self.report else ReportStatus.DRAFT

    @property
    def version(self) -> int:
        return self.report.version if self.report else 0

    @property
    def shows_inputs(self) -> bool:
        return self.editable or (self.needs_reason and self.revising)


def _cumulative(by_period: dict, figure: str, year: int, upto: int):
    values = [getattr(by_period.get((year, q)), figure, None) for q in range(1, upto + 1)]
    if any(v is None for v in values):
        return None
    return sum(values)


def build_rows(
    user, enterprises: list[Enterprise], quarter: Quarter, mode: str, *, open_for_entry: bool = True
) -> list[Row]:
    """One row per firm with this quarter's figures and, beside them, the previous quarter,
    the same quarter last year and the changes, from one query over two years of reports.
    Outside the reporting window (`open_for_entry` False) nothing is offered for entry."""
    scope = scope_of(user)
    reports = QuarterlyReport.objects.filter(
        enterprise__in=[e.pk for e in enterprises], year__in=[quarter.year - 1, quarter.year]
    )
    by_firm: dict[int, dict] = {}
    for report in reports:
        by_firm.setdefault(report.enterprise_id, {})[(report.year, report.quarter)] = report
    # By position, so that the first quarter the calendar knows (1990Q1) has no neighbours
    # rather than an error.
    previous = (quarter.year - (quarter.quarter == 1), (quarter.quarter - 2) % 4 + 1)
    last_year = (quarter.year - 1, quarter.quarter)
    rows = []
    for enterprise in enterprises:
        periods = by_firm.get(enterprise.pk, {})
        report = periods.get((quarter.year, quarter.quarter))
        if report is not None:
            report.enterprise = enterprise  # known already: no query per row
        before_report = periods.get(previous)
        jumped = {
            jump.figure
            for jump in jumps_between(
                report.figures() if report else {},
                before_report.figures() if before_report else None,
            )
        }
        cells = []
        for figure in FIGURES:
            current = getattr(report, figure, None)
            before = getattr(before_report, figure, None)
            year_ago = getattr(periods.get(last_year), figure, None)
            qoq = change(current, before)
            flagged = figure in jumped
            shown, shown_before, shown_year_ago = current, before, year_ago
            if mode == EntryMode.YEAR_TO_DATE and figure in CUMULATIVE_FIGURES:
                # Beside cumulative values only the year-on-year change of the cumulative
                # figure means something; the jump check still uses the quarter's own values.
                qoq = None
                shown = _cumulative(periods, figure, quarter.year, quarter.quarter)
                shown_before = (
                    _cumulative(periods, figure, quarter.year, quarter.quarter - 1)
                    if quarter.quarter > 1
                    else None
                )
                shown_year_ago = _cumulative(periods, figure, quarter.year - 1, quarter.quarter)
            cells.append(
                Cell(
                    figure=figure,
                    label=str(FIGURE_LABELS[figure]),
                    is_money=figure in MONEY_FIGURES,
                    value=in_wan(figure, shown),
                    previous=in_wan(figure, shown_before),
                    last_year=in_wan(figure, shown_year_ago),
                    qoq=qoq,
                    yoy=change(shown, shown_year_ago),
                    flagged=flagged,
                )
            )
        status = report.status if report else ReportStatus.DRAFT
        in_scope = open_for_entry and scope.can_edit and scope.covers(enterprise.district_id)
        reviewable = scope.can_approve and status == ReportStatus.SUBMITTED
        rows.append(
            Row(
                enterprise=enterprise,
                report=report,
                cells=cells,
                editable=in_scope and status in EDITABLE,
                needs_reason=in_scope and status == ReportStatus.APPROVED,
                reviewable=reviewable,
                review_blocked=(review_problem(user, report) or "") if reviewable else "",
                flagged=any(c.flagged for c in cells),
                note=report.anomaly_note if report else "",
            )
        )
    return rows


# --- completeness ---------------------------------------------------------------------------

REACHED_THE_CITY = (ReportStatus.SUBMITTED, ReportStatus.APPROVED)
# Past the deadline, a district with at least this share of its reports at the city is nearly
# complete (amber); below it, it is behind (red).
NEARLY_COMPLETE = Decimal("0.9")

COMPLETENESS_STATUS = {
    "none": gettext_lazy("no firms expected"),
    "complete": gettext_lazy("complete"),
    "in_progress": gettext_lazy("in progress"),
    "nearly": gettext_lazy("nearly complete"),
    "behind": gettext_lazy("behind"),
}


def _share(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / whole if whole else None


@dataclass
class CompletenessCell:
    """The reporting of one district (None: the city) for one quarter (None: the quarters
    shown together). Counts are of the firms expected to report (expected_to_report)."""

    district: District | None
    quarter: Quarter | None
    expected: int = 0
    entered: int = 0
    submitted: int = 0
    approved: int = 0
    returned: int = 0
    deadline: dt.date | None = None
    past_deadline: bool = False
    on_time: int = 0  # reached the city, first submitted by the deadline
    rank: int | None = None

    @property
    def outstanding(self) -> int:
        """Firms whose report has not reached the city yet (missing, draft or returned)."""
        return max(self.expected - self.submitted - self.approved, 0)

    @property
    def overdue(self) -> int:
        return self.outstanding if self.past_deadline else 0

    @property
    def reached(self) -> int:
        return self.submitted + self.approved

    @property
    def reporting_rate(self) -> Decimal | None:
        """Share of the expected reports that reached the city (submitted or approved)."""
        return _share(self.reached, self.expected)

    @property
    def on_time_rate(self) -> Decimal | None:
        """Share of the expected reports that reached the city and were first submitted by
        the deadline (a report returned and submitted again keeps its first date)."""
        return _share(self.on_time, self.expected)

    @property
    def status(self) -> str:
        if not self.expected:
            return "none"
        if self.reached >= self.expected:
            return "complete"
        if not self.past_deadline:
            return "in_progress"
        return "nearly" if self.reporting_rate >= NEARLY_COMPLETE else "behind"

    @property
    def status_label(self) -> str:
        return str(COMPLETENESS_STATUS[self.status])

    @property
    def summary(self) -> str:
        """The rates in words, beside the colour: "完成 95.0%（按时 90.0%）"."""
        if not self.expected:
            return "—"  # no rate without expected firms; the status word says why
        return _("%(rate)s done (%(on_time)s on time)") % {
            "rate": percent(self.reporting_rate),
            "on_time": percent(self.on_time_rate),
        }

    @classmethod
    def total(cls, cells: list[CompletenessCell]) -> CompletenessCell:
        """The cells added up: a district over the quarters shown, or the city for a quarter.
        Past the deadline only when every cell is."""
        districts = {c.district for c in cells}
        quarters = {c.quarter for c in cells}
        deadlines = {c.deadline for c in cells}
        total = cls(
            district=districts.pop() if len(districts) == 1 else None,
            quarter=quarters.pop() if len(quarters) == 1 else None,
            deadline=deadlines.pop() if len(deadlines) == 1 else None,
            past_deadline=bool(cells) and all(c.past_deadline for c in cells),
        )
        for name in ("expected", "entered", "submitted", "approved", "returned", "on_time"):
            setattr(total, name, sum(getattr(c, name) for c in cells))
        return total


def _cutoff(quarter: Quarter) -> dt.datetime:
    """The first moment after the deadline day, in the office's time zone."""
    day = deadline_of(quarter) + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _first_submitted_before(cutoff: dt.datetime) -> Q:
    """The report was first submitted before `cutoff`. A report sent back and submitted
    again carries its latest submission; its history keeps the earlier ones (the first is
    the earliest, so it is before the cutoff exactly when some recorded one is)."""
    earlier = QuarterlyReport.history.model.objects.filter(
        id=OuterRef("pk"), submitted_at__lt=cutoff
    )
    return Q(submitted_at__lt=cutoff) | Q(Exists(earlier))


COMPLETENESS_COUNTS = ("expected", "entered", "submitted", "approved", "returned", "on_time")


def completeness_counts(
    quarters: list[Quarter], user=None, *, districts=None
) -> dict[tuple[int, Quarter], list]:
    """(district id, quarter) → the counts of COMPLETENESS_COUNTS: firms expected, reports
    entered, submitted, approved, returned, and reached the city on time. Of `user`'s
    districts (all without one), and of `districts` (ids) when given. Two queries whatever
    the number of firms."""
    firms = Enterprise.objects.all() if user is None else Enterprise.objects.visible_to(user)
    reports = (
        QuarterlyReport.objects.all() if user is None else QuarterlyReport.objects.visible_to(user)
    )
    if districts is not None:
        firms = firms.filter(district_id__in=districts)
        reports = reports.filter(enterprise__district_id__in=districts)
    counts: dict[tuple[int, Quarter], list] = {}
    for row in firms.values("district").annotate(
        **{f"q{q.ordinal}": Count("pk", filter=expected_to_report(q)) for q in quarters}
    ):
        for quarter in quarters:
            counts[(row["district"], quarter)] = [row[f"q{quarter.ordinal}"], 0, 0, 0, 0, 0]
    of_expected_firm = Q()
    on_time = Q()
    for quarter in quarters:
        period = Q(year=quarter.year, quarter=quarter.quarter)
        of_expected_firm |= period & expected_to_report(quarter, "enterprise__")
        on_time |= period & _first_submitted_before(_cutoff(quarter))
    for row in (
        reports.filter(of_expected_firm)
        .values("enterprise__district", "year", "quarter")
        .annotate(
            entered=Count("pk", filter=Q(output_value__isnull=False)),
            submitted=Count("pk", filter=Q(status=ReportStatus.SUBMITTED)),
            approved=Count("pk", filter=Q(status=ReportStatus.APPROVED)),
            returned=Count("pk", filter=Q(status=ReportStatus.RETURNED)),
            on_time=Count("pk", filter=Q(status__in=REACHED_THE_CITY) & on_time),
        )
        .order_by()
    ):
        key = (row["enterprise__district"], Quarter(row["year"], row["quarter"]))
        expected = counts.get(key, [0])[0]
        counts[key] = [expected, *(row[name] for name in COMPLETENESS_COUNTS[1:])]
    return counts


def completeness(
    user, quarters: list[Quarter], today: dt.date, *, counts: dict | None = None
) -> list[list[CompletenessCell]]:
    """Districts × quarters: firms expected, reports entered, submitted, approved, returned,
    reached the city on time, and overdue against the deadline. Three queries (districts,
    expected firms, reports) whatever the number of firms; `counts`, when already known
    (completeness_counts of the quarters, e.g. stored), saves the last two."""
    districts = list(visible_districts(user).order_by("sort_order"))
    if counts is None:
        counts = completeness_counts(quarters, user)
    table = []
    for district in districts:
        cells = []
        for quarter in quarters:
            found = counts.get((district.pk, quarter), [0] * len(COMPLETENESS_COUNTS))
            countdown = days_to_deadline(quarter, today)
            cells.append(
                CompletenessCell(
                    district=district,
                    quarter=quarter,
                    **dict(zip(COMPLETENESS_COUNTS, found, strict=True)),
                    deadline=countdown.deadline,
                    past_deadline=countdown.overdue,
                )
            )
        table.append(cells)
    return table


@dataclass
class CompletenessOverview:
    """The completeness table with its totals and the districts ranked for the last quarter."""

    table: list[list[CompletenessCell]]
    district_totals: list[CompletenessCell]  # each district over the quarters: the last column
    city: list[CompletenessCell]  # each quarter over the districts: the last row
    overall: CompletenessCell
    ranking: list[CompletenessCell]

    @property
    def rows(self) -> list[tuple[list[CompletenessCell], CompletenessCell]]:
        return list(zip(self.table, self.district_totals, strict=True))


def rank_districts(cells: list[CompletenessCell]) -> list[CompletenessCell]:
    """Districts by reporting rate, then on-time rate; equal rates share a rank (1, 2, 2, 4).
    A district with no firms expected comes last, unranked."""
    rated = sorted(
        (c for c in cells if c.expected),
        key=lambda c: (-c.reporting_rate, -c.on_time_rate),
    )
    previous, rank = None, 0
    for position, cell in enumerate(rated, start=1):
        key = (cell.reporting_rate, cell.on_time_rate)
        if key != previous:
            rank, previous = position, key
        cell.rank = rank
    return rated + [c for c in cells if not c.expected]


def completeness_overview(user, quarters: list[Quarter], today: dt.date) -> CompletenessOverview:
    table = completeness(user, quarters, today)
    columns = list(zip(*table, strict=True)) if table else [[] for _ in quarters]
    city = [CompletenessCell.total(list(column)) for column in columns]
    return CompletenessOverview(
        table=table,
        district_totals=[CompletenessCell.total(cells) for cells in table],
        city=city,
        overall=CompletenessCell.total([cell for cells in table for cell in cells]),
        ranking=rank_districts([cells[-1] for cells in table]),
    )


def quarters_until(last: Quarter, count: int) -> list[Quarter]:
    """`count` quarters ending with `last`; fewer from the first quarter a Quarter holds."""
    return list(quarter_range(last.step(1 - count) or Quarter(MIN_YEAR, 1), last))


def outstanding_enterprises(user, district: District, quarter: Quarter):
    """Firms of the district expected for the quarter whose report has not reached the city."""
    reached = QuarterlyReport.objects.filter(
        year=quarter.year,
        quarter=quarter.quarter,
        status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED],
    ).values("enterprise")
    return worksheet_enterprises(user, district, quarter).exclude(pk__in=reached)


# --- review queue ---------------------------------------------------------------------------


def review_queue(user) -> QuerySet[QuarterlyReport]:
    """The submitted reports waiting for review that `user` sees, grouped by district and
    quarter: the group waiting longest first, and within a group the oldest submission
    first. Each report carries its group's size and oldest submission (window functions, so
    the page's rows need no query per group)."""
    group = [F("enterprise__district"), F("year"), F("quarter")]
    return (
        QuarterlyReport.objects.visible_to(user)
        .filter(status=ReportStatus.SUBMITTED)
        .select_related("enterprise__district", "submitted_by")
        .annotate(
            group_waiting_since=Window(Min("submitted_at"), partition_by=group),
            group_size=Window(Count("pk"), partition_by=group),
        )
        .order_by(
            "group_waiting_since",
            "enterprise__district__sort_order",
            "-year",
            "-quarter",
            "submitted_at",
            "pk",
        )
    )


@dataclass(frozen=True)
class QueueSummary:
    waiting: int
    districts: int
    waiting_since: dt.datetime | None


def queue_summary(user) -> QueueSummary:
    """How many reports wait, in how many districts, since when: one aggregate query."""
    totals = (
        QuarterlyReport.objects.visible_to(user)
        .filter(status=ReportStatus.SUBMITTED)
        .aggregate(
            waiting=Count("pk"),
            districts=Count("enterprise__district", distinct=True),
            waiting_since=Min("submitted_at"),
        )
    )
    return QueueSummary(**totals)


def queue_quarters(user) -> list[Quarter]:
    """The quarters that have reports waiting, newest first, each once (the filter's
    choices)."""
    pairs = (
        QuarterlyReport.objects.visible_to(user)
        .filter(status=ReportStatus.SUBMITTED)
        .values_list("year", "quarter")
        .distinct()
        .order_by("-year", "-quarter")
    )
    return [Quarter(year, quarter) for year, quarter in pairs]


@dataclass
class QueueFigure:
    figure: str
    label: str
    is_money: bool
    value: Decimal | int | None
    previous: Decimal | int | None  # approved, previous quarter
    last_year: Decimal | int | None  # approved, same quarter last year
    qoq: Decimal | None
    yoy: Decimal | None
    jumped: bool
    unit_mistake: str = ""


@dataclass
class QueueRow:
    report: QuarterlyReport
    figures: list[QueueFigure]
    jump_warning: str  # the entry check's own words, empty when nothing jumps
    unit_mistakes: list[str]
    review_blocked: str  # why this user may not review it (four-eyes), empty otherwise
    can_review: bool
    error: str = ""
    done: str = ""

    @property
    def quarter(self) -> Quarter:
        return self.report.period


def queue_rows(user, reports: list[QuarterlyReport]) -> list[QueueRow]:
    """Each waiting report with the context a review needs, judged by the entry's own checks
    (`jumps_between`, `unit_mistakes`) against the approved figures of the previous quarter
    and of the same quarter last year: one query for all of them."""
    scope = scope_of(user)
    wanted = Q(pk__in=[])
    for report in reports:
        for quarter in (report.period.step(-1), report.period.step(-4)):
            if quarter is not None:
                wanted |= Q(
                    enterprise_id=report.enterprise_id, year=quarter.year, quarter=quarter.quarter
                )
    approved = {
        (revision.enterprise_id, revision.year, revision.quarter): {
            name: getattr(revision, name) for name in FIGURES
        }
        for revision in (ReportRevision.objects.current().filter(wanted) if reports else [])
    }
    rows = []
    for report in reports:
        figures = report.figures()
        previous_quarter, year_ago_quarter = report.period.step(-1), report.period.step(-4)
        previous = approved.get(
            (report.enterprise_id, previous_quarter.year, previous_quarter.quarter)
            if previous_quarter
            else None
        )
        year_ago = approved.get(
            (report.enterprise_id, year_ago_quarter.year, year_ago_quarter.quarter)
            if year_ago_quarter
            else None
        )
        jumps = jumps_between(figures, previous)
        jumped = {jump.figure for jump in jumps}
        mistakes = unit_mistakes(figures, [previous, year_ago])
        blocked = review_problem(user, report) or ""
        rows.append(
            QueueRow(
                report=report,
                figures=[
                    QueueFigure(
                        figure=name,
                        label=str(FIGURE_LABELS[name]),
                        is_money=name in MONEY_FIGURES,
                        value=figures[name],
                        previous=(previous or {}).get(name),
                        last_year=(year_ago or {}).get(name),
                        qoq=change(figures[name], (previous or {}).get(name)),
                        yoy=change(figures[name], (year_ago or {}).get(name)),
                        jumped=name in jumped,
                        unit_mistake=mistakes.get(name, ""),
                    )
                    for name in FIGURES
                ],
                jump_warning=jump_message(jumps) if jumps else "",
                unit_mistakes=list(mistakes.values()),
                review_blocked=blocked,
                can_review=scope.can_approve and not blocked,
            )
        )
    return rows
