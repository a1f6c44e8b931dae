"""Staff tools: find a user by customer number or e-mail, resend activation, unlock, login history, deletions."""

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import DeletionRequest, LoginEvent, Registration, RegistrationStatus
from core.models import AuditLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = factories.UserFactory(username="bok.kowalska", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.mark.parametrize("query", ["customer_number", "email"])
def test_staff_find_a_user_by_customer_number_or_email(staff_client, customer, customer_user, query):
    term = customer.number if query == "customer_number" else customer_user.email
    other = factories.UserFactory(username="inny.uzytkownik")  # not from the sequence customer numbers share

    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": term})

    users = list(response.context["cl"].result_list)
    assert customer_user in users
    assert other not in users


def test_staff_unlock_a_user_throttled_by_failed_logins(client, staff_client, customer_user):
    from django.test import Client

    customer = Client()
    for _attempt in range(5):
        customer.post(reverse("account_login"), {"login": customer_user.username, "password": "Zle-haslo1"})
    locked = customer.post(reverse("account_login"), {"login": customer_user.username, "password": factories.PASSWORD})
    assert "Zbyt wiele nieudanych prób logowania" in locked.content.decode()

    staff_client.post(
        reverse("admin:accounts_user_changelist"), {"action": "unlock", "_selected_action": [customer_user.pk]}
    )
    unlocked = customer.post(
        reverse("account_login"), {"login": customer_user.username, "password": factories.PASSWORD}
    )

    assert unlocked.status_code == 302
    assert AuditLogEntry.objects.filter(action="accounts.unlocked", object_id=str(customer_user.pk)).exists()


def test_staff_resend_the_activation_email_of_a_pending_registration(
    staff_client, django_capture_on_commit_callbacks, terms
):
    factories.InvoiceFactory(customer=factories.CustomerFactory(number="204600"), number="FV/1/2026")
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_submit(
            customer_number="204600",
            invoice_number="FV/1/2026",
            amount=None,
            email="zgubiony@example.pl",
            phone="",
            einvoice_requested=False,
            language="pl",
            ip_address=None,
            base_url="http://testserver/",
            now=timezone.now(),
        )
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.PENDING
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:accounts_registration_changelist"),
            {"action": "resend_activation", "_selected_action": [registration.pk]},
        )

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zgubiony@example.pl"]
    assert "/register/confirm/" in mail.outbox[0].body
    assert AuditLogEntry.objects.filter(action="accounts.registration_resend").count() == 1


def test_staff_see_a_users_login_history(staff_client, customer_user):
    LoginEvent.objects.create(
        user=customer_user,
        identifier=customer_user.username,
        succeeded=False,
        ip_address="203.0.113.50",
        occurred_at=timezone.now(),
    )

    user_page = staff_client.get(reverse("admin:accounts_user_change", args=[customer_user.pk]))
    history = staff_client.get(reverse("admin:accounts_loginevent_changelist"), {"user__id__exact": customer_user.pk})

    assert reverse("admin:accounts_loginevent_changelist") in user_page.content.decode()
    assert "203.0.113.50" in history.content.decode()


def test_staff_see_and_close_deletion_requests_with_an_audit_entry(staff_client, customer_user):
    request = DeletionRequest.objects.create(
        user=customer_user,
        username=customer_user.username,
        requested_at=timezone.now(),
    )

    listing = staff_client.get(reverse("admin:accounts_deletionrequest_changelist"))
    staff_client.post(
        reverse("admin:accounts_deletionrequest_changelist"), {"action": "mark_done", "_selected_action": [request.pk]}
    )

    assert customer_user.username in listing.content.decode()
    request.refresh_from_db()
    assert (request.status, request.handled_by) == ("DONE", staff_client.staff)
    assert AuditLogEntry.objects.filter(action="accounts.deletion_request_closed").exists()


def test_terms_versions_are_managed_in_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_termsversion_add"),
        {
            "version": "2026-12",
            "title": "Regulamin iBOK",
            "body": "§ 1.",
            "published_at_0": "2026-12-01",
            "published_at_1": "00:00:00",
        },
    )

    assert response.status_code == 302


def test_staff_send_a_password_link_never_a_password(staff_client, customer_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "send_password_reset", "_selected_action": [customer_user.pk]},
        )

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer_user.email]
    assert "/account/password/reset/key/" in mail.outbox[0].body
    assert factories.PASSWORD not in mail.outbox[0].body
