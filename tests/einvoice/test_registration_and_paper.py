"""The e-invoice box ticked at registration, and paper forms recorded by the office with their scans."""

from datetime import date, timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import signals as account_signals
from accounts.models import Consent as AccountConsent
from accounts.models import ConsentKind, Registration, RegistrationStatus
from core.models import OutboxMessage
from einvoice import services, tasks
from einvoice.models import Consent, ConsentSource, ConsentStatus, EventKind, PaperForm, PaperFormKind
from tests import factories
from tests.einvoice.conftest import NOW, scan
from tests.einvoice.helpers import token_from_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration(customer, customer_user, terms):
    """A completed registration with "I agree to receive e-invoices" ticked, as accounts records it."""
    AccountConsent.objects.create(
        user=customer_user, kind=ConsentKind.EINVOICE, given=True, recorded_at=NOW, ip_address="203.0.113.9"
    )
    return Registration.objects.create(
        created_at=NOW - timedelta(hours=1),
        customer_number=customer.number,
        customer=customer,
        email=customer_user.email,
        einvoice_requested=True,
        status=RegistrationStatus.COMPLETED,
        user=customer_user,
        completed_at=NOW,
    )


def send_signal(registration):
    account_signals.einvoice_requested_at_registration.send(
        sender=None,
        user=registration.user,
        customer_id=registration.customer_id,
        email=registration.email,
        registration_id=registration.pk,
    )


def test_the_registration_wish_becomes_an_active_consent_from_the_activation(registration, terms):
    send_signal(registration)

    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.ACTIVE
    assert consent.source == ConsentSource.REGISTRATION
    assert (consent.email, consent.accepted_at, consent.active_from) == (registration.email, NOW, NOW)
    assert (consent.terms, consent.ip_address, consent.registration) == (terms, "203.0.113.9", registration)
    assert OutboxMessage.objects.get(kind="einvoice_consent").payload["action"] == "start"


def test_the_sweep_records_a_registration_whose_signal_was_lost_and_twice_is_once(registration):
    first = tasks.einvoice_sweep.delay().get()
    second = tasks.einvoice_sweep.delay().get()
    send_signal(registration)  # a late signal changes nothing either

    assert (first["registrations"], second["registrations"]) == (1, 0)
    assert Consent.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="einvoice_consent").count() == 1


def test_a_registration_of_a_customer_who_already_has_e_invoices_adds_nothing(registration, customer, terms):
    Consent.objects.create(
        customer=customer,
        status=ConsentStatus.ACTIVE,
        source=ConsentSource.PAPER,
        email="papier@example.pl",
        terms=terms,
        accepted_at=NOW - timedelta(days=400),
        active_from=NOW - timedelta(days=400),
    )

    send_signal(registration)
    tasks.einvoice_sweep.delay()

    assert list(Consent.objects.values_list("email", flat=True)) == ["papier@example.pl"]


@pytest.fixture
def staff(client):
    """A clerk with the second factor the admin asks staff for (accounts.middleware.StaffMfaRequiredMiddleware)."""
    user = factories.UserFactory(username="urzednik", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(user)
    return user


def paper_form_post(client, **data):
    return client.post(reverse("admin:einvoice_paperform_add"), data)


def test_a_scan_that_is_not_a_pdf_or_image_by_its_content_is_refused(client, staff, customer, terms):
    disguised = SimpleUploadedFile("wniosek.pdf", b"MZ\x90\x00" + b"\x00" * 64, content_type="application/pdf")

    response = paper_form_post(
        client,
        customer=customer.pk,
        kind=PaperFormKind.CONSENT,
        signed_date="2026-11-18",
        received_date="2026-11-20",
        email="papier@example.pl",
        terms=terms.pk,
        scan=disguised,
    )

    assert response.status_code == 200
    assert "PDF, JPG" in response.content.decode()
    assert not PaperForm.objects.exists()


def test_staff_record_a_paper_consent_with_its_date_and_scan_and_the_address_is_checked_by_a_link(
    client, staff, customer, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = paper_form_post(
            client,
            customer=customer.pk,
            kind=PaperFormKind.CONSENT,
            signed_date="2026-11-18",
            received_date="2026-11-20",
            email="papier@example.pl",
            terms=terms.pk,
            scan=scan(),
        )

    assert response.status_code == 302, response.content.decode()[:3000]
    paper = PaperForm.objects.get()
    consent = paper.consent
    assert (consent.status, consent.source, consent.email) == (
        ConsentStatus.PENDING,
        ConsentSource.PAPER,
        "papier@example.pl",
    )
    assert timezone.localtime(consent.accepted_at).date() == date(2026, 11, 18)
    assert paper.recorded_by == staff
    assert paper.scan.read() == scan().read()
    assert consent.events.filter(kind=EventKind.PAPER_CONSENT, actor=staff).exists()
    assert mail.outbox[0].to == ["papier@example.pl"]
    services.verification_confirm(token=token_from_mail(), now=NOW, ip_address=None)
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE


def test_a_paper_consent_for_a_customer_who_already_has_one_is_refused_on_the_form(
    client, staff, customer, customer_user, terms
):
    services.consent_request(
        customer=customer,
        user=customer_user,
        email=customer_user.email,
        terms=terms,
        now=NOW,
        ip_address=None,
        base_url="https://ibok.example.pl/",
    )

    response = paper_form_post(
        client,
        customer=customer.pk,
        kind=PaperFormKind.CONSENT,
        signed_date="2026-11-18",
        received_date="2026-11-20",
        email="papier@example.pl",
        terms=terms.pk,
        scan=scan(),
    )

    assert response.status_code == 200
    assert "ma już e-faktury" in response.content.decode()
    assert not PaperForm.objects.exists()
    assert Consent.objects.count() == 1


def test_staff_record_a_paper_resignation_which_ends_the_consent(client, staff, customer, customer_user, terms):
    services.consent_request(
        customer=customer,
        user=customer_user,
        email=customer_user.email,
        terms=terms,
        now=NOW,
        ip_address=None,
        base_url="https://ibok.example.pl/",
    )

    response = paper_form_post(
        client,
        customer=customer.pk,
        kind=PaperFormKind.RESIGNATION,
        signed_date="2026-11-19",
        received_date="2026-11-20",
        ends_on="2026-12-01",
        paper_address="ul. Długa 1, 37-700 Przemyśl",
        scan=scan("rezygnacja.pdf"),
    )

    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.status, consent.ends_on) == (ConsentStatus.ENDED, date(2026, 12, 1))
    assert consent.events.filter(kind=EventKind.PAPER_RESIGNATION).exists()
    assert OutboxMessage.objects.filter(kind="einvoice_consent", payload__action="end").count() == 1


def test_a_paper_resignation_without_the_date_is_refused(client, staff, customer, customer_user, terms):
    services.consent_request(
        customer=customer,
        user=customer_user,
        email=customer_user.email,
        terms=terms,
        now=NOW,
        ip_address=None,
        base_url="https://ibok.example.pl/",
    )

    response = paper_form_post(
        client,
        customer=customer.pk,
        kind=PaperFormKind.RESIGNATION,
        signed_date="2026-11-19",
        received_date="2026-11-20",
        paper_address="ul. Długa 1",
        scan=scan(),
    )

    assert response.status_code == 200
    assert Consent.objects.get().status == ConsentStatus.ACTIVE


def test_the_scan_is_served_to_staff_only(client, staff, customer, terms, customer_user):
    paper = services.paper_consent_record(
        customer=customer,
        email="papier@example.pl",
        signed_date=date(2026, 11, 18),
        received_date=date(2026, 11, 20),
        scan=scan(),
        terms=terms,
        actor=staff,
        now=NOW,
    )
    url = reverse("admin:einvoice_paperform_scan", args=[paper.pk])

    as_staff = client.get(url)
    client.force_login(customer_user)
    as_customer = client.get(url)

    assert as_staff.status_code == 200
    assert b"".join(as_staff.streaming_content).startswith(b"%PDF")
    assert as_customer.status_code == 302
    assert reverse("admin:login") in as_customer["Location"]


def test_the_request_queue_lists_consents_with_their_state(client, staff, customer, customer_user, terms):
    services.consent_request(
        customer=customer,
        user=customer_user,
        email="czeka@example.pl",
        terms=terms,
        now=NOW,
        ip_address=None,
        base_url="https://ibok.example.pl/",
    )

    response = client.get(reverse("admin:einvoice_consent_changelist"), {"waiting": "yes"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "czeka@example.pl" in html
    assert "Czeka na potwierdzenie adresu" in html
