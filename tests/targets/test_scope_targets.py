"""District and direction pages against their own targets (the plan's 任务分解, issue 16 item
4): where the steward entered a scope's part of a target, the page, the brief and the API
measure the scope against it; elsewhere they show the scope's share of the city's figure and
its contribution to the city's gap, never the city's target as if it were the scope's."""

import html as html_text
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from cluster.models import Sector
from cluster.quarters import Quarter
from targets.choices import ScopeKind, Status
from targets.models import ProgressSnapshot, RuleVersion, Target, TargetShare
from targets.services.progress import progress_recompute
from targets.services.rules import target_share_delete, target_share_save

from .conftest import YI
from .test_dashboard import cards_of, measure

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def output_target() -> Target:
    return Target.objects.get(key="total_output")


def direction() -> Sector:
    # The factory's material 1.04 is under it: all three firms of the population.
    return Sector.objects.get(cluster__key="nano", code="1")


def enter(actor, *, value, district=None, sector=None, target=None, reason="市里下达的任务分解"):
    share = TargetShare(
        target=target or output_target(),
        scope_kind=ScopeKind.DISTRICT if district else ScopeKind.SECTOR,
        district=district,
        sector=sector,
        value=value,
    )
    return target_share_save(actor=actor, share=share, reason=reason)


def card_html(html: str, key: str) -> str:
    return re.search(rf'data-target="{key}".*?</article>', html, re.S).group(0)


def field(html: str, field_name: str) -> str:
    match = re.search(rf'data-field="{field_name}">(.*?)</(?:span|p)>', html, re.S)
    return html_text.unescape(re.sub(r"<[^>]+>", "", match.group(1)).strip()) if match else ""


def page(client, user, url, language="zh-hans"):
    client.force_login(user)
    with translation.override(language):
        response = client.get(url, {"period": "2025Q2"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response


def test_a_district_with_its_own_target_is_measured_against_it(
    client, city_steward, sip_viewer, population, sip, django_capture_on_commit_callbacks
):
    from cluster.models import PendingJob

    version = output_target().rule_version
    with django_capture_on_commit_callbacks() as on_commit:
        enter(city_steward, value=40 * YI, district=sip)
    # The breakdown is part of the rule: a new version, recorded with its reason, and the
    # target's recompute sent once the change commits.
    target = output_target()
    assert target.rule_version == version + 1
    recorded = RuleVersion.objects.get(target=target, version=target.rule_version)
    assert recorded.reason == "市里下达的任务分解"
    assert recorded.rule["breakdown"] == {f"district:{sip.pk}": "4000000000.00"}
    job = PendingJob.objects.get(task="targets.recompute_progress")
    assert (job.args, len(on_commit)) == ([[target.pk]], 1)
    progress_recompute(target_ids=[target.pk])

    response = page(client, sip_viewer, reverse("targets:district", args=["nano", sip.pk]))
    card = cards_of(response)["total_output"]
    city = card.city
    assert card.snapshot.rule_version == target.rule_version
    assert (card.actual, card.own_target) == (26 * YI, 40 * YI)
    assert card.share == Decimal("0.65")
    # The city's milestone path scaled to the district's part (40 of 1,000).
    assert card.snapshot.milestone_expected == (city.milestone_expected * Decimal("0.04")).quantize(
        CENT
    )
    # Projected near 52 亿元 on its seasonality, over the part of 40: on track.
    assert card.snapshot.projection > 40 * YI
    assert card.status == Status.ON_TRACK
    html = card_html(response.content.decode(), "total_output")
    assert field(html, "goal") == "> 40 亿元"
    assert field(html, "share") == "65.0%"
    assert field(html, "status") == "● 进展正常"
    assert field(html, "measure") == "对照苏州工业园区的分解目标（行动计划任务分解）衡量"
    assert field(html, "share-of-city") == "81.3%"
    assert "1,000" not in html


def test_a_district_without_its_own_target_is_its_share_of_the_city(
    client, city_viewer, population, kunshan
):
    response = page(client, city_viewer, reverse("targets:district", args=["nano", kunshan.pk]))
    card = cards_of(response)["total_output"]
    assert (card.actual, card.own_target, card.share) == (6 * YI, None, None)
    assert card.share_of_city == Decimal("0.1875")
    assert card.city_gap == 968 * YI  # 1,000 − the city's 32
    assert card.added_this_quarter == 3 * YI  # Kunshan's second quarter
    assert card.snapshot.status == Status.NOT_APPLICABLE
    assert card.snapshot.share_of_target is None
    html = card_html(response.content.decode(), "total_output")
    # The city's target is never shown as the district's.
    assert "1,000" not in html and 'data-field="goal"' not in html
    assert 'data-field="share"' not in html and 'data-field="status"' not in html
    assert field(html, "measure") == "昆山市未分解目标：显示其占全市比重"
    assert field(html, "share-of-city") == "18.8%"
    assert "占全市 <span" in html and ": <span" not in html  # Chinese punctuation, no ASCII colon
    assert field(html, "contribution") == "全市距目标还差968.00 亿元，昆山市本季度贡献3.00 亿元"
    # Counts the same way: Kunshan has no firm over ¥1 bn, the city one of 15.
    count = card_html(response.content.decode(), "firms_output_over_1bn")
    assert field(count, "share-of-city") == "0.0%"
    assert "全市距目标还差14" in field(count, "contribution")


def test_a_direction_is_measured_against_its_own_target_or_shown_as_its_share(
    client, city_steward, city_viewer, population
):
    url = reverse("targets:sector", args=["nano", direction().pk])
    card = cards_of(page(client, city_viewer, url))["total_output"]
    assert (card.own_target, card.share, card.share_of_city) == (None, None, Decimal(1))
    assert card.city_gap == 968 * YI

    enter(city_steward, value=800 * YI, sector=direction())
    progress_recompute()
    response = page(client, city_viewer, url)
    card = cards_of(response)["total_output"]
    assert (card.actual, card.own_target, card.share) == (32 * YI, 800 * YI, Decimal("0.04"))
    assert card.status in (Status.OFF_TRACK, Status.AT_RISK)  # projected 64 of 800
    html = card_html(response.content.decode(), "total_output")
    assert field(html, "goal") == "> 800 亿元"
    assert field(html, "share") == "4.0%"


def test_the_api_shows_the_same_own_target_and_shares(
    api, city_steward, sip_viewer, population, sip, kunshan
):
    enter(city_steward, value=40 * YI, district=sip)
    progress_recompute()
    rows = (
        api(city_steward)
        .get(
            "/api/progress-snapshots/",
            {"target": "total_output", "period": "2025Q2", "cluster": "nano"},
        )
        .json()["results"]
    )
    by_district = {row["district"]: row for row in rows if row["scope_kind"] == "district"}
    assert by_district[sip.code]["scope_target"] == "4000000000.00"
    assert Decimal(by_district[sip.code]["share_of_target"]) == Decimal("0.65")
    assert by_district[sip.code]["status"] == Status.ON_TRACK
    assert by_district[kunshan.code]["scope_target"] is None
    assert by_district[kunshan.code]["share_of_target"] is None
    assert Decimal(by_district[kunshan.code]["share_of_city"]) == Decimal("0.1875")


@pytest.mark.parametrize("who", ["officer_kunshan", "city_viewer"])
def test_only_a_city_steward_changes_the_breakdown(request, who, population, kunshan):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        enter(user, value=10 * YI, district=kunshan)
    assert not TargetShare.objects.exists()


def test_the_admin_is_the_stewards_door_with_a_reason(
    client, city_steward, make_user, population, kunshan
):
    from cluster.access import Role

    url = reverse("admin:targets_targetshare_add")
    form = {
        "target": output_target().pk,
        "scope_kind": "district",
        "district": kunshan.pk,
        "value": "1000000000",
        "note": "",
        "reason": "",
    }
    for user in (
        make_user("officer_staff", Role.DISTRICT_OFFICER, kunshan.code, staff=True),
        make_user("viewer_staff", Role.ADMINISTRATOR, staff=True),
    ):
        client.force_login(user)
        assert client.post(url, {**form, "reason": "试图修改"}).status_code == 403
    client.force_login(city_steward)
    with translation.override("zh-hans"):
        refused = client.post(url, form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 200 and not TargetShare.objects.exists()
    assert "请说明修改规则的原因" in refused.content.decode()
    assert client.post(url, {**form, "reason": "昆山市任务分解"}).status_code == 302
    share = TargetShare.objects.get()
    assert (share.value, share.history.get().history_user) == (10 * YI, city_steward)
    # Deleting is a rule change too: without a reason nothing is deleted.
    delete = reverse("admin:targets_targetshare_delete", args=[share.pk])
    client.post(delete, {"post": "yes", "reason": ""})
    assert TargetShare.objects.exists()
    client.post(delete, {"post": "yes", "reason": "取消分解"})
    assert not TargetShare.objects.exists()
    assert RuleVersion.objects.filter(target=output_target(), reason="取消分解").exists()


def test_bad_breakdowns_are_refused_naming_the_field(city_steward, population, sip):
    with pytest.raises(ValidationError) as negative:
        enter(city_steward, value=-1, district=sip)
    assert "value" in negative.value.message_dict
    enter(city_steward, value=40 * YI, district=sip)
    with pytest.raises(ValidationError) as twice:
        enter(city_steward, value=50 * YI, district=sip)
    assert "这个目标已有该区县的分解" in str(twice.value)
    material = Sector.objects.filter(cluster__key="nano", parent__isnull=False).first()
    with pytest.raises(ValidationError) as not_a_direction:
        enter(city_steward, value=1, sector=material)
    assert "sector" in not_a_direction.value.message_dict
    # The database holds the same rules whatever door is used.
    with pytest.raises(IntegrityError), transaction.atomic():
        TargetShare.objects.create(
            target=output_target(), scope_kind="district", sector=direction(), value=1
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        TargetShare.objects.create(
            target=output_target(), scope_kind="district", district=sip, value=-5
        )


def test_deleting_a_part_shows_the_scope_as_its_share_again(city_steward, population, sip):
    share = enter(city_steward, value=40 * YI, district=sip)
    target_share_delete(actor=city_steward, share=share, reason="取消分解")
    progress_recompute()
    target = output_target()
    row = ProgressSnapshot.objects.current().get(
        target=target, scope_key=f"district:{sip.pk}", year=2025, quarter=2
    )
    assert (row.scope_target, row.share_of_target, row.status) == (
        None,
        None,
        Status.NOT_APPLICABLE,
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "苏州工业园区 · 苏州市纳米新材料产业创新集群 · 2025年第2季度"),
        ("en", "Suzhou Industrial Park · {cluster} · {quarter}"),
    ],
)
def test_the_title_says_the_scope(client, sip_viewer, population, sip, language, words):
    response = page(
        client, sip_viewer, reverse("targets:district", args=["nano", sip.pk]), language
    )
    with translation.override(language):
        cluster = response.context["cluster"]
        words = words.format(cluster=cluster.name, quarter=Quarter(2025, 2).label())
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1)
    title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1)
    assert h1.strip() == words
    assert title.strip().startswith(words)
    assert "全市" not in h1 and "whole city" not in h1


def test_the_district_page_costs_the_same_whatever_the_number_of_breakdown_rows(
    client, city_steward, population, sip
):
    from cluster.models import District

    targets = list(Target.objects.exclude(metric__kind="qualitative"))
    # One row per target first: the cards then follow a changed rule, as they will after.
    for target in targets:
        enter(city_steward, value=5, district=sip, target=target)
    progress_recompute()
    client.force_login(city_steward)
    url = reverse("targets:district", args=["nano", sip.pk])
    measure(client, url, {"period": "2025Q2"})  # warm the per-process caches
    before = measure(client, url, {"period": "2025Q2"})
    for target in targets:
        for district in District.objects.exclude(pk=sip.pk):
            enter(city_steward, value=5, district=district, target=target)
        for sector in Sector.objects.directions().filter(cluster__key="nano"):
            enter(city_steward, value=5, sector=sector, target=target)
    progress_recompute()
    assert measure(client, url, {"period": "2025Q2"}) == before
