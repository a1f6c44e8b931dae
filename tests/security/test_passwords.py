"""Passwords after NIST SP 800-63B: longer, passphrases welcome, nothing guessable from context."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def problems(password: str, user=None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return [error.code for error in exc.error_list]
    return []


@pytest.fixture
def customer_login(customer_user):
    return customer_user  # username = customer number, e-mail = the customer's


def test_the_minimum_length_is_ten_by_default_and_a_setting(settings):
    assert "password_too_short" in problems("Kran2026a")
    assert problems("Kran2026ab") == []

    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    ]
    assert "password_too_short" in problems("Kran2026ab")


@pytest.mark.parametrize(
    "passphrase",
    ["zielony ogród nad wisłą", "żółta łódź płynie rzeką", "ЗЕЛЕНИЙ САД НАД РІЧКОЮ", "kwiaty rosną wiosną"],
)
def test_a_passphrase_of_sixteen_characters_needs_no_character_classes(passphrase):
    assert problems(passphrase) == []


def test_a_shorter_password_still_needs_upper_lower_and_a_digit_in_any_script():
    assert "password_character_classes" in problems("zielonyogród")
    assert problems("Żółwik2026x") == []


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Przedsiębiorstwo99", "a word of the utility's name"),
        ("MojeCieplownictwo1", "a word of the utility's name without Polish letters"),
        ("kocham warszawę bardzo", "the utility's town"),
    ],
)
def test_the_utility_and_its_town_are_refused(password, why):
    assert "password_context_words" in problems(password), why


def test_the_customer_number_and_the_email_are_refused(customer_login, customer):
    customer_login.email = "anna.kowalska@example.pl"

    assert "password_context_words" in problems(f"Haslo{customer.number}x", customer_login)
    assert "password_context_words" in problems("anna.kowalska rocks 7", customer_login)
    assert problems("Kalosze w deszczu 7", customer_login) == []


def test_another_customer_number_of_the_account_is_refused_too(customer_login):
    other = factories.CustomerFactory(number="777123")
    factories.CustomerAccessFactory(user=customer_login, customer=other)

    assert "password_context_words" in problems("Mieszkanie777123", customer_login)


@pytest.mark.parametrize("password", ["zaq12wsx", "Kochamcie1", "hasło12345", "password123"])
def test_common_passwords_polish_ones_included_are_refused(password):
    assert "password_too_common" in problems(password)


@pytest.mark.parametrize(
    ("language", "rule"),
    [
        ("pl", "nie może zawierać nazwy przedsiębiorstwa"),
        ("en", "must not contain the name of the utility"),
        ("uk", "не може містити назву підприємства"),
    ],
)
def test_the_rules_are_shown_before_typing_and_in_the_error(client, customer_user, language, rule):
    factories.sign_in_recently(client, customer_user)
    client.cookies["django_language"] = language
    with translation.override(language):
        page = client.get(reverse("account_change_password"))
        refused = client.post(
            reverse("account_change_password"),
            {"oldpassword": factories.PASSWORD, "password1": "Warszawa2026!", "password2": "Warszawa2026!"},
        )

    assert rule in page.content.decode()
    assert refused.content.decode().count(rule) >= 2  # under the field, and as the error
    assert refused.status_code == 200
    assert User.objects.get(pk=customer_user.pk).check_password(factories.PASSWORD)
