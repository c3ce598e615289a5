"""cluster.numbers: a plain number (12345.67) is read as written without normalising; every
other spelling goes through the normalisation, and both give what the normalisation gives."""

import datetime as dt
from decimal import Decimal

import pytest

from cluster.numbers import (
    NumberError,
    _normalise,
    _plain,
    parse_amount,
    parse_count,
    parse_decimal,
)

PLAIN = ["0", "7", "120", "007", "12345.67", "0.50", "1234567890123456789.12"]
WRITTEN_OTHERWISE = [" 120 ", "1,234.5", "１２３", "+5", "12.", ".5", "1e5", "5%", "abc", "٣"]


@pytest.mark.parametrize("text", PLAIN + WRITTEN_OTHERWISE)
def test_the_same_value_or_refusal_as_the_normalisation(text):
    try:
        expected = _plain(_normalise(text), text)
    except NumberError as exc:
        expected = exc.reason
    for parse in (parse_decimal, parse_count, lambda t: parse_amount(t)[0]):
        try:
            got = parse(text)
        except NumberError as exc:
            got = exc.reason
        assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_numbers_keep_their_written_places(text):
    assert str(parse_decimal(text)) == str(Decimal(text))
    assert parse_amount(text) == (Decimal(text), None)


def test_a_unit_written_in_the_cell_still_counts():
    assert parse_amount("1,234.5万元") == (Decimal("1234.5"), Decimal(10_000))
    assert parse_count("120人") == Decimal(120)


def test_a_cell_of_another_type_is_refused_as_a_number_error():
    with pytest.raises(NumberError):
        parse_decimal(dt.time(9, 30))
