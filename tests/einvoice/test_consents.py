"""Each state change of an e-invoice consent, and each bad input refused with a clear message and nothing changed."""

from datetime import date, timedelta

import pytest
from django.core import mail

from core.models import OutboxMessage
from einvoice import services
from einvoice.models import (
    AddressVerification,
    Consent,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    EventKind,
    VerificationPurpose,
)
from tests.einvoice.conftest import NOW
from tests.einvoice.helpers import token_from_mail
from tickets.models import Case, CaseType

pytestmark = pytest.mark.django_db
BASE = "https://ibok.example.pl/"
HOME = services.PaperAddress(
    street="ul. Słowackiego", building="12", apartment="4", postal_code="37-700", city="Przemyśl"
)


def request(customer, user, terms, email, *, now=NOW, capture=None):
    return services.consent_request(
        customer=customer, user=user, email=email, terms=terms, now=now, ip_address="192.0.2.7", base_url=BASE
    )


def snapshot(customer):
    """Everything a refused request must leave as it was."""
    return (
        list(Consent.objects.filter(customer=customer).values()),
        list(AddressVerification.objects.filter(consent__customer=customer).values()),
        ConsentEvent.objects.filter(customer=customer).count(),
        OutboxMessage.objects.count(),
        Case.objects.count(),
        len(mail.outbox),
    )


def einvoice_messages(action=None):
    messages = OutboxMessage.objects.filter(kind="einvoice_consent").order_by("id")
    return [m for m in messages if action is None or m.payload["action"] == action]


def test_opt_in_with_the_accounts_email_starts_at_once_and_records_the_legal_act(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent = request(customer, customer_user, terms, customer_user.email)

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE
    assert consent.source == ConsentSource.PORTAL
    assert (consent.terms, consent.accepted_at, consent.accepted_by, consent.ip_address) == (
        terms,
        NOW,
        customer_user,
        "192.0.2.7",
    )
    assert consent.active_from == NOW
    assert list(consent.events.order_by("id").values_list("kind", flat=True)) == [
        EventKind.REQUESTED,
        EventKind.ACTIVATED,
    ]
    [message] = einvoice_messages()
    assert message.payload["action"] == "start"
    assert message.payload["email"] == customer_user.email
    assert message.payload["terms_version"] == terms.version
    case = Case.objects.get(pk=consent.case_id)
    assert case.case_type == CaseType.EINVOICE_REQUEST
    assert case.fields["email"] == customer_user.email
    assert mail.outbox == []


def test_opt_in_with_another_address_waits_for_its_link_and_starts_when_it_is_opened(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent = request(customer, customer_user, terms, "ksiegowosc@example.pl")

    assert consent.status == ConsentStatus.PENDING
    assert einvoice_messages() == []
    assert mail.outbox[0].to == ["ksiegowosc@example.pl"]
    token = token_from_mail()
    assert mail.outbox[0].body.count(BASE + "einvoice/confirm/") == 1

    later = NOW + timedelta(hours=2)
    services.verification_confirm(token=token, now=later, ip_address="198.51.100.4")

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE
    assert consent.active_from == later
    assert consent.email == "ksiegowosc@example.pl"
    assert einvoice_messages("start")[0].payload["active_from"] == later.isoformat()
    assert list(consent.events.order_by("id").values_list("kind", flat=True)) == [
        EventKind.REQUESTED,
        EventKind.VERIFICATION_SENT,
        EventKind.ACTIVATED,
    ]


def test_an_expired_link_is_refused_and_changes_nothing(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    token = token_from_mail()
    before = snapshot(customer)

    with pytest.raises(services.VerificationExpired, match="wygasł"):
        services.verification_confirm(token=token, now=NOW + timedelta(days=3, seconds=1), ip_address=None)

    assert snapshot(customer) == before
    assert Consent.objects.get(customer=customer).status == ConsentStatus.PENDING


def test_a_used_link_is_refused_the_second_time_and_changes_nothing(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    token = token_from_mail()
    services.verification_confirm(token=token, now=NOW, ip_address=None)
    before = snapshot(customer)

    with pytest.raises(services.VerificationUsed, match="już użyty"):
        services.verification_confirm(token=token, now=NOW + timedelta(minutes=1), ip_address=None)

    assert snapshot(customer) == before


def test_an_altered_link_is_refused(customer, customer_user, terms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    token = token_from_mail()
    before = snapshot(customer)

    with pytest.raises(services.VerificationInvalid, match="nieprawidłowy"):
        services.verification_confirm(token=token[:-2] + "xx", now=NOW, ip_address=None)

    assert snapshot(customer) == before


def test_a_second_request_while_one_waits_is_refused(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    before = snapshot(customer)

    with pytest.raises(services.AlreadyRequested):
        request(customer, customer_user, terms, customer_user.email)

    assert snapshot(customer) == before


def test_a_new_link_replaces_the_old_one(customer, customer_user, terms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    old = token_from_mail()
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_renew(customer=customer, user=customer_user, now=NOW + timedelta(days=4), base_url=BASE)
    new = token_from_mail()

    with pytest.raises(services.VerificationInvalid, match="wysłano nowszy"):
        services.verification_confirm(token=old, now=NOW + timedelta(days=4), ip_address=None)
    services.verification_confirm(token=new, now=NOW + timedelta(days=4), ip_address=None)

    assert Consent.objects.get(customer=customer).status == ConsentStatus.ACTIVE


@pytest.fixture
def active(customer, customer_user, terms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return request(customer, customer_user, terms, customer_user.email)


def test_an_address_change_to_an_unverified_address_keeps_the_old_one_until_the_link_is_opened(
    customer, customer_user, active, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.address_change_request(
            customer=customer, user=customer_user, email="nowy@example.pl", now=NOW, ip_address=None, base_url=BASE
        )
    active.refresh_from_db()
    assert active.email == customer_user.email
    assert AddressVerification.objects.get(purpose=VerificationPurpose.CHANGE).email == "nowy@example.pl"
    assert Case.objects.filter(case_type=CaseType.ADDRESS_CHANGE, fields__einvoice_email="nowy@example.pl").exists()

    services.verification_confirm(token=token_from_mail(), now=NOW + timedelta(hours=1), ip_address=None)

    active.refresh_from_db()
    assert active.status == ConsentStatus.ACTIVE
    assert active.email == "nowy@example.pl"
    assert einvoice_messages("address")[0].payload["email"] == "nowy@example.pl"
    kinds = list(active.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.CHANGE_REQUESTED, EventKind.VERIFICATION_SENT, EventKind.ADDRESS_CHANGED]


def test_an_address_change_while_a_verification_is_pending_is_refused_and_changes_nothing(
    customer, customer_user, active, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.address_change_request(
            customer=customer, user=customer_user, email="nowy@example.pl", now=NOW, ip_address=None, base_url=BASE
        )
    before = snapshot(customer)

    with pytest.raises(services.VerificationPending, match="czeka na potwierdzenie"):
        services.address_change_request(
            customer=customer, user=customer_user, email="inny@example.pl", now=NOW, ip_address=None, base_url=BASE
        )

    assert snapshot(customer) == before


def test_an_address_change_while_the_opt_in_waits_is_refused(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    before = snapshot(customer)

    with pytest.raises(services.VerificationPending):
        services.address_change_request(
            customer=customer, user=customer_user, email="inny@example.pl", now=NOW, ip_address=None, base_url=BASE
        )

    assert snapshot(customer) == before


def test_after_a_change_link_expires_a_new_address_may_be_given(
    customer, customer_user, active, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.address_change_request(
            customer=customer, user=customer_user, email="nowy@example.pl", now=NOW, ip_address=None, base_url=BASE
        )
    later = NOW + timedelta(days=5)

    with django_capture_on_commit_callbacks(execute=True):
        services.address_change_request(
            customer=customer, user=customer_user, email="inny@example.pl", now=later, ip_address=None, base_url=BASE
        )

    assert list(AddressVerification.objects.filter(cancelled_at__isnull=True).values_list("email", flat=True)) == [
        "inny@example.pl"
    ]


def test_an_address_change_to_the_same_address_is_refused(customer, customer_user, active):
    with pytest.raises(services.SameAddress):
        services.address_change_request(
            customer=customer,
            user=customer_user,
            email=customer_user.email.upper(),
            now=NOW,
            ip_address=None,
            base_url=BASE,
        )


def test_resignation_ends_e_invoices_from_the_given_day_with_the_postal_address(customer, customer_user, active):
    consent = services.resignation_submit(
        customer=customer,
        user=customer_user,
        paper_from=date(2026, 12, 1),
        address=HOME,
        now=NOW,
        ip_address="192.0.2.7",
    )

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ENDED
    assert consent.ends_on == date(2026, 12, 1)
    assert consent.paper_address == "ul. Słowackiego 12/4, 37-700 Przemyśl"
    [message] = einvoice_messages("end")
    assert message.payload["paper_from"] == "2026-12-01"
    assert message.payload["paper_address"]["city"] == "Przemyśl"
    assert Case.objects.filter(case_type=CaseType.EINVOICE_RESIGNATION).count() == 1
    assert consent.events.order_by("-id").first().kind == EventKind.RESIGNED


def test_a_resignation_date_in_the_past_is_refused_and_changes_nothing(customer, customer_user, active):
    before = snapshot(customer)

    with pytest.raises(services.ResignationDateInPast, match="nie może być w przeszłości"):
        services.resignation_submit(
            customer=customer,
            user=customer_user,
            paper_from=date(2026, 11, 20),
            address=HOME,
            now=NOW,
            ip_address=None,
        )

    assert snapshot(customer) == before


def test_resigning_while_a_link_waits_makes_the_link_useless(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(customer, customer_user, terms, "ksiegowosc@example.pl")
    token = token_from_mail()
    services.resignation_submit(
        customer=customer, user=customer_user, paper_from=NOW.date(), address=HOME, now=NOW, ip_address=None
    )

    with pytest.raises(services.VerificationInvalid):
        services.verification_confirm(token=token, now=NOW, ip_address=None)
    assert Consent.objects.get(customer=customer).status == ConsentStatus.ENDED


def test_after_resigning_the_customer_may_opt_in_again(customer, customer_user, terms, active):
    services.resignation_submit(
        customer=customer, user=customer_user, paper_from=NOW.date(), address=HOME, now=NOW, ip_address=None
    )

    again = request(customer, customer_user, terms, customer_user.email, now=NOW + timedelta(days=1))

    assert again.status == ConsentStatus.ACTIVE
    assert Consent.objects.filter(customer=customer).count() == 2


def test_a_partial_manager_cannot_switch_e_invoices_on_change_or_end_them(customer, partial_manager, terms, active):
    before = snapshot(customer)

    with pytest.raises(services.SwitchNotAllowed):
        services.address_change_request(
            customer=customer,
            user=partial_manager,
            email="zarzadca@example.pl",
            now=NOW,
            ip_address=None,
            base_url=BASE,
        )
    with pytest.raises(services.SwitchNotAllowed):
        services.resignation_submit(
            customer=customer, user=partial_manager, paper_from=NOW.date(), address=HOME, now=NOW, ip_address=None
        )

    assert snapshot(customer) == before


def test_a_partial_manager_cannot_opt_in(customer, partial_manager, terms):
    with pytest.raises(services.SwitchNotAllowed):
        request(customer, partial_manager, terms, "zarzadca@example.pl")

    assert not Consent.objects.exists()


def test_a_manager_of_all_points_may_opt_in(customer, full_manager, terms):
    consent = request(customer, full_manager, terms, full_manager.email)

    assert consent.status == ConsentStatus.ACTIVE
    assert consent.accepted_by == full_manager
