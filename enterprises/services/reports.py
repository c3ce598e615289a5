"""The workflow of quarterly reports: submission, approval (with its revision) and return.

Figures are entered through `report_entry` (one pipeline for every door); the steps here
change only a report's status. Each rule of a step has one definition: what may be
submitted (`submission_problem`, the reporting window), who may review (`review_problem`:
a steward, and with four-eyes review not the person who entered or last changed the
figures), and what a review needs (a reason to return).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from cluster import clock
from cluster.access import scope_of
from cluster.errors import NotAllowed, StateConflict
from cluster.jobs import enqueue_on_commit
from cluster.models import District
from cluster.quarters import Quarter

from ..choices import ReportStatus
from ..models import QuarterlyReport, ReportRevision
from ..periods import ReportingWindow

EDITABLE = ReportStatus.editable()
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


def submission_problem(figures: dict) -> tuple[str, str] | None:
    """(field, reason) when a report with these figures cannot be submitted, or None."""
    missing = [name for name in REQUIRED_TO_SUBMIT if figures.get(name) is None]
    if missing:
        return missing[0], _("Fill in output value and operating revenue before submitting.")
    return None


def review_problem(actor, report: QuarterlyReport) -> str | None:
    """Why `actor` may not approve or return `report` (four-eyes review), or None. Off when
    REPORT_FOUR_EYES is off (a one-person office)."""
    if not settings.REPORT_FOUR_EYES:
        return None
    if actor.pk in (report.entered_by_id, report.figures_changed_by_id):
        return _(
            "%(firm)s %(quarter)s: you entered or last changed these figures, so another "
            "steward reviews them (four-eyes review)."
        ) % {"firm": report.enterprise.name, "quarter": report.period.label()}
    return None


def recompute_after_commit(reports: list[QuarterlyReport]) -> None:
    """Progress depends on submitted (preview) and approved figures: the targets engine
    recomputes once this transaction commits. By task name: the register does not import
    the targets app."""
    if reports:
        enqueue_on_commit("targets.recompute_for_reports", [r.pk for r in reports])


@transaction.atomic
def revisions_record(*, reports: list[QuarterlyReport], batch_size: int | None = None) -> None:
    """Record `reports` as just approved: each becomes its next revision, and the revision
    it replaces is superseded at the new one's approval time, in the same transaction, so
    that at every moment a report has exactly one revision in force."""
    replacing: dict = defaultdict(list)
    for report in reports:
        if report.revision > 1:
            replacing[report.approved_at].append(report.pk)
    # Before the insert: the database allows one current revision per report.
    for moment, report_ids in replacing.items():
        ReportRevision.objects.filter(report_id__in=report_ids, superseded_at__isnull=True).update(
            superseded_at=moment
        )
    ReportRevision.objects.bulk_create(
        [ReportRevision.of(report) for report in reports], batch_size=batch_size
    )


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
    firms). All or nothing: a report without output value or revenue, or a quarter that has
    not ended, stops the submission."""
    scope = scope_of(actor)
    if not (scope.can_edit and scope.covers(district.pk)):
        raise PermissionDenied
    problem = ReportingWindow.on(clock.today()).problem(quarter, submitting=True)
    if problem:
        raise ValidationError({"period": problem})
    queryset = QuarterlyReport.objects.filter(
        enterprise__district=district,
        year=quarter.year,
        quarter=quarter.quarter,
        status__in=EDITABLE,
    ).order_by("enterprise__name_zh")
    if enterprise_ids is not None:
        queryset = queryset.filter(enterprise_id__in=enterprise_ids)
    reports = _locked(queryset)
    incomplete = [r for r in reports if submission_problem(r.figures())]
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
    recompute_after_commit(reports)
    return len(reports)


def _reviewer_of(report: QuarterlyReport):
    """Who approved or returned the report, if that is what moved it on."""
    if report.status == ReportStatus.APPROVED:
        return report.approved_by
    if report.status == ReportStatus.RETURNED:
        return report.returned_by
    return None


def _who_moved(report: QuarterlyReport) -> str:
    name = f"{report.enterprise.name} {report.period.label()}"
    who = _reviewer_of(report)
    if who is not None and report.status == ReportStatus.APPROVED:
        return _("%(report)s (approved by %(who)s)") % {"report": name, "who": who}
    if who is not None:
        return _("%(report)s (returned by %(who)s)") % {"report": name, "who": who}
    return _("%(report)s (%(status)s)") % {"report": name, "status": report.get_status_display()}


def _reviewable(
    actor, report_ids: list[int], versions: dict[int, int] | None
) -> list[QuarterlyReport]:
    scope = scope_of(actor)
    if not scope.can_approve:
        raise PermissionDenied
    reports = _locked(QuarterlyReport.objects.visible_to(actor).filter(pk__in=report_ids))
    missing = len(set(report_ids)) - len(reports)
    if missing:
        raise StateConflict(
            ngettext(
                "%(count)d selected report was not found (deleted, or not yours to review); "
                "nothing was done.",
                "%(count)d selected reports were not found (deleted, or not yours to review); "
                "nothing was done.",
                missing,
            )
            % {"count": missing}
        )
    stale = [r for r in reports if r.status != ReportStatus.SUBMITTED]
    if stale:
        text = _(
            "Only submitted reports can be reviewed; these are no longer submitted: %(firms)s."
        ) % {"firms": "、".join(_who_moved(r) for r in stale)}
        if any(_reviewer_of(r) not in (None, actor) for r in stale):
            text = _("Another steward acted first. %(problem)s") % {"problem": text}
        raise StateConflict(text)
    # Returned, corrected and submitted again since the steward's page was loaded: still
    # "submitted", but not the figures the steward looked at.
    moved = [r for r in reports if versions and versions.get(r.pk, r.version) != r.version]
    if moved:
        raise StateConflict(
            _(
                "Changed since you opened the page: %(firms)s. Nothing was done; reload to "
                "review the current figures."
            )
            % {"firms": "、".join(f"{r.enterprise.name} {r.period.label()}" for r in moved)}
        )
    refused = [problem for r in reports if (problem := review_problem(actor, r))]
    if refused:
        raise NotAllowed(refused)
    return reports


@transaction.atomic
def reports_approve(*, actor, report_ids: list[int], versions: dict[int, int] | None = None) -> int:
    """Approve submitted reports: their figures become a new revision, the official ones.
    All or nothing. `versions` (report id → the version the steward saw) refuses reports
    that changed since."""
    reports = _reviewable(actor, report_ids, versions)
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
    revisions_record(reports=reports)
    recompute_after_commit(reports)
    return len(reports)


@transaction.atomic
def reports_return(
    *, actor, report_ids: list[int], reason: str, versions: dict[int, int] | None = None
) -> int:
    """Send submitted reports back to the district with the reason. All or nothing, and
    `versions` as for `reports_approve`."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for returning the report.")})
    reports = _reviewable(actor, report_ids, versions)
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
    # A report sent back leaves the preview figures.
    recompute_after_commit(reports)
    return len(reports)
