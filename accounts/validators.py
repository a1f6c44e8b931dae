"""The portal's password rules (NIST SP 800-63B): settings.AUTH_PASSWORD_VALIDATORS lists them in order.

Each says its rule in get_help_text(), shown under every new-password field before typing, and again in its error.
"""

import re
import unicodedata
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

COMMON_PASSWORDS_PL = Path(__file__).resolve().parent / "data" / "common_passwords_pl.txt"
MIN_WORD = 4  # shorter words of the utility's name ("i", "sp.", "z") are not refused


def fold(text: str) -> str:
    """Lower case without diacritics and without anything but letters and digits: "Wodociągów" → "wodociagow"."""
    text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return re.sub(r"[\W_]+", "", "".join(ch for ch in text if not unicodedata.combining(ch)).lower())


def is_passphrase(password: str) -> bool:
    return len(password) >= settings.IBOK_PASSPHRASE_LENGTH


class CharacterClassesValidator:
    """The utilities' rule for shorter passwords: an upper-case letter, a lower-case letter and a digit, in any
    script ("Ż" is upper case). A passphrase of IBOK_PASSPHRASE_LENGTH characters or more needs none of them."""

    def validate(self, password: str, user=None) -> None:
        if is_passphrase(password):
            return
        if not (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            raise ValidationError(
                _(
                    "A password shorter than %(length)d characters must contain at least one upper-case letter, one "
                    "lower-case letter and one digit. A longer passphrase needs none of them."
                )
                % {"length": settings.IBOK_PASSPHRASE_LENGTH},
                code="password_character_classes",
            )

    def get_help_text(self) -> str:
        return _(
            "A password shorter than %(length)d characters must contain an upper-case letter, a lower-case letter and "
            "a digit; a passphrase of %(length)d characters or more (Polish letters and spaces welcome) needs none."
        ) % {"length": settings.IBOK_PASSPHRASE_LENGTH}


def stem(word: str) -> str:
    """A Polish word without its ending, so that its other forms match too: "wodociągów" → "wodocia" (wodociągi),
    "warszawa" → "warsz" (Warszawę), "ciepłownictwa" → "cieplownic" (ciepłownictwo)."""
    return word[: max(MIN_WORD, len(word) - 3)]


def _utility_words() -> set[str]:
    words = re.split(r"[\s,.\-/]+", f"{settings.IBOK_UTILITY_NAME} {settings.IBOK_UTILITY_TOWN}")
    return {stem(fold(word)) for word in words if len(fold(word)) >= MIN_WORD}


def _user_words(user) -> set[str]:
    if user is None:
        return set()
    words = {user.get_username() or ""}
    email = getattr(user, "email", "") or ""
    if email:
        words.update({email, email.split("@", 1)[0]})
    if getattr(user, "pk", None):
        from accounts.models import CustomerAccess

        words.update(CustomerAccess.objects.filter(user_id=user.pk).values_list("customer__number", flat=True))
    return {fold(word) for word in words if len(fold(word)) >= MIN_WORD}


class ContextWordsValidator:
    """Nothing an attacker would try first: the utility's name or town, the customer number, the e-mail address."""

    def validate(self, password: str, user=None) -> None:
        folded = fold(password)
        if any(word in folded for word in _utility_words() | _user_words(user)):
            raise ValidationError(
                _(
                    "The password must not contain the name of the utility, its town, your customer number or your "
                    "e-mail address."
                ),
                code="password_context_words",
            )

    def get_help_text(self) -> str:
        return _(
            "Your password must not contain the name of the utility, its town, your customer number or your e-mail "
            "address."
        )


@cache
def _polish_common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_PL.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's list of 20,000 common passwords and a list of common Polish ones."""

    def validate(self, password: str, user=None) -> None:
        super().validate(password, user)
        candidate = password.lower().strip()
        if candidate in _polish_common_passwords() or fold(candidate) in _polish_common_passwords():
            raise ValidationError(self.get_error_message(), code="password_too_common")
