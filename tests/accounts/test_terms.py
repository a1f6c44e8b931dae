"""Terms versions: a newly published version asks signed-in customers to accept it; the acceptance is recorded."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Consent, ConsentKind, TermsVersion
from tests import factories

pytestmark = pytest.mark.django_db


def publish(version: str, *, ago: timedelta = timedelta(0)) -> TermsVersion:
    return TermsVersion.objects.create(
        version=version, title="Regulamin iBOK", body="§ 1. Treść.", published_at=timezone.now() - ago
    )


def test_the_terms_in_force_are_public(client, terms):
    response = client.get(reverse("accounts:terms"))

    assert response.status_code == 200
    assert "Wersja 2026-01" in response.content.decode()


def test_a_customer_who_accepted_the_current_terms_goes_straight_in(client, customer_user, terms):
    Consent.objects.create(user=customer_user, kind=ConsentKind.TERMS, terms_version=terms, recorded_at=timezone.now())
    client.force_login(customer_user)

    assert client.get(reverse("pages:dashboard")).status_code == 200


def test_a_new_version_sends_the_customer_to_accept_it_and_records_the_acceptance(client, customer_user, terms):
    Consent.objects.create(user=customer_user, kind=ConsentKind.TERMS, terms_version=terms, recorded_at=timezone.now())
    new = publish("2026-11")
    client.force_login(customer_user)

    blocked = client.get(reverse("accounts:settings"))
    page = client.get(blocked["Location"])
    accepted = client.post(
        reverse("accounts:terms-accept"),
        {"accept": "on", "next": reverse("accounts:settings")},
        REMOTE_ADDR="192.0.2.9",
    )

    assert blocked.status_code == 302
    assert blocked["Location"].startswith(reverse("accounts:terms-accept"))
    assert "Nowy regulamin" in page.content.decode()
    assert accepted["Location"] == reverse("accounts:settings")
    consent = Consent.objects.get(terms_version=new)
    assert (consent.user, consent.kind, consent.ip_address) == (customer_user, ConsentKind.TERMS, "192.0.2.9")
    assert client.get(reverse("accounts:settings")).status_code == 200


def test_a_version_published_during_a_session_reaches_the_customer_within_minutes(client, customer_user, terms):
    Consent.objects.create(user=customer_user, kind=ConsentKind.TERMS, terms_version=terms, recorded_at=timezone.now())
    client.force_login(customer_user)
    assert client.get(reverse("pages:dashboard")).status_code == 200
    publish("2026-11")

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.get(reverse("pages:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:terms-accept"))


def test_accepting_without_the_tick_is_refused_and_records_nothing(client, customer_user, terms):
    client.force_login(customer_user)

    response = client.post(reverse("accounts:terms-accept"), {})

    assert response.status_code == 200
    assert "To pole jest wymagane." in response.content.decode()
    assert not Consent.objects.exists()


def test_signing_out_works_while_terms_wait(client, customer_user, terms):
    client.force_login(customer_user)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_an_external_next_address_is_ignored(client, customer_user, terms):
    client.force_login(customer_user)

    response = client.post(reverse("accounts:terms-accept"), {"accept": "on", "next": "https://evil.example/"})

    assert response["Location"] == reverse("pages:dashboard")


def test_a_version_not_yet_in_force_asks_nothing(client, customer_user):
    publish("2027-01", ago=-timedelta(days=10))
    client.force_login(customer_user)

    assert client.get(reverse("pages:dashboard")).status_code == 200


def test_staff_are_not_stopped_by_the_customer_terms(client, terms):
    staff = factories.UserFactory(username="bok.kowalska", is_staff=True)
    client.force_login(staff)

    assert client.get(reverse("pages:health")).status_code in {200, 503}


def test_a_first_sign_in_asks_to_accept_the_terms_without_saying_they_changed(client, db):
    from django.utils import timezone

    from accounts.models import TermsVersion

    TermsVersion.objects.create(version="1.0", title="Regulamin iBOK", body="§ 1.", published_at=timezone.now())
    manager = factories.UserFactory(username="nowy-zarzadca")  # never accepted any terms
    client.force_login(manager)

    html = client.get(reverse("accounts:terms-accept")).content.decode()

    assert "Regulamin serwisu" in html
    assert "zmienił" not in html  # "Regulamin portalu się zmienił"
    assert "Akceptuję nowy regulamin" not in html
    accepted = client.post(reverse("accounts:terms-accept"), {"accept": "on"}, follow=True).content.decode()
    assert "Regulamin został zaakceptowany" in accepted
    assert "nowy regulamin" not in accepted.lower()
