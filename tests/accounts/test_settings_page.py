"""The settings page: customer numbers, contact data through the outbox, language, consents, export, deletion."""

import json

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import signals
from accounts.models import (
    Consent,
    ConsentKind,
    ContactChange,
    CustomerAccess,
    DeletionRequest,
    LoginEvent,
    User,
)
from core.models import AuditLogEntry, OutboxMessage
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, customer_user):
    factories.sign_in_recently(client, customer_user)
    return client


def contact_form(customer, **changes):
    return {
        "customer": customer.pk,
        "street": "ul. Mickiewicza",
        "building": "7",
        "apartment": "12",
        "postal_code": "37-700",
        "city": "Przemyśl",
        "phone": "+48 600 200 300",
        **changes,
    }


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("accounts:settings"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_settings_show_numbers_contact_security_consents_and_data(signed_in, customer, customer_user, terms):
    Consent.objects.create(
        user=customer_user,
        kind=ConsentKind.TERMS,
        terms_version=terms,
        recorded_at=timezone.now(),
        ip_address="192.0.2.1",
    )

    response = signed_in.get(reverse("accounts:settings"))

    html = response.content.decode()
    assert response.status_code == 200
    assert customer.number in html
    assert customer.address in html
    for url in [
        "account_email",
        "account_change_password",
        "mfa_index",
        "accounts:data-export",
        "accounts:customer-add",
    ]:
        assert reverse(url) in html
    assert "Akceptacja regulaminu" in html
    assert "2026-01" in html


def _add_rows(user, terms, count):
    for n in range(count):
        Consent.objects.create(user=user, kind=ConsentKind.TERMS, terms_version=terms, recorded_at=timezone.now())
        LoginEvent.objects.create(user=user, occurred_at=timezone.now(), succeeded=n % 2 == 0, identifier="x")
        factories.CustomerAccessFactory(user=user, customer=factories.CustomerFactory())


def test_settings_page_runs_the_same_queries_for_one_row_and_many(signed_in, customer_user, terms):
    _add_rows(customer_user, terms, 1)
    signed_in.get(reverse("accounts:settings"))  # the terms check is then remembered in the session
    with CaptureQueriesContext(connection) as one_row:
        signed_in.get(reverse("accounts:settings"))
    _add_rows(customer_user, terms, 11)

    with CaptureQueriesContext(connection) as many_rows:
        signed_in.get(reverse("accounts:settings"))

    # session, user, customers (+2 cursors for the select), changes, consents, logins, deletion, MFA, terms,
    # the session save, and the navigation's counters from other apps.
    assert len(many_rows) == len(one_row) <= 16


def test_contact_change_is_saved_and_queued_for_billing_in_one_transaction(signed_in, customer, customer_user):
    response = signed_in.post(reverse("accounts:contact-update"), contact_form(customer))

    assert response.status_code == 302
    change = ContactChange.objects.get()
    assert change.address == "ul. Mickiewicza 7/12, 37-700 Przemyśl"
    message = OutboxMessage.objects.get()
    assert (message.kind, message.customer_number) == ("contact_change", customer.number)
    assert message.payload["correspondence_address"]["city"] == "Przemyśl"
    assert message.payload["phone"] == "+48600200300"
    customer_user.refresh_from_db()
    assert str(customer_user.phone) == "+48600200300"
    assert "ul. Mickiewicza 7/12" in signed_in.get(reverse("accounts:settings")).content.decode()


def test_bad_postal_code_gets_a_clear_error_and_changes_nothing(signed_in, customer):
    response = signed_in.post(reverse("accounts:contact-update"), contact_form(customer, postal_code="37700"))

    assert response.status_code == 400
    assert "Wpisz kod pocztowy w postaci 00-000." in response.content.decode()
    assert not ContactChange.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_another_customers_contact_data_cannot_be_changed(signed_in):
    stranger = factories.CustomerFactory()

    response = signed_in.post(reverse("accounts:contact-update"), contact_form(stranger))

    assert response.status_code == 400
    assert not ContactChange.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_manager_of_some_points_cannot_change_a_customers_contact_data(client):
    manager = factories.UserFactory()
    managed = factories.CustomerFactory()
    factories.CustomerAccessFactory(user=manager, customer=managed, role="MANAGER", all_points=False)
    factories.sign_in_recently(client, manager)

    response = client.post(reverse("accounts:contact-update"), contact_form(managed))

    assert response.status_code == 400
    assert not OutboxMessage.objects.exists()


def test_language_choice_is_kept_for_emails_and_the_portal(signed_in, customer_user):
    response = signed_in.post(reverse("accounts:language-update"), {"language": "uk"})

    customer_user.refresh_from_db()
    assert customer_user.language == "uk"
    assert response.cookies["django_language"].value == "uk"


def test_an_unknown_language_is_refused(signed_in, customer_user):
    signed_in.post(reverse("accounts:language-update"), {"language": "de"})

    customer_user.refresh_from_db()
    assert customer_user.language == "pl"


def test_data_export_is_a_json_file_of_everything_held(signed_in, customer, customer_user, terms):
    Consent.objects.create(user=customer_user, kind=ConsentKind.TERMS, terms_version=terms, recorded_at=timezone.now())
    LoginEvent.objects.create(user=customer_user, occurred_at=timezone.now(), succeeded=True, ip_address="192.0.2.5")
    signed_in.post(reverse("accounts:contact-update"), contact_form(customer))

    response = signed_in.get(reverse("accounts:data-export"))

    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="ibok-data-')
    data = json.loads(response.content)
    assert data["account"]["email"] == customer_user.email
    assert data["customers"][0]["customer_number"] == customer.number
    assert data["consents"][0]["terms_version"] == "2026-01"
    assert data["contact_changes"][0]["address_for_letters"].startswith("ul. Mickiewicza")
    assert "192.0.2.5" in [event["ip_address"] for event in data["login_history"]]
    assert AuditLogEntry.objects.filter(action="accounts.data_exported", actor=customer_user).exists()


def test_other_apps_can_add_a_section_to_the_export(signed_in):
    from accounts import exports

    exports.register_export_section("cases", lambda *, user: [{"subject": "Awaria"}])
    try:
        data = json.loads(signed_in.get(reverse("accounts:data-export")).content)
    finally:
        exports._sections.pop("cases")

    assert data["cases"] == [{"subject": "Awaria"}]


def test_deletion_request_is_recorded_audited_and_not_repeated(signed_in, customer_user):
    first = signed_in.post(reverse("accounts:deletion-request"), {"reason": "Przeprowadzka", "confirm": "on"})
    second = signed_in.post(reverse("accounts:deletion-request"), {"confirm": "on"})

    assert first.status_code == 302
    request = DeletionRequest.objects.get()
    assert (request.user, request.reason, request.status) == (customer_user, "Przeprowadzka", "OPEN")
    assert AuditLogEntry.objects.filter(action="accounts.deletion_requested").count() == 1
    assert second.status_code == 400
    assert "Twój wcześniejszy wniosek nadal czeka" in second.content.decode()


def test_deletion_request_needs_the_confirmation(signed_in):
    response = signed_in.post(reverse("accounts:deletion-request"), {"reason": "x"})

    assert response.status_code == 400
    assert not DeletionRequest.objects.exists()


def test_another_customer_number_is_added_after_the_same_proof(
    signed_in, customer_user, django_capture_on_commit_callbacks
):
    other = factories.CustomerFactory(number="310777")
    factories.InvoiceFactory(customer=other, number="FV/00077/11/2026")
    received = []
    signals.account_activated.connect(receiver := lambda **kw: received.append(kw["customer_ids"]))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in.post(
                reverse("accounts:customer-add"), {"customer_number": "310777", "invoice_number": "FV/00077/11/2026"}
            )
    finally:
        signals.account_activated.disconnect(receiver)

    assert response.status_code == 302
    assert CustomerAccess.objects.filter(user=customer_user, customer=other, role="OWNER").exists()
    assert received == [[other.pk]]  # the billing sync refreshes the added customer at once


@pytest.mark.parametrize("case", ["wrong_invoice", "unknown_number", "someone_elses"])
def test_adding_a_customer_number_with_bad_proof_gives_one_answer_and_changes_nothing(signed_in, customer_user, case):
    other = factories.CustomerFactory(number="310777")
    factories.InvoiceFactory(customer=other, number="FV/00077/11/2026")
    if case == "someone_elses":
        factories.CustomerAccessFactory(customer=other)
    data = {
        "wrong_invoice": {"customer_number": "310777", "invoice_number": "FV/99999/11/2026"},
        "unknown_number": {"customer_number": "999111", "invoice_number": "FV/00077/11/2026"},
        "someone_elses": {"customer_number": "310777", "invoice_number": "FV/00077/11/2026"},
    }[case]

    response = signed_in.post(reverse("accounts:customer-add"), data)

    assert response.status_code == 400
    assert "Podane dane nie zgadzają się z naszymi." in response.content.decode()
    assert not CustomerAccess.objects.filter(user=customer_user, customer__number__in=["310777", "999111"]).exists()


def test_adding_a_customer_number_is_throttled(signed_in):
    for _attempt in range(5):
        signed_in.post(reverse("accounts:customer-add"), {"customer_number": "310777", "invoice_number": "FV/1"})

    response = signed_in.post(reverse("accounts:customer-add"), {"customer_number": "310777", "invoice_number": "FV/1"})

    assert response.status_code == 429
    assert "Zbyt wiele prób" in response.content.decode()


def test_email_change_goes_through_allauths_verification(signed_in, customer_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("account_email"), {"action_add": "", "email": "anna.nowy@example.pl"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["anna.nowy@example.pl"]
    assert User.objects.get(pk=customer_user.pk).email == customer_user.email  # unchanged until verified
