import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from enterprises.models import Enterprise
from enterprises.uscc import ALPHABET, USCCValidator, check_character, uscc_problem

EXAMPLE = "91350100M000100Y43"


def test_the_standard_example_is_valid():
    assert check_character(EXAMPLE[:17]) == "3"
    assert uscc_problem(EXAMPLE) is None
    USCCValidator()(EXAMPLE)


def test_altering_any_single_character_makes_the_code_invalid():
    altered = [
        EXAMPLE[:position] + char + EXAMPLE[position + 1 :]
        for position in range(18)
        for char in ALPHABET
        if char != EXAMPLE[position]
    ]
    assert len(altered) == 18 * 30
    assert [code for code in altered if uscc_problem(code) is None] == []


@pytest.mark.parametrize(
    ("code", "fragment_zh", "fragment_en"),
    [
        ("91350100M000100Y44", "校验码", "check character"),
        ("91350100m000100y43", "大写", "capital letters"),
        ("91350100I000100Y43", "I", "I"),
        ("91350100O000100Y43", "O", "O"),
        ("91350100S000100Y43", "S", "S"),
        ("91350100V000100Y43", "V", "V"),
        ("91350100Z000100Y43", "Z", "Z"),
        ("91350100M000100Y4", "18", "18"),
    ],
)
def test_each_fault_gets_its_own_message_in_both_languages(code, fragment_zh, fragment_en):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as zh:
            USCCValidator()(code)
        assert fragment_zh in zh.value.messages[0]
    with translation.override("en"):
        with pytest.raises(ValidationError) as en:
            USCCValidator()(code)
        assert fragment_en in en.value.messages[0]
    assert zh.value.messages[0] != en.value.messages[0]


def test_wrong_check_character_message_gives_the_expected_one():
    with translation.override("en"):
        assert "should be 3, not 4" in uscc_problem("91350100M000100Y44")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100m000100y43",  # lowercase
        "91350100I000100Y4X",  # forbidden letter
        "91350100M000100Y4",  # too short
    ],
)
def test_database_refuses_invalid_codes_written_with_plain_sql(enterprise_factory, code):
    enterprise = enterprise_factory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Enterprise._meta.db_table} SET uscc = %s WHERE id = %s", [code, enterprise.pk]
        )
    enterprise.refresh_from_db()
    assert uscc_problem(enterprise.uscc) is None


@pytest.mark.django_db
def test_database_accepts_the_standard_example(enterprise_factory):
    enterprise = enterprise_factory()
    Enterprise.objects.filter(pk=enterprise.pk).update(uscc=EXAMPLE)
    enterprise.refresh_from_db()
    assert enterprise.uscc == EXAMPLE
