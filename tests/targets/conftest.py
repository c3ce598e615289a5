import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cluster.models import District
from enterprises.models import QuarterlyReport, ReportRevision

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
        ReportRevision.objects.create(
            report=report,
            enterprise=enterprise,
            year=year,
            quarter=quarter,
            revision=report.revision,
            output_value=report.output_value,
            operating_revenue=report.operating_revenue,
            statistical_scope="self_reported",
            approved_at=at,
        )
        return report

    return make


@pytest.fixture
def sip():
    return District.objects.get(code="320571")


@pytest.fixture
def kunshan():
    return District.objects.get(code="320583")
