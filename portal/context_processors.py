import functools
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
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


@dataclass(frozen=True)
class NavigationItem:
    href: str
    label: str
    current: bool  # the page shown
    cases: bool  # "Lista spraw", which carries the unread-replies badge


@functools.cache
def _hrefs(urlconf: str, script_prefix: str) -> tuple[str | None, ...]:
    """The menu's addresses (None: the URL is not installed), resolved once per URLconf and script prefix."""
    hrefs = []
    for url_name, _label in NAVIGATION:
        try:
            hrefs.append(reverse(url_name, urlconf=urlconf))
        except NoReverseMatch:
            hrefs.append(None)
    return tuple(hrefs)


def navigation(request: HttpRequest) -> list[NavigationItem]:
    current = getattr(getattr(request, "resolver_match", None), "view_name", None)
    hrefs = _hrefs(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return [
        NavigationItem(href, label, url_name == current, url_name == "tickets:index")
        for (url_name, label), href in zip(NAVIGATION, hrefs, strict=True)
        if href is not None
    ]


def chosen_customer(request: HttpRequest) -> dict | None:
    """The customer the switcher narrows every page to, for the header; None when the user sees all theirs.
    Reads the scope (one query, shared with the page) only when the session holds a choice."""
    label = switcher.current_label(request)
    if label is None:
        return None
    scope = permissions.request_scope(request)
    return label if scope.chosen and scope.narrowed_to == label.get("id") else None


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    current_customer = chosen_customer(request) if signed_in else None  # before the badge: it reads the scope
    return {
        "utility_name": settings.IBOK_UTILITY_NAME,
        "utility_address": settings.IBOK_UTILITY_ADDRESS,
        "navigation": navigation(request),
        # Unread replies from the office, shown beside "Lista spraw": one query, only for signed-in users; by the ids
        # of the user's scope when the page has read it (permissions.request_scope), else by the rule's subqueries.
        "cases_unread": (
            tickets_selectors.unread_total(user=user, scope=permissions.request_scope_if_read(request))
            if signed_in
            else 0
        ),
        # The customer switcher's choice, shown in the header with the way back to all the user's properties.
        "current_customer": current_customer,
    }
