from decimal import Decimal

from django.utils import translation

from cluster.formatting import percent, signed_percent, yuan_as_wan, yuan_as_yi


def test_wan_with_three_digit_grouping_in_both_languages():
    with translation.override("zh-hans"):
        assert yuan_as_wan(Decimal("12345678.90")) == "1,234.57 万元"
        assert yuan_as_wan(Decimal("123456789012.00"), places=0) == "12,345,679 万元"
    with translation.override("en"):
        assert yuan_as_wan(Decimal("12345678.90")) == "¥12.35 m"
        assert yuan_as_wan(Decimal("4000000")) == "¥4.00 m"


def test_yi_in_chinese_and_billions_in_english():
    with translation.override("zh-hans"):
        assert yuan_as_yi(Decimal("123456789000")) == "1,234.57 亿元"
        assert yuan_as_yi(Decimal("100000000000"), places=0) == "1,000 亿元"
    with translation.override("en"):
        assert yuan_as_yi(Decimal("123456789000")) == "¥123.46 bn"


def test_english_money_never_says_hundred_million_or_ten_thousand_yuan():
    with translation.override("en"):
        shown = [yuan_as_yi(Decimal("101350000000")), yuan_as_wan(Decimal("101350000000"))]
    assert shown == ["¥101.35 bn", "¥101,350.00 m"]
    assert not any("hundred" in text or "thousand" in text for text in shown)


def test_minus_sign_stands_before_the_currency_and_the_amount():
    with translation.override("en"):
        assert yuan_as_yi(Decimal("-4270000000")) == "\u2212¥4.27 bn"
        assert yuan_as_wan(Decimal("-1500000")) == "\u2212¥1.50 m"
    with translation.override("zh-hans"):
        assert yuan_as_yi(Decimal("-427000000")) == "\u22124.27 亿元"
        assert yuan_as_wan(Decimal("-15000")) == "\u22121.50 万元"
        # A loss that rounds to nothing is shown as nothing, without a sign.
        assert yuan_as_yi(Decimal("-1")) == "0.00 亿元"


def test_missing_amount_shows_a_dash():
    assert yuan_as_wan(None) == yuan_as_yi(None) == "—"


def test_rounding_is_half_up_not_bankers():
    with translation.override("zh-hans"):
        assert yuan_as_wan(Decimal("125")) == "0.01 万元"
        assert yuan_as_wan(Decimal("250"), places=2) == "0.03 万元"


def test_percentages_round_half_up_and_say_when_unknown():
    assert percent(Decimal("0.032")) == "3.2%"
    assert percent(Decimal("0.00125"), 2) == "0.13%"
    assert percent(None) == "—"
    assert signed_percent(Decimal("6.65")) == "+6.7%"
    assert signed_percent(Decimal("-0.25")) == "-0.3%"
    assert signed_percent(0) == "+0.0%"
    assert signed_percent(None, missing="") == ""
