import datetime as dt
from decimal import Decimal

import pytest

from cluster.quarters import Quarter
from enterprises.choices import DesignationType
from targets.models import Target
from targets.selectors.explanation import gap_explanation
from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db

Q4 = Quarter(2025, 4)


def year(approve, firm, total):
    for q in (1, 2, 3, 4):
        approve(firm, 2025, q, Decimal(total) * YI / 4)


def test_contributions_by_district_and_firm(enterprise_factory, approve, sip, kunshan):
    big = enterprise_factory(name_zh="大", district=sip)
    small = enterprise_factory(name_zh="小", district=kunshan)
    year(approve, big, 30)
    year(approve, small, 5)
    target = Target.objects.get(key="total_output")
    progress_recompute(target_ids=[target.pk], quarters=[Q4])
    explanation = gap_explanation(target, Q4)
    assert [(s.district.code, s.actual) for s in explanation.by_district[:2]] == [
        ("320571", 30 * YI),
        ("320583", 5 * YI),
    ]
    assert [(f.enterprise, f.value) for f in explanation.top_firms] == [
        (big, 30 * YI),
        (small, 5 * YI),
    ]


def test_threshold_pipeline_lists_firms_just_below_with_their_gap(enterprise_factory, approve):
    over, near, far = (enterprise_factory(name_zh=n) for n in ("过", "近", "远"))
    year(approve, over, 12)
    year(approve, near, 7)
    year(approve, far, 4)
    target = Target.objects.get(key="firms_output_over_1bn")
    progress_recompute(target_ids=[target.pk], quarters=[Q4])
    explanation = gap_explanation(target, Q4)
    assert [(f.enterprise, f.gap) for f in explanation.pipeline] == [(near, 3 * YI)]


def test_who_entered_and_left_the_counted_group(designation_factory, enterprise_factory):
    stays, leaves, joins = (enterprise_factory(name_zh=n) for n in ("留", "离", "入"))
    designation_factory(
        enterprise=stays,
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2026, 12, 31),
    )
    designation_factory(
        enterprise=leaves,
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2025, 11, 30),
    )
    designation_factory(
        enterprise=joins,
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2025, 10, 15),
        valid_to=dt.date(2027, 10, 14),
    )
    target = Target.objects.get(key="gazelle_firms")
    progress_recompute(target_ids=[target.pk], quarters=[Quarter(2025, 3), Q4])
    explanation = gap_explanation(target, Q4)
    assert (explanation.entered, explanation.left) == ([joins], [leaves])
