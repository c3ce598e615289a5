"""Loading a checked plan file: what it would change (the preview), and the change itself.

Loading is a synchronisation by keys, so loading the same file twice changes nothing: the
cluster by its key, the plan by its key, sectors by (cluster, code), targets by (plan, key)
with their metric. Nothing is deleted: a sector or a target the database has and the file
does not is reported as kept (firms and snapshots may refer to it).

The same functions serve the management command (`load_plan`), the steward's page (Plans ›
Load a plan file) and the data migration that loads the nano plan, which passes the
migration's historical models. Live, a change of what a target counts goes through the rule
services (targets.services.rules): a new rule version, with the reason, recomputed on
commit. A migration may only create rules, never change one (it has no rule services).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from .reading import PlanError, PlanFile, _line

COMPARISONS = {"above": "gt", "at_least": "gte", "around": "around"}
MODES = {"stock": "stock", "since_start": "flow", "yearly": "yearly"}
KINDS = {
    "sum": "sum_output",
    "firms_over": "count_firms_over",
    "listed": "count_listed",
    "designated": "count_designated",
    "projects": "count_projects",
    "new_members": "count_new_members",
    "ratio": "ratio",
    "qualitative": "qualitative",
}


@dataclass
class Models:
    """The model classes a load writes: the live ones, or a migration's historical ones."""

    Cluster: type
    Plan: type
    Sector: type
    District: type
    Metric: type
    Target: type
    TargetMilestone: type
    live: bool = True

    @classmethod
    def of(cls, apps=None) -> Models:
        if apps is None:
            from django.apps import apps as live_apps

            return cls._from(live_apps, live=True)
        return cls._from(apps, live=False)

    @classmethod
    def _from(cls, apps, *, live: bool) -> Models:
        return cls(
            Cluster=apps.get_model("cluster", "Cluster"),
            Plan=apps.get_model("cluster", "Plan"),
            Sector=apps.get_model("cluster", "Sector"),
            District=apps.get_model("cluster", "District"),
            Metric=apps.get_model("targets", "Metric"),
            Target=apps.get_model("targets", "Target"),
            TargetMilestone=apps.get_model("targets", "TargetMilestone"),
            live=live,
        )


@dataclass
class Change:
    action: str  # create, update, unchanged, kept
    what: str  # cluster, plan, sector, target, milestone
    key: str
    fields: dict = field(default_factory=dict)  # field → (before, after)


@dataclass
class Loading:
    changes: list[Change] = field(default_factory=list)
    errors: list[PlanError] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _diff(obj, values: dict) -> dict:
    """The fields of `obj` that `values` would change (foreign keys compared by id)."""
    changed = {}
    for name, value in values.items():
        current = getattr(obj, f"{name}_id" if hasattr(obj, f"{name}_id") else name)
        wanted = getattr(value, "pk", value)
        if _plain(current) != _plain(wanted):
            changed[name] = (_plain(current), _plain(wanted))
    return changed


class _Run:
    """One comparison of a plan file with the database; with `write`, the change too."""

    def __init__(self, plan_file: PlanFile, models: Models, *, write: bool, actor, reason: str):
        self.file, self.m, self.write = plan_file, models, write
        self.actor, self.reason = actor, reason
        self.loading = Loading()

    # -- helpers

    def fail(self, path: str, message: str) -> None:
        self.loading.errors.append(PlanError(_line(self.file.lines, path), path, message))

    def record(self, action, what, key, fields=None) -> None:
        self.loading.changes.append(Change(action, what, key, fields or {}))

    def save(self, obj) -> None:
        if not self.write:
            return
        if self.m.live:
            obj._history_user = self.actor
            obj._change_reason = self.reason
        obj.save()

    def upsert(self, what: str, key: str, existing, make, values: dict):
        """Create or update one object; returns it (unsaved in a preview)."""
        if existing is None:
            obj = make(**values)
            self.record(
                "create",
                what,
                key,
                {k: (None, _plain(getattr(v, "pk", v))) for k, v in values.items()},
            )
            self.save(obj)
            return obj
        changed = _diff(existing, values)
        if not changed:
            self.record("unchanged", what, key)
            return existing
        for name, value in values.items():
            setattr(existing, name, value)
        self.record("update", what, key, changed)
        self.save(existing)
        return existing

    # -- the parts of the file

    def run(self) -> Loading:
        cluster = self.cluster()
        plan = self.plan(cluster)
        sectors = self.sectors(cluster, plan)
        if not self.loading.errors:
            self.targets(plan, sectors)
        return self.loading

    def cluster(self):
        data = self.file.cluster
        existing = self.m.Cluster.objects.filter(key=data["key"]).first()
        values = {"name_zh": data["name_zh"], "name_en": data["name_en"]}
        if existing is None:
            last = self.m.Cluster.objects.order_by("-sort_order").first()
            values["sort_order"] = (last.sort_order + 1) if last else 1
        clash = self.m.Cluster.objects.filter(name_zh=data["name_zh"]).exclude(key=data["key"])
        if clash.exists():
            self.fail("cluster.name_zh", _("Another cluster has this name."))
        return self.upsert(
            "cluster", data["key"], existing, self._maker(self.m.Cluster, key=data["key"]), values
        )

    def plan(self, cluster):
        data = self.file.plan
        existing = self.m.Plan.objects.filter(key=data["key"]).first()
        if existing is not None and cluster.pk and existing.cluster_id != cluster.pk:
            self.fail("plan.key", _("This plan belongs to another cluster."))
        others = self.m.Plan.objects.exclude(key=data["key"])
        if cluster.pk:
            overlapping = others.filter(
                cluster_id=cluster.pk,
                starts_on__lte=data["ends_on"],
                ends_on__gte=data["starts_on"],
            ).first()
            if overlapping is not None:
                self.fail(
                    "plan.starts_on",
                    _("The period overlaps the cluster's plan %(plan)s (%(start)s – %(end)s).")
                    % {
                        "plan": overlapping.key,
                        "start": overlapping.starts_on,
                        "end": overlapping.ends_on,
                    },
                )
        values = {
            "cluster": cluster,
            "name_zh": data["name_zh"],
            "name_en": data["name_en"],
            "document_number": data.get("document_number", ""),
            "issuer": data.get("issuer", ""),
            "issued_on": data.get("issued_on"),
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "baseline_year": data["baseline_year"],
            "schedule_bands": self.file.data["schedule_bands"],
        }
        plan = self.upsert(
            "plan", data["key"], existing, self._maker(self.m.Plan, key=data["key"]), values
        )
        if self.write and plan.definition != self.file.text:
            plan.definition = self.file.text
            self.m.Plan.objects.filter(pk=plan.pk).update(definition=self.file.text)
        return plan

    def sectors(self, cluster, plan) -> dict:
        """Code → sector of the cluster's tree, as the file leaves it."""
        data = self.file.data["sectors"]
        existing = (
            {s.code: s for s in self.m.Sector.objects.filter(cluster_id=cluster.pk)}
            if cluster.pk
            else {}
        )
        if "same_as" in data:
            other = self.m.Plan.objects.filter(key=data["same_as"]).first()
            if other is None or (cluster.pk and other.cluster_id != cluster.pk):
                self.fail(
                    "sectors.same_as",
                    _("No plan of this cluster has the key %(key)s.") % {"key": data["same_as"]},
                )
            return existing
        tree, seen = dict(existing), set()
        for d_order, direction in enumerate(data["directions"], start=1):
            source = direction.get("source") or data.get("source", "")
            parent = self.upsert(
                "sector",
                direction["code"],
                existing.get(direction["code"]),
                self._maker(self.m.Sector, cluster=cluster, code=direction["code"], level=1),
                {
                    "name_zh": direction["name_zh"],
                    "name_en": direction["name_en"],
                    "parent": None,
                    "sort_order": d_order,
                    "source": source,
                },
            )
            tree[direction["code"]] = parent
            seen.add(direction["code"])
            for m_order, material in enumerate(direction["materials"], start=1):
                code = material["code"]
                tree[code] = self.upsert(
                    "sector",
                    code,
                    existing.get(code),
                    self._maker(self.m.Sector, cluster=cluster, code=code, level=2),
                    {
                        "name_zh": material["name_zh"],
                        "name_en": material["name_en"],
                        "parent": parent,
                        "sort_order": m_order,
                        "source": source,
                    },
                )
                seen.add(code)
        for code in sorted(set(existing) - seen):
            self.record("kept", "sector", code)
        return tree

    def targets(self, plan, sectors: dict) -> None:
        existing = (
            {
                t.key: t
                for t in self.m.Target.objects.filter(plan_id=plan.pk).select_related("metric")
            }
            if plan.pk
            else {}
        )
        districts = {d.code: d for d in self.m.District.objects.exclude(code=None)}
        for order, data in enumerate(self.file.data["targets"], start=1):
            where = f"targets[{order - 1}]"
            district = sector = None
            if "district" in data:
                district = districts.get(data["district"])
                if district is None:
                    self.fail(
                        f"{where}.district",
                        _("No district has the code %(code)s.") % {"code": data["district"]},
                    )
            if "sector" in data:
                sector = sectors.get(data["sector"])
                if sector is None:
                    self.fail(
                        f"{where}.sector",
                        _("The cluster's sector tree has no code %(code)s.")
                        % {"code": data["sector"]},
                    )
            if self.loading.errors:
                continue
            self.target(plan, order, data, existing.get(data["key"]), district, sector)
        for key in sorted(set(existing) - {t["key"] for t in self.file.data["targets"]}):
            self.record("kept", "target", key)

    def target(self, plan, order: int, data: dict, current, district, sector) -> None:
        from targets.models import Metric, Target  # the lists of rule fields, not the rows

        key, rule, goal = data["key"], data["count"], data.get("goal", {})
        default_mode = "since_start" if rule["kind"] in ("projects", "new_members") else "stock"
        mode = MODES[rule.get("mode", default_mode)]
        metric_rule = {
            "kind": KINDS[rule["kind"]],
            "figure": rule.get("figure", ""),
            "denominator": rule.get("denominator", ""),
            "threshold": rule.get("threshold"),
            "comparison": COMPARISONS[rule.get("comparison", "above")],
            "designation_type": rule.get("designation", ""),
            "count_mode": mode,
            "counted_since": plan.starts_on if mode == "flow" else None,
        }
        target_values = {
            "name_zh": data["name_zh"],
            "name_en": data["name_en"],
            "source": data.get("source", ""),
            "comparison": COMPARISONS[goal.get("comparison", "at_least")],
            "target_value": goal.get("value", Decimal(0)),
            "tolerance": goal.get("tolerance"),
            "unit": data["unit"],
            "deadline": data.get("deadline", plan.ends_on),
            "baseline_year": plan.baseline_year,
            "district": district,
            "sector": sector,
            "sort_order": order,
            "at_risk_ratio": Decimal(str(data.get("at_risk_ratio", "0.90"))),
        }
        if "baseline" in data:
            target_values.update(baseline_value=data["baseline"], baseline_set_by_hand=True)
        metric = current.metric if current is not None else None
        metric_changes = _diff(metric, metric_rule) if metric is not None else None
        target_changes = _diff(current, target_values) if current is not None else None
        rule_changes = {
            **{k: v for k, v in (metric_changes or {}).items() if k in Metric.RULE_FIELDS},
            **{
                k: v
                for k, v in (target_changes or {}).items()
                if k in Target.RULE_FIELDS or f"{k}_id" in Target.RULE_FIELDS
            },
        }
        if current is None:
            self.record("create", "target", key)
        elif metric_changes or target_changes:
            self.record("update", "target", key, {**metric_changes, **target_changes})
        else:
            self.record("unchanged", "target", key)
        if not self.write:
            self.milestones(current, data)
            return
        if metric is None:
            metric = self.m.Metric(
                plan=plan, key=key, name_zh=data["name_zh"], name_en=data["name_en"]
            )
        for name, value in metric_rule.items():
            setattr(metric, name, value)
        target = current or self.m.Target(plan=plan, key=key)
        for name, value in target_values.items():
            setattr(target, name, value)
        if not self.m.live:
            if current is not None and rule_changes:
                raise ValueError(f"the plan file changes the rule of {key}: load it with load_plan")
            metric.save()
            target.metric = metric
            target.save()
        else:
            from targets.services.rules import metric_save, target_save

            if metric_changes is None or metric_changes:
                metric_save(actor=self.actor, metric=metric, reason=self.reason)
            target.metric = metric
            if target_changes is None or target_changes:
                target_save(actor=self.actor, target=target, reason=self.reason)
        self.milestones(target, data)

    def milestones(self, target, data: dict) -> None:
        """Milestones the plan states are set by hand; the others stay interpolated."""
        wanted = data.get("milestones", [])
        if not wanted:
            return
        stored = (
            {m.due_on: m for m in self.m.TargetMilestone.objects.filter(target_id=target.pk)}
            if target is not None and target.pk
            else {}
        )
        changed = []
        for milestone in wanted:
            current = stored.get(milestone["due_on"])
            if (
                current is not None
                and not current.interpolated
                and current.expected_value == milestone["value"]
            ):
                continue
            changed.append((current, milestone))
            self.record(
                "create" if current is None else "update",
                "milestone",
                f"{data['key']} {milestone['due_on']}",
                {
                    "expected_value": (
                        _plain(current.expected_value) if current else None,
                        _plain(milestone["value"]),
                    )
                },
            )
        if not (self.write and changed):
            return
        objects = []
        for current, milestone in changed:
            obj = current or self.m.TargetMilestone(target=target, due_on=milestone["due_on"])
            obj.expected_value = milestone["value"]
            obj.interpolated = False
            objects.append(obj)
        if self.m.live:
            from targets.services.rules import milestones_set_by_hand

            milestones_set_by_hand(
                actor=self.actor, target=target, milestones=objects, reason=self.reason
            )
        else:
            for obj in objects:
                obj.save()

    @staticmethod
    def _maker(model, **fixed):
        return lambda **values: model(**fixed, **values)


def plan_changes(plan_file: PlanFile, *, models: Models | None = None) -> Loading:
    """What loading `plan_file` would change (nothing is written)."""
    return _Run(plan_file, models or Models.of(), write=False, actor=None, reason="").run()


def plan_load(plan_file: PlanFile, *, actor, reason: str, models: Models | None = None) -> Loading:
    """Load `plan_file`: all of it in one transaction, or nothing when it has errors."""
    models = models or Models.of()
    with transaction.atomic():
        loading = _Run(plan_file, models, write=True, actor=actor, reason=reason).run()
        if loading.errors:
            transaction.set_rollback(True)
            return loading
        loading.written = True
    return loading
