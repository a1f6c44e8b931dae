"""The `money` template filter: PLN in the reader's language, spaces that never break."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.templatetags.ibok import format_money, money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), f"1{NBSP}234,56{NBSP}zł"),
        (Decimal("0"), f"0,00{NBSP}zł"),
        (Decimal("7.5"), f"7,50{NBSP}zł"),
        (Decimal("999.99"), f"999,99{NBSP}zł"),
        (Decimal("1234567.89"), f"1{NBSP}234{NBSP}567,89{NBSP}zł"),
        (Decimal("-45.10"), f"-45,10{NBSP}zł"),
        (Decimal("-1234.56"), f"-1{NBSP}234,56{NBSP}zł"),
        (12, f"12,00{NBSP}zł"),
        ("1000.10", f"1{NBSP}000,10{NBSP}zł"),
    ],
)
def test_polish_uses_a_comma_and_non_breaking_spaces(value, expected):
    assert format_money(value, "pl") == expected


def test_amounts_are_rounded_half_up_to_the_grosz():
    assert format_money(Decimal("2.345"), "pl") == f"2,35{NBSP}zł"
    assert format_money(Decimal("2.344"), "pl") == f"2,34{NBSP}zł"


def test_ukrainian_groups_like_polish_with_the_ukrainian_abbreviation():
    assert format_money(Decimal("1234.56"), "uk") == f"1{NBSP}234,56{NBSP}зл"


def test_english_puts_the_currency_code_first_with_comma_thousands():
    assert format_money(Decimal("1234.56"), "en") == f"PLN{NBSP}1,234.56"
    assert format_money(Decimal("-5"), "en") == f"-PLN{NBSP}5.00"


def test_a_regional_variant_falls_back_to_its_language():
    assert format_money(Decimal("1"), "en-gb") == f"PLN{NBSP}1.00"


def test_the_filter_follows_the_active_language():
    with translation.override("pl"):
        assert money(Decimal("1234.56")) == f"1{NBSP}234,56{NBSP}zł"
    with translation.override("en"):
        assert money(Decimal("1234.56")) == f"PLN{NBSP}1,234.56"


def test_the_filter_leaves_nothing_for_a_missing_amount_and_text_for_garbage():
    assert money(None) == ""
    assert money("") == ""
    assert money("abc") == "abc"


def test_the_filter_works_in_a_template():
    template = Template("{% load ibok %}{{ amount|money }}")
    with translation.override("pl"):
        assert template.render(Context({"amount": Decimal("50.00")})) == f"50,00{NBSP}zł"
