"""Two gates for signed-in users (staff set up a second factor before using the admin; customers accept new terms),
and the sessions' idle timeout and absolute lifetime."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors

TERMS_PENDING = "accounts_terms_pending"  # session: id of the terms version waiting for acceptance
TERMS_CHECKED_AT = "accounts_terms_checked_at"  # session: when the terms were last checked (ISO)
TERMS_RECHECK = timedelta(minutes=5)  # a version published meanwhile reaches signed-in users within this time
SESSION_REFRESHED_AT = "ibok_session_refreshed_at"  # session: when its expiry was last moved forward (Unix time)
SESSION_SIGNED_IN_AT = "ibok_session_signed_in_at"  # session: when the user signed in (Unix time)


def terms_recheck(request: HttpRequest, *, user, now: datetime) -> int | None:
    """Look up the terms in force and whether the user accepted them; remember the answer in the session."""
    terms = selectors.current_terms(now=now)
    pending = terms.pk if terms is not None and not selectors.terms_accepted(user=user, terms=terms) else None
    request.session[TERMS_PENDING] = pending
    request.session[TERMS_CHECKED_AT] = now.isoformat()
    return pending


def _exempt(path: str, prefixes: tuple[str, ...]) -> bool:
    return path.startswith(prefixes)


class TermsAcceptanceMiddleware:
    """Send a signed-in customer to the acceptance page while a new terms version waits for them.

    The answer is kept in the session and refreshed every TERMS_RECHECK, so most requests cost no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_staff:
            now = timezone.now()
            checked = request.session.get(TERMS_CHECKED_AT)
            if checked is None or datetime.fromisoformat(checked) < now - TERMS_RECHECK:
                pending = terms_recheck(request, user=user, now=now)
            else:
                pending = request.session.get(TERMS_PENDING)
            if pending and not _exempt(request.path, self.exempt_prefixes()):
                return redirect(f"{reverse('accounts:terms-accept')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def exempt_prefixes() -> tuple[str, ...]:
        return (
            reverse("accounts:terms-accept"),
            reverse("accounts:terms"),
            reverse("account_logout"),
            reverse("pages:accessibility"),
            # The installable portal's files: a browser fetches them itself and cannot follow to the terms.
            reverse("pages:manifest"),
            reverse("pages:service-worker"),
            reverse("pages:offline"),
            settings.STATIC_URL,
            "/i18n/",
            "/api/",  # the API answers in JSON; an app shows the terms itself (docs/api.md)
        )


class StaffMfaRequiredMiddleware:
    """Staff without a second factor are sent to set one up before the admin opens for them.

    The admin's own login goes through allauth's (accounts.admin wraps it), which asks for the second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and not selectors.user_has_mfa(user=user)
        ):
            messages.warning(request, _("Staff must set up two-factor authentication before using the administration."))
            return redirect("mfa_index")
        return self.get_response(request)


class SessionIdleTimeoutMiddleware:
    """Move an active session's expiry forward at most every IBOK_SESSION_REFRESH_SECONDS, instead of writing the
    session on every request (SESSION_SAVE_EVERY_REQUEST: a write and a commit per page view).

    A session expires SESSION_COOKIE_AGE after it was last saved. Saving it when the last save is older than the
    refresh interval (or whenever the request changed it anyway) means a session ends after between
    SESSION_COOKIE_AGE minus the interval and SESSION_COOKIE_AGE of idleness: never later than configured.
    The session's own note of its last save also ends it here, before anything reads the signed-in user: the
    store's expiry is kept by two clocks (Redis's and PostgreSQL's, with cached_db), the note by the portal's.
    Placed right after SessionMiddleware, which saves a modified session on the way out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        refreshed = session.get(SESSION_REFRESHED_AT) if session is not None else None
        if isinstance(refreshed, int) and timezone.now().timestamp() - refreshed >= settings.SESSION_COOKIE_AGE:
            session.flush()  # idle too long: signed out, as if the store had already dropped it
        response = self.get_response(request)
        if session is None or session.is_empty():
            return response  # no session (or one just flushed at logout): nothing to keep alive
        now = timezone.now()
        refreshed = session.get(SESSION_REFRESHED_AT)
        if (
            session.modified
            or not isinstance(refreshed, int)
            or not 0 <= now.timestamp() - refreshed < settings.IBOK_SESSION_REFRESH_SECONDS
        ):
            session_refreshed(request, now=now)  # marks the session modified: SessionMiddleware saves it
        return response


def session_refreshed(request: HttpRequest, *, now: datetime) -> None:
    """Note in the session that it is being saved now (at login, and by SessionIdleTimeoutMiddleware)."""
    request.session[SESSION_REFRESHED_AT] = int(now.timestamp())


def session_signed_in(request: HttpRequest, *, now: datetime) -> None:
    """Note the moment of the sign-in, from which the session's absolute lifetime counts."""
    request.session[SESSION_SIGNED_IN_AT] = int(now.timestamp())


class SessionLifetimeMiddleware:
    """Sign out a session IBOK_SESSION_MAX_AGE_SECONDS after its sign-in, however active it has been.

    The idle timeout alone would let a session that is used every few minutes live for ever. A signed-in session
    without the mark (made before this rule) gets it now. Placed after AuthenticationMiddleware and
    MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now()
            signed_in_at = request.session.get(SESSION_SIGNED_IN_AT)
            if not isinstance(signed_in_at, int):
                session_signed_in(request, now=now)
            elif now.timestamp() - signed_in_at >= settings.IBOK_SESSION_MAX_AGE_SECONDS:
                auth.logout(request)  # flushes the session; request.user is anonymous from here on
                messages.info(request, _("Your session has ended. Please sign in again."), fail_silently=True)
        return self.get_response(request)
