"""E-mails of the account flows, sent in the background with retries (SMTP and network errors recover)."""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from accounts import services
from core.emails import send_email

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 900, "max_retries": 8}


@shared_task(**RETRY)
def registration_email_send(*, registration_id: int, base_url: str) -> None:
    """The verification link, or a notice to the real owner / the e-mail's account holder."""
    services.registration_email_deliver(registration_id=registration_id, base_url=base_url, now=timezone.now())


@shared_task(**RETRY)
def activation_email_send(*, registration_id: int, base_url: str) -> None:
    services.activation_email_deliver(registration_id=registration_id, base_url=base_url, now=timezone.now())


@shared_task(**RETRY)
def email_send(*, to: str, subject: str, text: str, html: str = "") -> None:
    """An e-mail already rendered by allauth's flows (password reset, e-mail change, MFA notices)."""
    send_email(to=to, subject=subject, text=text, html=html)


@shared_task(**RETRY)
def manager_access_email_send(*, user_id: int) -> None:
    """A property manager's access was granted or changed: tell them once which customers they now manage."""
    services.manager_access_email_deliver(user_id=user_id, base_url=settings.IBOK_PORTAL_URL, now=timezone.now())
