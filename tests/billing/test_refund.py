"""The overpayment refund: the page, the request (re-authenticated, one open at a time, through the outbox), and
staff's decision in the admin that e-mails the customer."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import forms, services
from billing.models import RefundMethod, RefundRequest, RefundStatus
from core.models import AuditLogEntry, OutboxMessage
from tests import factories
from tests.tickets.conftest import with_second_factor

pytestmark = pytest.mark.django_db

VALID_NRB = "50109010140000000012345678"
NRB_WITH_BAD_CHECKSUM = "51109010140000000012345678"


@pytest.fixture
def overpaid(customer):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("-123.45"))
    return customer


@pytest.fixture
def signed_in(client, customer_user):
    factories.sign_in_recently(client, customer_user)
    return client


def submit(client, customer, **data):
    return client.post(reverse("billing:refund-submit"), {"customer": customer.pk, **data})


def test_the_form_takes_an_account_with_spaces_and_the_country_code():
    form = forms.RefundForm(
        {"customer": "", "method": RefundMethod.BANK_TRANSFER, "bank_account": "PL50 1090 1014 0000 0000 1234 5678"},
        customers=RefundRequest.objects.none(),
    )
    form.is_valid()
    assert form.cleaned_data["bank_account"] == VALID_NRB
    assert "bank_account" not in form.errors


@pytest.mark.parametrize("account", [NRB_WITH_BAD_CHECKSUM, "5010901014000000001234567", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
def test_the_form_refuses_an_account_number_that_is_not_an_nrb(account):
    form = forms.RefundForm(
        {"method": RefundMethod.BANK_TRANSFER, "bank_account": account}, customers=RefundRequest.objects.none()
    )
    assert not form.is_valid()
    assert form.errors["bank_account"] == ["Podaj poprawny numer polskiego rachunku bankowego (26 cyfr)."]


def test_a_customer_without_an_overpayment_sees_an_explanation_not_a_form(signed_in, customer):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("50.00"))

    page = signed_in.get(reverse("billing:refund"))

    assert page.status_code == 200
    assert "Nie masz nadpłaty do zwrotu." in page.content.decode()
    assert reverse("billing:refund-submit") not in page.content.decode()


def test_a_customer_with_an_overpayment_asks_for_a_transfer_and_billing_gets_it(signed_in, overpaid, customer_user):
    page = signed_in.get(reverse("billing:refund"))
    assert reverse("billing:refund-submit") in page.content.decode()
    assert "123,45" in page.content.decode()

    response = submit(
        signed_in, overpaid, method=RefundMethod.BANK_TRANSFER, bank_account="50 1090 1014 0000 0000 1234 5678"
    )

    assert response.status_code == 302
    refund = RefundRequest.objects.get()
    assert (refund.customer, refund.user, refund.amount, refund.status, refund.bank_account) == (
        overpaid, customer_user, Decimal("123.45"), RefundStatus.REQUESTED, VALID_NRB
    )  # fmt: skip
    message = OutboxMessage.objects.get(kind="refund_request")
    assert message.customer_number == overpaid.number
    assert message.idempotency_key == f"refund_request:{refund.reference}"
    assert message.payload["bank_account"] == VALID_NRB
    assert message.payload["amount"] == "123.45"
    status_page = signed_in.get(reverse("billing:refund")).content.decode()
    assert refund.reference in status_page
    assert "Złożony" in status_page
    assert reverse("billing:refund-submit") not in status_page  # one open request at a time


def test_an_offset_needs_no_account(signed_in, overpaid):
    response = submit(signed_in, overpaid, method=RefundMethod.OFFSET, bank_account="")

    assert response.status_code == 302
    refund = RefundRequest.objects.get()
    assert (refund.method, refund.bank_account) == (RefundMethod.OFFSET, "")
    assert OutboxMessage.objects.get(kind="refund_request").payload["bank_account"] is None


def test_a_sign_in_older_than_five_minutes_asks_for_the_password_first(client, customer_user, overpaid):
    client.force_login(customer_user)  # no record of a recent sign-in

    response = submit(client, overpaid, method=RefundMethod.OFFSET)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not RefundRequest.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_wrong_account_number_is_a_clear_error_and_changes_nothing(signed_in, overpaid):
    response = submit(signed_in, overpaid, method=RefundMethod.BANK_TRANSFER, bank_account=NRB_WITH_BAD_CHECKSUM)

    assert response.status_code == 400
    assert "Podaj poprawny numer polskiego rachunku bankowego (26 cyfr)." in response.content.decode()
    assert not RefundRequest.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_second_request_while_one_is_open_is_refused(signed_in, overpaid):
    submit(signed_in, overpaid, method=RefundMethod.OFFSET)

    with pytest.raises(services.RefundRejected):
        services.refund_request_submit(
            customer=overpaid, user=None, method=RefundMethod.OFFSET, bank_account="", now=timezone.now()
        )
    assert RefundRequest.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="refund_request").count() == 1


def test_the_database_holds_one_open_request_per_customer(overpaid):
    RefundRequest.objects.create(
        reference="ZW-1", customer=overpaid, method=RefundMethod.OFFSET, amount=1, requested_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundRequest.objects.create(
            reference="ZW-2", customer=overpaid, method=RefundMethod.OFFSET, amount=1, requested_at=timezone.now()
        )


def test_a_decided_request_lets_the_customer_ask_again(signed_in, overpaid, staff):
    submit(signed_in, overpaid, method=RefundMethod.OFFSET)
    services.refund_request_decide(
        refund=RefundRequest.objects.get(), status=RefundStatus.REFUSED, actor=staff, note="", now=timezone.now()
    )

    response = submit(signed_in, overpaid, method=RefundMethod.OFFSET)

    assert response.status_code == 302
    assert RefundRequest.objects.filter(status=RefundStatus.REQUESTED).count() == 1


def test_another_customers_number_is_refused(client, overpaid, stranger):
    factories.CustomerBalanceFactory(customer=stranger, balance=Decimal("-10.00"))
    factories.sign_in_recently(client, stranger.user)

    response = submit(client, overpaid, method=RefundMethod.OFFSET)

    assert response.status_code == 400
    assert not RefundRequest.objects.exists()
    assert overpaid.number not in client.get(reverse("billing:refund")).content.decode()


def test_a_property_manager_cannot_ask_for_the_customers_money(client, overpaid):
    manager = factories.UserFactory(username="zarzadca")
    factories.CustomerAccessFactory(user=manager, customer=overpaid, role="MANAGER")
    factories.sign_in_recently(client, manager)

    page = client.get(reverse("billing:refund"))
    response = submit(client, overpaid, method=RefundMethod.OFFSET)

    assert reverse("billing:refund-submit") not in page.content.decode()
    assert response.status_code == 400
    assert not RefundRequest.objects.exists()


def test_the_page_reads_the_same_number_of_queries_for_one_request_and_many(signed_in, overpaid):
    def decided(number):
        RefundRequest.objects.create(
            reference=f"ZW-{number}", customer=overpaid, method=RefundMethod.BANK_TRANSFER, bank_account=VALID_NRB,
            amount=5, requested_at=timezone.now(), status=RefundStatus.PAID_OUT, decided_at=timezone.now(),
        )  # fmt: skip

    decided(1)
    signed_in.get(reverse("billing:refund"))  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        signed_in.get(reverse("billing:refund"))
    for number in range(2, 12):
        decided(number)
    with CaptureQueriesContext(connection) as many:
        page = signed_in.get(reverse("billing:refund"))

    assert len(many) == len(one)
    assert page.content.decode().count("ZW-") == 11


# --- staff --------------------------------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return with_second_factor(factories.UserFactory(username="ksiegowa", is_staff=True, is_superuser=True))


@pytest.fixture
def open_request(overpaid, customer_user):
    EmailAddress.objects.get_or_create(user=customer_user, email=customer_user.email, verified=True, primary=True)
    return services.refund_request_submit(
        customer=overpaid, user=customer_user, method=RefundMethod.BANK_TRANSFER, bank_account=VALID_NRB,
        now=timezone.now(),
    )  # fmt: skip


def test_staff_see_the_queue_and_mark_a_request_paid_out_which_emails_the_customer(
    client, staff, open_request, customer_user, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    queue = client.get(reverse("admin:billing_refundrequest_changelist"), {"status__exact": RefundStatus.REQUESTED})
    assert list(queue.context["cl"].result_list) == [open_request]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:billing_refundrequest_changelist"),
            {"action": "mark_paid_out", "_selected_action": [open_request.pk]},
        )

    open_request.refresh_from_db()
    assert (open_request.status, open_request.decided_by) == (RefundStatus.PAID_OUT, staff)
    assert [message.to for message in mail.outbox] == [[customer_user.email]]
    assert open_request.reference in mail.outbox[0].subject
    assert "Wypłacony" in mail.outbox[0].body
    assert AuditLogEntry.objects.filter(action="billing.refund_decided").count() == 1
    decision = OutboxMessage.objects.get(kind="refund_decision")  # the billing system pays out what was decided
    assert decision.idempotency_key == f"refund_decision:{open_request.reference}"
    assert decision.id > OutboxMessage.objects.get(kind="refund_request").id  # delivered after the request
    assert (decision.payload["decision"], decision.payload["amount"], decision.payload["bank_account"]) == (
        RefundStatus.PAID_OUT,
        str(open_request.amount),
        VALID_NRB,
    )


def test_a_refusal_with_a_note_on_the_request_page_reaches_the_customer(
    client, staff, open_request, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_refundrequest_change", args=[open_request.pk]),
            {"status": RefundStatus.REFUSED, "decision_note": "Nadpłata została już rozliczona."},
        )

    assert response.status_code == 302
    open_request.refresh_from_db()
    assert open_request.status == RefundStatus.REFUSED
    assert "Nadpłata została już rozliczona." in mail.outbox[0].body


def test_a_decided_request_is_not_decided_again(client, staff, open_request, django_capture_on_commit_callbacks):
    services.refund_request_decide(
        refund=open_request, status=RefundStatus.OFFSET, actor=staff, note="", now=timezone.now()
    )
    mail.outbox.clear()
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:billing_refundrequest_changelist"),
            {"action": "mark_refused", "_selected_action": [open_request.pk]},
        )

    open_request.refresh_from_db()
    assert open_request.status == RefundStatus.OFFSET
    assert mail.outbox == []
    assert [m.payload["decision"] for m in OutboxMessage.objects.filter(kind="refund_decision")] == ["OFFSET"]


def test_the_decision_email_is_in_the_customers_language(
    staff, open_request, customer_user, django_capture_on_commit_callbacks
):
    customer_user.language = "uk"
    customer_user.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_request_decide(
            refund=open_request, status=RefundStatus.OFFSET, actor=staff, note="", now=timezone.now()
        )

    assert mail.outbox[0].subject == f"Рішення щодо заяви на повернення {open_request.reference}"
    assert "Зараховано в рахунок рахунків-фактур" in mail.outbox[0].body
