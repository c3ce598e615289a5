import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from cluster.quarters import (
    Quarter,
    YearToDateError,
    quarter_range,
    quarterly_from_year_to_date,
    year_to_date_from_quarterly,
)


def test_parse_and_format_round_trip():
    quarter = Quarter.parse("2025Q3")
    assert quarter == Quarter(2025, 3)
    assert str(quarter) == "2025Q3"
    assert Quarter.parse(" 2024q1 ") == Quarter(2024, 1)


@pytest.mark.parametrize("text", ["2025Q5", "2025Q0", "2025", "Q3 2025", "25Q3", "2025-13", ""])
def test_parse_refuses_what_is_not_a_quarter(text):
    with pytest.raises(ValueError):
        Quarter.parse(text)


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_quarter_number_outside_1_to_4_is_refused(quarter):
    with translation.override("en"), pytest.raises(ValueError, match="between 1 and 4"):
        Quarter(2025, quarter)
    with translation.override("zh-hans"), pytest.raises(ValueError, match="1到4之间"):
        Quarter(2025, quarter)


def test_next_and_previous_cross_year_boundaries():
    assert Quarter(2024, 4).next() == Quarter(2025, 1)
    assert Quarter(2025, 1).previous() == Quarter(2024, 4)
    assert Quarter(2023, 1) + 11 == Quarter(2025, 4)
    assert Quarter(2025, 4) - 11 == Quarter(2023, 1)
    assert Quarter(2025, 4) - Quarter(2023, 1) == 11
    assert Quarter(2025, 3).same_quarter_last_year() == Quarter(2024, 3)


def test_quarters_order_chronologically():
    assert Quarter(2024, 4) < Quarter(2025, 1) < Quarter(2025, 2)
    assert max(Quarter(2023, 4), Quarter(2024, 1)) == Quarter(2024, 1)


def test_date_range_of_each_quarter():
    assert (Quarter(2025, 1).start, Quarter(2025, 1).end) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 3, 31),
    )
    assert (Quarter(2024, 2).start, Quarter(2024, 2).end) == (
        dt.date(2024, 4, 1),
        dt.date(2024, 6, 30),
    )
    assert Quarter(2025, 4).end == dt.date(2025, 12, 31)
    assert Quarter.from_date(dt.date(2025, 9, 30)) == Quarter(2025, 3)
    assert Quarter.from_date(dt.date(2025, 10, 1)) == Quarter(2025, 4)
    assert Quarter(2024, 1).contains(dt.date(2024, 2, 29))
    assert not Quarter(2024, 1).contains(dt.date(2024, 4, 1))


def test_range_includes_both_ends():
    quarters = list(quarter_range(Quarter(2023, 1), Quarter(2025, 4)))
    assert len(quarters) == 12
    assert quarters[0] == Quarter(2023, 1) and quarters[-1] == Quarter(2025, 4)


def test_year_to_date_covers_q1_to_the_quarter():
    assert Quarter(2025, 3).year_to_date() == [Quarter(2025, 1), Quarter(2025, 2), Quarter(2025, 3)]
    assert Quarter(2025, 1).year_to_date() == [Quarter(2025, 1)]


def test_year_to_date_values_become_quarterly_values_and_back():
    cumulative = [Decimal("100"), Decimal("250"), Decimal("420"), Decimal("700")]
    quarterly = quarterly_from_year_to_date(2025, cumulative)
    assert quarterly == [Decimal("100"), Decimal("150"), Decimal("170"), Decimal("280")]
    assert year_to_date_from_quarterly(quarterly) == cumulative


def test_year_to_date_from_a_later_quarter_uses_the_opening_total():
    assert quarterly_from_year_to_date(
        2025, [Decimal("420")], first_quarter=3, opening=Decimal("250")
    ) == [Decimal("170")]


def test_year_to_date_going_down_names_the_quarter():
    with pytest.raises(YearToDateError) as caught:
        quarterly_from_year_to_date(2025, [Decimal("100"), Decimal("90")])
    assert caught.value.quarter == Quarter(2025, 2)
    assert "2025Q2" in str(caught.value)


def test_labels_follow_the_language():
    with translation.override("zh-hans"):
        assert Quarter(2025, 3).label() == "2025年第3季度"
        assert Quarter(2025, 3).ytd_label() == "2025年1-3季度累计"
    with translation.override("en"):
        assert Quarter(2025, 3).label() == "2025 Q3"
        assert Quarter(2025, 3).ytd_label() == "2025 Q1-Q3 cumulative"


@pytest.mark.parametrize(
    ("quarter", "steps", "expected"),
    [
        (Quarter(2025, 4), 1, Quarter(2026, 1)),
        (Quarter(2025, 1), -4, Quarter(2024, 1)),
        (Quarter(2100, 3), 1, Quarter(2100, 4)),
        (Quarter(2100, 4), 1, None),
        (Quarter(2100, 1), 4, None),
        (Quarter(1990, 1), -1, None),
        (Quarter(1990, 4), -4, None),
    ],
)
def test_a_step_past_the_years_a_quarter_holds_is_none(quarter, steps, expected):
    assert quarter.step(steps) == expected


def test_arithmetic_itself_still_refuses_to_leave_the_years():
    with pytest.raises(ValueError):
        Quarter(2100, 4).next()


@pytest.mark.parametrize(
    ("quarter", "end"),
    [
        (Quarter(2100, 4), dt.date(2100, 12, 31)),
        (Quarter(2024, 1), dt.date(2024, 3, 31)),
        (Quarter(2024, 2), dt.date(2024, 6, 30)),
        (Quarter(1990, 1), dt.date(1990, 3, 31)),
    ],
)
def test_the_last_day_of_every_quarter_there_is(quarter, end):
    assert quarter.end == end
    assert quarter.contains(end) and not quarter.contains(end + dt.timedelta(days=1))
