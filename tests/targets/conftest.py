import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cluster.models import District
from enterprises.choices import DesignationType, MilestoneKind
from enterprises.models import Milestone, QuarterlyReport
from enterprises.services.reports import revisions_record
from targets.services.progress import progress_recompute

YI = Decimal(100_000_000)


@pytest.fixture
def approve(db):
    """A report approved at `at` (revision 1), or a new revision of it."""

    def make(enterprise, year, quarter, output, *, at=None, revenue=None):
        at = at or timezone.make_aware(
            dt.datetime(year + (quarter == 4), (quarter % 4) * 3 + 1, 10)
        )
        report, _created = QuarterlyReport.objects.get_or_create(
            enterprise=enterprise, year=year, quarter=quarter
        )
        report.output_value = Decimal(output)
        report.operating_revenue = Decimal(revenue if revenue is not None else output)
        report.status, report.submitted_at, report.approved_at = "approved", at, at
        report.revision += 1
        report.save()
        revisions_record(reports=[report])
        return report

    return make


@pytest.fixture
def sip():
    return District.objects.get(code="320571")


@pytest.fixture
def kunshan():
    return District.objects.get(code="320583")


@pytest.fixture
def population(enterprise_factory, approve, sip, kunshan, designation_factory, listing_factory):
    """Three firms, 2022–2025Q2, figures in 亿元 a quarter:

    A (SIP)      10 each quarter of 2022–2024; 2025: 10, 12  → passes ¥1 bn in 2025Q2
    B (Kunshan)   3 each quarter;               2025: 3, 3   → listed on 2025-05-10
    C (SIP)       2 each quarter;               2025: 2, 2   → IPO filing accepted 2025-03-01

    City output: 2025Q1 15, 2025Q2 32 (2024H1 30). With flat seasonality and no growth the
    year ends at 64; milestones run from the 2022 baseline of 60 to 1,000 (2025).
    """
    a = enterprise_factory(name_zh="甲纳米公司", name_en="Alpha Nano", district=sip)
    b = enterprise_factory(name_zh="乙纳米公司", name_en="Beta Nano", district=kunshan)
    c = enterprise_factory(name_zh="丙纳米公司", name_en="Gamma Nano", district=sip)
    for firm, per_quarter, y2025 in ((a, 10, (10, 12)), (b, 3, (3, 3)), (c, 2, (2, 2))):
        for year in (2022, 2023, 2024):
            for q in (1, 2, 3, 4):
                approve(firm, year, q, per_quarter * YI)
        for q, value in enumerate(y2025, start=1):
            approve(firm, 2025, q, value * YI)
    designation_factory(
        enterprise=a,
        type=DesignationType.GAZELLE,
        valid_from=dt.date(2025, 4, 1),
        valid_to=dt.date(2025, 9, 30),
    )
    listing_factory(enterprise=b, listed_on=dt.date(2025, 5, 10))
    Milestone.objects.create(
        enterprise=c, kind=MilestoneKind.IPO_FILING_ACCEPTED, occurred_on=dt.date(2025, 3, 1)
    )
    progress_recompute()
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def api():
    """An API client authenticated with `user`'s token, in `language`."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user, language="zh-hans"):
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
