from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import permissions, switcher
from tickets import selectors as tickets_selectors

NAVIGATION = [
    ("pages:dashboard", _("Dashboard")),
    ("meters:contract", _("Contract and delivery points")),
    ("billing:index", _("Settlements and invoices")),
    ("meters:index", _("Meters and readings")),
    ("tickets:index", _("Cases")),
    ("notices:documents", _("Documents")),
    ("einvoice:index", _("e-Invoice")),
    ("accounts:settings", _("Settings")),
]


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "utility_name": settings.IBOK_UTILITY_NAME,
        "utility_address": settings.IBOK_UTILITY_ADDRESS,
        "navigation": NAVIGATION,
        # Unread replies from the office, shown beside "Lista spraw": one query, only for signed-in users; by the ids
        # of the user's scope when the page has read it (permissions.request_scope), else by the rule's subqueries.
        "cases_unread": (
            tickets_selectors.unread_total(user=user, scope=permissions.request_scope_if_read(request))
            if user is not None and user.is_authenticated
            else 0
        ),
        # The customer switcher's choice, from the session (no query); shown in the header.
        "current_customer": switcher.current_label(request) if user is not None and user.is_authenticated else None,
    }
