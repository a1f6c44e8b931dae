"""Throttled sign-ins and registrations in the security log: client address and a hashed identifier, for staff."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from core.models import SecurityEvent, SecurityEventKind
from core.security import identifier_hash, security_event_record
from tests import factories

pytestmark = pytest.mark.django_db


def test_throttled_sign_in_attempts_are_logged_with_address_and_hashed_login(client, customer_user):
    for _attempt in range(5):
        client.post(reverse("account_login"), {"login": customer_user.username, "password": "Zle-haslo-1"})
    assert not SecurityEvent.objects.exists()  # failures under the limit are the login history's business

    client.post(
        reverse("account_login"),
        {"login": customer_user.username, "password": factories.PASSWORD},
        REMOTE_ADDR="203.0.113.50",
    )

    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEventKind.LOGIN_THROTTLED
    assert event.ip_address == "203.0.113.50"
    assert event.identifier_hash == identifier_hash(customer_user.username)
    assert customer_user.username not in str(event.details)


def test_throttled_registrations_are_logged(client, invoiced_customer, registration_form):
    registration_form["invoice_number"] = "FV/zgaduje"
    for _attempt in range(6):
        response = client.post(reverse("accounts:register"), registration_form, REMOTE_ADDR="203.0.113.60")

    assert response.status_code == 429
    event = SecurityEvent.objects.get()
    assert (event.kind, event.ip_address) == (SecurityEventKind.REGISTRATION_THROTTLED, "203.0.113.60")
    assert event.identifier_hash == identifier_hash(" 204518 ")  # spaces and case do not matter


def test_the_hash_is_keyed_so_a_bare_sha256_does_not_find_it():
    import hashlib

    assert identifier_hash("204518") != hashlib.sha256(b"204518").hexdigest()
    assert identifier_hash("Anna@Example.pl") == identifier_hash("anna@example.pl")
    assert identifier_hash("") == ""


def test_staff_find_events_by_customer_number_email_or_address_in_the_admin(client):
    from django.utils import timezone

    now = timezone.now()
    security_event_record(now=now, kind="LOGIN_THROTTLED", ip_address="203.0.113.1", identifier="204518")
    security_event_record(now=now, kind="UPLOAD_REFUSED", ip_address="203.0.113.2", identifier="anna@example.pl")
    staff = factories.UserFactory(username="bok", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    client.force_login(staff)
    url = reverse("admin:core_securityevent_changelist")

    by_number = client.get(url, {"q": "204518"})
    by_email = client.get(url, {"q": "ANNA@example.pl"})
    by_address = client.get(url, {"q": "203.0.113.2"})

    assert by_number.status_code == 200
    assert [e.kind for e in by_number.context["cl"].result_list] == ["LOGIN_THROTTLED"]
    assert [e.kind for e in by_email.context["cl"].result_list] == ["UPLOAD_REFUSED"]
    assert [e.kind for e in by_address.context["cl"].result_list] == ["UPLOAD_REFUSED"]


def test_the_security_log_cannot_be_edited_in_the_admin(client):
    staff = factories.UserFactory(username="bok", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    client.force_login(staff)

    assert client.get(reverse("admin:core_securityevent_add")).status_code == 403
