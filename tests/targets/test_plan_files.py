"""Plan files: a plan loads as data alone. The checks name the line and the field, loading is
a synchronisation by keys (the same file twice changes nothing), a changed counting rule
through a file is a new rule version with its reason, and a second cluster loads from its
file with no code change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from cluster.models import Cluster, Plan, Sector
from targets.models import Metric, RuleVersion, Target, TargetMilestone
from targets.plans.loading import plan_changes, plan_load
from targets.plans.reading import PlanFileError, read_plan_file

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parents[2] / "targets" / "plans" / "files"
NANO = (FILES / "nano-2023-2025.yaml").read_text(encoding="utf-8")
PHOTONICS = (FILES / "photonics-2024-2026.yaml").read_text(encoding="utf-8")


def errors_of(text: str) -> list[tuple[int | None, str, str]]:
    with translation.override("en"), pytest.raises(PlanFileError) as caught:
        read_plan_file(text)
    return [(e.line, e.field, e.message) for e in caught.value.errors]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


# --- reading: every error names its line and field --------------------------------------------


def test_the_nano_file_is_valid_and_converts_its_values():
    plan_file = read_plan_file(NANO)
    assert plan_file.plan["starts_on"] == dt.date(2023, 1, 1)
    assert plan_file.plan["baseline_year"] == 2022
    first = plan_file.data["targets"][0]
    assert (first["unit"], first["goal"]["value"]) == ("yuan", Decimal("100000000000"))
    assert plan_file.data["targets"][1]["count"]["threshold"] == Decimal("5000000000")
    materials = plan_file.data["sectors"]["directions"][1]["materials"]
    assert materials[6]["code"] == "2.07" and materials[6]["name_zh"].startswith("纳米缓释")


def test_bad_yaml_names_its_line():
    text = NANO.replace("  key: nano\n", "  key: [nano\n")
    [(line, _field, message)] = errors_of(text)
    assert message.startswith("Not valid YAML")
    assert line is not None and line >= line_of(NANO, "  key: nano")


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (
            "    goal: {value: 15}",
            "    goal: {value: fifteen}",
            "targets[2].goal.value",
            "whole number",
        ),
        (
            "    count: {kind: listed, mode: stock}",
            "    count: {kind: listed, mode: forever}",
            "targets[3].count.mode",
            "'forever' is not one of",
        ),
        ("  ends_on: 2025-12-31", "  ends_on: 2025-13-31", "plan.ends_on", "YYYY-MM-DD"),
        (
            "    count: {kind: designated, designation: gazelle, mode: stock}",
            "    count: {kind: designated, designation: gazele, mode: stock}",
            "targets[5].count.designation",
            "'gazele' is not one of",
        ),
        (
            "    goal: {comparison: above, value: 1000亿元}",
            "    goal: {comparison: above, value: 1000 billion}",
            "targets[0].goal.value",
            "Not a number",
        ),
        ("  starts_on: 2023-01-01", "  starts_on: 2026-01-01", "plan.ends_on", "end before"),
        ("  - key: gazelle_firms", "  - key: listed_firms", "targets[5].key", "used twice"),
    ],
)
def test_each_error_names_the_line_and_the_field(old, new, field, words):
    assert old in NANO
    text = NANO.replace(old, new)
    found = errors_of(text)
    matching = [(line, f, m) for line, f, m in found if f == field]
    assert matching, found
    line, _field, message = matching[0]
    assert words in message
    changed = line_of(NANO, old.strip())  # the edit keeps the lines where they were
    assert line in (changed, line_of(text, "ends_on")), (line, changed)


def test_an_unknown_field_is_refused_with_its_line():
    text = NANO.replace("  baseline_year: 2022\n", "  baseline_year: 2022\n  budget: 10亿元\n")
    [(line, field, message)] = errors_of(text)
    assert (field, line) == ("plan", line_of(text, "  key: nano-2023-2025"))
    assert "budget" in message


def test_errors_are_in_chinese_for_a_chinese_steward():
    text = NANO.replace("    goal: {value: 15}", "    goal: {value: fifteen}")
    with translation.override("zh-hans"), pytest.raises(PlanFileError) as caught:
        read_plan_file(text)
    assert "整数" in caught.value.errors[0].message or "家" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("change", "chinese"),
    [
        (("format: 1", "format: 1\ncolour: blue\nshape: round"), "未知字段：colour, shape"),
        (("baseline_year: 2022", "baseline_year: 99999999999999"), "请填写不大于 2100的数"),
    ],
)
def test_the_schema_s_complaints_are_in_chinese_with_the_field(change, chinese):
    """No message of the schema library reaches a steward in English."""
    with translation.override("zh-hans"), pytest.raises(PlanFileError) as caught:
        read_plan_file(NANO.replace(*change, 1))
    assert chinese in caught.value.errors[0].message
    assert not any(
        c.isascii() and c.isalpha()
        for c in caught.value.errors[0].message.replace("colour", "").replace("shape", "")
    )


# --- loading ----------------------------------------------------------------------------------


def test_the_nano_file_matches_what_the_migrations_loaded():
    loading = plan_changes(read_plan_file(NANO))
    assert loading.errors == []
    assert [c for c in loading.changes if c.action != "unchanged"] == []
    plan = Plan.objects.get(key="nano-2023-2025")
    assert plan.definition == NANO
    assert [b["behind_at_most"] for b in plan.schedule_bands[:2]] == [10, 30]


def test_a_second_cluster_loads_from_its_file_with_no_code_change(steward):
    loading = plan_load(read_plan_file(PHOTONICS), actor=steward, reason="测试载入")
    assert loading.errors == [] and loading.written
    cluster = Cluster.objects.get(key="photonics")
    plan = cluster.plans.get()
    assert (plan.starts_on, plan.ends_on, plan.baseline_year) == (
        dt.date(2024, 1, 1),
        dt.date(2026, 12, 31),
        2023,
    )
    assert Sector.objects.filter(cluster=cluster, level=2).count() == 10
    targets = {t.key: t for t in Target.objects.filter(plan=plan).select_related("metric")}
    assert len(targets) == 8
    ratio = targets["rd_intensity"]
    assert (ratio.metric.kind, ratio.metric.figure, ratio.metric.denominator) == (
        Metric.Kind.RATIO,
        "rd_spending",
        "operating_revenue",
    )
    assert (ratio.comparison, ratio.target_value, ratio.tolerance, ratio.unit) == (
        Target.Comparison.AROUND,
        Decimal("4.00"),
        Decimal("0.50"),
        Target.Unit.PERCENT,
    )
    new_members = targets["new_member_firms"]
    assert (new_members.metric.kind, new_members.metric.count_mode) == (
        Metric.Kind.COUNT_NEW_MEMBERS,
        Metric.CountMode.FLOW,
    )
    assert new_members.metric.counted_since == dt.date(2024, 1, 1)
    assert targets["high_tech_awards_a_year"].metric.count_mode == Metric.CountMode.YEARLY
    assert targets["innovation_centre"].unit == Target.Unit.ASSESSMENT
    assert targets["revenue"].metric.figure == "operating_revenue"
    # Each new target starts at rule version 1, credited to the steward with the reason.
    assert set(
        RuleVersion.objects.filter(target__plan=plan).values_list("version", "reason", "changed_by")
    ) == {(1, "测试载入", steward.pk)}
    # The nano cluster's sectors and targets are untouched: codes are per cluster.
    assert Sector.objects.filter(cluster__key="nano", code="1.01").exists()
    assert Sector.objects.filter(cluster=cluster, code="1.01").get().name_zh == "光芯片"


def test_loading_the_same_file_again_changes_nothing(steward):
    plan_load(read_plan_file(PHOTONICS), actor=steward, reason="第一次")
    again = plan_load(read_plan_file(PHOTONICS), actor=steward, reason="第二次")
    assert {c.action for c in again.changes} == {"unchanged"}
    assert RuleVersion.objects.filter(reason="第二次").count() == 0


def test_a_rule_changed_in_the_file_is_a_new_version_with_the_reason(steward):
    plan_load(read_plan_file(PHOTONICS), actor=steward, reason="载入")
    changed = PHOTONICS.replace(
        "threshold: 10亿元, comparison: above}", "threshold: 10亿元, comparison: at_least}"
    )
    preview = plan_changes(read_plan_file(changed))
    [update] = [c for c in preview.changes if c.action == "update"]
    assert (update.key, update.fields) == ("firms_revenue_over_1bn", {"comparison": ("gt", "gte")})
    plan_load(read_plan_file(changed), actor=steward, reason="口径调整为达到10亿元")
    target = Target.objects.get(key="firms_revenue_over_1bn")
    assert (target.rule_version, target.metric.comparison) == (2, "gte")
    assert target.rule_versions.get(version=2).reason == "口径调整为达到10亿元"


def test_a_preview_writes_nothing():
    plan_changes(read_plan_file(PHOTONICS))
    assert not Cluster.objects.filter(key="photonics").exists()
    assert not Plan.objects.filter(key="photonics-2024-2026").exists()


def test_a_plan_overlapping_another_of_its_cluster_is_refused(steward):
    text = NANO.replace("key: nano-2023-2025", "key: nano-2025-2027").replace(
        "  starts_on: 2023-01-01\n  ends_on: 2025-12-31\n  baseline_year: 2022",
        "  starts_on: 2025-01-01\n  ends_on: 2027-12-31\n  baseline_year: 2024",
    )
    with translation.override("en"):
        loading = plan_load(read_plan_file(text), actor=steward, reason="重叠")
    assert not loading.written
    [(field, message)] = [(e.field, e.message) for e in loading.errors]
    assert field == "plan.starts_on" and "overlaps the cluster's plan nano-2023-2025" in message
    assert not Plan.objects.filter(key="nano-2025-2027").exists()


def test_the_next_plan_of_a_cluster_loads_beside_the_ended_one(steward):
    text = (
        NANO.replace("key: nano-2023-2025", "key: nano-2026-2030")
        .replace(
            "  starts_on: 2023-01-01\n  ends_on: 2025-12-31\n  baseline_year: 2022",
            "  starts_on: 2026-01-01\n  ends_on: 2030-12-31\n  baseline_year: 2025",
        )
        .replace(
            "goal: {comparison: above, value: 1000亿元}",
            "goal: {comparison: above, value: 2000亿元}",
        )
    )
    text = (
        text[: text.index("sectors:")]
        + "sectors: {same_as: nano-2023-2025}\n\n"
        + text[text.index("# 二、主要目标") :]
    )
    plan_load(read_plan_file(text), actor=steward, reason="下一轮行动计划")
    nano = Cluster.objects.get(key="nano")
    assert list(nano.plans.values_list("key", flat=True)) == ["nano-2023-2025", "nano-2026-2030"]
    old, new = (
        Target.objects.get(plan__key=key, key="total_output")
        for key in nano.plans.values_list("key", flat=True)
    )
    assert (old.target_value, new.target_value) == (
        Decimal("100000000000.00"),
        Decimal("200000000000.00"),
    )
    assert (new.baseline_year, new.deadline) == (2025, dt.date(2030, 12, 31))
    assert Sector.objects.filter(cluster=nano).count() == 52  # the same tree


def test_milestones_stated_in_the_file_are_set_by_hand(steward):
    text = PHOTONICS.replace(
        "    goal: {value: 15}",
        "    goal: {value: 15}\n    milestones:\n      - {due_on: 2025-12-31, value: 12}",
    )
    plan_load(read_plan_file(text), actor=steward, reason="里程碑")
    [milestone] = TargetMilestone.objects.filter(
        target__key="listed_firms", target__plan__key="photonics-2024-2026"
    )
    assert (milestone.due_on, milestone.expected_value, milestone.interpolated) == (
        dt.date(2025, 12, 31),
        Decimal("12.00"),
        False,
    )


def test_the_command_checks_previews_and_loads(steward, tmp_path, capsys):
    path = tmp_path / "photonics.yaml"
    path.write_text(PHOTONICS, encoding="utf-8")
    call_command("load_plan", str(path), "--user", steward.username, "--dry-run")
    assert "would change 24 new" in capsys.readouterr().out
    assert not Cluster.objects.filter(key="photonics").exists()
    call_command("load_plan", str(path), "--user", steward.username)
    assert "changed 24 new" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(PHOTONICS.replace("value: 20}", "value: twenty}", 1), encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("load_plan", str(bad), "--user", steward.username)
    assert f"line {line_of(PHOTONICS, 'value: 20}')}" in str(refused.value)
    assert "targets[1].goal.value" in str(refused.value)


def test_only_a_steward_loads_a_plan(officer_sip, tmp_path):
    path = tmp_path / "photonics.yaml"
    path.write_text(PHOTONICS, encoding="utf-8")
    with pytest.raises(CommandError, match="not an active city steward"):
        call_command("load_plan", str(path), "--user", officer_sip.username)
    assert not Cluster.objects.filter(key="photonics").exists()
