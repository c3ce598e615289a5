"""A target's baseline is the value of its baseline year (2022 for the nano plan, the year
before it), computed by the progress job from the approved figures of that year only, again
whenever that year's figures are approved again, credited to the job; unknown without
approved figures, and then no milestone is interpolated. A steward may set it by hand."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from cluster.quarters import Quarter
from enterprises.models import QuarterlyReport
from targets.models import Target, TargetMilestone
from targets.services.progress import progress_recompute
from targets.tasks import recompute_for_reports

from .conftest import YI

pytestmark = pytest.mark.django_db


def output_target():
    return Target.objects.get(key="total_output")


def milestones(target):
    return list(target.milestones.values_list("due_on", "expected_value", "interpolated"))


@pytest.fixture
def firm(enterprise_factory, sip):
    return enterprise_factory(name_zh="基期公司", district=sip)


def test_the_plans_targets_have_2022_as_their_baseline_year():
    assert set(Target.objects.values_list("baseline_year", flat=True)) == {2022}


def test_baseline_from_the_approved_2022_figures_only(firm, approve, report_factory):
    for q in (1, 2, 3):
        approve(firm, 2022, q, 15 * YI)
    report_factory(
        enterprise=firm,
        year=2022,
        quarter=4,
        output_value=50 * YI,
        status="submitted",
        submitted_at=dt.datetime(2023, 1, 10, tzinfo=dt.UTC),
    )
    approve(firm, 2025, 1, 20 * YI)
    progress_recompute()
    target = output_target()
    assert (target.baseline_year, target.baseline_value) == (2022, 45 * YI)
    # Interpolated from 45 (2022) to 1,000 (2025).
    assert milestones(target) == [
        (dt.date(2023, 12, 31), Decimal("36333333333.33"), True),
        (dt.date(2024, 12, 31), Decimal("68166666666.67"), True),
        (dt.date(2025, 12, 31), 1000 * YI, True),
    ]


def test_without_approved_2022_figures_the_baseline_is_unknown_and_says_so(
    firm, approve, client, city_viewer
):
    approve(firm, 2023, 1, 10 * YI)
    approve(firm, 2025, 1, 12 * YI)
    progress_recompute()
    target = output_target()
    assert (target.baseline_year, target.baseline_value) == (2022, None)
    assert milestones(target) == []
    snapshot = target.snapshots.get(scope_kind="city", year=2025, quarter=1, basis="approved")
    assert snapshot.milestone_expected is None
    client.force_login(city_viewer)
    with translation.override("zh-hans"):
        html = client.get(
            reverse("targets:dashboard", args=["nano"]), {"period": "2025Q1"}
        ).content.decode()
    card = re.search(r'data-target="total_output".*?</article>', html, re.S).group(0)
    assert re.search(r'data-field="baseline">([^<]*)<', card).group(1).strip() == (
        "基期（2022年）尚无已审核数据，未设里程碑。"
    )


def test_a_new_approval_of_2022_recomputes_the_baseline_and_the_milestones(firm, approve):
    for q in (1, 2, 3, 4):
        approve(firm, 2022, q, 10 * YI)
    approve(firm, 2025, 1, 20 * YI)
    progress_recompute()
    assert output_target().baseline_value == 40 * YI
    revised = approve(firm, 2022, 4, 25 * YI, at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    recompute_for_reports([revised.pk])
    target = output_target()
    assert target.baseline_value == 55 * YI
    assert milestones(target)[0] == (dt.date(2023, 12, 31), Decimal("370") * YI, True)
    # The change is the job's, not the person's whose request happened to run it.
    change = target.history.first()
    assert change.history_user is None
    assert change.history_change_reason == (
        "progress job (targets.recompute_progress): baseline from the approved figures of 2022"
    )
    # The 2025 snapshots were computed again: 1,000 × the share of the year 2022 had by Q1.
    snapshot = target.snapshots.filter(
        scope_kind="city", year=2025, quarter=1, basis="approved"
    ).latest("vintage")
    assert snapshot.milestone_expected == (1000 * YI * 10 / 55).quantize(Decimal("0.01"))


def test_a_baseline_set_by_hand_is_left_alone_and_hand_set_milestones_are_kept(firm, approve):
    for q in (1, 2, 3, 4):
        approve(firm, 2022, q, 10 * YI)
    target = output_target()
    Target.objects.filter(pk=target.pk).update(baseline_value=100 * YI, baseline_set_by_hand=True)
    TargetMilestone.objects.create(
        target=target, due_on=dt.date(2024, 12, 31), expected_value=500 * YI, interpolated=False
    )
    progress_recompute(quarters=[Quarter(2025, 1)])
    target.refresh_from_db()
    assert target.baseline_value == 100 * YI
    # 2023 halfway between the hand-set baseline (100) and the hand-set 2024 milestone (500).
    assert milestones(target) == [
        (dt.date(2023, 12, 31), 300 * YI, True),
        (dt.date(2024, 12, 31), 500 * YI, False),
        (dt.date(2025, 12, 31), 1000 * YI, True),
    ]


def test_interpolated_milestones_follow_a_changed_baseline(firm, approve):
    for q in (1, 2, 3, 4):
        approve(firm, 2022, q, 10 * YI)
    progress_recompute(quarters=[Quarter(2025, 1)])
    assert milestones(output_target())[0][1] == Decimal("360") * YI
    report = QuarterlyReport.objects.get(enterprise=firm, year=2022, quarter=1)
    approve(firm, 2022, 1, 70 * YI, at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    recompute_for_reports([report.pk])
    assert milestones(output_target())[0][1] == Decimal("400") * YI


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_a_baseline_is_credited_to_the_job_not_to_the_person_whose_request_ran_it(
    client, officer_sip, city_steward, enterprise_factory, sip, settings
):
    """The embedded set-up runs the recompute inside the request that submitted or approved
    the figures; the baseline it computes is still the job's."""
    from enterprises.services.report_entry import report_save

    settings.CELERY_TASK_ALWAYS_EAGER = True
    firm = enterprise_factory(district=sip)
    for q in (1, 2, 3, 4):
        report_save(
            actor=officer_sip,
            enterprise=firm,
            quarter=Quarter(2022, q),
            version=None,
            values={"output_value": 10 * YI, "operating_revenue": 10 * YI},
        )
    client.force_login(officer_sip)
    client.post(reverse("reports:submit", args=[sip.pk, "2022Q4"]), {"scope": "all"})
    for q in (1, 2, 3):
        client.post(reverse("reports:submit", args=[sip.pk, f"2022Q{q}"]), {"scope": "all"})
    assert output_target().baseline_value is None  # submitted is not approved
    client.force_login(city_steward)
    ids = list(QuarterlyReport.objects.filter(year=2022).values_list("pk", flat=True))
    client.post(
        reverse("reports:review", args=[sip.pk, "2022Q4"]),
        {"action": "approve", "report": [str(pk) for pk in ids]},
    )
    target = output_target()
    assert target.baseline_value == 40 * YI
    users = set(target.history.values_list("history_user", flat=True))
    assert users == {None}
