"""The dashboard pages show the progress service's figures for a hand-built population, as of
any quarter and vintage, scoped to the reader, in a constant number of queries."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cluster.models import District
from enterprises.models import QuarterlyReport
from targets.choices import Basis, ScopeKind, Status
from targets.models import ProgressSnapshot, Target
from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db


def aware(*args):
    return timezone.make_aware(dt.datetime(*args))


def city_snapshot(key, period="2025Q2", basis=Basis.APPROVED):
    year, quarter = int(period[:4]), int(period[-1])
    return (
        ProgressSnapshot.objects.filter(
            target__key=key, scope_kind=ScopeKind.CITY, year=year, quarter=quarter, basis=basis
        )
        .order_by("-vintage")
        .first()
    )


def cards_of(response) -> dict:
    return {card.target.key: card for card in response.context["board"].cards}


def rendered_field(html: str, key: str, field: str) -> str:
    """The text of a card's field as the page shows it."""
    card = re.search(rf'data-target="{key}".*?</article>', html, re.S).group(0)
    return re.search(rf'data-field="{field}">([^<]*)<', card).group(1).strip()


def test_cards_show_the_progress_services_figures(client, city_viewer, population):
    client.force_login(city_viewer)
    with translation.override("zh-hans"):
        response = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"})
    html = response.content.decode()
    cards = cards_of(response)
    assert list(cards) == [t.key for t in Target.objects.order_by("sort_order", "key")]
    output = cards["total_output"]
    # The card is the stored snapshot, and the snapshot is the hand-computed figure.
    assert output.snapshot == city_snapshot("total_output")
    assert (output.actual, output.snapshot.projection) == (32 * YI, 64 * YI)
    assert output.snapshot.milestone_expected == 500 * YI  # 1,000 × half the year reached
    assert output.status == Status.OFF_TRACK
    assert output.previous.actual == 15 * YI
    assert output.year_on_year.quantize(Decimal("0.01")) == Decimal("6.67")  # 32 / 30
    assert rendered_field(html, "total_output", "actual") == "32.00 亿元"
    assert rendered_field(html, "total_output", "projection") == "64.00 亿元"
    assert rendered_field(html, "total_output", "milestone") == "500.00 亿元"
    assert rendered_field(html, "total_output", "share") == "3.2%"
    assert rendered_field(html, "total_output", "status") == "✕ 偏离目标"

    over_1bn = cards["firms_output_over_1bn"]
    assert (over_1bn.actual, over_1bn.snapshot.projection) == (1, 2)  # A now; B by year end
    assert over_1bn.change == 1  # nobody in 2025Q1: 10 is not above 10
    assert rendered_field(html, "firms_output_over_1bn", "actual") == "1 家"
    assert cards["listed_firms"].actual == 1
    assert cards["gazelle_firms"].actual == 1
    for key, card in cards.items():
        snapshot = city_snapshot(key)
        assert (card.actual, card.snapshot.projection, card.status) == (
            snapshot.actual,
            snapshot.projection,
            snapshot.status,
        ), key


def test_breakdowns_and_pipelines_match_the_snapshots(client, city_viewer, population, sip):
    client.force_login(city_viewer)
    board = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"}).context[
        "board"
    ]
    by_district = {part.key: part for part in board.by_district}
    assert by_district[sip.pk].actual == 26 * YI  # A 22 + C 4
    assert by_district[sip.pk].year_ago == 24 * YI
    kunshan = District.objects.get(code="320583")
    assert (by_district[kunshan.pk].actual, by_district[kunshan.pk].year_on_year) == (6 * YI, 0)
    stored = {
        s.district_id: s.actual
        for s in ProgressSnapshot.objects.filter(
            target__key="total_output", scope_kind=ScopeKind.DISTRICT, year=2025, quarter=2
        )
    }
    for part in board.by_district:
        assert part.actual == stored[part.key]
    assert by_district[sip.pk].counts["firms_output_over_1bn"] == 1
    assert sum(p.actual for p in board.by_direction) == 32 * YI
    pipelines = {target.key: lines for target, lines in board.threshold_pipelines}
    assert [(line.enterprise, line.gap) for line in pipelines["firms_output_over_1bn"]] == [
        (population["c"], 2 * YI)  # projected 8, needs 2 more
    ]
    assert [(line.enterprise, line.gap) for line in pipelines["firms_output_over_5bn"]] == [
        (population["a"], 6 * YI)  # projected 44 of 50
    ]
    assert [m.enterprise for m in board.ipo_filings] == [population["c"]]
    assert [d.enterprise for d in board.expiring_designations] == [population["a"]]
    assert [(p.quarter.year, p.quarter.quarter, p.actual) for p in board.trend][-2:] == [
        (2025, 1, 15 * YI),
        (2025, 2, 32 * YI),
    ]


def test_as_of_an_earlier_quarter_and_an_earlier_vintage(client, city_viewer, population, approve):
    client.force_login(city_viewer)
    earlier = cards_of(
        client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q1"})
    )
    assert earlier["total_output"].actual == 15 * YI
    assert earlier["firms_output_over_1bn"].actual == 0
    first_vintage = city_snapshot("total_output").vintage
    # A revision of A's 2025Q2 (12 → 14) approved later gives a new vintage.
    approve(population["a"], 2025, 2, 14 * YI, at=first_vintage + dt.timedelta(days=20))
    progress_recompute()
    newest = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"})
    assert cards_of(newest)["total_output"].actual == 34 * YI
    assert newest.context["as_of"].newest
    past = client.get(
        reverse("targets:dashboard", args=["nano"]),
        {"period": "2025Q2", "vintage": first_vintage.isoformat()},
    )
    assert cards_of(past)["total_output"].actual == 32 * YI
    assert not past.context["as_of"].newest
    assert [version.vintage for version in past.context["as_of"].versions] == [
        first_vintage + dt.timedelta(days=20),
        first_vintage,
    ]


def test_preview_includes_submitted_figures_and_says_so(
    client, city_viewer, population, enterprise_factory, kunshan
):
    d = enterprise_factory(name_zh="丁纳米公司", district=kunshan)
    QuarterlyReport.objects.create(
        enterprise=d,
        year=2025,
        quarter=2,
        output_value=5 * YI,
        operating_revenue=5 * YI,
        status="submitted",
        submitted_at=aware(2025, 7, 12),
    )
    progress_recompute(basis=Basis.PREVIEW)
    client.force_login(city_viewer)
    approved = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"})
    preview = client.get(
        reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2", "basis": "preview"}
    )
    assert cards_of(approved)["total_output"].actual == 32 * YI
    assert cards_of(preview)["total_output"].actual == 37 * YI
    assert b"preview-banner" in preview.content
    assert b"preview-banner" not in approved.content


def test_district_page_is_the_district_share(client, sip_viewer, population, sip):
    client.force_login(sip_viewer)
    response = client.get(reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q2"})
    cards = cards_of(response)
    assert cards["total_output"].actual == 26 * YI
    assert cards["total_output"].city.actual == 32 * YI
    assert cards["total_output"].share_of_city == Decimal(26) / Decimal(32)
    firms = response.context["firms"]
    assert [(f.name_zh, f.ytd, f.ytd_last) for f in firms] == [
        ("甲纳米公司", 22 * YI, 20 * YI),
        ("丙纳米公司", 4 * YI, 4 * YI),
    ]
    assert round(firms[0].growth, 6) == 10.0
    by_name = client.get(
        reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q2", "order": "name"}
    )
    assert [f.name_zh for f in by_name.context["firms"]] == ["丙纳米公司", "甲纳米公司"]
    search = client.get(reverse("targets:district", args=["nano", sip.pk]), {"q": "丙"})
    assert [f.name_zh for f in search.context["firms"]] == ["丙纳米公司"]


def test_the_firm_table_reads_the_vintage_and_the_basis_shown(
    client, sip_viewer, population, approve, sip
):
    first_vintage = city_snapshot("total_output").vintage
    # A's 2025Q2 revised 12 → 14 later; C's 2025Q2 changed 2 → 5 and only submitted.
    approve(population["a"], 2025, 2, 14 * YI, at=first_vintage + dt.timedelta(days=20))
    submitted = QuarterlyReport.objects.get(enterprise=population["c"], year=2025, quarter=2)
    submitted.output_value, submitted.status = 5 * YI, "submitted"
    submitted.save()
    progress_recompute()
    progress_recompute(basis=Basis.PREVIEW)
    client.force_login(sip_viewer)
    url = reverse("targets:district", args=["nano", sip.pk])

    def table(**params):
        firms = client.get(url, {"period": "2025Q2", **params}).context["firms"]
        return [(f.name_zh, f.ytd, f.ytd_last) for f in firms]

    assert table() == [("甲纳米公司", 24 * YI, 20 * YI), ("丙纳米公司", 4 * YI, 4 * YI)]
    assert table(vintage=first_vintage.isoformat()) == [
        ("甲纳米公司", 22 * YI, 20 * YI),
        ("丙纳米公司", 4 * YI, 4 * YI),
    ]
    assert table(basis="preview") == [
        ("甲纳米公司", 24 * YI, 20 * YI),
        ("丙纳米公司", 7 * YI, 4 * YI),
    ]


def test_sector_page_shows_the_direction(client, city_viewer, population):
    from cluster.models import Sector

    # The factory's material 1.04 is under it.
    direction = Sector.objects.get(cluster__key="nano", code="1")
    client.force_login(city_viewer)
    response = client.get(
        reverse("targets:sector", args=["nano", direction.pk]), {"period": "2025Q2"}
    )
    assert cards_of(response)["total_output"].actual == 32 * YI
    assert response.context["firms"].paginator.count == 3
    assert [p.actual for p in response.context["board"].by_district] == [26 * YI, 6 * YI]


def test_district_users_see_only_their_district(
    client, officer_sip, sip_viewer, population, sip, kunshan
):
    for user in (officer_sip, sip_viewer):
        client.force_login(user)
        assert client.get(reverse("targets:dashboard", args=["nano"])).url == reverse(
            "targets:district", args=["nano", sip.pk]
        )
        assert client.get(reverse("targets:district", args=["nano", kunshan.pk])).status_code == 404
        direction = population["a"].memberships.get().sector.parent_id
        assert client.get(reverse("targets:sector", args=["nano", direction])).status_code == 404
        assert (
            client.get(reverse("targets:enterprise", args=[population["b"].pk])).status_code == 404
        )
        page = client.get(reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q2"})
        assert {f.district_id for f in page.context["firms"]} == {sip.pk}
        assert "乙纳米公司" not in page.content.decode()


def measure(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def test_pages_take_the_same_number_of_queries_whatever_the_number_of_firms(
    client, city_steward, population, enterprise_factory, approve, designation_factory, sip
):
    client.force_login(city_steward)
    urls = [
        (reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"}),
        (reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q2"}),
        (
            reverse(
                "targets:sector", args=["nano", population["a"].memberships.get().sector.parent_id]
            ),
            {},
        ),
        (reverse("targets:enterprise", args=[population["a"].pk]), {}),
        (reverse("targets:alerts"), {}),
        (reverse("targets:brief", args=["nano", "2025Q2"]), {}),
    ]
    from targets.services.alerts import alerts_evaluate

    alerts_evaluate(today=dt.date(2025, 8, 1))
    measure(client, *urls[0])  # warm the per-process caches (content types, sessions)
    before = [measure(client, url, params) for url, params in urls]
    for n in range(12):
        firm = enterprise_factory(district=sip)
        for q in (1, 2):
            approve(firm, 2025, q, (n + 1) * YI / 2)
        designation_factory(
            enterprise=firm, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 10, 1)
        )
    progress_recompute()
    alerts_evaluate(today=dt.date(2025, 8, 1))
    after = [measure(client, url, params) for url, params in urls]
    assert after == before
    # The dashboard: session, user, membership, snapshots (3), report aggregates, pipelines,
    # alerts and completeness — a fixed budget, checked so that it cannot creep up unseen.
    assert before[0] <= 45, before


def test_an_account_without_a_role_is_told_so_not_redirected_in_circles(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    for url in ("/", reverse("targets:dashboard", args=["nano"])):
        response = client.get(url)
        assert response.status_code == 403
        assert "还没有角色或所属区县" in response.content.decode()
