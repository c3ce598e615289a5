"""Changing a counting rule: a Metric, the counting fields of a Target, or its breakdown by
district and focus direction (TargetShare, the plan's 任务分解).

Every door that changes a rule (the admin's forms, and any later one) calls these services:
only a city steward may, with a reason; a change of what is counted raises the rule version
of each target it touches, keeps the history with the reason, and recomputes those targets
once the change commits. The snapshots of the older version stay as they were.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cluster.access import scope_of
from cluster.clock import now
from cluster.jobs import enqueue_on_commit

from ..models import Metric, RuleVersion, Target, TargetMilestone, TargetShare


def may_change_rules(user) -> bool:
    """Counting rules are the city's: a city steward changes them, nobody else."""
    scope = scope_of(user)
    return scope.is_city and scope.can_edit


def rule_change_reason(reason: str) -> str:
    """The reason a rule change needs, stripped; refused when empty."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Say why the rule changes: the reason is kept with the new version.")}
        )
    return reason


def _require_steward(actor) -> None:
    if not may_change_rules(actor):
        raise PermissionDenied


def _new_versions(targets: list[Target], *, actor, reason: str) -> None:
    """Record the rule each target now follows under its (new) version, and recompute the
    targets once the change commits."""
    moment = now()
    RuleVersion.objects.bulk_create(
        RuleVersion(
            target=target,
            version=target.rule_version,
            changed_at=moment,
            changed_by=actor,
            reason=reason,
            rule=target.rule(),
        )
        for target in targets
    )
    enqueue_on_commit("targets.recompute_progress", sorted(t.pk for t in targets))


def _save(obj, *, actor, reason: str, **kwargs) -> None:
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(**kwargs)


@transaction.atomic
def metric_save(*, actor, metric: Metric, reason: str) -> Metric:
    """Create or change a metric. A change of what it counts is a new rule version of every
    target measured by it."""
    _require_steward(actor)
    reason = rule_change_reason(reason)
    before = Metric.objects.select_for_update().filter(pk=metric.pk).first() if metric.pk else None
    metric.full_clean()
    _save(metric, actor=actor, reason=reason)
    if before is None or before.rule() == metric.rule():
        return metric
    targets = list(Target.objects.select_for_update().filter(metric=metric).order_by("pk"))
    for target in targets:
        target.metric = metric
        target.rule_version += 1
        _save(target, actor=actor, reason=reason, update_fields=["rule_version"])
    if targets:
        _new_versions(targets, actor=actor, reason=reason)
    return metric


@transaction.atomic
def target_save(*, actor, target: Target, reason: str) -> Target:
    """Create or change a target. A change of a counting field (target value, comparison,
    deadline, metric, scope, at-risk ratio, baseline) is a new rule version. A baseline value
    the steward types is theirs: the progress job leaves it alone from then on."""
    _require_steward(actor)
    reason = rule_change_reason(reason)
    before = Target.objects.select_for_update().filter(pk=target.pk).first() if target.pk else None
    if target.baseline_year is None:
        target.baseline_year = target.plan.baseline_year
    if before is not None and target.baseline_value != before.baseline_value:
        target.baseline_set_by_hand = target.baseline_value is not None
    target.full_clean()
    changed = before is None or before.rule() != target.rule()
    if before is not None:
        target.rule_version = before.rule_version + (1 if changed else 0)
    _save(target, actor=actor, reason=reason)
    if changed:
        _new_versions([target], actor=actor, reason=reason)
    return target


@transaction.atomic
def milestones_set_by_hand(
    *,
    actor,
    target: Target,
    milestones: list[TargetMilestone],
    deleted: list[TargetMilestone] = (),
    reason: str,
) -> None:
    """Milestones a steward sets are no longer interpolated: the progress job keeps them and
    interpolates the others through them. The target is recomputed once they commit."""
    _require_steward(actor)
    reason = rule_change_reason(reason)
    for milestone in milestones:
        milestone.target = target
        milestone.interpolated = False
        milestone.full_clean()
        _save(milestone, actor=actor, reason=reason)
    for milestone in deleted:
        milestone._history_user = actor
        milestone._change_reason = reason
        milestone.delete()
    if milestones or deleted:
        enqueue_on_commit("targets.recompute_progress", [target.pk])


def _raise_version(target: Target, *, actor, reason: str) -> None:
    target = Target.objects.select_for_update().get(pk=target.pk)
    target.rule_version += 1
    _save(target, actor=actor, reason=reason, update_fields=["rule_version"])
    _new_versions([target], actor=actor, reason=reason)


@transaction.atomic
def target_share_save(*, actor, share: TargetShare, reason: str) -> TargetShare:
    """Enter or change the part of a city-wide target a district or focus direction is to
    reach. The breakdown is part of the target's rule: a changed value is a new rule version,
    and the scopes' rows are recomputed against it once the change commits."""
    _require_steward(actor)
    reason = rule_change_reason(reason)
    before = (
        TargetShare.objects.select_for_update().filter(pk=share.pk).first() if share.pk else None
    )
    share.full_clean()
    _save(share, actor=actor, reason=reason)
    if before is None or (before.scope_key, before.value) != (share.scope_key, share.value):
        _raise_version(share.target, actor=actor, reason=reason)
    return share


@transaction.atomic
def target_share_delete(*, actor, share: TargetShare, reason: str) -> None:
    """Take a scope's part out of the breakdown: from the new rule version on, the scope is
    shown as its share of the city's figure."""
    _require_steward(actor)
    reason = rule_change_reason(reason)
    share._history_user = actor
    share._change_reason = reason
    share.delete()
    _raise_version(share.target, actor=actor, reason=reason)
