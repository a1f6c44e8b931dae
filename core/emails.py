"""E-mails in the recipient's language (templates emails/<name>_subject.txt, <name>.txt, <name>.html) and the
absolute links they carry."""

import contextvars
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core import metrics
from core.models import SentEmail

KEEP_SENT = timedelta(days=14)  # longer than any task's retries and any wait in the outbox
# The running queued task's Celery id and how many e-mails it has sent so far (set by core.apps at task_prerun).
_current_task: contextvars.ContextVar[list | None] = contextvars.ContextVar("ibok_email_task", default=None)


def task_started(task_id: str | None) -> None:
    """A task starts (Celery's task_prerun): e-mails it sends are keyed by its id, when it came from the outbox."""
    _current_task.set([task_id, 0] if task_id and task_id.startswith("queued-") else None)


def task_finished() -> None:
    _current_task.set(None)


def _next_key() -> str | None:
    current = _current_task.get()
    if current is None:
        return None
    key = f"{current[0]}:{current[1]}"
    current[1] += 1
    return key


def sent_emails_purge(*, now) -> int:
    """Forget the sent e-mails' keys older than KEEP_SENT (daily, core.tasks.sent_emails_purge)."""
    deleted, _counts = SentEmail.objects.filter(sent_at__lt=now - KEEP_SENT).delete()
    return deleted


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
        """Each message of a queued task is sent once: its key is written in the transaction that sends it, and a
        key already there (a retry, or the row handed over twice) means it went out before: skipped."""
        sent = 0
        for message in email_messages:
            key = _next_key()
            if key is None:
                sent += self._send([message])
                continue
            try:
                with transaction.atomic():
                    SentEmail.objects.create(key=key, sent_at=timezone.now())
                    sent += self._send([message])  # an error rolls the key back: the retry sends it
            except IntegrityError:
                metrics.count(metrics.EMAILS_DEDUPLICATED)
        return sent

    def _send(self, email_messages) -> int:
        try:
            sent = self.inner.send_messages(email_messages) or 0
        except Exception:
            metrics.count(metrics.EMAILS_FAILED, amount=len(email_messages))
            raise
        metrics.count(metrics.EMAILS_SENT, amount=sent)
        metrics.count(metrics.EMAILS_FAILED, amount=len(email_messages) - sent)
        return sent
