"""Readings by SMS through the gateway's signed callback: the signature, the sender's verified phone, the page's own
validation, the reading with source SMS in the outbox, the Polish answer by SMS, and the gateway's retries."""

from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from core.models import OutboxMessage, QueuedTask, SecurityEvent, SecurityEventKind
from meters.models import Reading, ReadingSource, ReadingStatus
from notices import inbound, tasks
from notices.models import InboundSms, InboundSmsOutcome, LocalSms
from tests import factories
from tests.meters.conftest import add_readings
from tests.notices.conftest import PHONE, login_user_for, verify_phone

pytestmark = pytest.mark.django_db

SECRET = "test-inbound-secret-0123456789abcdef"
IN_WINDOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
URL = "/notices/sms/inbound/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.IBOK_SMS_INBOUND_SECRET = SECRET
    settings.IBOK_READING_WINDOW_DAYS = "L10,1-5"
    settings.IBOK_SMS_BACKEND = "notices.sms.LocalBackend"


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """`with commits(execute=True):` runs the reply task the request owes once its transaction commits."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def meter(customer):
    meter = factories.MeterFactory(delivery_point=customer.delivery_points.get(), serial_number="WM2021001")
    add_readings(meter, (date(2026, 10, 31), "180.000"))
    return meter


@pytest.fixture
def owner(customer_user):
    verify_phone(customer_user)
    return customer_user


def gateway_post(text: str, *, sender: str = PHONE.lstrip("+"), message_id: str = "msg-1", secret: str = SECRET):
    """The gateway's callback as SMSAPI sends it (a form POST), signed with `secret` (None: unsigned)."""
    body = urlencode({"MsgId": message_id, "sms_from": sender, "sms_to": "48700800900", "sms_text": text}).encode()
    headers = {"HTTP_X_IBOK_SIGNATURE": inbound.sign(body, secret)} if secret else {}
    return Client(enforce_csrf_checks=True).post(
        URL, body, content_type="application/x-www-form-urlencoded", REMOTE_ADDR="203.0.113.9", **headers
    )


def reply_to(sender: str = PHONE) -> str:
    return LocalSms.objects.get(phone=sender).text


def test_the_url_is_the_one_given_to_the_gateway():
    assert reverse("notices:sms-inbound") == URL


@time_machine.travel(IN_WINDOW)
def test_a_reading_by_sms_is_recorded_sent_to_billing_and_answered_in_polish(owner, meter, commits):
    with commits(execute=True):
        response = gateway_post("odczyt WM2021001 185,5")

    assert response.status_code == 200 and response.content == b"OK"
    reading = Reading.objects.get(status=ReadingStatus.PENDING)
    assert (reading.value, reading.source, reading.submitted_by) == (Decimal("185.500"), ReadingSource.SMS, owner)
    payload = OutboxMessage.objects.get(kind="reading").payload
    assert (payload["source"], payload["has_photo"]) == ("SMS", False)
    row = InboundSms.objects.get()
    assert (row.outcome, row.portal_reference, row.user) == (
        InboundSmsOutcome.ACCEPTED,
        reading.portal_reference,
        owner,
    )
    assert row.replied_at is not None
    assert reply_to().startswith("Dziękujemy. Odczyt 185,500\xa0m³ licznika WM2021001 z dnia 25 listopada 2026")


@time_machine.travel(IN_WINDOW)
def test_the_gateway_calling_again_changes_nothing(owner, meter, commits):
    with commits(execute=True):
        first = gateway_post("ODCZYT WM2021001 185")
        again = gateway_post("ODCZYT WM2021001 185")

    assert first.status_code == again.status_code == 200
    assert InboundSms.objects.count() == 1
    assert Reading.objects.filter(status=ReadingStatus.PENDING).count() == 1
    assert LocalSms.objects.count() == 1
    assert QueuedTask.objects.filter(task="notices.inbound_sms_reply").count() == 1


@pytest.mark.parametrize("signature", ["none", "wrong secret", "garbage"])
def test_an_unsigned_or_badly_signed_callback_is_refused_and_logged(owner, meter, signature):
    if signature == "garbage":
        body = urlencode({"MsgId": "m", "sms_from": "48600100200", "sms_text": "ODCZYT WM2021001 185"})
        response = Client().post(
            URL, body, content_type="application/x-www-form-urlencoded", HTTP_X_IBOK_SIGNATURE="sha256=00"
        )
    else:
        response = gateway_post("ODCZYT WM2021001 185", secret=None if signature == "none" else "another-secret")

    assert response.status_code == 403
    assert not InboundSms.objects.exists()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()
    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEventKind.SMS_CALLBACK_REFUSED


def test_without_a_configured_secret_every_callback_is_refused(owner, meter, settings):
    settings.IBOK_SMS_INBOUND_SECRET = ""

    assert gateway_post("ODCZYT WM2021001 185", secret="").status_code == 403
    assert gateway_post("ODCZYT WM2021001 185", secret="anything").status_code == 403
    assert not InboundSms.objects.exists()


def test_a_get_is_not_allowed():
    assert Client().get(URL).status_code == 405


@time_machine.travel(IN_WINDOW)
def test_a_phone_not_verified_for_the_meter_is_refused_politely(customer_user, meter, commits):
    customer_user.phone = PHONE
    customer_user.save(update_fields=["phone"])  # the phone is in the account, but never verified

    with commits(execute=True):
        gateway_post("ODCZYT WM2021001 185", message_id="unverified")
        gateway_post("ODCZYT WM2021001 185", sender="48511222333", message_id="stranger")

    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()
    assert not OutboxMessage.objects.exists()
    outcomes = dict(InboundSms.objects.values_list("gateway_message_id", "outcome"))
    assert outcomes == {"unverified": InboundSmsOutcome.UNKNOWN_SENDER, "stranger": InboundSmsOutcome.UNKNOWN_SENDER}
    assert "z tego numeru telefonu" in reply_to()
    assert reply_to("+48511222333") == reply_to()


@time_machine.travel(IN_WINDOW)
def test_an_unknown_meter_gets_the_same_answer_as_a_strangers_phone(owner, meter, commits):
    other_point = factories.DeliveryPointFactory()
    factories.MeterFactory(delivery_point=other_point, serial_number="INNY-0001")

    with commits(execute=True):
        gateway_post("ODCZYT NIEMA-123 185", message_id="unknown")
        gateway_post("ODCZYT INNY-0001 185", message_id="not-theirs")

    outcomes = dict(InboundSms.objects.values_list("gateway_message_id", "outcome"))
    assert outcomes == {"unknown": InboundSmsOutcome.UNKNOWN_METER, "not-theirs": InboundSmsOutcome.UNKNOWN_SENDER}
    texts = [sms.text.replace("NIEMA-123", "X").replace("INNY-0001", "X") for sms in LocalSms.objects.order_by("id")]
    assert texts[0] == texts[1]
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()


@time_machine.travel(IN_WINDOW)
def test_a_manager_of_the_point_with_a_verified_phone_may_send_the_reading(customer, meter, commits):
    manager = login_user_for(customer, username="zarzadca", role="MANAGER")
    verify_phone(manager, "+48511222333")

    with commits(execute=True):
        gateway_post("ODCZYT WM2021001 185", sender="+48 511 222 333")

    assert Reading.objects.get(status=ReadingStatus.PENDING).submitted_by == manager


@pytest.mark.parametrize(
    "text", ["ODCZYT", "ODCZYT WM2021001", "ODCZYT WM2021001 -5", "ODCZYT WM2021001 1,23456", "hej"]
)
@time_machine.travel(IN_WINDOW)
def test_a_message_that_is_not_a_reading_is_answered_with_the_format(owner, meter, text, commits):
    with commits(execute=True):
        gateway_post(text)

    assert InboundSms.objects.get().outcome == InboundSmsOutcome.MALFORMED
    assert "ODCZYT <numer licznika> <odczyt>" in reply_to()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()


@time_machine.travel(IN_WINDOW)
def test_a_value_below_the_last_reading_is_refused_with_the_pages_reason(owner, meter, commits):
    with commits(execute=True):
        gateway_post("ODCZYT WM2021001 170")

    assert InboundSms.objects.get().outcome == InboundSmsOutcome.REJECTED
    assert "niższe niż ostatni odczyt" in reply_to()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()


@time_machine.travel(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
def test_outside_the_reading_window_the_answer_says_when_it_opens(owner, meter, commits):
    with commits(execute=True):
        gateway_post("ODCZYT WM2021001 185")

    assert "21 listopada 2026" in reply_to()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()


@time_machine.travel(IN_WINDOW)
def test_an_unusually_high_value_is_taken_once_confirmed_with_tak(owner, meter, commits):
    with commits(execute=True):
        gateway_post("ODCZYT WM2021001 400", message_id="first")

    assert "TAK" in reply_to()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()

    with commits(execute=True):
        gateway_post("ODCZYT WM2021001 400 tak", message_id="second")

    assert Reading.objects.get(status=ReadingStatus.PENDING).value == Decimal("400")


@time_machine.travel(IN_WINDOW)
def test_a_reply_the_gateway_did_not_take_is_sent_later_and_only_once(owner, meter, settings):
    # The real SMSAPI backend on a machine without network: the gateway cannot be reached.
    settings.IBOK_SMS_BACKEND = "notices.sms.SmsApiBackend"
    settings.IBOK_SMSAPI_TOKEN = "no-network-token"
    gateway_post("ODCZYT WM2021001 185")  # the reply task waits in the queue (core.jobs) for the commit
    row = InboundSms.objects.get()

    with pytest.raises(inbound.ReplyFailed):
        tasks.inbound_sms_reply.apply(kwargs={"inbound_sms_id": row.pk})

    row.refresh_from_db()
    assert row.replied_at is None and row.reply_attempts == 1
    assert Reading.objects.filter(status=ReadingStatus.PENDING).exists()  # the reading does not wait for the reply

    settings.IBOK_SMS_BACKEND = "notices.sms.LocalBackend"
    tasks.inbound_sms_reply.apply(kwargs={"inbound_sms_id": row.pk}).get()
    tasks.inbound_sms_reply.apply(kwargs={"inbound_sms_id": row.pk}).get()

    row.refresh_from_db()
    assert row.replied_at is not None and row.reply_attempts == 2
    assert LocalSms.objects.get().reference == f"ibok-in{row.pk}"
