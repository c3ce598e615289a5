"""The summary strip of the dashboard and the brief: a tile per target with its value, its
share of the target and its status in words, read from the cards the page already built."""

import copy
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def tiles(html: str) -> dict[str, str]:
    """Each tile's text, by target key, white space collapsed."""
    found = re.findall(r'data-tile="([^"]+)">(.*?)</a>', html, flags=re.S)
    return {key: " ".join(re.sub(r"<[^>]+>", " ", body).split()) for key, body in found}


def without_the_strip():
    """The same templates, with the strip's template replaced by nothing."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["APP_DIRS"] = False
    templates[0]["OPTIONS"]["loaders"] = [
        ("django.template.loaders.locmem.Loader", {"dashboard/_summary.html": ""}),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    return override_settings(TEMPLATES=templates)


def pages(sip):
    return [
        (reverse("targets:dashboard", args=["nano"]), "#card-total_output"),
        (reverse("targets:district", args=["nano", sip.pk]), "#card-total_output"),
        (reverse("targets:brief", args=["nano", "2025Q2"]), "#targets-title"),
    ]


def test_each_target_has_a_tile_with_value_share_and_status_in_words(
    client, city_steward, population, sip
):
    client.force_login(city_steward)
    html = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"})
    shown = tiles(html.content.decode())
    assert shown["total_output"] == "全市纳米新材料产业产值 32.00 亿元 完成目标的 3.2% ✕ 偏离目标"
    assert shown["listed_firms"] == "上市企业 1 家 完成目标的 10.0% ✕ 偏离目标"
    assert len(shown) == len(html.context["board"].cards)


@pytest.mark.parametrize("page", [0, 1, 2])
def test_the_strip_links_to_the_cards_and_costs_no_query(
    client, city_steward, population, sip, page
):
    url, anchor = pages(sip)[page]
    client.force_login(city_steward)
    client.get(url)  # warm the per-process caches (content types, sessions)
    with CaptureQueriesContext(connection) as with_strip:
        html = client.get(url).content.decode()
    assert f'href="{anchor}" data-tile="total_output"' in html
    with without_the_strip(), CaptureQueriesContext(connection) as without:
        bare = client.get(url).content.decode()
    assert "data-tile" not in bare
    assert len(with_strip) == len(without)
