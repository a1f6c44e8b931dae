"""Reports made without an account join the reporter's case list once they sign in (or confirm an e-mail) with
the same verified e-mail address."""

from allauth.account.signals import email_confirmed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from tickets import selectors, services


@receiver(user_logged_in, dispatch_uid="tickets_reports_claimed_on_login")
def reports_claimed_on_login(sender, request, user, **kwargs) -> None:
    services.reports_claim(user=user, emails=selectors.verified_emails(user=user), now=timezone.now())


@receiver(email_confirmed, dispatch_uid="tickets_reports_claimed_on_confirmation")
def reports_claimed_on_confirmation(sender, request, email_address, **kwargs) -> None:
    services.reports_claim(user=email_address.user, emails=[email_address.email], now=timezone.now())
