"""Quarterly reports: entry, submission, approval, return and revision."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from cluster.access import scope_of
from cluster.errors import StateConflict
from cluster.jobs import enqueue_on_commit
from cluster.models import District
from cluster.quarters import Quarter, YearToDateError

from ..choices import ReportStatus
from ..models import (
    FIGURES,
    MONEY_FIGURES,
    Enterprise,
    QuarterlyReport,
    ReportRevision,
)

# Figures that accumulate over the year; employees is a head count at the quarter's end.
CUMULATIVE_FIGURES = (*MONEY_FIGURES, "invention_patents", "high_value_patents")
# Figures watched for jumps against the previous quarter.
JUMP_FIGURES = ("output_value", "operating_revenue")
EDITABLE = (ReportStatus.DRAFT, ReportStatus.RETURNED)
REQUIRED_TO_SUBMIT = ("output_value", "operating_revenue")
WORKFLOW_FIELDS = [
    "status",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "returned_by",
    "returned_at",
    "return_reason",
    "version",
    "revision",
    "updated_at",
]


class EntryMode(models.TextChoices):
    QUARTERLY = "quarterly", gettext_lazy("quarterly values")
    YEAR_TO_DATE = "ytd", gettext_lazy("year-to-date (cumulative) values")


class Unit(models.TextChoices):
    YUAN = "yuan", gettext_lazy("yuan")
    WAN = "wan", gettext_lazy("ten-thousand yuan (万元)")
    YI = "yi", gettext_lazy("hundred-million yuan (亿元)")

    @property
    def factor(self) -> Decimal:
        return {"yuan": Decimal(1), "wan": Decimal(10_000), "yi": Decimal(100_000_000)}[self]


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


@dataclass(frozen=True)
class Jump:
    figure: str
    previous: Decimal
    value: Decimal

    @property
    def change(self) -> Decimal:
        return self.value / self.previous - 1


def jumps_between(figures: dict, previous: dict | None, threshold: float) -> list[Jump]:
    """Figures that moved by more than `threshold` (a share) against the previous quarter."""
    if not previous:
        return []
    found = []
    for figure in JUMP_FIGURES:
        value, before = figures.get(figure), previous.get(figure)
        if value is None or not before:
            continue
        if abs(value / before - 1) > Decimal(str(threshold)):
            found.append(Jump(figure, before, value))
    return found


def unit_mistakes(figures: dict, references: list[dict | None]) -> dict[str, str]:
    """Money figures that look like a unit mistake (元 entered as 万元 or the reverse): at
    least REPORT_UNIT_MISTAKE_RATIO times (or a that-many-th of) an earlier quarter's figure
    of the same firm, or above REPORT_MAX_QUARTERLY_YUAN for one quarter. These are refused,
    not warned about: a ×10,000 figure would swamp the city's total."""
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
                    "value": f"{value / 10_000:,.2f}",
                    "before": f"{before / 10_000:,.2f}",
                    "ratio": f"{ratio:,.0f}",
                }
                break
        if figure not in found and value > ceiling:
            found[figure] = _(
                "%(value)s 万元 in one quarter is more than %(ceiling)s 万元 for one firm: "
                "check the unit (元, 万元 or 亿元)."
            ) % {"value": f"{value / 10_000:,.2f}", "ceiling": f"{ceiling / 10_000:,.0f}"}
    return found


def _figure_label(figure: str) -> str:
    return str(QuarterlyReport._meta.get_field(figure).verbose_name)


def _require_editor(actor, district_id: int) -> None:
    scope = scope_of(actor)
    if not (scope.can_edit and scope.covers(district_id)):
        raise PermissionDenied


def quarterly_from_ytd(*, enterprise: Enterprise, quarter: Quarter, cumulative: dict) -> dict:
    """Turn year-to-date figures into the quarter's own, from the earlier quarters of the year
    as stored."""
    figures = dict(cumulative)
    if quarter.quarter == 1:
        return figures
    earlier = QuarterlyReport.objects.filter(
        enterprise=enterprise, year=quarter.year, quarter__lt=quarter.quarter
    ).values("quarter", *CUMULATIVE_FIGURES)
    by_quarter = {row["quarter"]: row for row in earlier}
    missing = [q for q in range(1, quarter.quarter) if q not in by_quarter]
    for figure in CUMULATIVE_FIGURES:
        total = cumulative.get(figure)
        if total is None:
            continue
        if missing:
            raise ValidationError(
                {
                    figure: _(
                        "Year-to-date entry needs the earlier quarters of %(year)s; missing: "
                        "%(quarters)s."
                    )
                    % {
                        "year": quarter.year,
                        "quarters": ", ".join(str(Quarter(quarter.year, q)) for q in missing),
                    }
                }
            )
        before = sum((by_quarter[q][figure] or 0) for q in range(1, quarter.quarter))
        if total < before:
            raise ValidationError({figure: str(YearToDateError(quarter, total, before))})
        figures[figure] = total - before
    return figures


@transaction.atomic
def report_save(
    *,
    actor,
    enterprise: Enterprise,
    quarter: Quarter,
    figures: dict,
    version: int | None,
    anomaly_note: str = "",
    change_reason: str = "",
    mode: str = EntryMode.QUARTERLY,
) -> QuarterlyReport:
    """Save one firm's figures for one quarter (values in yuan and units).

    `version` is the version the user's form was loaded with (None for a new report); a
    different current version is a conflict. An approved report changes only with a reason
    and goes back for approval; its approved revision stays official until then.
    """
    _require_editor(actor, enterprise.district_id)
    if mode == EntryMode.YEAR_TO_DATE:
        figures = quarterly_from_ytd(enterprise=enterprise, quarter=quarter, cumulative=figures)
    report = (
        QuarterlyReport.objects.select_for_update()
        .select_related("enterprise")
        .filter(enterprise=enterprise, year=quarter.year, quarter=quarter.quarter)
        .first()
    )
    if report is None:
        if version:
            raise ValidationError(_("This report no longer exists."))
        report = QuarterlyReport(enterprise=enterprise, year=quarter.year, quarter=quarter.quarter)
    elif version != report.version:
        raise ReportConflict(report)

    changed = {name for name in FIGURES if getattr(report, name) != figures.get(name)}
    if report.pk and not changed:
        return report
    if report.status == ReportStatus.SUBMITTED:
        raise ValidationError(
            _("The report is submitted and awaits review; it cannot be changed now.")
        )
    if report.status == ReportStatus.APPROVED and not change_reason.strip():
        raise ValidationError(
            {"change_reason": _("The report is approved: give the reason for the change.")}
        )
    previous = (
        QuarterlyReport.objects.filter(
            enterprise=enterprise, year=quarter.previous().year, quarter=quarter.previous().quarter
        )
        .values(*MONEY_FIGURES)
        .first()
    )
    mistakes = unit_mistakes(figures, [previous])
    if mistakes:
        raise ValidationError(mistakes)
    jumps = jumps_between(figures, previous, settings.REPORT_JUMP_THRESHOLD)
    if jumps and not anomaly_note.strip():
        raise ValidationError(
            {
                "anomaly_note": _(
                    "%(figures)s changed by more than %(threshold)d%% against the previous "
                    "quarter: confirm with a note."
                )
                % {
                    "figures": "、".join(_figure_label(j.figure) for j in jumps),
                    "threshold": round(settings.REPORT_JUMP_THRESHOLD * 100),
                }
            }
        )

    for name in FIGURES:
        setattr(report, name, figures.get(name))
    report.anomaly_note = anomaly_note.strip() if jumps else ""
    if report.status == ReportStatus.APPROVED:
        report.status = ReportStatus.SUBMITTED
        report.change_reason = change_reason.strip()
        report.submitted_by = actor
        report.submitted_at = timezone.now()
    if report.pk:
        report.version += 1
    report.full_clean(validate_unique=False, validate_constraints=False)
    report._history_user = actor
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # Two first saves of the same report at once: the other one won.
        current = QuarterlyReport.objects.get(
            enterprise=enterprise, year=quarter.year, quarter=quarter.quarter
        )
        raise ReportConflict(current) from None
    if report.status == ReportStatus.SUBMITTED:
        _recompute_after_commit([report])  # a revision after approval, now in preview
    return report


def _recompute_after_commit(reports: list[QuarterlyReport]) -> None:
    """Progress depends on submitted (preview) and approved figures: the targets engine
    recomputes once this transaction commits. By task name: the register does not import
    the targets app."""
    if reports:
        enqueue_on_commit("targets.recompute_for_reports", [r.pk for r in reports])


def _transition(reports: list[QuarterlyReport], *, actor, reason: str, now, **changes) -> None:
    """Apply a workflow step to locked reports and write it, with history, in bulk."""
    for report in reports:
        for field, value in changes.items():
            setattr(report, field, value)
        report.version += 1
        report.updated_at = now
    bulk_update_with_history(
        reports, QuarterlyReport, WORKFLOW_FIELDS, default_user=actor, default_change_reason=reason
    )


def _locked(queryset):
    return list(queryset.select_for_update(of=("self",)).select_related("enterprise"))


@transaction.atomic
def reports_submit(
    *, actor, district: District, quarter: Quarter, enterprise_ids: list[int] | None = None
) -> int:
    """Submit the district's draft and returned reports of the quarter (or those of the given
    firms). All or nothing: a report without output value or revenue stops the submission."""
    _require_editor(actor, district.pk)
    queryset = QuarterlyReport.objects.filter(
        enterprise__district=district,
        year=quarter.year,
        quarter=quarter.quarter,
        status__in=EDITABLE,
    ).order_by("enterprise__name_zh")
    if enterprise_ids is not None:
        queryset = queryset.filter(enterprise_id__in=enterprise_ids)
    reports = _locked(queryset)
    incomplete = [r for r in reports if any(getattr(r, f) is None for f in REQUIRED_TO_SUBMIT)]
    if incomplete:
        raise ValidationError(
            _("Fill in output value and operating revenue before submitting: %(firms)s.")
            % {"firms": "、".join(r.enterprise.name for r in incomplete)}
        )
    now = timezone.now()
    _transition(
        reports,
        actor=actor,
        reason="submit",
        now=now,
        status=ReportStatus.SUBMITTED,
        submitted_by=actor,
        submitted_at=now,
        return_reason="",
    )
    _recompute_after_commit(reports)
    return len(reports)


def _reviewable(actor, report_ids: list[int]) -> list[QuarterlyReport]:
    scope = scope_of(actor)
    if not scope.can_approve:
        raise PermissionDenied
    reports = _locked(QuarterlyReport.objects.visible_to(actor).filter(pk__in=report_ids))
    stale = [r for r in reports if r.status != ReportStatus.SUBMITTED]
    if len(reports) != len(set(report_ids)) or stale:
        raise StateConflict(
            _("Only submitted reports can be reviewed; these are no longer submitted: %(firms)s.")
            % {"firms": "、".join(f"{r.enterprise.name} {r.period}" for r in stale)}
        )
    return reports


@transaction.atomic
def reports_approve(*, actor, report_ids: list[int]) -> int:
    """Approve submitted reports: their figures become a new revision, the official ones."""
    reports = _reviewable(actor, report_ids)
    now = timezone.now()
    for report in reports:
        report.revision += 1
    _transition(
        reports,
        actor=actor,
        reason="approve",
        now=now,
        status=ReportStatus.APPROVED,
        approved_by=actor,
        approved_at=now,
    )
    revisions = [ReportRevision.of(report) for report in reports]
    ReportRevision.objects.bulk_create(revisions)
    _recompute_after_commit(reports)
    return len(reports)


@transaction.atomic
def reports_return(*, actor, report_ids: list[int], reason: str) -> int:
    """Send submitted reports back to the district with the reason."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for returning the report.")})
    reports = _reviewable(actor, report_ids)
    now = timezone.now()
    _transition(
        reports,
        actor=actor,
        reason="return",
        now=now,
        status=ReportStatus.RETURNED,
        returned_by=actor,
        returned_at=now,
        return_reason=reason.strip(),
    )
    return len(reports)
