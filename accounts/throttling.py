"""Throttles on allauth's rate limiter (Redis cache), keyed on the real client address (accounts.http.client_ip).

Rates live in settings.ACCOUNT_RATE_LIMITS: "login_failed" (allauth's own) and "ibok_register"
(registration attempts and adding a customer number: per IP and per customer number).
"""

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from django.http import HttpRequest

from accounts import selectors
from accounts.models import User

REGISTER = "ibok_register"


def registration_allowed(request: HttpRequest, *, customer_number: str) -> bool:
    """Count one registration attempt for this address and this customer number; False when over the limit."""
    key = "".join(customer_number.split()).lower()
    return ratelimit.consume(request, action=REGISTER, key=key)


def user_unlock(request: HttpRequest, *, user: User) -> list[str]:
    """Clear the failed-login and registration counters of every login the user has; returns those logins."""
    adapter = get_adapter(request)
    logins = {user.get_username()}
    if user.email:
        logins.add(user.email)
    logins.update(selectors.owned_customers(user=user).values_list("number", flat=True))
    for login in sorted(logins):
        # allauth keys the failed-login counter by "<host>:<login>" (see DefaultAccountAdapter.pre_authenticate).
        for credentials in ({"username": login}, {"email": login}):
            key = adapter._get_login_attempts_cache_key(request, **credentials)
            ratelimit.clear(request, action="login_failed", key=key)
        ratelimit.clear(request, action=REGISTER, key=login.lower())
    return sorted(logins)
