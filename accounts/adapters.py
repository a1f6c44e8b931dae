"""allauth's adapter: our registration instead of allauth's sign-up; e-mails in the user's language via the outbox."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils import timezone, translation

from accounts import http
from accounts.models import User
from core.jobs import enqueue
from core.models import SecurityEventKind
from core.security import security_event_record


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are made from a customer number and proof (accounts:register), never by allauth's sign-up form;
        # the mobile app (allauth headless, accounts/headless.py) is told sign-up is closed.
        if getattr(getattr(request, "allauth", None), "headless", None) is not None:
            return False
        raise ImmediateHttpResponse(redirect("accounts:register"))

    def get_client_ip(self, request: HttpRequest) -> str:
        return http.client_ip(request) or super().get_client_ip(request)

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        """allauth's failed-login throttle; a throttled attempt goes to the security log."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            login = credentials.get("username") or credentials.get("email") or credentials.get("login") or ""
            security_event_record(
                now=timezone.now(),
                kind=SecurityEventKind.LOGIN_THROTTLED,
                ip_address=http.client_ip(request),
                identifier=str(login),
            )
            raise

    def format_email_subject(self, subject: str) -> str:
        return f"iBOK: {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render in the recipient's language (User.language), then queue it for a Celery task with retries."""
        request = context.get("request") or getattr(self, "request", None)
        user = context.get("user")
        if not isinstance(user, User):
            user = User.objects.filter(email__iexact=email).first()
        language = user.language if user else translation.get_language()
        ctx = {"email": email, "request": request, **context}
        if request is not None:
            ctx.setdefault("current_site", get_current_site(request))
        with translation.override(language):
            message = self.render_mail(template_prefix, email, ctx)
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        if message.content_subtype == "html":
            html, text = message.body, ""
        else:
            text = message.body
        enqueue("accounts.email_send", to=message.to[0], subject=message.subject, text=text, html=html)
