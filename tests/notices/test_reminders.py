"""The daily job: e-monit, contract end and legalization reminders to who asked, once, in their language."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from accounts.models import AccessRole
from notices import services
from notices.models import Channel, Kind, LocalSms, Notification, NotificationPreference, NotificationStatus
from tests import factories
from tests.notices.conftest import MORNING, PHONE, login_user_for, switch_on, verify_phone

pytestmark = pytest.mark.django_db

TODAY = MORNING.date()


@pytest.fixture
def due_soon(customer, point):
    """An unpaid invoice due in two days."""
    return factories.InvoiceFactory(
        customer=customer,
        delivery_point=point,
        number="FV/02291/11/2026",
        issue_date=TODAY - timedelta(days=12),
        due_date=TODAY + timedelta(days=2),
        net=Decimal("100.00"),
    )


def run_job(with_sending: bool = True) -> list[int]:
    with time_machine.travel(MORNING, tick=False):
        ids = services.reminders_plan(now=MORNING)
        if with_sending:
            for notification_id in ids:
                services.notification_send(notification_id=notification_id, now=MORNING)
    return ids


def test_an_unpaid_invoice_due_in_two_days_is_reminded_by_email_in_polish(customer_user, due_soon):
    switch_on(customer_user, Kind.PAYMENT_DUE)

    run_job()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer_user.email]
    assert "FV/02291/11/2026" in message.subject
    assert "19.11.2026" in message.subject
    assert "108,00\u00a0zł" in message.body
    assert "https://ibok.example.pl/billing/pay/" in message.body
    assert Notification.objects.get().status == NotificationStatus.SENT


def test_a_user_who_reads_english_gets_the_reminder_in_english(customer_user, due_soon):
    customer_user.language = "en"
    customer_user.save(update_fields=["language"])
    switch_on(customer_user, Kind.PAYMENT_DUE)

    run_job()

    assert mail.outbox[0].subject.startswith("Payment reminder")
    assert "PLN\u00a0108.00" in mail.outbox[0].body


def test_nothing_is_sent_to_a_user_who_did_not_switch_the_kind_on(customer_user, due_soon):
    switch_on(customer_user, Kind.NEW_INVOICE, Kind.CONTRACT_END)

    ids = run_job()

    assert ids == []
    assert mail.outbox == []


def test_running_the_job_twice_sends_each_reminder_once(customer_user, due_soon):
    switch_on(customer_user, Kind.PAYMENT_DUE)

    first = run_job()
    second = run_job()

    assert len(first) == 1
    assert second == []
    assert len(mail.outbox) == 1


def test_paid_invoices_and_ones_due_later_are_not_reminded(customer_user, customer, point):
    switch_on(customer_user, Kind.PAYMENT_DUE)
    factories.InvoiceFactory(customer=customer, due_date=TODAY + timedelta(days=1), outstanding=Decimal("0.00"))
    factories.InvoiceFactory(customer=customer, due_date=TODAY + timedelta(days=4))
    factories.InvoiceFactory(customer=customer, due_date=TODAY - timedelta(days=1))

    assert run_job() == []


def test_sms_goes_only_to_a_verified_phone(customer_user, due_soon):
    switch_on(customer_user, Kind.PAYMENT_DUE, channels=(Channel.SMS,))
    customer_user.phone = PHONE
    customer_user.save(update_fields=["phone"])

    assert run_job() == []

    verify_phone(customer_user)
    run_job()

    sms = LocalSms.objects.get()
    assert sms.phone == PHONE
    assert "FV/02291/11/2026" in sms.text
    assert "19.11.2026" in sms.text


def test_a_changed_phone_must_be_verified_again(customer_user, due_soon):
    switch_on(customer_user, Kind.PAYMENT_DUE, channels=(Channel.SMS,))
    verify_phone(customer_user)
    customer_user.phone = "+48609000111"
    customer_user.save(update_fields=["phone"])

    assert run_job() == []


def test_a_manager_of_another_point_is_not_told_about_this_points_invoice(customer, point, due_soon):
    other_point = factories.DeliveryPointFactory(customer=customer, contract=point.contract)
    managers_access = {"role": AccessRole.MANAGER, "all_points": False}
    manager = login_user_for(customer, username="zarzadca", **managers_access)
    manager.customer_accesses.get().points.add(other_point)
    own_manager = login_user_for(customer, username="zarzadca2", **managers_access)
    own_manager.customer_accesses.get().points.add(point)
    switch_on(manager, Kind.PAYMENT_DUE)
    switch_on(own_manager, Kind.PAYMENT_DUE)

    run_job()

    assert [m.to for m in mail.outbox] == [[own_manager.email]]


def test_a_fixed_term_contract_ending_within_the_window_is_reminded(customer_user, point):
    contract = point.contract
    contract.valid_until = TODAY + timedelta(days=20)
    contract.save(update_fields=["valid_until"])
    switch_on(customer_user, Kind.CONTRACT_END)

    run_job()

    assert len(mail.outbox) == 1
    assert contract.number in mail.outbox[0].subject
    assert "07.12.2026" in mail.outbox[0].subject


def test_an_extended_contract_is_reminded_again_before_its_new_end(customer_user, point):
    contract = point.contract
    contract.valid_until = TODAY + timedelta(days=20)
    contract.save(update_fields=["valid_until"])
    switch_on(customer_user, Kind.CONTRACT_END)
    run_job()
    contract.valid_until = TODAY + timedelta(days=25)
    contract.save(update_fields=["valid_until"])

    run_job()

    assert len(mail.outbox) == 2


def test_a_meter_whose_legalization_expires_soon_is_reminded_and_a_removed_one_is_not(customer_user, point):
    meter = factories.MeterFactory(delivery_point=point, legalization_valid_until=date(2026, 12, 1))
    factories.MeterFactory(
        delivery_point=point, legalization_valid_until=date(2026, 12, 1), removed_date=date(2026, 10, 1)
    )
    switch_on(customer_user, Kind.LEGALIZATION)

    run_job()

    assert len(mail.outbox) == 1
    assert meter.serial_number in mail.outbox[0].subject
    assert point.address in mail.outbox[0].body


def test_switching_a_kind_off_after_it_was_planned_stops_the_message(customer_user, due_soon):
    switch_on(customer_user, Kind.PAYMENT_DUE)
    ids = run_job(with_sending=False)
    NotificationPreference.objects.filter(user=customer_user).update(enabled=False)

    outcome = services.notification_send(notification_id=ids[0], now=MORNING)

    assert outcome.status == NotificationStatus.CANCELLED
    assert mail.outbox == []


def test_an_inactive_user_gets_nothing(customer_user, due_soon):
    switch_on(customer_user, Kind.PAYMENT_DUE)
    customer_user.is_active = False
    customer_user.save(update_fields=["is_active"])

    assert run_job() == []
