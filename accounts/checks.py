"""Production needs real reCAPTCHA keys: refuse to start with none when the CAPTCHA is on."""

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
