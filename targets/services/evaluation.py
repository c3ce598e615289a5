"""Closing a plan's final evaluation (终期评估): its lines are frozen as they stand.

Every door (the evaluation page's button, the admin action, the API action) calls
`evaluation_close`. Only a city steward closes, with a note kept in the history, once the
plan has ended, when the deadline quarter's approved reports are complete enough (the
official share of ReportingPolicy) and every target has its official figure or assessment.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext as _

from cluster.clock import now
from cluster.errors import StateConflict
from cluster.models import Plan, PlanPhase
from enterprises.models import ReportingPolicy

from ..models import EvaluationLine, PlanEvaluation
from ..selectors.evaluation import evaluation_of
from ..selectors.plans import coverage, deadline_quarter
from .rules import may_change_rules


def evaluation_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("Say what the evaluation rests on: the note is kept in its history.")}
        )
    return note


def _record(plan: Plan) -> PlanEvaluation:
    """The plan's evaluation row, locked (created on first use)."""
    try:
        with transaction.atomic():
            PlanEvaluation.objects.get_or_create(plan=plan)
    except IntegrityError:
        pass  # created by a concurrent request a moment ago
    return PlanEvaluation.objects.select_for_update().get(plan=plan)


@transaction.atomic
def evaluation_close(*, actor, plan: Plan, note: str, today: dt.date) -> PlanEvaluation:
    """Close the final evaluation of an ended plan: freeze each target's line (official value
    at the deadline, achieved or not, share, rule version, assessment) with the vintage it
    rests on. Refused, with nothing written, for anyone but a city steward, for a plan not
    yet ended, for one already closed, when the deadline quarter is not complete enough, or
    while a target has no official figure (or assessment)."""
    if not may_change_rules(actor):
        raise PermissionDenied
    note = evaluation_note(note)
    if plan.phase_on(today) != PlanPhase.ENDED:
        raise ValidationError(
            _("%(plan)s is in force until %(end)s: it is evaluated once it has ended.")
            % {"plan": plan.name, "end": formats.date_format(plan.ends_on)}
        )
    record = _record(plan)
    if record.is_closed:
        raise StateConflict(
            _("The final evaluation was closed on %(when)s by %(who)s.")
            % {
                "when": formats.date_format(record.closed_at, "DATETIME_FORMAT"),
                "who": record.closed_by,
            }
        )
    quarter = deadline_quarter(plan)
    policy = ReportingPolicy.current()
    covered = coverage({plan.cluster_id: [quarter]}, needed=policy.official_share, moment=now())[
        (plan.cluster_id, quarter)
    ]
    if not covered.complete:
        raise ValidationError(
            _("The deadline quarter is not complete enough to close the evaluation: %(why)s")
            % {"why": covered.statement()}
        )
    evaluation = evaluation_of(plan)
    if evaluation.missing:
        raise ValidationError(
            _("These targets have no official figure or assessment at the deadline yet: %(names)s.")
            % {"names": _(", ").join(line.target.name for line in evaluation.missing)}
        )
    EvaluationLine.objects.bulk_create(
        EvaluationLine(
            evaluation=record,
            target=line.target,
            value=line.value,
            completion=line.share,
            achieved=bool(line.achieved),
            rule_version=line.rule_version,
            assessment=line.assessment,
        )
        for line in evaluation.lines
    )
    record.closed_at = now()
    record.closed_by = actor
    record.vintage = evaluation.vintage or record.closed_at
    record.note = note
    record._history_user = actor
    record._change_reason = note
    record.full_clean()
    record.save()
    return record
