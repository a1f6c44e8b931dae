"""The customer a property manager chose to see (the customer switcher), kept in the session.

accounts.permissions.request_scope narrows the request's scope to it, so every page shows that customer only,
until the manager goes back to all their properties. A stale or forged session value shows nothing it should
not: it is ignored unless the customer is in the user's scope.
"""

from django.http import HttpRequest

from accounts.models import Customer

SESSION_KEY = "ibok_current_customer"


def current_set(request: HttpRequest, *, customer: Customer) -> None:
    """Remember the customer the user switched to (its number and name too, so the header needs no query)."""
    request.session[SESSION_KEY] = {"id": customer.pk, "number": customer.number, "name": customer.name}


def current_clear(request: HttpRequest) -> None:
    """Back to all the user's customers."""
    request.session.pop(SESSION_KEY, None)


def current_label(request: HttpRequest) -> dict | None:
    """{"id", "number", "name"} of the chosen customer, or None. Never queries."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    return value if isinstance(value, dict) else None


def current_id(request: HttpRequest) -> int | None:
    """The chosen customer's id, or None; the scope checks that it is still the user's."""
    label = current_label(request)
    customer_id = label.get("id") if label is not None else None
    return customer_id if isinstance(customer_id, int) else None
