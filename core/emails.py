"""E-mails in the recipient's language (templates emails/<name>_subject.txt, <name>.txt, <name>.html) and the
absolute links they carry."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import translation

from core import metrics


def absolute_url(path: str, *, base_url: str = "") -> str:
    """A link for a message read outside the portal: `base_url` (the request's) or IBOK_PORTAL_URL, then the path."""
    return (base_url or settings.IBOK_PORTAL_URL).rstrip("/") + path


def render_email(name: str, context: dict, *, language: str) -> tuple[str, str, str]:
    """(subject on one line, text body, HTML body) rendered in the given language."""
    context = {
        "utility_name": settings.IBOK_UTILITY_NAME,
        "utility_phone": settings.IBOK_UTILITY_PHONE,
        "LANGUAGE_CODE": language,
        **context,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
        text = render_to_string(f"emails/{name}.txt", context)
        html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def email_message(*, to: str, subject: str, text: str, html: str = "") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    if html:
        message.attach_alternative(html, "text/html")
    return message


def send_email(*, to: str, subject: str, text: str, html: str = "") -> None:
    email_message(to=to, subject=subject, text=text, html=html).send()


class CountingBackend(BaseEmailBackend):
    """EMAIL_BACKEND: sends through IBOK_EMAIL_BACKEND (SMTP, console, files) and counts what was sent and what
    failed, for /metrics."""

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently)
        self.inner = get_connection(settings.IBOK_EMAIL_BACKEND, fail_silently=fail_silently, **kwargs)

    def open(self):
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def send_messages(self, email_messages) -> int:
        try:
            sent = self.inner.send_messages(email_messages) or 0
        except Exception:
            metrics.count(metrics.EMAILS_FAILED, amount=len(email_messages))
            raise
        metrics.count(metrics.EMAILS_SENT, amount=sent)
        metrics.count(metrics.EMAILS_FAILED, amount=len(email_messages) - sent)
        return sent
