"""Who the API's caller is: a personal access token (api.services), the mobile app's session token
(allauth headless, accounts/headless.py) or the portal's session; limits per token.

Whichever it is, a customer who has not accepted the terms in force gets 403 (the web sends them to the terms
page; an app shows the terms itself, docs/api.md)."""

from allauth.core.internal.sessionkit import get_session_user
from allauth.headless import app_settings as headless_settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.throttling import AuthRateThrottle

from accounts import selectors as account_selectors
from accounts.headless import session_touch
from api import problems, services


def terms_gate(user) -> None:
    """403 while the user (a customer, not staff) has not accepted the terms in force."""
    if user.is_staff:
        return
    terms = account_selectors.current_terms(now=timezone.now())
    if terms is not None and not account_selectors.terms_accepted(user=user, terms=terms):
        raise problems.Forbidden(_("Accept the current terms of service on the portal before using the API."))


class TokenAuth(HttpBearer):
    """A personal access token (api.services): the request acts as the token's user."""

    openapi_description = "A personal access token made on the settings page: Authorization: Bearer ibok_pat_…"

    def authenticate(self, request: HttpRequest, token: str):
        try:
            row = services.token_check(token=token, now=timezone.now())
        except services.TokenRejected:
            return None
        terms_gate(row.user)
        request.user = row.user
        request.api_token = row
        return row


class SessionTokenAuth(APIKeyHeader):
    """The session token the mobile app got from /_allauth/app/v1/auth/login (X-Session-Token).

    The session ends as a web session does: idle for SESSION_COOKIE_AGE, or IBOK_SESSION_MAX_AGE_SECONDS after
    the sign-in (accounts.headless.SessionTokenStrategy), and at sign-out (DELETE /_allauth/app/v1/auth/session).
    A sign-in still waiting for its second factor has no user yet, so its token is refused.
    """

    param_name = "X-Session-Token"
    openapi_description = "The mobile app's session token from /_allauth/app/v1/auth/login (docs/api.md)."

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key:
            return None
        session = headless_settings.TOKEN_STRATEGY.lookup_session(key)
        if session is None:
            return None
        user = get_session_user(session)
        if user is None or not user.is_active:
            return None
        terms_gate(user)
        session_touch(session, now_ts=timezone.now().timestamp())
        request.user = user
        request.api_session = session
        return user


class PortalSessionAuth(SessionAuth):
    """The portal's own session cookie (the browsable docs, the portal's scripts); CSRF checked on writes."""

    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if user is not None:
            terms_gate(user)
        return user


class PerTokenThrottle(AuthRateThrottle):
    """Limits each token (or signed-in user) on its own; the answer says when to come back (Retry-After)."""

    def get_cache_key(self, request: HttpRequest) -> str:
        auth = getattr(request, "auth", None)
        ident = f"token-{auth.pk}" if hasattr(auth, "token_hash") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
