"""Production needs real reCAPTCHA keys and its own key for the second factors' secrets."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def recaptcha_keys_present(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if getattr(settings, "IBOK_RECAPTCHA_ENABLED", True) and not (
        settings.RECAPTCHA_PUBLIC_KEY and settings.RECAPTCHA_PRIVATE_KEY
    ):
        return [
            checks.Error(
                "Registration has reCAPTCHA on but RECAPTCHA_PUBLIC_KEY / RECAPTCHA_PRIVATE_KEY are empty.",
                hint="Set both keys, or IBOK_RECAPTCHA_ENABLED=0 (only for an offline demo).",
                id="accounts.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def mfa_encryption_keys_present(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from cryptography.fernet import Fernet

    keys = getattr(settings, "IBOK_MFA_ENCRYPTION_KEYS", [])
    problem = "" if keys else "IBOK_MFA_ENCRYPTION_KEYS is empty: TOTP secrets would be encrypted with SECRET_KEY."
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            problem = "IBOK_MFA_ENCRYPTION_KEYS holds a value that is not a Fernet key."
    if problem:
        return [
            checks.Error(
                problem,
                hint="Set it to one or more comma-separated Fernet keys (docs/operations.md), the newest first.",
                id="accounts.E002",
            )
        ]
    return []
