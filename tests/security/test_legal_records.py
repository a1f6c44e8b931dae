"""The acceptance of the terms keeps what was accepted (the text's SHA-256) and from which browser."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Consent, ConsentKind, TermsVersion

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def test_accepting_new_terms_stores_the_texts_hash_and_the_browser(client, customer_user, terms):
    Consent.objects.create(user=customer_user, kind=ConsentKind.TERMS, terms_version=terms, recorded_at=timezone.now())
    new = TermsVersion.objects.create(
        version="2026-12", title="Nowy regulamin", body="§ 1. Nowe zasady.", published_at=timezone.now()
    )
    client.force_login(customer_user)

    client.post(reverse("accounts:terms-accept"), {"accept": "on"}, REMOTE_ADDR="192.0.2.9", HTTP_USER_AGENT=BROWSER)

    consent = Consent.objects.get(terms_version=new)
    assert consent.text_sha256 == hashlib.sha256("§ 1. Nowe zasady.".encode()).hexdigest()
    assert (consent.user_agent, consent.ip_address) == (BROWSER, "192.0.2.9")
    assert consent.recorded_at is not None


def test_a_later_edit_of_the_text_does_not_match_the_stored_hash(client, customer_user, terms):
    client.force_login(customer_user)
    client.post(reverse("accounts:terms-accept"), {"accept": "on"}, HTTP_USER_AGENT=BROWSER)
    consent = Consent.objects.get(terms_version=terms)

    terms.body += " Zmiana."
    terms.save()

    assert consent.text_sha256 != terms.text_sha256


def test_terms_accepted_at_registration_keep_the_browser_and_hash(
    client, invoiced_customer, registration_form, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:register"), registration_form, REMOTE_ADDR="192.0.2.20", HTTP_USER_AGENT=BROWSER)
    link = re.search(r"https?://\S+/register/confirm/\S+/", mail.outbox[0].body).group(0)
    password = "Rzeka-Bystra-2026"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/" + link.split("/", 3)[3],
            {"password1": password, "password2": password},
            REMOTE_ADDR="192.0.2.20",
            HTTP_USER_AGENT=BROWSER,
        )

    consent = Consent.objects.get(kind=ConsentKind.TERMS)
    assert consent.text_sha256 == terms.text_sha256
    assert (consent.user_agent, consent.ip_address) == (BROWSER, "192.0.2.20")
    assert consent.recorded_at > timezone.now() - timedelta(minutes=1)
