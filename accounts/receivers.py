"""Login history and the "last login" notice, fed by Django's auth signals (allauth logs in through them)."""

from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import http, reauth, selectors, services
from accounts.middleware import session_refreshed, session_signed_in, terms_recheck


@receiver(user_logged_in, dispatch_uid="accounts_login_recorded")
def login_recorded(sender, request, user, **kwargs) -> None:
    now = timezone.now()
    if request is None:
        return
    previous = selectors.previous_login(user=user, before=now)
    failed = selectors.failed_logins_since(user=user, since=previous.occurred_at if previous else None)
    services.login_event_record(
        user=user,
        identifier=user.get_username(),
        succeeded=True,
        ip_address=http.client_ip(request),
        user_agent=http.user_agent(request),
        now=now,
    )
    if previous is not None:
        when = formats.date_format(timezone.localtime(previous.occurred_at), "DATETIME_FORMAT")
        text = _("Last login: %(when)s from %(ip)s.") % {"when": when, "ip": previous.ip_address or "?"}
        if failed:
            text += " " + ngettext(
                "Since then there was %(count)d failed login attempt.",
                "Since then there were %(count)d failed login attempts.",
                failed,
            ) % {"count": failed}
        messages.info(request, text, fail_silently=True)
    else:
        messages.info(request, _("Welcome! This is your first login."), fail_silently=True)
    terms_recheck(request, user=user, now=now)
    session_refreshed(request, now=now)  # the login saves the session: the idle timeout starts now
    session_signed_in(request, now=now)  # and so does the absolute lifetime
    reauth.sign_in_counts_as_reauthentication(request)  # sensitive changes need the password again in 5 minutes


@receiver(user_login_failed, dispatch_uid="accounts_login_failure_recorded")
def login_failure_recorded(sender, credentials, request=None, **kwargs) -> None:
    identifier = str(credentials.get("username") or credentials.get("email") or credentials.get("login") or "")
    if request is None:
        return
    services.login_event_record(
        user=selectors.user_for_login(identifier=identifier),
        identifier=identifier,
        succeeded=False,
        ip_address=http.client_ip(request),
        user_agent=http.user_agent(request),
        now=timezone.now(),
    )


@receiver(authenticator_added, dispatch_uid="accounts_passkey_prompt_closed")
def passkey_prompt_closed(sender, request, user, authenticator, **kwargs) -> None:
    """A passkey added: the dashboard stops offering one."""
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        services.passkey_prompt_close(user=user, now=timezone.now())
