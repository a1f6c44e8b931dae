"""Each new invoice of an e-invoice customer is e-mailed with its PDF once, with retries; history never is."""

from datetime import date, timedelta
from smtplib import SMTPRecipientsRefused, SMTPServerDisconnected
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone

from billing import signals as billing_signals
from billing.models import Invoice
from einvoice import services, tasks
from einvoice.models import Delivery, DeliveryStatus
from tests.einvoice.conftest import NOW, invoice_for

pytestmark = pytest.mark.django_db
BASE = "https://ibok.example.pl/"


@pytest.fixture
def active(customer, customer_user, terms, django_capture_on_commit_callbacks):
    """e-Invoices switched on 21 November 2026 at the account's e-mail."""
    with django_capture_on_commit_callbacks(execute=True):
        return services.consent_request(
            customer=customer,
            user=customer_user,
            email=customer_user.email,
            terms=terms,
            now=NOW,
            ip_address=None,
            base_url=BASE,
        )


def announce(invoices, capture) -> None:
    """What the importer does after a chunk of new invoices commits."""
    with capture(execute=True):
        billing_signals.invoices_imported.send(sender=None, invoice_ids=[invoice.pk for invoice in invoices])


def test_a_new_invoice_is_emailed_once_with_its_pdf_and_a_link_to_the_portal(
    customer, customer_user, active, django_capture_on_commit_callbacks
):
    invoice = invoice_for(customer, issued=date(2026, 11, 25), number="FV/00777/11/2026")

    announce([invoice], django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.to == [customer_user.email]
    assert "FV/00777/11/2026" in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == ("FV_00777_11_2026.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    invoice.refresh_from_db()
    assert invoice.pdf.open("rb").read() == content
    assert f"https://ibok.example.pl/billing/invoices/{invoice.pk}/" in message.body
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.email) == (DeliveryStatus.SENT, 1, customer_user.email)


def test_running_the_job_again_or_the_sweep_sends_nothing_more(customer, active, django_capture_on_commit_callbacks):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    announce([invoice], django_capture_on_commit_callbacks)

    announce([invoice], django_capture_on_commit_callbacks)
    tasks.invoice_email_send.delay(delivery_id=Delivery.objects.get().pk)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.einvoice_sweep.delay()

    assert len(mail.outbox) == 1
    assert Delivery.objects.count() == 1


def test_a_delivery_claimed_by_one_worker_is_not_sent_by_another(customer, active):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    [delivery_id] = services.deliveries_create(invoice_ids=[invoice.pk], now=NOW)
    assert services._claim(delivery_id, NOW)  # the first worker is sending

    sent = services.invoice_email_deliver(delivery_id=delivery_id, now=NOW)

    assert sent is False
    assert mail.outbox == []


def test_invoices_issued_before_the_consent_started_are_not_emailed(
    customer, active, django_capture_on_commit_callbacks
):
    history = [invoice_for(customer, issued=date(2024 + i // 12, i % 12 + 1, 5)) for i in range(12)]
    day_before = invoice_for(customer, issued=date(2026, 11, 20))
    same_day = invoice_for(customer, issued=date(2026, 11, 21))

    announce([*history, day_before, same_day], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.einvoice_sweep.delay()

    assert [m.attachments[0][0] for m in mail.outbox] == [same_day.number.replace("/", "_") + ".pdf"]


def test_invoices_of_a_customer_without_e_invoices_are_not_emailed(
    customer, stranger, active, django_capture_on_commit_callbacks
):
    invoice = invoice_for(stranger, issued=date(2026, 11, 25))

    announce([invoice], django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_a_pending_consent_does_not_get_invoices_until_its_address_is_confirmed(
    customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.consent_request(
            customer=customer,
            user=customer_user,
            email="ksiegowosc@example.pl",
            terms=terms,
            now=NOW,
            ip_address=None,
            base_url=BASE,
        )
    mail.outbox.clear()
    invoice = invoice_for(customer, issued=date(2026, 11, 25))

    announce([invoice], django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_after_resignation_invoices_from_the_paper_day_on_are_not_emailed(
    customer, customer_user, active, django_capture_on_commit_callbacks
):
    services.resignation_submit(
        customer=customer,
        user=customer_user,
        paper_from=date(2026, 12, 1),
        address=services.PaperAddress("ul. Długa", "1", "", "37-700", "Przemyśl"),
        now=NOW,
        ip_address=None,
    )
    still_electronic = invoice_for(customer, issued=date(2026, 11, 30))
    on_paper = invoice_for(customer, issued=date(2026, 12, 1))

    announce([still_electronic, on_paper], django_capture_on_commit_callbacks)

    assert [m.attachments[0][0] for m in mail.outbox] == [still_electronic.number.replace("/", "_") + ".pdf"]


def test_after_an_address_change_new_invoices_go_to_the_new_address(
    customer, customer_user, active, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=customer_user, email="drugi@example.pl", verified=True)
    services.address_change_request(
        customer=customer, user=customer_user, email="drugi@example.pl", now=NOW, ip_address=None, base_url=BASE
    )
    invoice = invoice_for(customer, issued=date(2026, 11, 25))

    announce([invoice], django_capture_on_commit_callbacks)

    assert mail.outbox[0].to == ["drugi@example.pl"]


def test_the_sweep_delivers_an_invoice_whose_announcement_was_lost(
    customer, active, django_capture_on_commit_callbacks
):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))  # the process died before invoices_imported

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.einvoice_sweep.delay().get()

    assert result["created"] == 1
    assert len(mail.outbox) == 1
    assert Delivery.objects.get().invoice == invoice


def test_a_failing_smtp_server_is_retried_with_growing_waits_then_the_delivery_succeeds(
    customer, active, django_capture_on_commit_callbacks
):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    [delivery_id] = services.deliveries_create(invoice_ids=[invoice.pk], now=NOW)
    failing = mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=SMTPServerDisconnected("Connection unexpectedly closed"),
    )

    with failing, pytest.raises(services.DeliveryRetry) as first:
        services.invoice_email_deliver(delivery_id=delivery_id, now=NOW)
    with failing, pytest.raises(services.DeliveryRetry) as second:
        services.invoice_email_deliver(delivery_id=delivery_id, now=NOW + timedelta(minutes=1))
    waiting = Delivery.objects.get()
    services.invoice_email_deliver(delivery_id=delivery_id, now=NOW + timedelta(minutes=3))

    assert (first.value.countdown, second.value.countdown) == (60, 120)
    assert waiting.status == DeliveryStatus.PENDING
    assert waiting.next_attempt_at == NOW + timedelta(minutes=3)
    assert "Connection unexpectedly closed" in waiting.last_error
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    assert len(mail.outbox) == 1


def test_the_task_retries_until_the_limit_then_leaves_the_delivery_failed_for_staff(customer, active):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    [delivery_id] = services.deliveries_create(invoice_ids=[invoice.pk], now=NOW)
    retries = []

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=SMTPServerDisconnected("down")) as send:
        for _attempt in range(services.DELIVERY_MAX_ATTEMPTS - 1):
            with pytest.raises(Retry) as retry:
                tasks.invoice_email_send.delay(delivery_id=delivery_id)
            retries.append(retry.value.when)
        tasks.invoice_email_send.delay(delivery_id=delivery_id)  # the last attempt gives up

    delivery = Delivery.objects.get()
    assert retries == [60, 120, 240, 480, 960]
    assert send.call_count == services.DELIVERY_MAX_ATTEMPTS
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, services.DELIVERY_MAX_ATTEMPTS)
    assert "down" in delivery.last_error


def test_a_refused_recipient_fails_at_once(customer, active):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    [delivery_id] = services.deliveries_create(invoice_ids=[invoice.pk], now=NOW)
    refused = SMTPRecipientsRefused({"x@example.pl": (550, b"5.1.1 User unknown")})

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused):
        tasks.invoice_email_send.delay(delivery_id=delivery_id)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "User unknown" in delivery.last_error


def test_a_send_cut_off_mid_way_is_shown_to_staff_and_never_resent_blindly(customer, active):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    [delivery_id] = services.deliveries_create(invoice_ids=[invoice.pk], now=NOW)
    services._claim(delivery_id, NOW)  # the worker was killed after claiming

    result = services.deliveries_sweep(now=NOW + timedelta(hours=1))

    assert result["stale"] == 1
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    assert mail.outbox == []


def test_staff_send_a_failed_delivery_again(customer, active, admin_user, django_capture_on_commit_callbacks):
    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    [delivery_id] = services.deliveries_create(invoice_ids=[invoice.pk], now=NOW)
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.FAILED, attempts=6, last_error="down")

    with django_capture_on_commit_callbacks(execute=True):
        count = services.deliveries_retry(delivery_ids=[delivery_id], actor=admin_user, now=timezone.now())

    assert count == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_new_invoices_pdfs_are_rendered_ahead_in_chunks_in_the_bulk_queue_before_their_sends(
    customer, active, django_capture_on_commit_callbacks, monkeypatch
):
    from billing import pdf
    from core.models import QueuedTask

    monkeypatch.setattr(services, "PREPARE_CHUNK", 2)
    invoices = [invoice_for(customer, issued=date(2026, 11, 25), number=f"FV/0090{n}/11/2026") for n in range(3)]
    events = []
    real_render, real_send = pdf.render_invoice, services.invoice_email_deliver

    def render(*, invoice):
        events.append(("render", invoice.pk))
        return real_render(invoice=invoice)

    def send(**kwargs):
        events.append(("send", kwargs["delivery_id"]))
        return real_send(**kwargs)

    with (
        mock.patch("billing.pdf.render_invoice", side_effect=render) as renders,
        mock.patch.object(services, "invoice_email_deliver", side_effect=send),
    ):
        announce(invoices, django_capture_on_commit_callbacks)

    deliveries = {d.invoice_id: d.pk for d in Delivery.objects.all()}
    prepares = QueuedTask.objects.filter(task="einvoice.deliveries_prepare").order_by("id")
    chunks = [row.kwargs["delivery_ids"] for row in prepares]
    assert [len(chunk) for chunk in chunks] == [2, 1]
    assert sorted(sum(chunks, [])) == sorted(deliveries.values())
    assert renders.call_count == 3
    # The PDFs are rendered by the prepare tasks, before the sends they queue (which run here when the test's
    # on-commit callbacks do, after both chunks); a send renders nothing. The order within a chunk is the
    # deliveries' own, not the invoices'.
    assert [kind for kind, _ in events] == ["render"] * 3 + ["send"] * 3
    assert sorted(pk for kind, pk in events if kind == "render") == sorted(invoice.pk for invoice in invoices)
    assert sorted(pk for kind, pk in events if kind == "send") == sorted(deliveries.values())
    assert len(mail.outbox) == 3
    assert all(invoice.pdf for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices]))


def test_a_delivery_whose_pdf_is_stored_is_sent_without_a_prepare_step(
    customer, active, django_capture_on_commit_callbacks
):
    from core.models import QueuedTask

    invoice = invoice_for(customer, issued=date(2026, 11, 25))
    invoice.pdf.save("invoices/billing/from-billing.pdf", ContentFile(b"%PDF-1.4 the billing system's"))

    announce([invoice], django_capture_on_commit_callbacks)

    assert not QueuedTask.objects.filter(task="einvoice.deliveries_prepare").exists()
    [message] = mail.outbox
    assert message.attachments[0][1] == b"%PDF-1.4 the billing system's"
