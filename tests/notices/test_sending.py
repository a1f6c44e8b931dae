"""Sending: claimed once, a failing gateway retried with backoff and then failed for staff, new invoices hooked."""

from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessRole
from billing.models import Invoice
from billing.signals import invoices_imported
from core.models import AuditLogEntry
from notices import services, sms
from notices.models import Channel, Kind, LocalSms, Notification, NotificationStatus
from tests import factories
from tests.notices.conftest import MORNING, login_user_for, switch_on, verify_phone

pytestmark = pytest.mark.django_db


class FlakyGateway(sms.SmsBackend):
    """Fails the first `failures` sends, then records like the local backend."""

    failures = 0
    calls = 0

    def send(self, *, phone: str, text: str, reference: str) -> str:
        FlakyGateway.calls += 1
        if FlakyGateway.calls <= FlakyGateway.failures:
            raise sms.SmsSendFailed("503 Service Unavailable")
        return sms.LocalBackend().send(phone=phone, text=text, reference=reference)


@pytest.fixture
def flaky(settings):
    settings.IBOK_SMS_BACKEND = "tests.notices.test_sending.FlakyGateway"
    FlakyGateway.calls = 0
    FlakyGateway.failures = 0
    return FlakyGateway


def planned_sms(customer, user) -> Notification:
    """A PENDING SMS reminder of an invoice due in two days."""
    factories.InvoiceFactory(customer=customer, due_date=MORNING.date() + timedelta(days=2))
    switch_on(user, Kind.PAYMENT_DUE, channels=(Channel.SMS,))
    verify_phone(user)
    (notification_id,) = services.notifications_plan(
        candidates=services.payment_due_candidates(today=MORNING.date()), now=MORNING
    )
    return Notification.objects.get(pk=notification_id)


def test_a_notification_is_sent_once_however_often_it_is_asked_to(customer, customer_user):
    notification = planned_sms(customer, customer_user)

    outcomes = [services.notification_send(notification_id=notification.pk, now=MORNING) for _ in range(3)]

    assert [o.status for o in outcomes] == [NotificationStatus.SENT, "", ""]
    assert LocalSms.objects.count() == 1
    assert LocalSms.objects.get().reference == f"ibok-n{notification.pk}"


def test_a_claimed_notification_is_not_sent_by_a_second_sender(customer, customer_user):
    notification = planned_sms(customer, customer_user)
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.SENDING, claimed_at=MORNING)

    outcome = services.notification_send(notification_id=notification.pk, now=MORNING)

    assert outcome.status == ""
    assert LocalSms.objects.count() == 0


def test_a_failing_gateway_is_retried_with_growing_pauses_and_then_reported(customer, customer_user, flaky):
    flaky.failures = 99
    notification = planned_sms(customer, customer_user)

    first = services.notification_send(notification_id=notification.pk, now=MORNING)
    too_early = services.notification_send(notification_id=notification.pk, now=MORNING + timedelta(seconds=30))
    second = services.notification_send(notification_id=notification.pk, now=MORNING + timedelta(seconds=60))
    third = services.notification_send(notification_id=notification.pk, now=MORNING + timedelta(seconds=180))

    assert (first.status, first.retry_in) == (NotificationStatus.PENDING, 60)
    assert too_early.status == ""
    assert (second.status, second.retry_in) == (NotificationStatus.PENDING, 120)
    assert third.status == NotificationStatus.FAILED
    notification.refresh_from_db()
    assert notification.attempts == 3
    assert "503 Service Unavailable" in notification.last_error
    assert LocalSms.objects.count() == 0


def test_a_gateway_that_recovers_delivers_on_the_next_attempt(customer, customer_user, flaky):
    flaky.failures = 1
    notification = planned_sms(customer, customer_user)

    services.notification_send(notification_id=notification.pk, now=MORNING)
    outcome = services.notification_send(notification_id=notification.pk, now=MORNING + timedelta(minutes=1))

    assert outcome.status == NotificationStatus.SENT
    assert LocalSms.objects.count() == 1


def test_a_number_the_gateway_refuses_fails_at_once(customer, customer_user, settings):
    settings.IBOK_SMS_BACKEND = "tests.notices.gateways.RefusingGateway"
    notification = planned_sms(customer, customer_user)

    outcome = services.notification_send(notification_id=notification.pk, now=MORNING)

    assert outcome.status == NotificationStatus.FAILED
    assert Notification.objects.get().attempts == 1


def test_a_claim_left_by_a_dead_worker_is_failed_not_repeated(customer, customer_user):
    notification = planned_sms(customer, customer_user)
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.SENDING, claimed_at=MORNING)

    services.notifications_resume(now=MORNING + timedelta(minutes=16))

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert "Wysyłka została przerwana" in notification.last_error


def test_the_sweep_picks_up_a_pending_notification_whose_task_was_lost(customer, customer_user):
    notification = planned_sms(customer, customer_user)

    assert services.notifications_resume(now=MORNING + timedelta(minutes=1)) == []
    assert services.notifications_resume(now=MORNING + timedelta(minutes=3)) == [notification.pk]


def test_staff_send_a_failed_notification_again_from_the_admin(
    client, customer, customer_user, flaky, django_capture_on_commit_callbacks
):
    flaky.failures = 1
    notification = planned_sms(customer, customer_user)
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED, attempts=3)
    staff = factories.UserFactory(username="bok", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    flaky.calls = 1  # the gateway works again
    client.force_login(staff)

    failed_list = client.get(reverse("admin:notices_notification_changelist") + "?status=FAILED")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notices_notification_changelist"),
            {"action": "retry_failed", "_selected_action": [notification.pk]},
            follow=True,
        )

    assert notification.recipient in failed_list.content.decode()
    assert response.status_code == 200
    assert Notification.objects.get().status == NotificationStatus.SENT
    assert LocalSms.objects.count() == 1
    assert AuditLogEntry.objects.filter(action="notices.notification_retry", actor=staff).exists()


def test_recent_invoices_of_an_import_are_announced_and_old_history_is_not(
    customer, customer_user, point, django_capture_on_commit_callbacks
):
    switch_on(customer_user, Kind.NEW_INVOICE)
    today = timezone.localdate()
    recent = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/03000/11/2026", issue_date=today - timedelta(days=1)
    )
    old = factories.InvoiceFactory(customer=customer, number="FV/00100/01/2024", issue_date=today - timedelta(days=400))

    with django_capture_on_commit_callbacks(execute=True):
        invoices_imported.send(sender=Invoice, invoice_ids=[recent.pk, old.pk])
    with django_capture_on_commit_callbacks(execute=True):
        invoices_imported.send(sender=Invoice, invoice_ids=[recent.pk])

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "FV/03000/11/2026" in message.subject
    assert "162,00\u00a0zł" in message.body
    assert f"https://ibok.example.pl/billing/invoices/{recent.pk}/" in message.body
    html = message.alternatives[0][0]
    assert "FV/03000/11/2026" in html
    assert Notification.objects.get().kind == Kind.NEW_INVOICE


def test_a_customer_wide_invoice_is_not_told_to_a_manager_of_some_points(
    customer, point, django_capture_on_commit_callbacks
):
    manager = login_user_for(customer, username="zarzadca", role=AccessRole.MANAGER, all_points=False)
    manager.customer_accesses.get().points.add(point)
    switch_on(manager, Kind.NEW_INVOICE)
    invoice = factories.InvoiceFactory(customer=customer, delivery_point=None, issue_date=timezone.localdate())

    with django_capture_on_commit_callbacks(execute=True):
        invoices_imported.send(sender=Invoice, invoice_ids=[invoice.pk])

    assert mail.outbox == []


def test_amounts_are_shown_as_the_billing_system_sent_them(customer, customer_user, django_capture_on_commit_callbacks):
    switch_on(customer_user, Kind.NEW_INVOICE)
    invoice = factories.InvoiceFactory(customer=customer, net=Decimal("1000.00"), issue_date=timezone.localdate())

    with django_capture_on_commit_callbacks(execute=True):
        invoices_imported.send(sender=Invoice, invoice_ids=[invoice.pk])

    assert "1\u00a0080,00\u00a0zł" in mail.outbox[0].body


def test_smsapi_without_a_token_stops_the_deploy_check(settings):
    from notices.checks import sms_backend_configured

    settings.IBOK_SMS_BACKEND = "notices.sms.SmsApiBackend"
    settings.IBOK_SMSAPI_TOKEN = ""

    assert [message.id for message in sms_backend_configured()] == ["notices.E001"]


def test_the_smsapi_backend_sends_with_an_idempotency_reference(settings, monkeypatch):
    settings.IBOK_SMSAPI_TOKEN = "token"
    settings.IBOK_SMS_SENDER = "MPWiK"
    sent = {}

    class Result:
        id = "SMSAPI-1"

    def fake_send(**params):
        sent.update(params)
        return iter([Result()])

    backend = sms.SmsApiBackend()
    monkeypatch.setattr(backend.client.sms, "send", fake_send)

    message_id = backend.send(phone="+48601234567", text="iBOK: test", reference="ibok-n7")

    assert message_id == "SMSAPI-1"
    assert sent == {
        "to": "48601234567",
        "message": "iBOK: test",
        "idx": "ibok-n7",
        "check_idx": True,
        "normalize": True,
        "from_": "MPWiK",
    }


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("13", sms.SmsRejected), ("8", sms.SmsSendFailed), ("105", "duplicate-ibok-n7")],
)
def test_smsapi_errors_are_sorted_into_retry_give_up_and_already_sent(settings, monkeypatch, code, outcome):
    from smsapi.exception import SendException

    settings.IBOK_SMSAPI_TOKEN = "token"
    backend = sms.SmsApiBackend()

    def failing_send(**params):
        raise SendException("gateway says no", code)

    monkeypatch.setattr(backend.client.sms, "send", failing_send)

    if isinstance(outcome, str):
        assert backend.send(phone="+48601234567", text="x", reference="ibok-n7") == outcome
    else:
        with pytest.raises(outcome):
            backend.send(phone="+48601234567", text="x", reference="ibok-n7")
