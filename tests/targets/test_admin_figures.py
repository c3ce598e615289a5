"""Figures in the admin read as people read them: grouped, with the unit, in the page's
language; never as stored ("4000000.00")."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from cluster.access import Role
from targets.models import ProgressSnapshot

pytestmark = pytest.mark.django_db


def readonly(html: str, label: str) -> str:
    """The text shown read-only beside `label` on an admin object page."""
    pattern = rf">{re.escape(label)}:?</label>\s*<div class=\"readonly\">(.*?)</div>"
    return re.search(pattern, html, re.S).group(1).strip()


@pytest.mark.parametrize(
    ("language", "label", "shown"),
    [("zh-hans", "工业总产值（元）", "400.00 万元"), ("en", "Output value (yuan)", "¥4.00 m")],
)
def test_a_read_only_report_shows_its_money_with_the_unit(
    client, make_user, two_districts, language, label, shown
):
    report = two_districts["sip_report"]
    report.output_value = Decimal("4000000.00")
    report.save()
    client.force_login(make_user("city_viewer_staff", Role.ADMINISTRATOR, staff=True))
    html = client.get(
        reverse("admin:enterprises_quarterlyreport_change", args=[report.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    assert readonly(html, label) == shown
    assert "4000000.00" not in html


def test_snapshots_show_their_figures_in_the_target_unit(client, steward, population):
    client.force_login(steward)
    rows = client.get(
        reverse("admin:targets_progresssnapshot_changelist"),
        {"scope_kind": "city", "year": 2025, "quarter": 2},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "¥3.20 bn" in rows and "1 firm" in rows
    assert "3200000000.00" not in rows
    snapshot = ProgressSnapshot.objects.filter(
        target__key="total_output", scope_kind="city", year=2025, quarter=2
    ).latest("vintage")
    page = client.get(
        reverse("admin:targets_progresssnapshot_change", args=[snapshot.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert readonly(page, "实际值") == "32.00 亿元"
    assert page.count(">实际值:</label>") == 1
    assert not re.search(r'<div class="readonly">\d+\.\d\d</div>', page)
