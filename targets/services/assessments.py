"""Assessing a qualitative target (e.g. 建成国家级制造业创新中心): a city steward's dated finding
with the evidence it rests on.

Every door (the admin's form, the API's action) calls `assessment_check` for what was typed
and `assessment_record` to write: only a city steward may, with a summary and evidence, on a
date from the plan's start to today. Assessments are kept as made: a later one supersedes an
earlier one from its date on (the history of the target), and the target is recomputed once
the assessment commits.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cluster.clock import today
from cluster.jobs import enqueue_on_commit

from ..choices import Status
from ..models import Assessment, Target
from .rules import may_change_rules

ASSESSED = (Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK)


def may_assess(user) -> bool:
    """Qualitative targets are assessed by those who own the plans' rules: city stewards."""
    return may_change_rules(user)


def assessment_check(
    *, target: Target | None, assessed_on: dt.date | None, status: str, summary: str, evidence: str
) -> dict:
    """The assessment as it will be written (texts stripped), or a ValidationError naming
    each field that is wrong and why."""
    errors = {}
    summary, evidence = (summary or "").strip(), (evidence or "").strip()
    if target is not None and not target.is_qualitative:
        errors["target"] = _("Only a qualitative target is assessed; the others are counted.")
    if status not in ASSESSED:
        errors["status"] = _("Choose achieved, on track, at risk or off track.")
    if not summary:
        errors["summary"] = _("Say what the assessment finds.")
    if not evidence:
        errors["evidence"] = _("Give the evidence the assessment rests on.")
    if assessed_on is None:
        errors["assessed_on"] = _("Give the date of the assessment.")
    elif assessed_on > today():
        errors["assessed_on"] = _("An assessment cannot be dated after today.")
    elif target is not None and assessed_on < target.plan.starts_on:
        errors["assessed_on"] = _(
            "An assessment is dated within or after its plan (from %(start)s)."
        ) % {"start": target.plan.starts_on.isoformat()}
    if errors:
        raise ValidationError(errors)
    return {
        "target": target,
        "assessed_on": assessed_on,
        "status": status,
        "summary": summary,
        "evidence": evidence,
    }


@transaction.atomic
def assessment_record(
    *,
    actor,
    target: Target,
    assessed_on: dt.date | None,
    status: str,
    summary: str,
    evidence: str,
) -> Assessment:
    """Record a steward's assessment of a qualitative target and recompute the target once
    it commits."""
    if not may_assess(actor):
        raise PermissionDenied
    values = assessment_check(
        target=target, assessed_on=assessed_on, status=status, summary=summary, evidence=evidence
    )
    assessment = Assessment(**values, assessed_by=actor)
    assessment.full_clean()
    assessment._history_user = actor
    assessment.save()
    enqueue_on_commit("targets.recompute_progress", [target.pk])
    return assessment
