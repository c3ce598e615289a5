"""A change of a counting rule (a Metric, or a Target's counting fields) goes through one
service: it needs a steward and a reason, bumps the rule version, keeps the history with the
reason, and recomputes on commit. Snapshots of the older version stay; pages, alerts and the
API read the current version, and the API can read an older one."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from targets.choices import Basis, ScopeKind
from targets.models import Alert, AlertRule, Metric, ProgressSnapshot, RuleVersion, Target
from targets.services.alerts import alerts_evaluate
from targets.services.progress import progress_recompute
from targets.services.rules import metric_save, target_save

from .conftest import YI

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 2, 20)
REASON = "市里口径调整：统计超5亿元企业"


@pytest.fixture(autouse=True)
def eager(settings):
    """The recompute a rule change enqueues on commit runs in this process (with the real
    broker too); the worker's own path is tests/targets/test_worker.py's."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def yearly(approve, firm, year, total_yi):
    for q in (1, 2, 3, 4):
        approve(firm, year, q, Decimal(total_yi) * YI / 4)


def city_rows(key, period=(2025, 4)):
    return sorted(
        ProgressSnapshot.objects.filter(
            target__key=key,
            scope_kind=ScopeKind.CITY,
            year=period[0],
            quarter=period[1],
            basis=Basis.APPROVED,
        ).values_list("rule_version", "actual")
    )


@pytest.fixture
def two_firms(enterprise_factory, approve, sip, kunshan):
    """X grows from ¥0.4 bn (2024) to ¥0.6 bn (2025); Y stays at ¥1.2 bn."""
    x = enterprise_factory(name_zh="成长公司", name_en="Growing Co.", district=sip)
    y = enterprise_factory(name_zh="稳定公司", name_en="Steady Co.", district=kunshan)
    yearly(approve, x, 2024, 4)
    yearly(approve, x, 2025, 6)
    yearly(approve, y, 2024, 12)
    yearly(approve, y, 2025, 12)
    progress_recompute()
    AlertRule.objects.exclude(kind="threshold_crossed").update(enabled=False)
    return {"x": x, "y": y}


def test_a_rule_change_needs_a_steward_and_a_reason(officer_sip, city_viewer, city_steward):
    metric = Metric.objects.get(key="firms_output_over_1bn")
    metric.threshold = 5 * YI
    for user in (officer_sip, city_viewer):
        with pytest.raises(PermissionDenied):
            metric_save(actor=user, metric=metric, reason=REASON)
    with pytest.raises(ValidationError) as refused:
        metric_save(actor=city_steward, metric=metric, reason="  ")
    assert list(refused.value.message_dict) == ["reason"]
    target = Target.objects.get(key="firms_output_over_1bn")
    target.target_value = Decimal(20)
    with pytest.raises(ValidationError):
        target_save(actor=city_steward, target=target, reason="")
    assert Metric.objects.get(key="firms_output_over_1bn").threshold == 10 * YI
    assert Target.objects.get(key="firms_output_over_1bn").target_value == 15
    assert Target.objects.get(key="firms_output_over_1bn").rule_version == 1
    assert not RuleVersion.objects.exists()


def test_a_metric_change_recomputes_under_a_new_version_and_keeps_the_old(
    two_firms, city_steward, client, api, django_capture_on_commit_callbacks
):
    alerts_evaluate(today=TODAY)
    assert not Alert.objects.exists()  # nobody crossed ¥1 bn: Y was above it already
    assert city_rows("firms_output_over_1bn") == [(1, 1)]

    metric = Metric.objects.get(key="firms_output_over_1bn")
    metric.threshold = 5 * YI
    metric.name_zh, metric.name_en = "年产值超5亿元企业数", "Firms with annual output above ¥0.5 bn"
    with django_capture_on_commit_callbacks(execute=True):
        metric_save(actor=city_steward, metric=metric, reason=REASON)

    target = Target.objects.get(key="firms_output_over_1bn")
    assert target.rule_version == 2
    assert Target.objects.get(key="firms_output_over_5bn").rule_version == 1
    # The recompute on commit added the new version's rows; the old ones are untouched.
    assert city_rows("firms_output_over_1bn") == [(1, 1), (2, 2)]
    assert city_rows("firms_output_over_1bn", (2024, 4)) == [(1, 1), (2, 1)]
    # History keeps who and why, on the metric and on the target.
    assert metric.history.first().history_change_reason == REASON
    assert target.history.first().history_change_reason == REASON
    assert target.history.first().history_user == city_steward
    version = RuleVersion.objects.get(target=target, version=2)
    assert (version.reason, version.changed_by, version.rule["metric"]["threshold"]) == (
        REASON,
        city_steward,
        "500000000.00",
    )

    # Alerts follow the new threshold: X crossed ¥0.5 bn in 2025.
    alerts_evaluate(today=TODAY)
    [alert] = Alert.objects.filter(rule__kind="threshold_crossed")
    assert alert.enterprise == two_firms["x"]
    assert alert.numbers["threshold"] == "500000000.00"
    assert "年产值超5亿元企业数" in alert.message_zh

    # The dashboard reads the current version, and says which one it is.
    client.force_login(city_steward)
    with translation.override("zh-hans"):
        response = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q4"})
    card = next(c for c in response.context["board"].cards if c.target.key == target.key)
    assert card.actual == 2
    # 2025Q4 is the ended plan's deadline quarter: its final evaluation, line by line.
    html = response.content.decode()
    block = re.search(rf'data-target="{target.key}".*?</tr>', html, re.S).group(0)
    shown = re.search(r'data-field="rule-version">([^<]*)<', block).group(1)
    assert "第 2 版" in shown and REASON in shown
    first = re.search(r'data-target="firms_output_over_5bn".*?</tr>', html, re.S).group(0)
    assert 'data-field="rule-version"' not in first

    # The API reads the current version by default, an older one when asked.
    params = {"target": target.key, "scope_kind": "city", "period": "2025Q4", "basis": "approved"}
    current = api(city_steward).get("/api/progress-snapshots/", params).json()["results"]
    assert [(s["rule_version"], s["actual"]) for s in current] == [(2, 2)]
    older = (
        api(city_steward)
        .get("/api/progress-snapshots/", {**params, "rule_version": 1})
        .json()["results"]
    )
    assert [(s["rule_version"], s["actual"]) for s in older] == [(1, 1)]
    body = api(city_steward).get(f"/api/targets/{target.pk}/").json()
    assert body["rule"]["threshold"] == "500000000.00" and body["rule"]["rule_version"] == 2
    assert body["rule_versions"][-1]["reason"] == REASON


def test_a_change_that_is_not_a_rule_keeps_the_version(
    two_firms, city_steward, django_capture_on_commit_callbacks
):
    target = Target.objects.get(key="firms_output_over_1bn")
    target.name_en = "Firms above ¥1 bn of output"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        target_save(actor=city_steward, target=target, reason="wording")
    assert callbacks == []
    target.refresh_from_db()
    assert (target.rule_version, target.history.first().history_change_reason) == (1, "wording")
    assert city_rows("firms_output_over_1bn") == [(1, 1)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_value", Decimal(20)),
        ("comparison", "gt"),
        ("deadline", dt.date(2026, 12, 31)),
        ("at_risk_ratio", Decimal("0.80")),
        ("baseline_year", 2023),
    ],
)
def test_each_counting_field_of_a_target_is_a_rule_change(
    field, value, two_firms, city_steward, django_capture_on_commit_callbacks
):
    target = Target.objects.get(key="firms_output_over_1bn")
    setattr(target, field, value)
    with django_capture_on_commit_callbacks(execute=True):
        target_save(actor=city_steward, target=target, reason="任务调整")
    assert Target.objects.get(pk=target.pk).rule_version == 2
    assert [v for v, _actual in city_rows("firms_output_over_1bn")] == [1, 2]


def metric_form(metric: Metric, **changes) -> dict:
    data = {
        "plan": metric.plan_id,
        "key": metric.key,
        "name_zh": metric.name_zh,
        "name_en": metric.name_en,
        "kind": metric.kind,
        "figure": metric.figure,
        "threshold": str(metric.threshold or ""),
        "comparison": metric.comparison,
        "denominator": metric.denominator,
        "designation_type": metric.designation_type,
        "count_mode": metric.count_mode,
        "counted_since": "",
        "description": metric.description,
        "reason": "",
    }
    data.update(changes)
    return data


def test_the_admin_form_needs_a_reason_and_goes_through_the_service(
    client, city_steward, two_firms, django_capture_on_commit_callbacks
):
    metric = Metric.objects.get(key="firms_output_over_1bn")
    url = reverse("admin:targets_metric_change", args=[metric.pk])
    client.force_login(city_steward)
    refused = client.post(url, metric_form(metric, threshold="500000000"))
    assert refused.status_code == 200
    assert "reason" in refused.context["adminform"].form.errors
    assert Metric.objects.get(pk=metric.pk).threshold == 10 * YI
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(url, metric_form(metric, threshold="500000000", reason=REASON))
    assert saved.status_code == 302
    assert Metric.objects.get(pk=metric.pk).history.first().history_change_reason == REASON
    assert Target.objects.get(key="firms_output_over_1bn").rule_version == 2
    assert city_rows("firms_output_over_1bn") == [(1, 1), (2, 2)]


def test_the_target_admin_form_needs_a_reason_too(client, steward, two_firms):
    target = Target.objects.get(key="firms_output_over_1bn")
    client.force_login(steward)
    form = client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert "baseline_set_by_hand" in form.context["adminform"].form.fields
    data = {
        "plan": target.plan_id,
        "key": target.key,
        "name_zh": target.name_zh,
        "name_en": target.name_en,
        "metric": target.metric_id,
        "comparison": target.comparison,
        "target_value": "20",
        "unit": target.unit,
        "deadline": "2025-12-31",
        "baseline_year": "2022",
        "baseline_value": "",
        "district": "",
        "sector": "",
        "source": target.source,
        "sort_order": target.sort_order,
        "at_risk_ratio": "0.90",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "1000",
        "reason": "",
    }
    url = reverse("admin:targets_target_change", args=[target.pk])
    assert "reason" in client.post(url, data).context["adminform"].form.errors
    assert client.post(url, {**data, "reason": "分解到区"}).status_code == 302
    target.refresh_from_db()
    assert (target.target_value, target.rule_version) == (20, 2)
    assert target.history.first().history_change_reason == "分解到区"
