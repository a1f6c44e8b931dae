"""The current customer of a user who acts for several (the customer switcher), kept in the session.

Only a choice of what to show first: every read still goes through accounts.permissions, so a stale or
forged session value shows nothing it should not (it is ignored unless the customer is in the user's scope).
"""

from django.http import HttpRequest

from accounts.models import Customer
from accounts.permissions import Scope

SESSION_KEY = "ibok_current_customer"


def current_set(request: HttpRequest, *, customer: Customer) -> None:
    """Remember the customer the user switched to (its number and name too, so the header needs no query)."""
    request.session[SESSION_KEY] = {"id": customer.pk, "number": customer.number, "name": customer.name}


def current_label(request: HttpRequest) -> dict | None:
    """What the header shows: {"id", "number", "name"} of the chosen customer, or None. Never queries."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    return value if isinstance(value, dict) else None


def current_id(request: HttpRequest, *, scope: Scope) -> int | None:
    """The chosen customer's id if it is still in the user's scope; else None (the page picks its default)."""
    label = current_label(request)
    if label is None:
        return None
    customer_id = label.get("id")
    return customer_id if customer_id in scope.customer_ids else None
