"""Reading a plan file: YAML (or JSON, which is YAML) → a checked `PlanFile`, or the errors,
each naming the line of the file, the field (as a path, `targets[2].goal.value`) and why.

Three passes, each only if the one before found nothing: the YAML itself, the shape (the JSON
Schema of targets.plans.schema), then what needs several fields or the database (codes that
must exist, periods that must not overlap, values in the target's unit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import yaml
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from cluster.numbers import NumberError, parse_amount
from enterprises.choices import DesignationType

from .schema import PLAN_FILE


class _Loader(yaml.SafeLoader):
    """Safe YAML, with dates kept as text: the schema and the checks below read them, so that
    a bad date is an error with its line rather than a surprise type."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# What a target counts → the unit of its values.
UNITS = {
    "sum": "yuan",
    "firms_over": "firms",
    "listed": "firms",
    "designated": "firms",
    "new_members": "firms",
    "projects": "projects",
    "ratio": "percent",
    "qualitative": "assessment",
}


@dataclass(frozen=True)
class PlanError:
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = _("line %(line)s") % {"line": self.line} if self.line else _("the file")
        return f"{where}, {self.field or '—'}: {self.message}"


class PlanFileError(ValueError):
    def __init__(self, errors: list[PlanError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class PlanFile:
    """A plan file that passed every check: its data (values converted to yuan, counts and
    percentages as Decimals, dates as dates) and its text, kept with the plan."""

    text: str
    data: dict
    lines: dict = field(default_factory=dict, repr=False)  # field path → line

    @property
    def cluster(self) -> dict:
        return self.data["cluster"]

    @property
    def plan(self) -> dict:
        return self.data["plan"]


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _lines(node, path=(), found=None) -> dict[str, int]:
    """Field path → the (1-based) line its value starts on, from the composed YAML nodes."""
    found = {} if found is None else found
    found[_path(path)] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _lines(value, (*path, key.value), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _lines(value, (*path, index), found)
    return found


def _line(lines: dict, path: str) -> int | None:
    """The line of `path`, or of its nearest ancestor that the file has."""
    while path:
        if path in lines:
            return lines[path]
        path = path.rsplit("[", 1)[0] if path.endswith("]") else path.rpartition(".")[0]
    return lines.get("")


def read_plan_file(text: str) -> PlanFile:
    """The checked plan file, or PlanFileError with every error found."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlanFileError(
            [
                PlanError(
                    mark.line + 1 if mark else None,
                    "",
                    _("Not valid YAML: %(problem)s") % {"problem": getattr(exc, "problem", exc)},
                )
            ]
        ) from None
    if node is None or not isinstance(data, dict):
        raise PlanFileError([PlanError(1, "", _("The file holds no plan."))])
    lines = _lines(node)
    validator = Draft202012Validator(PLAN_FILE, format_checker=FormatChecker())
    shape = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if shape:
        raise PlanFileError(
            [
                PlanError(
                    _line(lines, _path(error.absolute_path)),
                    _path(error.absolute_path),
                    _shape_message(error),
                )
                for error in shape
            ]
        )
    plan_file = PlanFile(text=text, data=data, lines=lines)
    errors = _check(plan_file)
    if errors:
        raise PlanFileError(errors)
    return plan_file


def _shape_message(error) -> str:
    """The schema's complaint in words a steward can act on, in the active language."""
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return _("Missing %(field)s.") % {"field": missing}
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        unknown = [key for key in error.instance if key not in allowed]
        return _("Unknown field: %(detail)s") % {"detail": ", ".join(map(str, unknown))}
    if error.validator in ("minimum", "maximum"):
        limit = {"minimum": _("at least %(limit)s"), "maximum": _("at most %(limit)s")}
        return _("%(value)r: write a number %(limit)s.") % {
            "value": error.instance,
            "limit": limit[error.validator] % {"limit": error.validator_value},
        }
    if error.validator in ("minLength", "maxLength"):
        if error.validator == "minLength":
            return _("Write something here.")
        return _("At most %(count)s characters.") % {"count": error.validator_value}
    if error.validator in ("minItems", "maxItems"):
        bound = {"minItems": _("at least %(count)s"), "maxItems": _("at most %(count)s")}
        return _("List %(count)s entries here.") % {
            "count": bound[error.validator] % {"count": error.validator_value}
        }
    if error.validator == "enum":
        return _("%(value)r is not one of: %(allowed)s.") % {
            "value": error.instance,
            "allowed": ", ".join(map(str, error.validator_value)),
        }
    if error.validator == "type":
        return _("%(value)r is not a %(type)s.") % {
            "value": error.instance,
            "type": " or ".join(
                error.validator_value
                if isinstance(error.validator_value, list)
                else [error.validator_value]
            ),
        }
    if error.validator == "format":
        return _("%(value)r is not a date written as YYYY-MM-DD.") % {"value": error.instance}
    if error.validator == "pattern":
        return _("%(value)r: use lower-case letters, digits, hyphens and underscores.") % {
            "value": error.instance
        }
    if error.validator == "const" and error.absolute_path and error.absolute_path[-1] == "format":
        return _("This program reads plan files of format 1.")
    return error.message


# --- checks that need several fields or a conversion -------------------------------------------


def amount(value) -> Decimal:
    """Money as a plan writes it: 1000亿元, 50亿元, or yuan as a number."""
    try:
        number, factor = parse_amount(value)
    except NumberError as exc:
        raise ValueError(exc.reason) from None
    if number is None:
        raise ValueError(_("Empty."))
    return number * (factor or Decimal(1))


def percent(value) -> Decimal:
    text = str(value).strip().rstrip("%").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Write a percentage, e.g. 4% or 0.5%.")) from None
    if not number.is_finite() or number < 0:
        raise ValueError(_("Write a percentage, e.g. 4% or 0.5%."))
    return number


def count(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(_("Write a whole number of firms or projects."))
    return Decimal(value)


CONVERT = {"yuan": amount, "firms": count, "projects": count, "percent": percent}


def _check(plan_file: PlanFile) -> list[PlanError]:
    data, errors = plan_file.data, []

    def fail(path: str, message: str) -> None:
        errors.append(PlanError(_line(plan_file.lines, path), path, message))

    plan = data["plan"]
    dates = {}
    for name in ("issued_on", "starts_on", "ends_on"):
        if name in plan:
            dates[name] = plan[name] = dt.date.fromisoformat(plan[name])
    if plan["ends_on"] < plan["starts_on"]:
        fail("plan.ends_on", _("A plan cannot end before it starts."))
    plan.setdefault("baseline_year", plan["starts_on"].year - 1)
    if plan["baseline_year"] >= plan["starts_on"].year:
        fail("plan.baseline_year", _("The baseline year comes before the plan's first year."))

    bands = data["schedule_bands"]
    for index, band in enumerate(bands[:-1]):
        if "behind_at_most" not in band:
            fail(f"schedule_bands[{index}]", _("Only the last band may be open-ended."))
    if "behind_at_most" in bands[-1]:
        fail(
            f"schedule_bands[{len(bands) - 1}]",
            _("The last band takes whatever is further behind: leave out behind_at_most."),
        )
    limits = [b["behind_at_most"] for b in bands[:-1] if "behind_at_most" in b]
    if limits != sorted(set(limits)):
        fail("schedule_bands", _("The bands' behind_at_most must grow from one band to the next."))

    sectors = data["sectors"]
    codes: set[str] = set()
    for d_index, direction in enumerate(sectors.get("directions", [])):
        codes.add(direction["code"])
        for m_index, material in enumerate(direction["materials"]):
            if isinstance(material, list):
                material = {"name_zh": material[0], "name_en": material[1]}
            material.setdefault("code", f"{direction['code']}.{m_index + 1:02d}")
            direction["materials"][m_index] = material
            if material["code"] in codes:
                fail(
                    f"sectors.directions[{d_index}].materials[{m_index}]",
                    _("The code %(code)s is used twice.") % {"code": material["code"]},
                )
            codes.add(material["code"])

    keys: set[str] = set()
    for index, target in enumerate(data["targets"]):
        where = f"targets[{index}]"
        if target["key"] in keys:
            fail(f"{where}.key", _("The key %(key)s is used twice.") % {"key": target["key"]})
        keys.add(target["key"])
        rule = target["count"]
        kind = rule["kind"]
        unit = target["unit"] = UNITS[kind]
        if kind == "designated" and rule["designation"] not in DesignationType.values:
            fail(
                f"{where}.count.designation",
                _("%(value)r is not one of: %(allowed)s.")
                % {"value": rule["designation"], "allowed": ", ".join(DesignationType.values)},
            )
        if kind == "firms_over":
            try:
                rule["threshold"] = amount(rule["threshold"])
            except ValueError as exc:
                fail(f"{where}.count.threshold", str(exc))
        if kind in ("sum", "firms_over", "ratio", "qualitative") and "mode" in rule:
            fail(
                f"{where}.count.mode",
                _("Only counts of listings, designations, projects and new members have a mode."),
            )
        if "deadline" in target:
            target["deadline"] = dt.date.fromisoformat(target["deadline"])
            if not plan["starts_on"] <= target["deadline"] <= plan["ends_on"]:
                fail(f"{where}.deadline", _("A target's deadline falls within its plan."))
        if kind == "qualitative":
            if "goal" in target:
                fail(f"{where}.goal", _("A qualitative target has no value to reach."))
            continue
        convert = CONVERT[unit]
        goal = target["goal"]
        goal.setdefault("comparison", "at_least")
        for name in ("value", "tolerance"):
            if name in goal:
                try:
                    goal[name] = convert(goal[name])
                except ValueError as exc:
                    fail(f"{where}.goal.{name}", str(exc))
        if goal["comparison"] == "around" and unit not in ("percent", "yuan"):
            fail(f"{where}.goal.comparison", _("左右 (around) is for amounts and percentages."))
        if "tolerance" in goal and goal["comparison"] != "around":
            fail(
                f"{where}.goal.tolerance",
                _("Only a target of about (左右) a value has a tolerance."),
            )
        if "baseline" in target:
            try:
                target["baseline"] = convert(target["baseline"])
            except ValueError as exc:
                fail(f"{where}.baseline", str(exc))
        for m_index, milestone in enumerate(target.get("milestones", [])):
            path = f"{where}.milestones[{m_index}]"
            milestone["due_on"] = dt.date.fromisoformat(milestone["due_on"])
            try:
                milestone["value"] = convert(milestone["value"])
            except ValueError as exc:
                fail(f"{path}.value", str(exc))
            if not plan["starts_on"] <= milestone["due_on"] <= plan["ends_on"]:
                fail(f"{path}.due_on", _("A milestone falls within its plan."))
    return errors
