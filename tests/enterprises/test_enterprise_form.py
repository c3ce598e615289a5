"""The new-firm form as an officer and a steward meet it: their districts and parks only, the
officer's only district chosen already, the materials grouped by focus direction, every
widget in the page's language; the edit form and the admin keep working."""

import re

import pytest
from django.urls import reverse

from cluster.models import Cluster, District, Park, Sector
from enterprises.models import Enterprise
from tests.conftest import KUNSHAN, SIP
from tests.enterprises.test_pages import enterprise_post

pytestmark = pytest.mark.django_db


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, name
    return match.group(1)


def _options(select: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option."""
    return [
        (value, label.strip(), bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


def _groups(select: str) -> list[str]:
    return re.findall(r'<optgroup label="([^"]*)">', select)


@pytest.fixture
def kunshan_park(db):
    return Park.objects.create(district=District.objects.get(code=KUNSHAN), name_zh="昆山某园")


def test_an_officers_only_district_is_chosen_and_parks_are_the_districts(
    client, officer_sip, kunshan_park
):
    client.force_login(officer_sip)
    html = client.get(reverse("enterprises:create"), HTTP_ACCEPT_LANGUAGE="zh-hans").text
    sip = District.objects.get(code=SIP)
    assert _options(_select(html, "district")) == [(str(sip.pk), "苏州工业园区", True)]
    parks = [label for _v, label, _s in _options(_select(html, "park"))]
    assert parks == ["- 请选择 -", "苏州纳米城", "苏州纳米技术国家大学科技园"]
    assert "昆山某园" not in html


def test_a_steward_chooses_among_all_districts_and_parks_come_grouped_by_district(
    client, city_steward, kunshan_park
):
    client.force_login(city_steward)
    html = client.get(reverse("enterprises:create"), HTTP_ACCEPT_LANGUAGE="zh-hans").text
    districts = _options(_select(html, "district"))
    assert districts[0] == ("", "- 请选择 -", True)
    assert len(districts) == 1 + District.objects.count()
    assert not any(selected for _v, _l, selected in districts[1:])
    parks = _select(html, "park")
    assert _groups(parks) == ["昆山市", "苏州工业园区"]
    assert re.search(r'<optgroup label="昆山市">\s*<option value="\d+">昆山某园</option>', parks)


@pytest.mark.parametrize(
    ("language", "empty", "directions"),
    [
        ("zh-hans", "- 请选择 -", ["纳米电子信息材料", "纳米生物医用材料", "纳米能源环境材料"]),
        ("en", "- Select an option -", ["Nano electronic information materials"]),
    ],
)
def test_the_48_materials_come_grouped_by_direction_in_the_pages_language(
    client, officer_sip, language, empty, directions
):
    client.force_login(officer_sip)
    html = client.get(reverse("enterprises:create"), HTTP_ACCEPT_LANGUAGE=language).text
    sector = _select(html, "memberships-0-sector")
    options = _options(sector)
    assert options[0] == ("", empty, True)
    assert len(options) == 1 + 48 == 1 + Sector.objects.materials().count()
    groups = _groups(sector)
    assert len(groups) == 4
    for direction in directions:
        assert direction in groups
    assert "---------" not in html
    assert "Select an option" not in html or language == "en"
    cluster = _options(_select(html, "memberships-0-cluster"))
    nano = Cluster.objects.get(key="nano")
    assert [(value, selected) for value, _label, selected in cluster] == [
        ("", False),
        (str(nano.pk), True),
    ]


def test_the_form_as_it_comes_registers_the_firm_in_the_officers_district(client, officer_sip):
    client.force_login(officer_sip)
    page = client.get(reverse("enterprises:create"))
    form = page.context["form"]
    data = enterprise_post(district=form["district"].value())
    response = client.post(reverse("enterprises:create"), data)
    assert response.status_code == 302
    firm = Enterprise.objects.get(name_zh="新注册公司")
    assert firm.district.code == SIP
    assert firm.memberships.get().sector.code == "2.01"


def test_the_edit_form_shows_the_firms_own_district_and_memberships(
    client, city_steward, enterprise_factory
):
    firm = enterprise_factory(district=District.objects.get(code=KUNSHAN))
    client.force_login(city_steward)
    html = client.get(reverse("enterprises:edit", args=[firm.pk])).text
    chosen = [label for _v, label, selected in _options(_select(html, "district")) if selected]
    assert chosen == ["昆山市"]
    stored = _options(_select(html, "memberships-0-sector"))
    assert [label for _v, label, selected in stored if selected] == ["1.04 先进封装材料"]


def test_the_admins_membership_rows_offer_the_materials_grouped(client, steward):
    client.force_login(steward)
    html = client.get(reverse("admin:enterprises_enterprise_add")).text
    sector = _select(html, "memberships-__prefix__-sector")
    assert len(_groups(sector)) == 4
    assert _options(sector)[0][1] == "- 请选择 -"
