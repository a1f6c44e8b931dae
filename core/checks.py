"""What production cannot run without, refused by `manage.py check --deploy`."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def portal_url_set(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Links in e-mails sent by workers and staff actions point at IBOK_PORTAL_URL: it must be the public https one."""
    url = urlsplit(settings.IBOK_PORTAL_URL or "")
    if url.scheme != "https" or not url.netloc:
        return [
            checks.Error(
                "IBOK_PORTAL_URL must be the portal's public https address (links in e-mails use it).",
                hint="e.g. IBOK_PORTAL_URL=https://ebok.example.pl",
                id="core.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def outbox_secret_set(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if len(settings.IBOK_OUTBOX_SECRET or "") < 32:
        return [
            checks.Error(
                "IBOK_OUTBOX_SECRET must be set to a secret of at least 32 characters shared with the billing system.",
                hint="Messages to the billing system are signed with it (docs/billing-sync.md, 'Signature').",
                id="core.E002",
            )
        ]
    return []
