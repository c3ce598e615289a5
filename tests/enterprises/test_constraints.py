"""Each invariant is refused twice: by the model layer with a readable message in Chinese
and English, and by the database when the model layer is bypassed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from enterprises.choices import MilestoneKind, ReportStatus
from enterprises.models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Milestone,
    QuarterlyReport,
)
from tests.factories import ClusterMembershipFactory

pytestmark = pytest.mark.django_db


def messages(instance, language):
    with translation.override(language), pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return [str(m) for m in caught.value.messages]


def refused_by_database(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_designation_ending_before_it_starts(designation_factory):
    designation = designation_factory.build(
        enterprise=designation_factory().enterprise,
        valid_from=dt.date(2025, 6, 1),
        valid_to=dt.date(2025, 5, 31),
    )
    assert messages(designation, "zh-hans") == ["资质有效期止不能早于有效期起。"]
    assert messages(designation, "en") == [
        "A designation cannot expire before it starts: valid to precedes valid from."
    ]
    refused_by_database(lambda: Designation.objects.bulk_create([designation]))


def test_designation_valid_for_a_single_day_is_allowed(designation_factory):
    day = dt.date(2025, 6, 1)
    designation = designation_factory(valid_from=day, valid_to=day)
    designation.full_clean()


def test_second_report_for_the_same_firm_and_quarter(report_factory):
    first = report_factory(year=2025, quarter=2)
    duplicate = QuarterlyReport(enterprise=first.enterprise, year=2025, quarter=2)
    assert messages(duplicate, "zh-hans") == ["该企业本季度已有报表。"]
    assert messages(duplicate, "en") == ["This firm already has a report for this quarter."]
    refused_by_database(lambda: QuarterlyReport.objects.bulk_create([duplicate]))
    assert QuarterlyReport.objects.filter(enterprise=first.enterprise).count() == 1


def test_negative_money_is_refused_for_each_money_figure(report_factory):
    report = report_factory()
    for figure in ("output_value", "operating_revenue", "rd_spending"):
        setattr(report, figure, Decimal("-1.00"))
        zh = messages(report, "zh-hans")
        assert any("大于或等于0" in m for m in zh), zh
        refused_by_database(
            lambda figure=figure: QuarterlyReport.objects.filter(pk=report.pk).update(
                **{figure: Decimal("-0.01")}
            )
        )
        setattr(report, figure, Decimal("1.00"))
    report.refresh_from_db()
    assert report.output_value == Decimal("1000000.00")


def test_negative_milestone_amount_is_refused_by_the_database(enterprise_factory):
    milestone = Milestone(
        enterprise=enterprise_factory(),
        kind=MilestoneKind.FINANCING_ROUND,
        occurred_on=dt.date(2025, 1, 1),
        amount=Decimal("-5"),
    )
    refused_by_database(lambda: Milestone.objects.bulk_create([milestone]))


@pytest.mark.parametrize("quarter", [0, 5])
def test_quarter_outside_1_to_4(report_factory, quarter):
    report = report_factory.build(
        enterprise=report_factory().enterprise, year=2025, quarter=quarter
    )
    assert "季度必须在1到4之间。" in messages(report, "zh-hans")
    assert "The quarter must be between 1 and 4." in messages(report, "en")
    refused_by_database(lambda: QuarterlyReport.objects.bulk_create([report]))


def test_returned_report_needs_its_reason(report_factory):
    report = report_factory()
    refused_by_database(
        lambda: QuarterlyReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.RETURNED, submitted_at="2025-04-10T10:00Z", return_reason=""
        )
    )


def test_invalid_uscc_message_in_both_languages(enterprise_factory):
    enterprise = enterprise_factory.build(uscc="91350100M000100Y44")
    zh = messages(enterprise, "zh-hans")
    en = messages(enterprise, "en")
    assert any("校验码" in m and "应为 3" in m for m in zh), zh
    assert any("should be 3, not 4" in m for m in en), en
    refused_by_database(lambda: Enterprise.objects.bulk_create([enterprise]))


def test_firm_cannot_leave_a_cluster_before_joining(enterprise_factory):
    membership = ClusterMembershipFactory.build(
        enterprise=enterprise_factory(cluster=None),
        joined_on=dt.date(2024, 1, 1),
        left_on=dt.date(2023, 1, 1),
    )
    assert messages(membership, "zh-hans") == ["企业迁出集群的日期不能早于加入日期。"]
    assert messages(membership, "en") == ["A firm cannot leave the cluster before it joined."]
    refused_by_database(lambda: ClusterMembership.objects.bulk_create([membership]))


def test_park_must_be_in_the_firms_district(enterprise_factory):
    from cluster.models import District, Park

    enterprise = enterprise_factory.build(
        district=District.objects.get(code="320583"), park=Park.objects.get(name_zh="苏州纳米城")
    )
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        enterprise.full_clean()
    assert caught.value.message_dict["park"] == [
        "The park Nanopolis Suzhou is not in the district Kunshan."
    ]
