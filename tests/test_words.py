"""Words and numbers as the pages show them, in both languages: form widgets, plurals."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from cluster.models import District
from targets.models import Target

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [
        ("zh-hans", "- 请选择 -", "- Select an option -"),
        ("en", "- Select an option -", "- 请选择 -"),
    ],
)
def test_empty_choice_of_a_select_speaks_the_page_language(
    client, officer_sip, language, shown, not_shown
):
    client.force_login(officer_sip)
    page = client.get(reverse("enterprises:create"), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert shown in html
    assert not_shown not in html


@pytest.mark.parametrize(
    ("firms", "language", "shown"),
    [
        (1, "en", "Page 1 of 1 (1 firm)"),
        (2, "en", "Page 1 of 1 (2 firms)"),
        (1, "zh-hans", "第 1 页，共 1 页（1 家企业）"),
    ],
)
def test_firm_list_counts_its_firms_in_singular_and_plural(
    client, officer_sip, enterprise_factory, firms, language, shown
):
    enterprise_factory.create_batch(firms, district=District.objects.get(code="320571"))
    client.force_login(officer_sip)
    page = client.get(reverse("enterprises:list"), HTTP_ACCEPT_LANGUAGE=language)
    assert shown in page.content.decode()


def test_import_units_in_english_are_yuan_amounts_never_hundred_million(client, officer_sip):
    client.force_login(officer_sip)
    english = client.get(reverse("reports:import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "¥10,000 (万元)" in english and "¥100 m (亿元)" in english
    assert "hundred-million" not in english and "ten-thousand" not in english
    chinese = client.get(reverse("reports:import"), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert ">亿元</option>" in chinese.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("zh-hans", Decimal("17.98"), "约 18 家"),
        ("zh-hans", Decimal("18"), "18 家"),
        ("en", Decimal("17.98"), "about 18 firms"),
        ("en", Decimal("1.2"), "about 1 firm"),
        ("en", Decimal("1"), "1 firm"),
        ("en", Decimal("1500"), "1,500 firms"),
    ],
)
def test_a_count_between_whole_firms_reads_as_about_a_whole_number(
    reference_data, language, value, shown
):
    # A milestone or projection of a count target is interpolated: never "17.98 firms".
    target = Target.objects.filter(unit=Target.Unit.FIRMS).first()
    with translation.override(language):
        assert target.display_value(value, places=2) == shown
