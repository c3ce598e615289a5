"""Report figures: one pipeline for every door.

The worksheet row and the single-report API send one row; the import (xlsx, CSV) and the bulk
API send many; the admin's report form sends one. All of them call `reports_enter`, which
runs, in one transaction:

    parse    each cell as written (units in the cell, full-width digits, thousands
             separators) into yuan or a whole number, within what the database holds;
    resolve  the firm (by code or as given) within the actor's districts, and the quarter
             within the reporting window (enterprises.periods);
    convert  year-to-date values into the quarter's own, from the earlier quarters sent
             with it or stored;
    check    the locks of the report's status, a likely unit mistake against the previous
             quarter and the same quarter last year, and a jump that needs a note;
    write    new and changed reports in bulk with history, then (if asked) submit them.

Any error anywhere and nothing is written; every error names its row (a file's line or a
bulk row), its field, the value as written and the reason. Each check has exactly one
definition here; the doors only turn their input into `FigureRow`s and the outcome into
their own answer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, IntegerField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from cluster import clock
from cluster.access import scope_of
from cluster.bulk import cycle_collection_paused, insert_new, insert_select, new_instances
from cluster.models import District
from cluster.numbers import NumberError, parse_amount, parse_count
from cluster.quarters import Quarter

from ..choices import EntryMode, ReportStatus, Unit
from ..models import (
    FIGURE_LABELS,
    FIGURES,
    MONEY_DIGITS,
    MONEY_FIGURES,
    MONEY_PLACES,
    Enterprise,
    QuarterlyReport,
)
from ..periods import ReportingWindow
from ..uscc import normalise_uscc, uscc_problem
from .reports import recompute_after_commit, reports_submit, submission_problem

# Figures that accumulate over the year; employees is a head count at the quarter's end.
CUMULATIVE_FIGURES = (*MONEY_FIGURES, "invention_patents", "high_value_patents")
# Figures watched for jumps against the previous quarter.
JUMP_FIGURES = ("output_value", "operating_revenue")
# The largest amount a money column holds (18 digits, 2 of them after the point) and the
# largest head count or patent count (PostgreSQL's integer).
LARGEST_AMOUNT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES) - Decimal("0.01")
LARGEST_COUNT = 2_147_483_647
CENT = Decimal("0.01")
WAN = Decimal(10_000)
# Rows per INSERT or UPDATE: the statements of a large file stay of a bounded size.
WRITE_BATCH = 1000
RESOLVED_FIRM_FIELDS = ("pk", "uscc", "name_zh", "name_en", "district_id", "founded_on")


# --- what the doors send and get back -------------------------------------------------------


@dataclass
class FigureRow:
    """One row of figures as a door received it.

    `values` holds only the figures the door carries (a file's columns, the fields of an API
    call), each as written; a figure the row does not carry keeps its stored value. The firm
    is given (pages, single API, admin) or named by its code (import, bulk API), and so is
    the quarter (or a period as written)."""

    values: dict[str, object]
    ref: int | None = None  # a file's line, or a bulk row's index; None for one row
    enterprise: Enterprise | None = None
    uscc: object = None
    quarter: Quarter | None = None
    period: object = None
    anomaly_note: str = ""
    change_reason: str = ""
    # The version the user's form was loaded with (None: a new report); compared under lock
    # when `compare_version` is set, so that two people never overwrite each other silently.
    version: int | None = None
    compare_version: bool = False


@dataclass
class RowError:
    line: int | None
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return _("Line %(line)s, column %(column)s, value %(value)r: %(reason)s") % {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass
class PlannedRow:
    source: FigureRow
    enterprise: Enterprise
    quarter: Quarter
    figures: dict  # figure → the quarter's own value, for the figures the row carries
    entered: dict  # figure → the cell as written
    report: QuarterlyReport | None
    changes: dict = field(default_factory=dict)  # figure → (old, new)
    cumulative: dict = field(default_factory=dict)  # as written, in year-to-date mode
    note: str = ""
    jumps: list = field(default_factory=list)
    unconvertible: bool = False  # a year-to-date figure could not be turned into the quarter's
    created: bool = False  # written as a new report by this call

    @property
    def line(self) -> int | None:
        return self.source.ref

    @property
    def kind(self) -> str:
        if self.report is None or self.created:
            return "new"
        return "changed" if self.changes else "unchanged"

    @property
    def change_list(self) -> list[tuple[str, object, object]]:
        """(label, old, new) with money in 万元, for the import's preview."""
        return [
            (str(FIGURE_LABELS[figure]), in_wan(figure, old), in_wan(figure, new))
            for figure, (old, new) in self.changes.items()
        ]

    @property
    def warnings(self) -> list[str]:
        """Jumps confirmed with a note, shown in the preview."""
        return [
            _("%(figure)s %(change)+.0f%% against the previous quarter (note: %(note)s)")
            % {"figure": FIGURE_LABELS[j.figure], "change": j.change * 100, "note": self.note}
            for j in self.jumps
        ]


@dataclass
class EntryOutcome:
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    written: bool = False
    submitted: int = 0
    conflict: QuarterlyReport | None = None  # the newer report a stale version ran into

    def count(self, kind: str) -> int:
        return sum(1 for row in self.rows if row.kind == kind)

    @property
    def totals(self) -> dict:
        return {kind: self.count(kind) for kind in ("new", "changed", "unchanged")}

    def error(self, row: FigureRow | PlannedRow, column: str, value, reason: str) -> None:
        line = row.ref if isinstance(row, FigureRow) else row.line
        self.errors.append(RowError(line, column, "" if value is None else str(value), reason))


class ReportConflict(Exception):
    """Someone saved the report since the form was loaded: nothing is overwritten."""

    def __init__(self, current: QuarterlyReport) -> None:
        self.current = current
        super().__init__(
            _(
                "%(firm)s was changed by someone else (now version %(version)s); your figures "
                "were not saved. The newer values are shown."
            )
            % {"firm": current.enterprise.name, "version": current.version}
        )


def in_wan(figure: str, value):
    """Money in 万元 (two decimals), counts as they are: how pages show a figure."""
    if value is None or figure not in MONEY_FIGURES:
        return value
    return (Decimal(value) / WAN).quantize(CENT, rounding=ROUND_HALF_UP)


# --- the checks (each defined once) ---------------------------------------------------------


class FigureError(ValueError):
    pass


def parse_figure(figure: str, raw, unit: Unit) -> Decimal | int | None:
    """A cell as written → yuan (money) or a whole number (counts); None for an empty cell.
    A unit written in the cell wins over the row's unit."""
    if isinstance(raw, dt.date):
        raise FigureError(_("A date, not a number."))
    if isinstance(raw, bool | list | dict):
        raise FigureError(_("Not a number."))
    try:
        if figure in MONEY_FIGURES:
            value, factor = parse_amount(raw)
        else:
            value, factor = parse_count(raw), None
    except NumberError as exc:
        raise FigureError(exc.reason) from None
    if value is None:
        return None
    if not value.is_finite():
        raise FigureError(_("Not a number."))
    if value < 0:
        raise FigureError(_("Cannot be negative."))
    if figure in MONEY_FIGURES:
        if value.adjusted() > MONEY_DIGITS:  # far too large to multiply safely
            raise FigureError(_too_large(figure))
        amount = (value * (factor or unit.factor)).quantize(CENT, rounding=ROUND_HALF_UP)
        if amount > LARGEST_AMOUNT:
            raise FigureError(_too_large(figure))
        return amount
    if value != value.to_integral_value():
        raise FigureError(_("Must be a whole number."))
    if value > LARGEST_COUNT:
        raise FigureError(_too_large(figure))
    return int(value)


def _too_large(figure: str) -> str:
    if figure in MONEY_FIGURES:
        return _("Too large: one firm's figure for one quarter holds at most %(largest)s 万元.") % {
            "largest": f"{LARGEST_AMOUNT / WAN:,.0f}"
        }
    return _("Too large: at most %(largest)s.") % {"largest": f"{LARGEST_COUNT:,}"}


@dataclass(frozen=True)
class Jump:
    figure: str
    previous: Decimal
    value: Decimal

    @property
    def change(self) -> Decimal:
        return self.value / self.previous - 1


def jumps_between(figures: dict, previous: dict | None) -> list[Jump]:
    """Figures that moved by more than REPORT_JUMP_THRESHOLD_PERCENT against the previous
    quarter: they need a note (波动说明) before they are saved."""
    if not previous:
        return []
    threshold = Decimal(str(settings.REPORT_JUMP_THRESHOLD))
    found = []
    for figure in JUMP_FIGURES:
        value, before = figures.get(figure), previous.get(figure)
        if value is None or not before:
            continue
        if abs(value / before - 1) > threshold:
            found.append(Jump(figure, before, value))
    return found


def jump_message(jumps: list[Jump]) -> str:
    return _(
        "%(figures)s changed by more than %(threshold)d%% against the previous quarter: "
        "confirm with a note."
    ) % {
        "figures": "、".join(str(FIGURE_LABELS[j.figure]) for j in jumps),
        "threshold": round(settings.REPORT_JUMP_THRESHOLD * 100),
    }


def unit_mistakes(figures: dict, references: list[dict | None]) -> dict[str, str]:
    """Money figures that look like a unit mistake (元 entered as 万元 or the reverse): at
    least REPORT_UNIT_MISTAKE_RATIO times (or a that-many-th of) the same firm's figure of the
    previous quarter or the same quarter last year, or above REPORT_MAX_QUARTERLY_YUAN for one
    quarter. These are refused, not warned about: a ×10,000 figure would swamp the city's
    total."""
    ratio_limit = Decimal(settings.REPORT_UNIT_MISTAKE_RATIO)
    ceiling = Decimal(settings.REPORT_MAX_QUARTERLY_YUAN)
    found = {}
    for figure in MONEY_FIGURES:
        value = figures.get(figure)
        if not value:
            continue
        for reference in references:
            before = (reference or {}).get(figure)
            if not before:
                continue
            ratio = max(value / before, before / value)
            if ratio >= ratio_limit:
                found[figure] = _(
                    "%(value)s 万元 against the same firm's %(before)s 万元 in an earlier "
                    "quarter, a factor of %(ratio)s: check the unit (元, 万元 or 亿元)."
                ) % {
                    "value": f"{value / WAN:,.2f}",
                    "before": f"{before / WAN:,.2f}",
                    "ratio": f"{ratio:,.0f}",
                }
                break
        if figure not in found and value > ceiling:
            found[figure] = _(
                "%(value)s 万元 in one quarter is more than %(ceiling)s 万元 for one firm: "
                "check the unit (元, 万元 or 亿元)."
            ) % {"value": f"{value / WAN:,.2f}", "ceiling": f"{ceiling / WAN:,.0f}"}
    return found


def lock_problem(report: QuarterlyReport | None, change_reason: str) -> tuple[str, str] | None:
    """(field, reason) when the report's status does not allow changing its figures."""
    if report is None:
        return None
    if report.status == ReportStatus.SUBMITTED:
        return "status", _("The report is submitted and awaits review; it cannot be changed now.")
    if report.status == ReportStatus.APPROVED and not change_reason.strip():
        return "change_reason", _("The report is approved: give the reason for the change.")
    return None


# --- the pipeline ---------------------------------------------------------------------------


def reports_enter(
    *,
    actor,
    rows: list[FigureRow],
    unit: str = Unit.YUAN,
    mode: str = EntryMode.QUARTERLY,
    dry_run: bool = False,
    submit: bool = False,
    source: str = "entry",
    today: dt.date | None = None,
) -> EntryOutcome:
    """Check `rows` as a whole and, when nothing is wrong and this is not a dry run, write
    them (and submit them if asked), all in one transaction. `source` names the door in the
    history ("worksheet", "api", "import" ...)."""
    scope = scope_of(actor)
    if not scope.can_edit:
        raise PermissionDenied
    today = today or clock.today()
    # Two first saves of the same report at once: the second insert fails on the unique
    # constraint once the first commits. Checked again, its rows are found stored.
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                with cycle_collection_paused(len(rows)):
                    outcome = _enter(
                        actor, rows, Unit(unit), EntryMode(mode), submit, dry_run, source, today
                    )
                if outcome.errors or outcome.conflict is not None or dry_run:
                    transaction.set_rollback(True)
                    outcome.written, outcome.submitted = False, 0
                return outcome
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _enter(actor, rows, unit, mode, submit, dry_run, source, today) -> EntryOutcome:
    outcome = EntryOutcome()
    window = ReportingWindow.on(today)
    parsed = _parse(rows, unit, outcome)
    planned = _resolve(actor, parsed, outcome, window, submit)
    if not planned:
        return outcome
    reports, stored = _stored(planned)
    for row in planned:
        row.report = reports.get((row.enterprise.pk, row.quarter))
        if row.report is not None:
            row.report.enterprise = row.enterprise
    conflict = _compare_versions(planned, outcome)
    if conflict is not None:
        outcome.conflict = conflict
        return outcome
    if mode == EntryMode.YEAR_TO_DATE:
        _convert_year_to_date(planned, stored, outcome)
    _check(planned, stored, outcome, submit)
    outcome.rows = sorted(planned, key=lambda r: (r.line is None, r.line or 0))
    outcome.errors.sort(key=lambda e: e.line or 0)
    if outcome.errors or dry_run:
        return outcome
    _write(actor, planned, source)
    outcome.written = True
    if submit:
        outcome.submitted = _submit(actor, planned)
    return outcome


def _parse(rows: list[FigureRow], unit: Unit, outcome: EntryOutcome):
    """Cells → values, codes and quarters, without the database."""
    parsed, spellings = [], {}
    for row in rows:
        errors_before = len(outcome.errors)
        figures, entered = {}, {}
        for figure in FIGURES:
            if figure not in row.values:
                continue
            raw = row.values[figure]
            entered[figure] = "" if raw is None else str(raw)
            try:
                figures[figure] = parse_figure(figure, raw, unit)
            except FigureError as exc:
                outcome.error(row, figure, raw, str(exc))
        uscc = None
        if row.enterprise is None:
            uscc = normalise_uscc(row.uscc)
            problem = uscc_problem(uscc) if uscc else _("Empty.")
            if problem:
                outcome.error(row, "uscc", row.uscc, problem)
        quarter = row.quarter
        if quarter is None:
            try:
                # A file's rows mostly spell one or two periods: each spelling read once.
                if isinstance(row.period, str):
                    quarter = spellings.get(row.period) or spellings.setdefault(
                        row.period, Quarter.parse_spelling(row.period)
                    )
                else:
                    quarter = Quarter.parse_spelling(row.period)
            except (ValueError, TypeError) as exc:
                outcome.error(row, "period", row.period, str(exc))
        if len(outcome.errors) == errors_before:
            parsed.append((row, uscc, quarter, figures, entered))
    return parsed


def _resolve(actor, parsed, outcome: EntryOutcome, window: ReportingWindow, submit: bool):
    """The firms (in the actor's districts) and quarters (within the reporting window)."""
    scope = scope_of(actor)
    codes = {uscc for _row, uscc, *_rest in parsed if uscc}
    # The fields the pipeline and its pages read of a firm found by its code (a third less
    # to build for 10,000 firms); `name` reads name_zh and name_en.
    firms = (
        {e.uscc: e for e in Enterprise.objects.filter(uscc__any=codes).only(*RESOLVED_FIRM_FIELDS)}
        if codes
        else {}
    )
    planned, seen = [], {}
    for row, uscc, quarter, figures, entered in parsed:
        firm = row.enterprise or firms.get(uscc)
        if firm is None:
            outcome.error(row, "uscc", uscc, _("No firm with this code is registered."))
            continue
        if not scope.covers(firm.district_id):
            if row.enterprise is not None:
                raise PermissionDenied
            outcome.error(row, "uscc", uscc, _("The firm belongs to another district."))
            continue
        problem = window.problem(quarter, founded_on=firm.founded_on, submitting=submit)
        if problem:
            outcome.error(row, "period", row.period or quarter, problem)
            continue
        key = (firm.pk, quarter)
        if key in seen:
            outcome.error(
                row,
                "period",
                row.period or quarter,
                _("Duplicate of line %(line)s (same firm and quarter).") % {"line": seen[key]},
            )
            continue
        seen[key] = row.ref
        planned.append(PlannedRow(row, firm, quarter, figures, entered, report=None))
    return planned


def _stored(planned: list[PlannedRow]) -> tuple[dict, dict]:
    """The stored reports the rows are checked against (each row's own, the previous quarter,
    the same quarter last year and the earlier quarters of a year-to-date figure), locked
    until the transaction ends: the rows' own reports, and the figures of all of them, by
    (firm, quarter). One query for the figures (of thousands of reports: only their keys and
    figures are read), and one for the rows' own reports as model instances, if any exist."""
    firms = {row.enterprise.pk for row in planned}
    own = {(row.enterprise.pk, row.quarter) for row in planned}
    quarters_of_year: dict[int, set[int]] = defaultdict(set)
    for quarter in {row.quarter for row in planned}:
        for period in (
            quarter,
            quarter.previous(),
            quarter.same_quarter_last_year(),
            *(Quarter(quarter.year, q) for q in range(1, quarter.quarter)),
        ):
            quarters_of_year[period.year].add(period.quarter)
    periods = Q()
    for year, quarters in quarters_of_year.items():
        periods |= Q(year=year, quarter__in=sorted(quarters))
    queryset = (
        QuarterlyReport.objects.select_for_update()
        .filter(periods, enterprise__any=firms)
        .order_by("pk")
    )
    figures, mine, quarters = {}, [], {}
    for pk, firm, year, number, *values in queryset.values_list(
        "pk", "enterprise_id", "year", "quarter", *FIGURES
    ):
        quarter = quarters.get((year, number)) or quarters.setdefault(
            (year, number), Quarter(year, number)
        )
        key = (firm, quarter)
        figures[key] = dict(zip(FIGURES, values, strict=True))
        if key in own:
            mine.append(pk)
    reports = {
        (report.enterprise_id, report.period): report
        for report in (QuarterlyReport.objects.filter(pk__any=mine) if mine else ())
    }
    return reports, figures


def _compare_versions(planned: list[PlannedRow], outcome: EntryOutcome):
    for row in planned:
        if not row.source.compare_version:
            continue
        expected = row.source.version or None
        if row.report is None:
            if expected is not None:
                outcome.error(row, "version", expected, _("This report no longer exists."))
        elif row.report.version != expected:
            return row.report
    return None


def _convert_year_to_date(planned: list[PlannedRow], stored: dict, outcome: EntryOutcome):
    """Cumulative values → the quarter's own, from the earlier quarters sent in the same call
    first and the stored reports otherwise."""
    sent = {(row.enterprise.pk, row.quarter): row for row in planned}
    for row in sorted(planned, key=lambda r: (r.enterprise.pk, r.quarter)):
        cumulative = dict(row.figures)
        for figure in CUMULATIVE_FIGURES:
            total = cumulative.get(figure)
            if total is None:
                continue
            before = Decimal(0) if figure in MONEY_FIGURES else 0
            for q in range(1, row.quarter.quarter):
                earlier = Quarter(row.quarter.year, q)
                source = sent.get((row.enterprise.pk, earlier))
                if source is not None:
                    before = source.cumulative.get(figure, before)
                    continue
                value = stored.get((row.enterprise.pk, earlier), {}).get(figure)
                if value is None:
                    outcome.error(
                        row,
                        figure,
                        row.entered[figure],
                        _(
                            "Year-to-date entry needs %(quarter)s, which is neither among the "
                            "rows sent nor stored."
                        )
                        % {"quarter": earlier},
                    )
                    row.unconvertible = True
                    break
                before += value
            else:
                if total < before:
                    shown = (
                        f"{in_wan(figure, before):,} 万元" if figure in MONEY_FIGURES else before
                    )
                    outcome.error(
                        row,
                        figure,
                        row.entered[figure],
                        _(
                            "The year-to-date value is smaller than the previous quarter's "
                            "(%(previous)s)."
                        )
                        % {"previous": shown},
                    )
                    row.unconvertible = True
                row.figures[figure] = total - before
        row.cumulative = cumulative


def _after(planned: list[PlannedRow], stored: dict) -> dict:
    """Every report's figures as they will be once the rows are written."""
    # The stored figures themselves where no row changes them (read only); copying all of
    # them cost a tenth of a 10,000-row import.
    after = dict(stored)
    blank = dict.fromkeys(FIGURES)
    for row in planned:
        key = (row.enterprise.pk, row.quarter)
        after[key] = {**stored.get(key, blank), **row.figures}
    return after


def _check(planned: list[PlannedRow], stored: dict, outcome: EntryOutcome, submit: bool):
    after = _after(planned, stored)
    for row in planned:
        if row.unconvertible:
            continue
        report = row.report
        if report is not None:
            row.changes = {
                figure: (getattr(report, figure), value)
                for figure, value in row.figures.items()
                if getattr(report, figure) != value
            }
        resulting = after[(row.enterprise.pk, row.quarter)]
        if submit and (report is None or report.status in ReportStatus.editable()):
            problem = submission_problem(resulting)
            if problem:
                outcome.error(row, problem[0], row.entered.get(problem[0]), problem[1])
        if row.kind == "unchanged":
            continue
        locked = lock_problem(report, row.source.change_reason)
        if locked:
            outcome.error(row, locked[0], row.quarter, locked[1])
            continue
        key = row.enterprise.pk
        mistakes = unit_mistakes(
            row.figures,
            [
                after.get((key, row.quarter.previous())),
                after.get((key, row.quarter.same_quarter_last_year())),
            ],
        )
        for figure, reason in mistakes.items():
            outcome.error(row, figure, row.entered.get(figure), reason)
        if mistakes:
            continue
        row.jumps = jumps_between(resulting, after.get((key, row.quarter.previous())))
        row.note = row.source.anomaly_note.strip() if row.jumps else ""
        if row.jumps and not row.note:
            outcome.error(row, "anomaly_note", "", jump_message(row.jumps))


def _write(actor, planned: list[PlannedRow], source: str) -> None:
    now = timezone.now()
    firm_cache = QuarterlyReport._meta.get_field("enterprise")
    fresh = [row for row in planned if row.kind == "new"]
    new = new_instances(
        QuarterlyReport,
        (
            {
                "enterprise_id": row.enterprise.pk,
                "year": row.quarter.year,
                "quarter": row.quarter.quarter,
                "anomaly_note": row.note,
                "entered_by_id": actor.pk,
                "figures_changed_by_id": actor.pk,
                **{f: row.figures.get(f) for f in FIGURES},
            }
            for row in fresh
        ),
    )
    for row, report in zip(fresh, new, strict=True):
        firm_cache.set_cached_value(report, row.enterprise)
    # No full_clean: the parse step bounds every value, and a foreign-key check per row would
    # cost a query each.
    insert_new(QuarterlyReport, new)
    _record_history(new, "+", actor=actor, reason=source, moment=now)
    created = {(r.enterprise_id, r.period): r for r in new}
    changed, resubmitted = [], []
    for row in planned:
        if row.kind == "new":
            row.report, row.created = created[(row.enterprise.pk, row.quarter)], True
            continue
        if row.kind != "changed":
            continue
        report = row.report
        for figure, (_old, value) in row.changes.items():
            setattr(report, figure, value)
        report.anomaly_note = row.note
        report.figures_changed_by = actor
        if report.status == ReportStatus.APPROVED:
            # A change after approval goes back for review; the approved revision stays
            # official until then.
            report.status = ReportStatus.SUBMITTED
            report.change_reason = row.source.change_reason.strip()
            report.submitted_by, report.submitted_at = actor, now
            resubmitted.append(report)
        report.version += 1
        report.updated_at = now
        changed.append(report)
    if changed:
        QuarterlyReport.objects.bulk_update(
            changed,
            [
                *FIGURES,
                "anomaly_note",
                "figures_changed_by",
                "status",
                "change_reason",
                "submitted_by",
                "submitted_at",
                "version",
                "updated_at",
            ],
            batch_size=WRITE_BATCH,
        )
        _record_history(changed, "~", actor=actor, reason=source, moment=now)
    recompute_after_commit(resubmitted)


def _record_history(
    reports: list[QuarterlyReport], history_type: str, *, actor, reason: str, moment
) -> None:
    """The simple-history rows of reports just written, as bulk_create_with_history and
    bulk_update_with_history make them (every tracked field, the user, the door as the reason),
    copied by the database from the rows it holds: building them in Python cost more than
    everything else of an import."""
    if not reports:
        return
    history = QuarterlyReport.history.model
    tracked = [f.attname for f in history.tracked_fields]
    stamp = {
        "history_date": Value(moment, output_field=history._meta.get_field("history_date")),
        "history_user_id": Value(actor.pk, output_field=IntegerField()),
        "history_change_reason": Value(reason, output_field=CharField()),
        "history_type": Value(history_type, output_field=CharField()),
    }
    insert_select(
        history,
        [*tracked, *stamp],
        # In the reports' order: the history of an import lists them as written.
        QuarterlyReport.objects.filter(pk__any=[report.pk for report in reports])
        .order_by("pk")
        .annotate(**{f"stamp_{name}": value for name, value in stamp.items()})
        .values_list(*tracked, *(f"stamp_{name}" for name in stamp)),
    )


def _submit(actor, planned: list[PlannedRow]) -> int:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for row in planned:
        groups[(row.enterprise.district_id, row.quarter)].append(row.enterprise.pk)
    # The districts in one query, not one per firm.
    districts = District.objects.in_bulk({district for district, _quarter in groups})
    return sum(
        reports_submit(
            actor=actor, district=districts[district], quarter=quarter, enterprise_ids=ids
        )
        for (district, quarter), ids in groups.items()
    )


# --- one row (worksheet, single-report API, admin) ------------------------------------------


def report_save(
    *,
    actor,
    enterprise: Enterprise,
    quarter: Quarter | None = None,
    period=None,
    values: dict,
    version: int | None,
    unit: str = Unit.YUAN,
    mode: str = EntryMode.QUARTERLY,
    anomaly_note: str = "",
    change_reason: str = "",
    source: str = "entry",
    today: dt.date | None = None,
) -> QuarterlyReport:
    """Save one firm's figures for one quarter through the pipeline. `values` are the figures
    as written (in `unit` for money); `version` is the one the user's form was loaded with.
    Raises ValidationError (per field) or ReportConflict."""
    outcome = reports_enter(
        actor=actor,
        rows=[
            FigureRow(
                values,
                enterprise=enterprise,
                quarter=quarter,
                period=period,
                anomaly_note=anomaly_note,
                change_reason=change_reason,
                version=version,
                compare_version=True,
            )
        ],
        unit=unit,
        mode=mode,
        source=source,
        today=today,
    )
    if outcome.conflict is not None:
        raise ReportConflict(outcome.conflict)
    if outcome.errors:
        errors: dict[str, list[str]] = {}
        for error in outcome.errors:
            errors.setdefault(error.column, []).append(error.reason)
        raise ValidationError(errors)
    return outcome.rows[0].report
