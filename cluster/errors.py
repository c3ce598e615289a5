"""Errors the services raise that more than one interface answers the same way."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

# The largest id a column holds (PostgreSQL's bigint, SQLite's integer): SQLite cannot even
# compare a larger integer, and int() of thousands of digits is refused by Python.
MAX_ID = 2**63 - 1
# Lazy: the refusal is worded in the language of the answer, even when the id was read inside
# another language's override (the brief's downloads are made in the language asked for).
NOT_AN_ID = gettext_lazy("this is not an id.")


class StateConflict(ValidationError):
    """The object moved on since the user saw it (another steward approved the report a
    moment earlier). A ValidationError, so that forms show it; the API answers 409."""


class NotAllowed(ValidationError):
    """The step is refused for who the user is, not for what they sent (four-eyes review: the
    person who entered the figures does not approve them). A ValidationError, so that pages
    show the reason; the API answers 403 with it."""


class InvalidParameter(ValidationError):
    """A value in the address (a query parameter or a path argument) that cannot be used.
    A page answers 400 naming the parameter and the reason (cluster.middleware); the API, as
    for any ValidationError, 400 with the reason under `errors[<name>]`."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__({name: [reason]})
        self.name = name
        self.reason = reason


def parse_id(text: str, name: str) -> int:
    """An id as a form or a list filter sends it. Only ASCII digits are an id ("²" and "٣" are
    digits to str.isdigit() that int() or the database refuse), from 1 up to MAX_ID; anything
    else is an InvalidParameter naming `name`."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        raise InvalidParameter(name, NOT_AN_ID)
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise InvalidParameter(name, NOT_AN_ID)
    return value


def parse_ids(values: list[str], name: str) -> list[int]:
    """The ids of a multiple choice (checked rows), each through parse_id, sorted, once."""
    return sorted({parse_id(value, name) for value in values})
