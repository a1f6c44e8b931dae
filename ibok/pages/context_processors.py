from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

NAVIGATION = [
    ("pages:dashboard", _("Dashboard")),
    ("meters:contract", _("Contract and delivery points")),
    ("billing:index", _("Settlements and invoices")),
    ("meters:index", _("Meters and readings")),
    ("tickets:index", _("Cases")),
    ("pages:documents", _("Documents")),
    ("einvoice:index", _("e-Invoice")),
    ("accounts:settings", _("Settings")),
]


def portal(request: HttpRequest) -> dict:
    return {
        "utility_name": settings.IBOK_UTILITY_NAME,
        "utility_address": settings.IBOK_UTILITY_ADDRESS,
        "navigation": NAVIGATION,
    }
