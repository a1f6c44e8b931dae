"""Registration by customer number and proof, the e-mail link, the password and the activation e-mail."""

import re
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services, signals, tasks
from accounts.models import (
    AccessRole,
    Consent,
    ConsentKind,
    CustomerAccess,
    Registration,
    RegistrationStatus,
    User,
)
from tests import factories

pytestmark = pytest.mark.django_db

STRONG = "Rzeka-Bystra-2026"


def register(client, form, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:register"), form, **extra)


def link_from(message) -> str:
    return re.search(r"https?://\S+/register/confirm/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_registration_page_asks_for_number_proof_contact_and_consents(client, terms):
    response = client.get(reverse("accounts:register"))

    html = response.content.decode()
    assert response.status_code == 200
    for name in [
        "customer_number",
        "invoice_number",
        "amount",
        "email",
        "phone",
        "accept_terms",
        "accept_data_processing",
        "einvoice",
    ]:
        assert f'name="{name}"' in html
    assert reverse("accounts:terms") in html


def test_correct_details_send_a_verification_link_and_create_no_account_yet(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    response = register(client, registration_form, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-sent")
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.PENDING
    assert registration.customer == invoiced_customer
    assert not User.objects.filter(email="anna.nowa@example.pl").exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["anna.nowa@example.pl"]
    assert "/register/confirm/" in mail.outbox[0].body
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_invoice_number_is_compared_without_spaces_and_case(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    registration_form["invoice_number"] = " fv/02291/11/2026 "

    register(client, registration_form, django_capture_on_commit_callbacks)

    assert Registration.objects.get().status == RegistrationStatus.PENDING


def test_housing_community_tenant_proves_with_the_last_settlement_amount(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    gross = invoiced_customer.invoices.order_by("-issue_date").first().gross
    registration_form.update(invoice_number="", amount=str(gross).replace(".", ","))

    register(client, registration_form, django_capture_on_commit_callbacks)

    assert Registration.objects.get().status == RegistrationStatus.PENDING
    assert len(mail.outbox) == 1


def test_an_older_invoice_number_does_not_prove_anything(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    registration_form["invoice_number"] = "FV/01873/10/2026"

    register(client, registration_form, django_capture_on_commit_callbacks)

    assert Registration.objects.get().status == RegistrationStatus.REJECTED
    assert mail.outbox == []


def _answer(client, form, django_capture_on_commit_callbacks):
    with CaptureQueriesContext(connection) as queries:
        response = register(client, form, django_capture_on_commit_callbacks)
    followed = client.get(response["Location"])
    return {
        "status": response.status_code,
        "location": response["Location"],
        "cookies": sorted(response.cookies.keys()),
        # The CSRF token is masked anew for every response; everything else must be the same.
        "page": re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", followed.content.decode()),
        "queries": [re.sub(r"\d+", "N", q["sql"].split(" WHERE ")[0]) for q in queries.captured_queries],
    }


def test_wrong_pair_unknown_number_and_registered_customer_get_the_same_answer(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    owner = factories.UserFactory(username="204518", email="wlasciciel@example.pl")
    factories.CustomerAccessFactory(user=owner, customer=invoiced_customer)
    other = factories.CustomerFactory(number="555001")
    factories.InvoiceFactory(customer=other, number="FV/00001/11/2026")

    wrong_pair = _answer(client, {**registration_form, "customer_number": "555001"}, django_capture_on_commit_callbacks)
    unknown = _answer(client, {**registration_form, "customer_number": "999999"}, django_capture_on_commit_callbacks)
    taken = _answer(client, registration_form, django_capture_on_commit_callbacks)

    assert wrong_pair == unknown == taken
    assert wrong_pair["status"] == 302
    assert "Sprawdź skrzynkę e-mail" in wrong_pair["page"]
    assert [r.status for r in Registration.objects.order_by("id")] == [
        RegistrationStatus.REJECTED,
        RegistrationStatus.REJECTED,
        RegistrationStatus.ALREADY_REGISTERED,
    ]
    assert User.objects.count() == 1


def test_true_owner_of_an_already_registered_number_is_told_by_email(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    owner = factories.UserFactory(username="204518", email="wlasciciel@example.pl", language="en")
    factories.CustomerAccessFactory(user=owner, customer=invoiced_customer)

    register(client, registration_form, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wlasciciel@example.pl"]
    assert "Someone tried to register customer number 204518" in mail.outbox[0].body
    assert "/register/confirm/" not in mail.outbox[0].body


def test_an_email_that_already_has_an_account_is_told_to_add_the_number_instead(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    factories.UserFactory(username="301000", email="anna.nowa@example.pl", language="en")

    register(client, registration_form, django_capture_on_commit_callbacks)

    assert Registration.objects.get().status == RegistrationStatus.EMAIL_TAKEN
    assert len(mail.outbox) == 1
    assert "Add a customer number" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"invoice_number": "", "amount": ""}, None, "Podaj numer ostatniej faktury lub kwotę ostatniego rozliczenia."),
        ({"accept_terms": ""}, "accept_terms", "To pole jest wymagane."),
        ({"accept_data_processing": ""}, "accept_data_processing", "To pole jest wymagane."),
        ({"email": "anna.nowa@"}, "email", "Wprowadź poprawny adres email."),
        ({"customer_number": ""}, "customer_number", "To pole jest wymagane."),
        ({"amount": "-5", "invoice_number": ""}, "amount", "Upewnij się, że ta wartość jest większa lub równa 0.01."),
    ],
)
def test_bad_input_gets_a_clear_error_and_records_nothing(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks, change, field, message
):
    registration_form.update(change)

    response = register(client, registration_form, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in errors[field or "__all__"]
    assert message in response.content.decode()
    assert not Registration.objects.exists()
    assert mail.outbox == []


def test_registration_attempts_are_throttled_per_customer_number(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    registration_form["invoice_number"] = "FV/zgaduje"
    for _attempt in range(5):
        register(client, registration_form, django_capture_on_commit_callbacks)

    response = register(
        client, {**registration_form, "invoice_number": "FV/02291/11/2026"}, django_capture_on_commit_callbacks
    )

    assert response.status_code == 429
    assert "Zbyt wiele prób rejestracji" in response.content.decode()
    assert Registration.objects.count() == 5
    assert not Registration.objects.filter(status=RegistrationStatus.PENDING).exists()


def test_registration_attempts_are_throttled_per_real_client_address_behind_the_proxy(
    client, invoiced_customer, registration_form, settings, django_capture_on_commit_callbacks
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "REMOTE_ADDR": "10.0.0.2"}
    for number in range(20):
        register(
            client,
            {**registration_form, "customer_number": f"9{number:05d}"},
            django_capture_on_commit_callbacks,
            **attacker,
        )

    blocked = register(client, registration_form, django_capture_on_commit_callbacks, **attacker)
    neighbour = register(
        client,
        registration_form,
        django_capture_on_commit_callbacks,
        HTTP_X_FORWARDED_FOR="198.51.100.20",
        REMOTE_ADDR="10.0.0.2",
    )

    assert blocked.status_code == 429
    assert neighbour.status_code == 302
    assert Registration.objects.filter(ip_address="203.0.113.7").count() == 20
    assert Registration.objects.filter(status=RegistrationStatus.PENDING).get().ip_address == "198.51.100.20"


def test_allauths_own_signup_page_leads_to_the_registration(client):
    response = client.get(reverse("account_signup"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register")


@pytest.fixture
def pending_link(client, invoiced_customer, registration_form, django_capture_on_commit_callbacks):
    registration_form["einvoice"] = "on"
    register(client, registration_form, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return path_of(link_from_registration())


def link_from_registration() -> str:
    registration = Registration.objects.get(status=RegistrationStatus.PENDING)
    return "http://testserver" + reverse(
        "accounts:register-confirm", kwargs={"token": services.registration_token(registration=registration)}
    )


def test_the_link_shows_the_password_rules_beside_the_field(client, pending_link):
    response = client.get(pending_link)

    html = response.content.decode()
    assert response.status_code == 200
    assert "co najmniej 10 znaków" in html
    assert "musi zawierać wielką literę, małą literę i cyfrę" in html
    assert "nie może zawierać nazwy przedsiębiorstwa" in html


def test_setting_a_password_activates_the_account_records_consents_and_sends_the_confirmation(
    client, pending_link, invoiced_customer, terms, django_capture_on_commit_callbacks
):
    activated, einvoice = mock.Mock(), mock.Mock()
    signals.account_activated.connect(activated)
    signals.einvoice_requested_at_registration.connect(einvoice)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(pending_link, {"password1": STRONG, "password2": STRONG}, REMOTE_ADDR="192.0.2.10")
    finally:
        signals.account_activated.disconnect(activated)
        signals.einvoice_requested_at_registration.disconnect(einvoice)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    user = User.objects.get(username="204518")
    assert user.check_password(STRONG)
    assert user.email == "anna.nowa@example.pl"
    assert str(user.phone) == "+48600100200"
    assert EmailAddress.objects.get(user=user).verified
    assert CustomerAccess.objects.get(user=user).role == AccessRole.OWNER
    consents = {c.kind: c for c in Consent.objects.filter(user=user)}
    assert set(consents) == {ConsentKind.TERMS, ConsentKind.DATA_PROCESSING, ConsentKind.EINVOICE}
    assert all(c.terms_version == terms and c.ip_address == "192.0.2.10" for c in consents.values())
    assert len(mail.outbox) == 1
    assert "204518" in mail.outbox[0].body
    assert STRONG not in mail.outbox[0].body
    activated.assert_called_once()
    assert activated.call_args.kwargs["customer_ids"] == [invoiced_customer.pk]
    einvoice.assert_called_once()
    assert Registration.objects.get().einvoice_requested is True


def test_the_activated_user_signs_in_with_the_customer_number(client, pending_link, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pending_link, {"password1": STRONG, "password2": STRONG})

    response = client.post(reverse("account_login"), {"login": "204518", "password": STRONG})

    assert response.status_code == 302
    assert response["Location"] == reverse("pages:dashboard")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1cdEf2g", "To hasło jest za krótkie. Musi zawierać co najmniej 10 znaków."),
        ("wodociagi2026", "jedną wielką literę"),
        ("WODOCIAGI2026", "jedną wielką literę"),
        ("Wodociagi", "jedną wielką literę"),
        ("Password1", "To hasło jest zbyt powszechne."),
        ("204518Aa", "Hasło jest zbyt podobne"),
    ],
)
def test_weak_password_is_rejected_with_its_rule_and_nothing_changes(
    client, pending_link, django_capture_on_commit_callbacks, password, message
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pending_link, {"password1": password, "password2": password})

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["password1"])
    assert not User.objects.filter(username="204518").exists()
    assert Registration.objects.get().status == RegistrationStatus.PENDING
    assert mail.outbox == []


def test_different_passwords_are_rejected(client, pending_link):
    response = client.post(pending_link, {"password1": STRONG, "password2": STRONG + "x"})

    assert "Hasła się różnią." in response.context["form"].errors["password2"]
    assert not User.objects.filter(username="204518").exists()


def test_a_reused_link_says_the_account_is_already_active(client, pending_link, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pending_link, {"password1": STRONG, "password2": STRONG})

    again = client.post(pending_link, {"password1": "Inne2026haslo", "password2": "Inne2026haslo"})

    assert again.status_code == 400
    assert "Ten link został już użyty" in again.content.decode()
    assert User.objects.get(username="204518").check_password(STRONG)


def test_an_expired_link_says_so_and_creates_nothing(client, pending_link):
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = client.post(pending_link, {"password1": STRONG, "password2": STRONG})

    assert response.status_code == 400
    assert "Ten link wygasł" in response.content.decode()
    assert not User.objects.filter(username="204518").exists()


def test_a_tampered_link_is_rejected(client, pending_link):
    response = client.get(pending_link.replace("/confirm/", "/confirm/x"))

    assert response.status_code == 400
    assert "Ten link jest nieprawidłowy" in response.content.decode()


def test_a_customer_activated_meanwhile_by_another_link_is_not_registered_twice(
    client, pending_link, invoiced_customer, django_capture_on_commit_callbacks
):
    factories.CustomerAccessFactory(customer=invoiced_customer)

    response = client.post(pending_link, {"password1": STRONG, "password2": STRONG})

    assert response.status_code == 400
    assert not User.objects.filter(username="204518").exists()


def test_the_email_is_in_the_language_of_the_registration(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    client.cookies["django_language"] = "uk"

    register(client, registration_form, django_capture_on_commit_callbacks)

    assert Registration.objects.get().language == "uk"
    assert mail.outbox[0].body.startswith("Добрий день,")
    assert mail.outbox[0].subject == "Підтвердьте адресу та встановіть пароль до iBOK"


def test_the_registration_task_run_twice_sends_one_email(
    client, invoiced_customer, registration_form, django_capture_on_commit_callbacks
):
    register(client, registration_form, django_capture_on_commit_callbacks)
    registration = Registration.objects.get()

    tasks.registration_email_send.delay(registration_id=registration.pk, base_url="http://testserver/")

    assert len(mail.outbox) == 1


def test_a_failed_smtp_send_gives_the_claim_back_for_the_retry(invoiced_customer, registration_form, terms):
    registration = services.registration_submit(
        customer_number="204518",
        invoice_number="FV/02291/11/2026",
        amount=None,
        email="anna.nowa@example.pl",
        phone="",
        einvoice_requested=False,
        language="pl",
        ip_address="192.0.2.1",
        base_url="http://testserver/",
        now=timezone.now(),
    )
    smtp_down = mock.patch("core.emails.EmailMultiAlternatives.send", side_effect=OSError("SMTP down"))
    with smtp_down, pytest.raises(OSError):
        services.registration_email_deliver(
            registration_id=registration.pk, base_url="http://testserver/", now=timezone.now()
        )
    registration.refresh_from_db()
    assert registration.email_sent_at is None

    services.registration_email_deliver(
        registration_id=registration.pk, base_url="http://testserver/", now=timezone.now()
    )

    assert len(mail.outbox) == 1


def test_captcha_when_enabled_is_required_and_widens_the_csp_on_this_page_only(
    client, invoiced_customer, registration_form, settings, django_capture_on_commit_callbacks
):
    settings.IBOK_RECAPTCHA_ENABLED = True
    settings.RECAPTCHA_PUBLIC_KEY = "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"
    settings.RECAPTCHA_PRIVATE_KEY = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"

    page = client.get(reverse("accounts:register"))
    failed = mock.Mock(is_valid=False, error_codes=["invalid-input-response"], extra_data={})
    with mock.patch("django_recaptcha.fields.client.submit", return_value=failed):
        refused = register(
            client, {**registration_form, "g-recaptcha-response": "x"}, django_capture_on_commit_callbacks
        )
    passed = mock.Mock(is_valid=True, error_codes=[], extra_data={})
    with mock.patch("django_recaptcha.fields.client.submit", return_value=passed) as google:
        accepted = register(
            client, {**registration_form, "g-recaptcha-response": "ok"}, django_capture_on_commit_callbacks
        )

    assert "https://www.google.com/recaptcha/" in page["Content-Security-Policy"]
    assert "<script>" not in page.content.decode()
    assert "https://www.google.com/recaptcha/" not in client.get(reverse("account_login"))["Content-Security-Policy"]
    assert refused.status_code == 200
    assert "captcha" in refused.context["form"].errors
    assert accepted.status_code == 302
    assert google.call_args.kwargs["remoteip"] == "127.0.0.1"
    assert Registration.objects.count() == 1


def test_billing_checker_proves_only_the_latest_invoice_of_a_known_customer(invoiced_customer):
    from accounts import proofs

    assert proofs.proof_matches(customer=invoiced_customer, invoice_number="FV/02291/11/2026")
    assert not proofs.proof_matches(customer=None, invoice_number="FV/02291/11/2026")
    assert not proofs.proof_matches(customer=invoiced_customer, amount=Decimal("1.00"))
    assert not proofs.proof_matches(customer=invoiced_customer, invoice_number="FV/01873/10/2026")
