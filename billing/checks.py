"""System checks: production must not pay through a sandbox (Przelewy24's or the bundled one)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

# Przelewy24's test system: it takes registrations like the real one, but no money ever moves.
P24_SANDBOX_HOSTS = {"sandbox.przelewy24.pl"}


@register(Tags.compatibility, deploy=True)
def payment_broker_is_real(app_configs=None, **kwargs) -> list:
    config = getattr(settings, "GETPAID_BACKEND_SETTINGS", {}).get("przelewy24", {})
    errors = []
    if getattr(settings, "IBOK_PAYMENT_SANDBOX", False) or config.get("transport") == "sandbox":
        errors.append(
            Error(
                "Online payments go to the bundled sandbox broker, which confirms payments no one made.",
                hint="Unset IBOK_PAYMENT_SANDBOX in production.",
                id="billing.E001",
            )
        )
    elif (urlsplit(config.get("base_url") or "").hostname or "") in P24_SANDBOX_HOSTS:
        errors.append(
            Error(
                f"Online payments go to Przelewy24's sandbox ({config['base_url']}): no money would reach the utility.",
                hint="Set IBOK_P24_URL to https://secure.przelewy24.pl (the default).",
                id="billing.E002",
            )
        )
    return errors
