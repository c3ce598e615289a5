"""Official releases: a city steward marks the data vintage a brief was issued from; the
pickers lead with it, the brief of a released quarter shows it by default, and a later
approval does not move its figures."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from cluster import clock
from cluster.models import Cluster
from cluster.quarters import Quarter
from targets.models import Release
from targets.services.briefs import release_make
from targets.services.progress import progress_recompute

from .conftest import YI
from .test_pickers import options

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
RELEASED_AT = dt.datetime(2025, 7, 20, 10, tzinfo=SHANGHAI)


@pytest.fixture
def released(population, city_steward):
    """2025Q2 released on 2025-07-20 as the figures approved by 2025-07-10 (32 亿元 YTD)."""
    return release_make(
        actor=city_steward,
        cluster=Cluster.objects.get(key="nano"),
        quarter=Quarter(2025, 2),
        vintage=None,
        title="2025年第二季度季报",
        today=clock.today(),
        now=RELEASED_AT,
    )


def release_through(door: str, client, user) -> int:
    """The status the door answers when `user` releases nano 2025Q2."""
    client.force_login(user)
    if door == "page":
        return client.post(
            reverse("targets:brief-release", args=["nano", "2025Q2"]),
            {"title": "2025年第二季度季报"},
        ).status_code
    return client.post(
        reverse("admin:targets_release_add"),
        {
            "cluster": Cluster.objects.get(key="nano").pk,
            "year": 2025,
            "quarter": 2,
            "vintage_0": "",
            "vintage_1": "",
            "title": "2025年第二季度季报",
            "note": "",
        },
    ).status_code


@pytest.mark.parametrize("door", ["page", "admin"])
@pytest.mark.parametrize(
    ("role", "released"),
    [("officer", False), ("administrator", False), ("steward", True)],
)
def test_only_a_city_steward_releases_through_every_door(
    client, make_user, population, door, role, released
):
    from cluster.access import Role

    user = {
        "officer": lambda: make_user("o", Role.DISTRICT_OFFICER, "320571", staff=True),
        "administrator": lambda: make_user("v", Role.ADMINISTRATOR, staff=True),
        "steward": lambda: make_user("s", Role.CITY_STEWARD, staff=True),
    }[role]()
    status = release_through(door, client, user)
    releases = list(Release.objects.values_list("year", "quarter", "title", "made_by"))
    if released:
        assert status == 302
        assert releases == [(2025, 2, "2025年第二季度季报", user.pk)]
        # What was kept is the newest approved vintage, the one the page showed.
        assert Release.objects.get().vintage == dt.datetime(2025, 7, 10, tzinfo=SHANGHAI)
    else:
        assert status == 403
        assert releases == []


def test_a_vintage_is_released_once(client, city_steward, released):
    client.force_login(city_steward)
    response = client.post(
        reverse("targets:brief-release", args=["nano", "2025Q2"]),
        {"vintage": released.vintage.isoformat()},
        follow=True,
    )
    assert "此数据版本已正式发布。" in response.content.decode()
    assert Release.objects.count() == 1


def test_the_pickers_lead_with_the_release(client, city_viewer, released, approve, population):
    approve(population["a"], 2025, 2, 20 * YI, at=dt.datetime(2025, 8, 1, 9, tzinfo=SHANGHAI))
    progress_recompute()
    client.force_login(city_viewer)
    html = client.get(
        reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"}
    ).content.decode()
    offered = [(text.strip(), selected) for _v, selected, text in options(html, "vintage")]
    assert offered == [
        ("正式发布：2025年第二季度季报（2025年7月20日）", False),
        ("2025年8月1日：审核通过 1 份报表（最新）", True),
        ("2025年7月10日：审核通过 42 份报表", False),
    ]
    brief = client.get(reverse("targets:brief", args=["nano", "2025Q2"])).content.decode()
    assert next((t.strip(), s) for _v, s, t in options(brief, "brief-vintage")) == (
        "正式发布：2025年第二季度季报（2025年7月20日）",
        True,
    )


def total_output(html: str) -> str:
    row = re.search(r'<tr data-target="total_output">.*?</tr>', html, re.S).group(0)
    return re.findall(r'<td class="num">(.*?)</td>', row)[0]


def test_a_released_brief_keeps_its_figures_after_a_later_approval(
    client, city_viewer, released, approve, population
):
    client.force_login(city_viewer)
    page = reverse("targets:brief", args=["nano", "2025Q2"])
    before = client.get(page).content.decode()
    approve(population["a"], 2025, 2, 20 * YI, at=dt.datetime(2025, 8, 1, 9, tzinfo=SHANGHAI))
    progress_recompute()
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, tzinfo=SHANGHAI), tick=False):
        after = client.get(page).content.decode()
        newest = client.get(page, {"vintage": "2025-08-01T09:00:00+08:00"}).content.decode()
    assert total_output(before) == total_output(after) == "32.00 亿元"
    assert "正式发布版本" in after and "2025年第二季度季报" in after
    assert total_output(newest) == "40.00 亿元"
    assert "最新数据（未发布）" in newest and "正式发布版本" not in newest


def test_an_unreleased_quarter_says_its_figures_are_not_released(client, city_viewer, population):
    client.force_login(city_viewer)
    html = client.get(reverse("targets:brief", args=["nano", "2025Q2"])).content.decode()
    assert "最新数据（未发布）" in html
    assert "发布为正式版本" not in html  # the button is the steward's


def test_the_steward_sees_the_release_button(client, city_steward, population):
    client.force_login(city_steward)
    html = client.get(reverse("targets:brief", args=["nano", "2025Q2"])).content.decode()
    assert "发布为正式版本" in html
