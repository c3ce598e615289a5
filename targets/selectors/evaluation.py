"""The final evaluation (终期评估) of ended plans, as pages, the brief, the API and the admin
read it.

Each target's line is the official figure at the plan's deadline: the city snapshot of the
deadline quarter from the newest approved vintage, under the target's current counting rule
(a qualitative target: the steward's latest assessment made by the deadline,
metrics.assessment_on), whether it is
achieved (`Target.meets`) and its share of the target. While the evaluation is open it
follows the newest approved vintage; once a steward closes it (services.evaluation), its
lines are the frozen EvaluationLine rows, and a figure approved later is shown beside the
frozen one as revised after the evaluation, never in its place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cluster.models import Plan, PlanPhase
from cluster.quarters import Quarter

from ..choices import Basis, ScopeKind, Status
from ..models import (
    Assessment,
    EvaluationLine,
    PlanEvaluation,
    ProgressSnapshot,
    RuleVersion,
    Target,
)
from .dashboard import newest_at
from .metrics import assessment_on
from .plans import deadline_quarter


def result_text(achieved: bool) -> str:
    """已完成 / 未完成, as a final evaluation says it."""
    if achieved:
        return pgettext("final evaluation", "achieved")
    return pgettext("final evaluation", "not achieved")


@dataclass
class Line:
    """One target's result at the deadline."""

    target: Target
    value: Decimal | None  # the official value at the deadline (frozen once closed)
    achieved: bool | None  # None: no official figure (or assessment) yet
    share: Decimal | None  # value / target value
    assessment: Assessment | None = None
    rule_version: int | None = None
    # The change that made the rule the line follows, when it is not the first version.
    rule_change: RuleVersion | None = None
    # Closed: the newest official value, when an approval after closing changed it.
    revised: Decimal | None = None
    revised_achieved: bool | None = None

    @property
    def is_qualitative(self) -> bool:
        return self.target.is_qualitative

    @property
    def result(self) -> str:
        if self.achieved is None:
            return _("no official figure yet")
        return result_text(self.achieved)

    @property
    def revised_result(self) -> str:
        return result_text(self.revised_achieved)

    @property
    def shown_value(self) -> str:
        if self.is_qualitative:
            return self.assessment.get_status_display() if self.assessment else "—"
        return self.target.display_value(self.value, places=2)

    @property
    def shown_revised(self) -> str:
        return self.target.display_value(self.revised, places=2)


@dataclass
class Evaluation:
    """An ended plan's final evaluation, open or closed."""

    plan: Plan
    record: PlanEvaluation | None
    lines: list[Line] = field(default_factory=list)
    vintage: dt.datetime | None = None  # the approved figures the lines rest on

    @property
    def quarter(self) -> Quarter:
        return deadline_quarter(self.plan)

    @property
    def is_closed(self) -> bool:
        return self.record is not None and self.record.is_closed

    @property
    def achieved(self) -> int:
        return sum(1 for line in self.lines if line.achieved)

    @property
    def not_achieved(self) -> int:
        return sum(1 for line in self.lines if line.achieved is False)

    @property
    def revised(self) -> list[Line]:
        return [line for line in self.lines if line.revised is not None]

    @property
    def missing(self) -> list[Line]:
        return [line for line in self.lines if line.achieved is None]

    def summary(self) -> str:
        return _(
            "Of the %(n)d targets of %(plan)s, %(achieved)d were achieved and %(not)d not "
            "achieved by %(deadline)s%(missing)s."
        ) % {
            "n": len(self.lines),
            "plan": self.plan.name,
            "achieved": self.achieved,
            "not": self.not_achieved,
            "deadline": formats.date_format(self.plan.ends_on),
            "missing": _("; %(n)d have no official figure yet") % {"n": len(self.missing)}
            if self.missing
            else "",
        }


def _share(value: Decimal | None, target: Target) -> Decimal | None:
    if value is None or not target.target_value:
        return None
    return (Decimal(value) / target.target_value).quantize(Decimal("0.0001"))


def _line(target: Target, snapshot, assessment) -> Line:
    if target.is_qualitative:
        return Line(
            target,
            value=None,
            achieved=None if assessment is None else assessment.status == Status.ACHIEVED,
            share=None,
            assessment=assessment,
            rule_version=target.rule_version,
        )
    value = snapshot.actual if snapshot else None
    return Line(
        target,
        value=value,
        achieved=None if value is None else target.meets(value),
        share=_share(value, target),
        rule_version=target.rule_version,
    )


def _frozen(line: EvaluationLine, current: Line) -> Line:
    target = current.target
    frozen = Line(
        target,
        value=line.value,
        achieved=line.achieved,
        share=line.completion,
        assessment=line.assessment,
        rule_version=line.rule_version,
    )
    if target.is_qualitative:
        return frozen
    if current.value is not None and current.value != line.value:
        frozen.revised = current.value
        frozen.revised_achieved = current.achieved
    return frozen


def evaluations_of(plans: list[Plan]) -> dict[int, Evaluation]:
    """The final evaluation of each plan (ended or not: the caller decides whether to show
    it). Five queries, and one per qualitative target, whatever the number of firms."""
    if not plans:
        return {}
    by_pk = {plan.pk: plan for plan in plans}
    targets = list(
        Target.objects.filter(plan__in=plans)
        .select_related("metric", "plan__cluster")
        .order_by("plan", "sort_order", "key")
    )
    at_deadline = Q(pk__in=[])
    for target in targets:
        quarter = Quarter.from_date(target.deadline)
        at_deadline |= Q(target=target, year=quarter.year, quarter=quarter.quarter)
    snapshots = {
        s.target_id: s
        for s in newest_at(
            ProgressSnapshot.objects.current().filter(
                at_deadline, scope_kind=ScopeKind.CITY, basis=Basis.APPROVED
            ),
            None,
        )
    }
    # A qualitative target's result is the steward's latest assessment by its deadline (one
    # query per qualitative target: the rule is metrics.assessment_on's).
    assessments = {t.pk: assessment_on(t, t.deadline) for t in targets if t.is_qualitative}
    records = {
        record.plan_id: record
        for record in PlanEvaluation.objects.filter(plan__in=plans).select_related("closed_by")
    }
    frozen = {
        (line.evaluation.plan_id, line.target_id): line
        for line in EvaluationLine.objects.filter(evaluation__plan__in=plans)
        .select_related("evaluation", "assessment")
        .order_by()
    }
    evaluations = {pk: Evaluation(plan, records.get(pk)) for pk, plan in by_pk.items()}
    for target in targets:
        evaluation = evaluations[target.plan_id]
        snapshot = snapshots.get(target.pk)
        current = _line(target, snapshot, assessments.get(target.pk))
        line = frozen.get((target.plan_id, target.pk)) if evaluation.is_closed else None
        evaluation.lines.append(current if line is None else _frozen(line, current))
        if snapshot is not None and not evaluation.is_closed:
            evaluation.vintage = max(filter(None, (evaluation.vintage, snapshot.vintage)))
    for evaluation in evaluations.values():
        if evaluation.is_closed:
            evaluation.vintage = evaluation.record.vintage
    _rule_changes([line for e in evaluations.values() for line in e.lines])
    return evaluations


def _rule_changes(lines: list[Line]) -> None:
    """Each line's rule version, when not the first, with its reason. One query."""
    wanted = Q(pk__in=[])
    for line in lines:
        if line.rule_version and line.rule_version > 1:
            wanted |= Q(target=line.target, version=line.rule_version)
    changes = {(v.target_id, v.version): v for v in RuleVersion.objects.filter(wanted)}
    for line in lines:
        line.rule_change = changes.get((line.target.pk, line.rule_version))


def evaluation_of(plan: Plan) -> Evaluation:
    return evaluations_of([plan])[plan.pk]


def evaluation_shown(plan: Plan, today: dt.date) -> bool:
    """A plan has a final evaluation once it has ended."""
    return plan.phase_on(today) == PlanPhase.ENDED
