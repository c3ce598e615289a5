"""Building blocks for CHECK constraints on fixed-alphabet codes.

They use only SUBSTR, LENGTH and the position of a character in a string (INSTR on SQLite,
STRPOS on PostgreSQL), so the same constraint holds on both databases and keeps holding
when a row is written with plain SQL.
"""

from django.db.models import Q, Value
from django.db.models.functions import Length, StrIndex, Substr
from django.db.models.lookups import Exact, GreaterThan


def char_value(field: str, position: int, alphabet: str):
    """Index (0-based) in `alphabet` of the character at 1-based `position`; -1 if absent."""
    return StrIndex(Value(alphabet), Substr(field, position, 1)) - 1


def fixed_alphabet(field: str, length: int, alphabet: str) -> Q:
    """The value is exactly `length` characters long, each one from `alphabet` (case counts)."""
    condition = Q(Exact(Length(field), length))
    for position in range(1, length + 1):
        condition &= Q(GreaterThan(char_value(field, position, alphabet), -1))
    return condition
