"""Sign-in for the utility's mobile app through django-allauth's headless mode, the "app" client only.

Mounted at /_allauth/app/v1/ (ibok/urls.py). Only what the portal offers to the app is routed: the sign-in by
customer number (`username`) or e-mail and password through the same adapter and backends as the web login (and
so the same `ACCOUNT_RATE_LIMITS`), the second factor (TOTP or a recovery code), the password reset, the session
and its sign-out (DELETE). Not routed: sign-up (accounts are made on the portal's registration page), sign-in by
phone or by passkey, the account management endpoints (e-mail, phone, password, authenticators: the portal's
pages ask for re-authentication), and JWT refresh (the app gets allauth's session token, `X-Session-Token`).

A session token is a Django session: `SessionTokenStrategy` looks it up under the same idle timeout
(SESSION_COOKIE_AGE) and absolute lifetime (IBOK_SESSION_MAX_AGE_SECONDS) as the web's sessions
(accounts.middleware), and `api.auth.SessionTokenAuth` lets it use /api/v1/.
"""

from allauth.headless.account import views as account_views
from allauth.headless.base import views as base_views
from allauth.headless.constants import Client
from allauth.headless.mfa import views as mfa_views
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy as AllauthSessionTokenStrategy
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import include, path
from django.utils import timezone

from accounts.middleware import SESSION_REFRESHED_AT, SESSION_SIGNED_IN_AT

APP = Client.APP


def session_expired(session: SessionBase, *, now_ts: float) -> bool:
    """Whether a session is past the idle timeout or the absolute lifetime (the web's rules, accounts.middleware)."""
    refreshed = session.get(SESSION_REFRESHED_AT)
    signed_in = session.get(SESSION_SIGNED_IN_AT)
    if isinstance(refreshed, int) and now_ts - refreshed >= settings.SESSION_COOKIE_AGE:
        return True
    return isinstance(signed_in, int) and now_ts - signed_in >= settings.IBOK_SESSION_MAX_AGE_SECONDS


def session_touch(session: SessionBase, *, now_ts: float) -> None:
    """Move an active session's idle expiry forward, at most every IBOK_SESSION_REFRESH_SECONDS (as the web does)."""
    refreshed = session.get(SESSION_REFRESHED_AT)
    if not isinstance(refreshed, int) or not 0 <= now_ts - refreshed < settings.IBOK_SESSION_REFRESH_SECONDS:
        session[SESSION_REFRESHED_AT] = int(now_ts)
        session.save()


class SessionTokenStrategy(AllauthSessionTokenStrategy):
    """allauth's session tokens, ended like the web's sessions: idle too long or signed in too long ago."""

    def lookup_session(self, session_token: str) -> SessionBase | None:
        session = super().lookup_session(session_token)
        if session is None:
            return None
        if session_expired(session, now_ts=timezone.now().timestamp()):
            session.flush()  # signed out: the token answers 401 (API) or 410 (allauth) from now on
            return None
        return session


def _v(view_class) -> object:
    return view_class.as_api_view(client=APP)


app_urlpatterns = [
    path("config", _v(base_views.ConfigView), name="config"),
    path("auth/session", _v(account_views.SessionView), name="current_session"),  # GET; DELETE signs out
    path("auth/login", _v(account_views.LoginView), name="login"),
    path("auth/2fa/authenticate", _v(mfa_views.AuthenticateView), name="mfa_authenticate"),
    path("auth/password/request", _v(account_views.RequestPasswordResetView), name="request_password_reset"),
    path("auth/password/reset", _v(account_views.ResetPasswordView), name="reset_password"),
]

urlpatterns = [path("app/v1/", include((app_urlpatterns, "headless"), namespace="headless-app"))]
