"""An overdue alert's severity follows how much is missing (share of the expected reports
and count) and for how long (days past the deadline), and its message says both."""

import datetime as dt

import pytest

from cluster.models import District
from enterprises.choices import ReportStatus
from enterprises.models import QuarterlyReport
from targets.alert_rules.report_overdue import overdue_severity
from targets.choices import AlertEvent, Severity
from targets.models import Alert, AlertRule, Notification
from targets.services.alerts import alerts_evaluate
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db

INFO, WARNING, CRITICAL = Severity.INFO, Severity.WARNING, Severity.CRITICAL


@pytest.mark.parametrize(
    ("missing", "expected", "days_late", "severity"),
    [
        (6, 590, 3, INFO),  # a few, just late
        (6, 590, 10, INFO),  # a few, a week late
        (6, 590, 46, WARNING),  # a few, long late
        (59, 590, 3, INFO),  # a tenth (size 1), just late
        (59, 590, 10, WARNING),
        (59, 590, 31, CRITICAL),
        (20, 5000, 3, INFO),  # 20 firms is a middling gap even in a large district
        (20, 5000, 31, CRITICAL),
        (295, 590, 3, WARNING),  # half, just late
        (295, 590, 8, CRITICAL),
        (589, 590, 46, CRITICAL),
        (100, 10_000, 0, WARNING),  # 100 firms is large whatever the share
        (1, 2, 0, WARNING),  # half of a small district
    ],
)
def test_severity_grows_with_the_gap_and_the_delay(missing, expected, days_late, severity):
    assert overdue_severity(
        missing=missing, expected=expected, days_late=days_late, usual=WARNING
    ) == (severity)


def test_the_stewards_usual_severity_is_the_middle_and_information_the_floor():
    small = {"missing": 1, "expected": 100, "days_late": 1}
    middling = {"missing": 1, "expected": 100, "days_late": 40}
    assert overdue_severity(**small, usual=INFO) == INFO
    assert overdue_severity(**middling, usual=INFO) == INFO
    assert overdue_severity(**small, usual=CRITICAL) == WARNING
    assert overdue_severity(**middling, usual=CRITICAL) == CRITICAL


def active(district):
    return Alert.objects.active().get(
        rule__kind="report_overdue", owner=district, dedup_key__endswith="2026Q3"
    )


def test_a_large_long_gap_is_critical_and_a_small_fresh_one_information(
    city_steward, enterprise_factory, report_factory, settings
):
    settings.REPORT_DEADLINE_DAYS = 15  # 2026Q3 is due 2026-10-15
    AlertRule.objects.exclude(kind="report_overdue").update(enabled=False)
    AlertRule.objects.filter(kind="report_overdue").update(days=0, severity=WARNING)
    sip, kunshan = District.objects.get(code=SIP), District.objects.get(code=KUNSHAN)
    enterprise_factory.create_batch(20, district=sip)  # none reports
    kunshan_firms = enterprise_factory.create_batch(20, district=kunshan)
    for firm in kunshan_firms[1:]:
        report_factory(
            enterprise=firm,
            year=2026,
            quarter=3,
            status=ReportStatus.SUBMITTED,
            submitted_at=dt.datetime(2026, 10, 10, tzinfo=dt.UTC),
        )

    alerts_evaluate(today=dt.date(2026, 10, 18))  # three days late
    assert (active(sip).severity, active(kunshan).severity) == (WARNING, INFO)
    assert active(kunshan).message_zh == (
        "昆山市：2026Q3 缺 1/20 份报表，逾期 3 天（截止 2026-10-15）。"
    )
    assert active(kunshan).message_en == (
        "Kunshan: 2026Q3 missing 1/20 reports, 3 days overdue (due 2026-10-15)."
    )

    alerts_evaluate(today=dt.date(2026, 11, 30))  # 46 days late
    assert (active(sip).severity, active(kunshan).severity) == (CRITICAL, WARNING)
    assert (
        active(sip).message_zh
        == "苏州工业园区：2026Q3 缺 20/20 份报表，逾期 46 天（截止 2026-10-15）。"
    )
    assert active(sip).numbers | {"firms": None} == {
        "quarter": "2026Q3",
        "missing": 20,
        "expected": 20,
        "days_late": 46,
        "firms": None,
        "deadline": "2026-10-15",
    }
    escalations = Notification.objects.filter(event=AlertEvent.ESCALATED, user=city_steward)
    assert {n.alert.owner for n in escalations} == {sip, kunshan}

    # Most of SIP's reports arrive: one of twenty is missing, and the alert calms down
    # without a notification.
    for firm in sip.enterprises.all()[1:]:
        report_factory(
            enterprise=firm,
            year=2026,
            quarter=3,
            status=ReportStatus.SUBMITTED,
            submitted_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        )
    before = Notification.objects.count()
    alerts_evaluate(today=dt.date(2026, 11, 30))
    assert active(sip).severity == WARNING
    assert active(sip).numbers["missing"] == 1
    assert Notification.objects.count() == before
    assert QuarterlyReport.objects.filter(enterprise__district=sip).count() == 19
