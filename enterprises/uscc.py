"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015).

18 characters from 0-9 and the capitals without I, O, S, V, Z. Position 18 is a check
character: with weights 3^(i-1) mod 31 for positions 1-17, check = 31 - (Σ value×weight
mod 31), where 31 maps to 0.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.lookups import Exact
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

from cluster.dbchecks import char_value, fixed_alphabet

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUES = {char: index for index, char in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character that completes the first 17 characters of a code."""
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(value) -> str:
    """A code as typed: full-width characters, inner spaces and lower case are normalised;
    the check character is still checked (uscc_problem)."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return re.sub(r"\s+", "", text).upper()


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid USCC, or None if it is."""
    if len(code) != LENGTH:
        return _("A USCC has 18 characters; this one has %(n)d.") % {"n": len(code)}
    if code != code.upper():
        return _("A USCC is written in capital letters.")
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        return _(
            "A USCC uses only digits and the capitals A-Y without I, O, S, V, Z; found %(chars)s."
        ) % {"chars": " ".join(bad)}
    expected = check_character(code[:17])
    if code[17] != expected:
        return _(
            "The check character (the last one) should be %(expected)s, not %(found)s: "
            "a character of the code is probably mistyped."
        ) % {"expected": expected, "found": code[17]}
    return None


@deconstructible
class USCCValidator:
    code = "invalid_uscc"

    def __call__(self, value: str) -> None:
        problem = uscc_problem(value)
        if problem:
            raise ValidationError(problem, code=self.code, params={"value": value})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, USCCValidator)


def uscc_db_condition(field: str = "uscc") -> Q:
    """The same rule as a database condition, for a CHECK constraint."""
    weighted = sum(
        (
            char_value(field, position, ALPHABET) * weight
            for position, weight in enumerate(WEIGHTS, start=1)
        ),
    )
    check = (31 - weighted % 31) % 31
    return fixed_alphabet(field, LENGTH, ALPHABET) & Q(
        Exact(check, char_value(field, LENGTH, ALPHABET))
    )
