"""Payment plans (rozłożenie na raty): the schedule, the request and its rules, the page, the admin's decision,
the outbox messages and the plan coming back in the import."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.models import PaymentPlan, PaymentPlanRequest, PaymentPlanRequestStatus, SyncStatus
from core.models import OutboxMessage
from tests import factories
from tests.billing.test_importer import base_batch, load, write_batch
from tests.tickets.conftest import with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pinned_day():
    with time_machine.travel("2026-12-04 10:00 +01:00", tick=False):
        yield


@pytest.fixture
def overdue(customer):
    return [
        factories.InvoiceFactory(
            customer=customer,
            number=f"FV/0000{n}/09/2026",
            issue_date=date(2026, 9, n),
            net=Decimal("277.78"),
            vat=Decimal("22.22"),
            gross=Decimal("300.00"),
            outstanding=Decimal("300.00"),
        )  # fmt: skip
        for n in (1, 2)
    ]


@pytest.fixture
def staff_user(db):
    return with_second_factor(factories.UserFactory(username="urzednik", is_staff=True, is_superuser=True))


def test_the_schedule_is_equal_instalments_with_the_remainder_on_the_last():
    schedule = services.payment_plan_schedule(total=Decimal("100.00"), instalments=3, first_due=date(2026, 12, 18))

    assert schedule == [
        (date(2026, 12, 18), Decimal("33.33")),
        (date(2027, 1, 18), Decimal("33.33")),
        (date(2027, 2, 18), Decimal("33.34")),
    ]
    assert sum(amount for _, amount in schedule) == Decimal("100.00")


def test_a_request_is_queued_for_the_billing_system(customer, customer_user, overdue):
    request = services.payment_plan_request_submit(
        now=timezone.now(), customer=customer, user=customer_user, invoices=overdue, instalments=4
    )

    assert request.total == Decimal("600.00")
    assert request.status == PaymentPlanRequestStatus.OPEN
    message = OutboxMessage.objects.get(kind="payment_plan_request")
    assert message.customer_number == customer.number
    assert message.payload["total"] == "600.00"
    assert [item["amount"] for item in message.payload["schedule"]] == ["150.00"] * 4
    assert message.payload["schedule"][0]["due_date"] == "2026-12-18"
    assert len(message.payload["invoices"]) == 2


def test_a_second_request_waits_for_the_first_decision(customer, customer_user, overdue):
    services.payment_plan_request_submit(
        now=timezone.now(), customer=customer, user=customer_user, invoices=overdue[:1], instalments=2
    )

    with pytest.raises(services.PaymentPlanRejected, match="oczekujący"):
        services.payment_plan_request_submit(
            now=timezone.now(), customer=customer, user=customer_user, invoices=overdue[1:], instalments=2
        )
    assert PaymentPlanRequest.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="payment_plan_request").count() == 1


@pytest.mark.parametrize(("instalments", "error"), [(13, "od 2 do 12"), (1, "od 2 do 12"), (12, "co najmniej 50,00")])
def test_the_utilitys_limits_are_kept(customer, customer_user, overdue, instalments, error):
    with pytest.raises(services.PaymentPlanRejected, match=error):
        services.payment_plan_request_submit(
            now=timezone.now(), customer=customer, user=customer_user, invoices=overdue[:1], instalments=instalments
        )
    assert not PaymentPlanRequest.objects.exists()


def test_an_invoice_not_yet_due_cannot_be_spread(customer, customer_user):
    current = factories.InvoiceFactory(customer=customer, issue_date=date(2026, 12, 1))

    with pytest.raises(services.PaymentPlanRejected, match="przeterminowane"):
        services.payment_plan_request_submit(
            now=timezone.now(), customer=customer, user=customer_user, invoices=[current], instalments=2
        )
    assert not OutboxMessage.objects.exists()


def test_the_page_shows_the_schedule_then_sends_the_request(client, customer, customer_user, overdue):
    client.force_login(customer_user)
    data = {"customer": customer.pk, "invoices": [overdue[0].pk, overdue[1].pk], "instalments": "3"}

    preview = client.post(reverse("billing:payment-plan"), {**data, "preview": "1"})

    assert preview.status_code == 200
    assert [amount for _, amount in preview.context["schedule"]] == [Decimal("200.00")] * 3
    assert not PaymentPlanRequest.objects.exists()

    sent = client.post(reverse("billing:payment-plan"), {**data, "send": "1"}, follow=True)

    assert PaymentPlanRequest.objects.get().instalments == 3
    html = sent.content.decode()
    assert "Wniosek został wysłany" in html
    assert "Oczekuje na decyzję" in html


def test_the_page_refuses_bad_input_with_a_translated_error(client, customer, customer_user, overdue):
    client.force_login(customer_user)

    nothing = client.post(reverse("billing:payment-plan"), {"customer": customer.pk, "instalments": "3", "send": "1"})
    too_many = client.post(
        reverse("billing:payment-plan"),
        {"customer": customer.pk, "invoices": [overdue[0].pk], "instalments": "12", "send": "1"},
    )

    assert "Wybierz co najmniej jedną przeterminowaną fakturę." in nothing.content.decode()
    assert "co najmniej 50,00" in too_many.content.decode()
    assert not PaymentPlanRequest.objects.exists()


def test_another_customers_plan_page_is_not_found(client, customer_user):
    stranger = factories.CustomerFactory()
    client.force_login(customer_user)

    assert client.get(reverse("billing:payment-plan"), {"customer": stranger.pk}).status_code == 404


def test_staff_change_the_number_of_instalments_and_the_customer_is_told(
    client, customer, customer_user, overdue, staff_user, django_capture_on_commit_callbacks
):
    request = services.payment_plan_request_submit(
        now=timezone.now(), customer=customer, user=customer_user, invoices=overdue, instalments=4
    )
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_paymentplanrequest_decide", args=[request.pk]),
            {"decision": "change", "instalments": "6", "note": "Sześć rat po 100 zł."},
        )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == PaymentPlanRequestStatus.CHANGED
    assert request.granted_instalments == 6
    decision = OutboxMessage.objects.get(kind="payment_plan_decision")
    assert decision.payload["decision"] == "CHANGED"
    assert [item["amount"] for item in decision.payload["schedule"]] == ["100.00"] * 6
    assert len(mail.outbox) == 1
    assert request.reference in mail.outbox[0].subject
    assert "6 ratach" in mail.outbox[0].body


def test_staff_refuse_in_bulk_and_a_decided_request_is_not_decided_again(customer, customer_user, overdue, staff_user):
    request = services.payment_plan_request_submit(
        now=timezone.now(), customer=customer, user=customer_user, invoices=overdue, instalments=2
    )
    services.payment_plan_decide(now=timezone.now(), request=request, actor=staff_user, accept=False)

    with pytest.raises(services.PaymentPlanRejected):
        services.payment_plan_decide(now=timezone.now(), request=request, actor=staff_user, accept=True)
    assert OutboxMessage.objects.get(kind="payment_plan_decision").payload["schedule"] == []


def test_the_admin_queue_lists_open_requests(client, customer, customer_user, overdue, staff_user):
    services.payment_plan_request_submit(
        now=timezone.now(), customer=customer, user=customer_user, invoices=overdue, instalments=2
    )
    client.force_login(staff_user)

    response = client.get(reverse("admin:billing_paymentplanrequest_changelist"))

    assert response.status_code == 200
    assert "Zaakceptuj, zmień lub odrzuć" in response.content.decode()


# --- the plan comes back in the import ------------------------------------------------------------------------


def plan_record(**extra):
    return {
        "id": "PP1", "changed_at": "2026-12-04T10:00:00+01:00", "customer_id": "C1", "status": "ACTIVE",
        "total": "600.00", "portal_reference": "RAT-1",
        "schedule": [{"due_date": "2026-12-18", "amount": "300.00"}, {"due_date": "2027-01-18", "amount": "300.00"}],
        **extra,
    }  # fmt: skip


def test_a_batch_with_payment_plans_loads_them(tmp_path):
    bad = plan_record(id="PP2", total="500.00")

    run = load(write_batch(tmp_path / "b1", {**base_batch(), "payment_plans": [plan_record(), bad]}))

    plan = PaymentPlan.objects.get()
    assert plan.customer.number == "100001"
    assert [item["amount"] for item in plan.instalments] == [Decimal("300.00")] * 2
    assert run.status == SyncStatus.SUCCEEDED_WITH_REJECTS
    assert "add up to" in run.errors[0]["error"]


def test_a_batch_without_payment_plans_still_loads(tmp_path):
    run = load(write_batch(tmp_path / "b1", base_batch()))

    assert run.status == SyncStatus.SUCCEEDED
    assert not PaymentPlan.objects.exists()


def plan_of(customer) -> PaymentPlan:
    return PaymentPlan.objects.create(
        external_id="PP9", source_updated_at=timezone.now(), customer=customer, status="ACTIVE",
        total=Decimal("600.00"), portal_reference="RAT-9",
        schedule=[{"due_date": "2026-12-18", "amount": "300.00"}, {"due_date": "2027-01-18", "amount": "300.00"}],
    )  # fmt: skip


def test_the_calendar_feed_has_an_event_per_instalment(client, customer, customer_user):
    plan_of(customer)
    feed = services.calendar_feed_issue(user=customer_user, now=timezone.now())

    body = client.get(reverse("billing:calendar-feed", kwargs={"token": feed.token})).content.decode()

    assert "DTSTART;VALUE=DATE:20261218" in body
    assert "DTSTART;VALUE=DATE:20270118" in body
    assert "SUMMARY:Rata 2 z 2: 300\\,00" in body


def test_the_plan_in_force_shows_on_the_instalments_page_and_the_dashboard(client, customer, customer_user):
    plan_of(customer)
    client.force_login(customer_user)

    page = client.get(reverse("billing:payment-plan")).content.decode()
    dashboard = client.get(reverse("pages:dashboard")).content.decode()

    assert "Twój plan ratalny" in page
    assert "18.01.2027" in page
    assert "Następna rata planu ratalnego" in dashboard
    assert "18.12.2026" in dashboard
