"""Case services: opening with the outbox, staff handling, reply e-mails sent once in the user's language."""

from datetime import datetime
from smtplib import SMTPException
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from core.models import AuditLogEntry, OutboxMessage
from tests import factories
from tickets import services, tasks
from tickets.models import Case, CaseNote, CaseStatus, CaseType, Message, Sender

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.get_fixed_timezone(60))


def _open(customer, user, case_type=CaseType.OTHER, **kwargs):
    defaults = {"subject": "Temat", "description": "Opis sprawy", "fields": {}}
    return services.case_open(now=NOW, customer=customer, opened_by=user, case_type=case_type, **{**defaults, **kwargs})


@pytest.mark.parametrize("case_type", [CaseType.ADDRESS_CHANGE, CaseType.CONTRACT_CHANGE, CaseType.EINVOICE_REQUEST])
def test_case_the_billing_system_must_act_on_goes_through_the_outbox_once(customer, customer_user, case_type):
    case = _open(customer, customer_user, case_type=case_type, fields={"city": "Przemyśl"})

    message = OutboxMessage.objects.get()
    assert (message.kind, message.customer_number, message.idempotency_key) == (
        "case",
        customer.number,
        f"case:{case.pk}",
    )
    assert message.payload["case_type"] == case_type
    assert message.payload["fields"] == {"city": "Przemyśl"}
    assert message.created_at == NOW


@pytest.mark.parametrize("case_type", [CaseType.FAILURE, CaseType.METER_PROBLEM, CaseType.COMPLAINT])
def test_case_for_the_office_only_queues_nothing_for_the_billing_system(customer, customer_user, case_type):
    _open(customer, customer_user, case_type=case_type)

    assert not OutboxMessage.objects.exists()


def test_case_is_not_opened_for_a_delivery_point_of_another_customer(customer, customer_user):
    foreign_point = factories.DeliveryPointFactory()

    with pytest.raises(services.CaseRejected):
        _open(customer, customer_user, case_type=CaseType.CONTRACT_CHANGE, delivery_point=foreign_point)

    assert not Case.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_case_without_text_is_refused(customer, customer_user):
    with pytest.raises(services.CaseRejected):
        _open(customer, customer_user, description="   ")

    assert not Case.objects.exists()


def test_staff_reply_puts_a_new_case_in_progress_and_emails_the_customer_once(
    customer, customer_user, staff_user, django_capture_on_commit_callbacks
):
    case = _open(customer, customer_user)

    with django_capture_on_commit_callbacks(execute=True):
        services.case_staff_update(
            now=NOW, case=case, actor=staff_user, status=CaseStatus.NEW, assigned_to=None, reply="Sprawdzimy."
        )

    case.refresh_from_db()
    reply = case.messages.get(sender=Sender.STAFF)
    assert case.status == CaseStatus.IN_PROGRESS
    assert (reply.body, reply.author, reply.read_at) == ("Sprawdzimy.", staff_user, None)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [customer_user.email]
    assert email.subject == f"Odpowiedź w Twojej sprawie nr {case.pk}"
    assert f"/cases/{case.pk}/" in email.body
    assert "Sprawdzimy." not in email.body  # the reply is read in the portal
    reply.refresh_from_db()
    assert reply.customer_notified_at is not None

    assert tasks.case_reply_email_send(message_id=reply.pk) is False
    assert len(mail.outbox) == 1


def test_reply_email_is_in_the_users_language(customer, customer_user, staff_user, django_capture_on_commit_callbacks):
    customer_user.language = "uk"
    customer_user.save()
    case = _open(customer, customer_user)

    with django_capture_on_commit_callbacks(execute=True):
        services.case_staff_update(
            now=NOW, case=case, actor=staff_user, status=CaseStatus.IN_PROGRESS, assigned_to=None, reply="Так."
        )

    assert mail.outbox[0].subject == f"Відповідь у вашій справі № {case.pk}"
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_failed_sending_releases_the_claim_so_a_retry_sends(customer, customer_user, staff_user):
    case = _open(customer, customer_user)
    reply = Message.objects.create(case=case, sender=Sender.STAFF, author=staff_user, body="Odp.", sent_at=NOW)

    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=SMTPException("down")),
        pytest.raises(SMTPException),
    ):
        services.case_reply_email_send(message_id=reply.pk, now=NOW)

    reply.refresh_from_db()
    assert reply.customer_notified_at is None
    assert services.case_reply_email_send(message_id=reply.pk, now=NOW) is True
    assert len(mail.outbox) == 1


def test_customer_messages_never_trigger_a_reply_email(customer, customer_user):
    case = _open(customer, customer_user)

    assert services.case_reply_email_send(message_id=case.messages.get().pk, now=NOW) is False
    assert mail.outbox == []


def test_closing_records_when_and_reopening_clears_it(customer, customer_user, staff_user):
    case = _open(customer, customer_user)

    services.case_staff_update(now=NOW, case=case, actor=staff_user, status=CaseStatus.CLOSED, assigned_to=None)
    case.refresh_from_db()
    assert case.closed_at == NOW

    services.case_reopen(now=NOW, case=case, actor=customer_user)
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (CaseStatus.IN_PROGRESS, None)
    assert AuditLogEntry.objects.filter(action="case.reopen", object_id=str(case.pk)).exists()


def test_open_case_cannot_be_reopened(customer, customer_user):
    case = _open(customer, customer_user)

    with pytest.raises(services.CaseNotReopenable):
        services.case_reopen(now=NOW, case=case, actor=customer_user)


def test_case_is_assigned_only_to_staff_and_the_assignment_is_audited(customer, customer_user, staff_user):
    case = _open(customer, customer_user)

    with pytest.raises(services.CaseRejected):
        services.case_staff_update(now=NOW, case=case, actor=staff_user, status=case.status, assigned_to=customer_user)
    services.case_staff_update(now=NOW, case=case, actor=staff_user, status=case.status, assigned_to=staff_user)

    case.refresh_from_db()
    assert case.assigned_to == staff_user
    entry = AuditLogEntry.objects.get(action="case.staff_update")
    assert entry.details["assigned_to"] == [None, staff_user.pk]


def test_internal_note_is_stored_apart_from_the_thread(customer, customer_user, staff_user):
    case = _open(customer, customer_user)

    services.case_staff_update(
        now=NOW, case=case, actor=staff_user, status=case.status, assigned_to=None, note="Klient dzwonił."
    )

    assert CaseNote.objects.get(case=case).body == "Klient dzwonił."
    assert case.messages.count() == 1
    assert mail.outbox == []


def test_database_refuses_a_closed_case_without_a_closing_time(customer):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        factories.CaseFactory(customer=customer, status=CaseStatus.CLOSED, closed_at=None)
