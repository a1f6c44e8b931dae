"""Account deletion carried out: personal data erased, tax records kept with a purge date, then purged."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ConsentKind, ContactChange, CustomerAccess, DeletionRequest, LoginEvent, User
from billing import services as billing_services
from billing.models import CalendarFeed, Invoice, Payment
from core.models import AuditLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(customer):
    """Two years of invoices and payments, and the account's own traces: login history, a contact change."""
    point = customer.delivery_points.get()
    factories.InvoiceFactory(customer=customer, delivery_point=point, number="FV/1/2024", issue_date=date(2024, 3, 1))
    factories.InvoiceFactory(customer=customer, delivery_point=point, number="FV/2/2025", issue_date=date(2025, 3, 1))
    factories.PaymentFactory(customer=customer, paid_date=date(2025, 3, 20))
    return customer


def with_balance(customer, amount: str):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal(amount), overdue=Decimal("0"))


def signed_in_client(user) -> Client:
    client = Client()
    factories.sign_in_recently(client, user)
    return client


def ask_for_deletion(client, captured):
    with captured(execute=True):
        return client.post(reverse("accounts:deletion-request"), {"reason": "Przeprowadzka", "confirm": "on"})


def assert_erased(user_pk: int, old_email: str) -> None:
    user = User.objects.get(pk=user_pk)
    assert user.username == f"deleted-{user_pk}"
    assert (user.email, user.first_name, user.last_name, str(user.phone), user.is_active) == ("", "", "", "", False)
    assert not user.has_usable_password()
    assert not EmailAddress.objects.filter(user_id=user_pk).exists()
    assert not CustomerAccess.objects.filter(user_id=user_pk).exists()
    assert not ContactChange.objects.filter(user_id=user_pk).exists()
    assert not LoginEvent.objects.filter(user_id=user_pk).exclude(ip_address=None).exists()
    assert not CalendarFeed.objects.filter(user_id=user_pk).exists()
    assert [m.to for m in mail.outbox] == [[old_email]]
    assert AuditLogEntry.objects.filter(action="accounts.account_erased", object_id=str(user_pk)).exists()


def test_with_nothing_owed_the_account_is_deleted_at_once(
    customer_user, history, django_capture_on_commit_callbacks, settings
):
    with_balance(history, "0.00")
    old_email = customer_user.email
    LoginEvent.objects.create(user=customer_user, occurred_at=timezone.now(), succeeded=True, ip_address="192.0.2.5")
    billing_services.calendar_feed_issue(user=customer_user, now=timezone.now())
    client = signed_in_client(customer_user)

    response = ask_for_deletion(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert DeletionRequest.objects.get().status == "DONE"
    assert_erased(customer_user.pk, old_email)
    assert "usunięte" in mail.outbox[0].subject
    assert client.get(reverse("pages:dashboard")).status_code == 302  # signed out, and stays so
    old_login = Client().post(reverse("account_login"), {"login": history.number, "password": factories.PASSWORD})
    assert "_auth_user_id" not in old_login.wsgi_request.session


def test_tax_records_are_kept_and_marked_with_their_purge_date(
    customer_user, history, django_capture_on_commit_callbacks
):
    with_balance(history, "-12.00")  # an overpayment is nothing owed

    ask_for_deletion(signed_in_client(customer_user), django_capture_on_commit_callbacks)

    purge = dict(Invoice.objects.values_list("number", "purge_after"))
    assert purge == {"FV/1/2024": date(2029, 12, 31), "FV/2/2025": date(2030, 12, 31)}
    assert Payment.objects.get().purge_after == date(2030, 12, 31)
    history.refresh_from_db()  # the customer, as the billing system keeps it, is still mirrored


def test_with_a_debt_the_office_approves_then_the_account_is_erased(
    customer_user, history, django_capture_on_commit_callbacks
):
    with_balance(history, "120.00")
    old_email = customer_user.email
    client = signed_in_client(customer_user)

    response = ask_for_deletion(client, django_capture_on_commit_callbacks)

    request = DeletionRequest.objects.get()
    assert response["Location"] == reverse("accounts:settings")
    assert request.status == "OPEN"
    assert User.objects.get(pk=customer_user.pk).is_active
    assert mail.outbox == []

    clerk = factories.UserFactory(username="bok", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        closed = services.deletion_request_close(request=request, status="DONE", actor=clerk, now=timezone.now())

    assert closed
    request.refresh_from_db()
    assert (request.status, request.handled_by, request.username) == ("DONE", clerk, f"deleted-{customer_user.pk}")
    assert_erased(customer_user.pk, old_email)
    assert Invoice.objects.filter(purge_after__isnull=False).count() == 2


def test_a_rejected_request_deletes_nothing(customer_user, history, django_capture_on_commit_callbacks):
    with_balance(history, "120.00")
    ask_for_deletion(signed_in_client(customer_user), django_capture_on_commit_callbacks)
    clerk = factories.UserFactory(username="bok", is_staff=True)

    services.deletion_request_close(
        request=DeletionRequest.objects.get(), status="REJECTED", actor=clerk, now=timezone.now()
    )

    assert User.objects.get(pk=customer_user.pk).username == customer_user.username
    assert not Invoice.objects.filter(purge_after__isnull=False).exists()


def test_the_scheduled_purge_removes_only_marked_records_past_their_date(
    customer_user, history, django_capture_on_commit_callbacks
):
    with_balance(history, "0.00")
    ask_for_deletion(signed_in_client(customer_user), django_capture_on_commit_callbacks)
    untouched = factories.InvoiceFactory(number="FV/OLD/2019", issue_date=date(2019, 1, 10))

    on_the_day = billing_services.tax_records_purge(today=date(2029, 12, 31))
    after = billing_services.tax_records_purge(today=date(2030, 1, 1))

    assert on_the_day == {"online_payments": 0, "payments": 0, "invoices": 0}
    assert after["invoices"] >= 1
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["FV/2/2025", untouched.number]
    assert Payment.objects.count() == 1


def test_the_purge_runs_every_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["billing-tax-records-purge"]

    assert entry["task"] == "billing.tasks.tax_records_purge"


def test_notifications_sent_to_the_account_and_its_phone_verifications_go_too(
    customer_user, history, django_capture_on_commit_callbacks
):
    from notices.models import Notification, PhoneVerification

    with_balance(history, "0.00")
    now = timezone.now()
    Notification.objects.create(
        user=customer_user,
        kind="NEW_INVOICE",
        channel="EMAIL",
        object_key="invoice:1",
        recipient=customer_user.email,
        subject="Nowa faktura",
        body="...",
        created_at=now,
    )
    PhoneVerification.objects.create(
        user=customer_user, phone="+48600100200", code_hash="x", created_at=now, expires_at=now + timedelta(minutes=5)
    )

    ask_for_deletion(signed_in_client(customer_user), django_capture_on_commit_callbacks)

    assert not Notification.objects.filter(user_id=customer_user.pk).exists()
    assert not PhoneVerification.objects.filter(user_id=customer_user.pk).exists()


def test_consents_keep_their_dates_but_not_the_address(customer_user, history, django_capture_on_commit_callbacks):
    with_balance(history, "0.00")
    consent = customer_user.consents.create(
        kind=ConsentKind.TERMS, recorded_at=timezone.now(), ip_address="192.0.2.1", user_agent="Firefox"
    )

    ask_for_deletion(signed_in_client(customer_user), django_capture_on_commit_callbacks)

    consent.refresh_from_db()
    assert (consent.ip_address, consent.user_agent) == (None, "")
