"""Staff work in the admin: the queue, the thread with an inline reply, internal notes, assignment, groups."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.tickets.conftest import make_pdf, upload, with_second_factor
from tickets import services
from tickets.models import Attachment, Case, CaseStatus, CaseType, Sender

pytestmark = pytest.mark.django_db


def _open(customer, user, **kwargs):
    defaults = {"case_type": CaseType.BILLING, "subject": "Zawyżona faktura", "description": "Proszę o korektę."}
    return services.case_open(now=timezone.now(), customer=customer, opened_by=user, **{**defaults, **kwargs})


def _change_url(case):
    return reverse("admin:tickets_case_change", args=[case.pk])


def test_queue_is_filtered_by_type_and_status(client, customer, customer_user, staff_user):
    billing = _open(customer, customer_user, subject="Sprawa rozliczeniowa")
    failure = _open(customer, customer_user, case_type=CaseType.FAILURE, subject="Awaria sieci")
    client.force_login(staff_user)

    by_type = client.get(reverse("admin:tickets_case_changelist"), {"case_type__exact": CaseType.FAILURE})
    by_status = client.get(reverse("admin:tickets_case_changelist"), {"status__exact": CaseStatus.NEW})

    assert list(by_type.context["cl"].result_list) == [failure]
    assert {case.pk for case in by_status.context["cl"].result_list} == {billing.pk, failure.pk}


def test_staff_reply_through_the_admin_form_reaches_the_customer(
    client, customer, customer_user, staff_user, django_capture_on_commit_callbacks
):
    case = _open(customer, customer_user)
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _change_url(case),
            {
                "status": CaseStatus.WAITING_FOR_CUSTOMER,
                "assigned_to": staff_user.pk,
                "reply": "Prosimy o zdjęcie wodomierza.",
                "internal_note": "Do sprawdzenia w systemie billingowym.",
            },
        )

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.assigned_to) == (CaseStatus.WAITING_FOR_CUSTOMER, staff_user)
    assert case.messages.filter(sender=Sender.STAFF, body="Prosimy o zdjęcie wodomierza.").exists()
    assert len(mail.outbox) == 1

    client.force_login(customer_user)
    listing = client.get(reverse("tickets:index"))
    detail = client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk})).content.decode()
    assert listing.context["cases_unread"] == 1
    assert "Prosimy o zdjęcie wodomierza." in detail
    assert "Do sprawdzenia w systemie billingowym." not in detail
    assert "Oczekuje na Twoją odpowiedź" in detail


def test_change_form_shows_the_thread_escaped_the_notes_and_attachment_links(
    client, customer, customer_user, staff_user
):
    case = _open(
        customer,
        customer_user,
        subject="<b>pogrubiony</b>",
        description='<script>alert("x")</script>',
        attachments=[upload("skan.pdf", make_pdf(), "application/pdf")],
    )
    services.case_staff_update(
        now=timezone.now(), case=case, actor=staff_user, status=case.status, assigned_to=None, note="Notatka <i>x</i>"
    )
    attachment = Attachment.objects.get()
    client.force_login(staff_user)

    html = client.get(_change_url(case)).content.decode()

    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "Notatka &lt;i&gt;x&lt;/i&gt;" in html
    download = reverse("admin:tickets_case_attachment", kwargs={"case_id": case.pk, "attachment_id": attachment.pk})
    assert download in html
    assert client.get(download)["Content-Disposition"].startswith("attachment;")


def test_staff_opening_a_case_marks_the_customers_messages_read(client, customer, customer_user, staff_user):
    case = _open(customer, customer_user)
    client.force_login(staff_user)

    listing = client.get(reverse("admin:tickets_case_changelist"))
    client.get(_change_url(case))

    assert listing.context["cl"].result_list[0].unread_from_customer == 1
    assert case.messages.get().read_at is not None


def test_staff_cannot_add_cases_by_hand(client, staff_user):
    client.force_login(staff_user)

    assert client.get(reverse("admin:tickets_case_add")).status_code == 403


def test_staff_groups_exist_with_case_permissions():
    clerk = Group.objects.get(name="clerk")
    billing = Group.objects.get(name="billing")
    administrator = Group.objects.get(name="administrator")

    clerk_codes = set(clerk.permissions.values_list("codename", flat=True))
    assert {"view_case", "change_case", "add_casenote"} <= clerk_codes
    assert "delete_case" not in clerk_codes
    assert "change_case" not in set(billing.permissions.values_list("codename", flat=True))
    assert "delete_case" in set(administrator.permissions.values_list("codename", flat=True))


def test_clerk_in_the_group_works_the_queue_but_cannot_delete(client, customer, customer_user):
    clerk = with_second_factor(factories.UserFactory(username="referent", is_staff=True))
    clerk.groups.add(Group.objects.get(name="clerk"))
    case = _open(customer, customer_user)
    client.force_login(clerk)

    assert client.get(reverse("admin:tickets_case_changelist")).status_code == 200
    assert client.get(_change_url(case)).status_code == 200
    assert client.get(reverse("admin:tickets_case_delete", args=[case.pk])).status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_customer_cannot_reach_the_staff_attachment_view(client, customer, customer_user):
    case = _open(customer, customer_user, attachments=[upload("skan.pdf", make_pdf(), "application/pdf")])
    attachment = Attachment.objects.get()
    client.force_login(customer_user)

    response = client.get(
        reverse("admin:tickets_case_attachment", kwargs={"case_id": case.pk, "attachment_id": attachment.pk})
    )

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_clerk_filters_the_queue_to_cases_assigned_to_them(client, customer, customer_user, staff_user):
    mine = _open(customer, customer_user, subject="Moja")
    _open(customer, customer_user, subject="Niczyja")
    services.case_staff_update(
        now=timezone.now(), case=mine, actor=staff_user, status=mine.status, assigned_to=staff_user
    )
    client.force_login(staff_user)

    response = client.get(reverse("admin:tickets_case_changelist"), {"assignment": "mine"})

    assert list(response.context["cl"].result_list) == [mine]


def test_admin_status_choice_speaks_from_the_offices_side(client, customer, customer_user, staff_user):
    case = _open(customer, customer_user)
    client.force_login(staff_user)

    html = client.get(_change_url(case)).content.decode()

    assert "Oczekuje na odbiorcę" in html
