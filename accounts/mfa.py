"""Second-factor secrets encrypted at rest: the TOTP key and the recovery codes' seed (allauth's MFA adapter hooks).

Fernet (AES-128-CBC with HMAC-SHA256) with keys from IBOK_MFA_ENCRYPTION_KEYS: the first key encrypts, every key
decrypts, so a key is rotated by putting a new one first, running `manage.py mfa_secrets --rotate`, then dropping
the old one. Without the setting (development, tests) the key is derived from SECRET_KEY; production refuses to
start without it (check accounts.E002).
"""

import base64
import hashlib
from functools import cache

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

PREFIX = "fernet:"


class SecretUnreadable(Exception):
    """A stored secret is not encrypted, or none of the configured keys opens it."""


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(f"ibok.mfa:{secret_key}".encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.IBOK_MFA_ENCRYPTION_KEYS), settings.SECRET_KEY)


def is_encrypted(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_text(text: str) -> str:
    return PREFIX + fernet().encrypt(text.encode()).decode()


def decrypt_text(value: str) -> str:
    """The plain secret; raises SecretUnreadable for a value stored in the clear or under an unknown key."""
    if not is_encrypted(value):
        raise SecretUnreadable("second-factor secret stored without encryption: run `manage.py mfa_secrets`")
    try:
        return fernet().decrypt(value.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("no key in IBOK_MFA_ENCRYPTION_KEYS opens this second-factor secret") from exc


class MfaAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)


# The fields of Authenticator.data that hold secrets, per type (allauth's TOTP and recovery codes).
SECRET_FIELDS = {"totp": ["secret"], "recovery_codes": ["seed"]}
LIST_FIELDS = {"recovery_codes": ["migrated_codes"]}


def _converted(data: dict, kind: str, convert) -> dict:
    data = dict(data)
    for name in SECRET_FIELDS.get(kind, []):
        if isinstance(data.get(name), str):
            data[name] = convert(data[name])
    for name in LIST_FIELDS.get(kind, []):
        if isinstance(data.get(name), list):
            data[name] = [convert(value) for value in data[name]]
    return data


def secrets_encrypt(authenticator_model, *, rotate: bool = False) -> int:
    """Encrypt every secret still stored in the clear; with rotate, re-encrypt the others under the first key.

    Returns how many authenticators changed. Used by the data migration and by `manage.py mfa_secrets`.
    """

    def convert(value: str) -> str:
        if not is_encrypted(value):
            return encrypt_text(value)
        if rotate:
            return PREFIX + fernet().rotate(value.removeprefix(PREFIX).encode()).decode()
        return value

    changed = 0
    with transaction.atomic():
        for authenticator in authenticator_model.objects.select_for_update().filter(type__in=list(SECRET_FIELDS)):
            data = _converted(authenticator.data, authenticator.type, convert)
            if data != authenticator.data:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                changed += 1
    return changed
