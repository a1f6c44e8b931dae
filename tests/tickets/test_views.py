"""Lista spraw for the customer: new case, list, search, thread, unread counts, reopening, downloads."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.tickets.conftest import make_pdf, upload
from tickets import services
from tickets.models import Attachment, Case, CaseStatus, CaseType, Message, Sender

pytestmark = pytest.mark.django_db

# User (the session comes from the cache), the user's scope (read once, shared with the navigation's unread count),
# the paginator's count, the page of cases, the unread count (no session write within a minute of the last: the idle
# timeout's refresh).
CASE_LIST_QUERIES = 5
MESSAGE_LIST_QUERIES = 5


def _case(customer, **kwargs):
    case = factories.CaseFactory(customer=customer, **kwargs)
    factories.MessageFactory(case=case, sent_at=case.opened_at)
    return case


def _staff_reply(case, body="Odpowiedź biura.", read=False):
    return factories.MessageFactory(case=case, sender=Sender.STAFF, body=body, read_at=timezone.now() if read else None)


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("tickets:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_customer_opens_a_case_with_an_attachment_stored_under_a_random_name(
    client, customer, customer_user, media_root, pdf_upload
):
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:case-create"),
        {
            "case_type": CaseType.COMPLAINT,
            "subject": "Reklamacja odczytu",
            "description": "Odczyt z 31.10 jest zawyżony.",
            "attachments": [pdf_upload],
        },
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:case-detail", kwargs={"case_id": case.pk})
    assert (case.customer, case.opened_by, case.case_type, case.status) == (
        customer,
        customer_user,
        CaseType.COMPLAINT,
        CaseStatus.NEW,
    )
    message = case.messages.get()
    assert message.body == "Odczyt z 31.10 jest zawyżony."
    attachment = message.attachments.get()
    assert attachment.original_name == "skan faktury.pdf"
    assert attachment.content_type == "application/pdf"
    stored = media_root / attachment.file.name
    assert stored.is_file()
    assert "skan" not in attachment.file.name
    assert attachment.file.name.startswith("cases/")


def test_new_case_form_asks_no_customer_when_the_user_has_one(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("tickets:case-create"))

    assert response.status_code == 200
    assert "customer" not in response.context["form"].fields
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_delivery_point_of_another_customer_cannot_be_chosen(client, customer_user, stranger_user):
    foreign_point = factories.DeliveryPointFactory()
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:case-create"),
        {"case_type": "OTHER", "subject": "Test", "description": "Opis", "delivery_point": foreign_point.pk},
    )

    assert response.status_code == 200
    assert "delivery_point" in response.context["form"].errors
    assert Case.objects.count() == 0


def test_list_shows_the_mielec_columns_and_the_unread_count(client, customer, customer_user):
    case = _case(customer, subject="Zawyżona faktura", case_type=CaseType.BILLING)
    _staff_reply(case)
    _staff_reply(case, read=True)
    client.force_login(customer_user)

    response = client.get(reverse("tickets:index"))

    html = response.content.decode()
    for heading in ("Nr", "Status", "Data wysłania", "Typ sprawy", "Temat", "Nieprzeczytane"):
        assert f">{heading}</a>" in html
    row = response.context["page"].object_list[0]
    assert row == case
    assert row.unread == 1
    assert "Zawyżona faktura" in html
    assert "Rozliczenia" in html


@pytest.mark.parametrize("case_count", [1, 60])
def test_case_list_runs_a_fixed_number_of_queries(
    client, customer, customer_user, django_assert_num_queries, case_count
):
    for _ in range(case_count):
        _staff_reply(_case(customer))
    client.force_login(customer_user)

    with django_assert_num_queries(CASE_LIST_QUERIES):
        response = client.get(reverse("tickets:index"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(case_count, 20)


def test_case_list_pages_twenty_at_a_time_without_overlap(client, customer, customer_user):
    cases = [_case(customer) for _ in range(45)]
    client.force_login(customer_user)

    seen = []
    for page in (1, 2, 3):
        response = client.get(reverse("tickets:index"), {"page": page})
        seen.extend(case.pk for case in response.context["page"].object_list)

    assert sorted(seen) == sorted(case.pk for case in cases)


def test_case_list_sorts_by_a_column_both_ways(client, customer, customer_user):
    now = timezone.now()
    older = _case(customer, subject="Awaria", opened_at=now - timedelta(days=3))
    newer = _case(customer, subject="Zmiana umowy", opened_at=now)
    client.force_login(customer_user)

    by_subject = client.get(reverse("tickets:index"), {"sort": "subject"}).context["page"].object_list
    by_subject_desc = client.get(reverse("tickets:index"), {"sort": "-subject"}).context["page"].object_list
    default = client.get(reverse("tickets:index")).context["page"].object_list
    unknown = client.get(reverse("tickets:index"), {"sort": "customer__pesel"}).context["page"].object_list

    assert list(by_subject) == [older, newer]
    assert list(by_subject_desc) == [newer, older]
    assert list(default) == [newer, older]
    assert list(unknown) == [newer, older]


def test_advanced_search_filters_by_status_type_dates_and_text(client, customer, customer_user):
    now = timezone.now()
    closed = _case(customer, status=CaseStatus.CLOSED, closed_at=now, case_type=CaseType.FAILURE, subject="Brak wody")
    old = _case(customer, opened_at=now - timedelta(days=40), subject="Stara sprawa")
    text_in_body = _case(customer, subject="Pytanie")
    factories.MessageFactory(case=text_in_body, body="Chodzi o wodomierz w piwnicy")
    client.force_login(customer_user)

    def search(**params):
        response = client.get(reverse("tickets:index"), params)
        return {case.pk for case in response.context["page"].object_list}

    assert search(status=CaseStatus.CLOSED) == {closed.pk}
    assert search(case_type=CaseType.FAILURE) == {closed.pk}
    assert search(date_to=(timezone.localdate() - timedelta(days=30)).isoformat()) == {old.pk}
    assert search(date_from=(timezone.localdate() - timedelta(days=1)).isoformat()) == {closed.pk, text_in_body.pk}
    assert search(text="PIWNICY") == {text_in_body.pk}
    assert search(text="brak wody") == {closed.pk}
    assert search(text=str(old.pk)) == {old.pk}


def test_search_with_dates_the_wrong_way_round_says_so(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("tickets:index"), {"date_from": "2026-11-20", "date_to": "2026-11-01"})

    assert response.status_code == 200
    assert "date_to" in response.context["form"].errors


def test_html_and_script_in_subject_and_text_are_shown_inert(client, customer, customer_user):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case = factories.CaseFactory(customer=customer, subject=payload)
    factories.MessageFactory(case=case, body=payload)
    client.force_login(customer_user)

    listing = client.get(reverse("tickets:index")).content.decode()
    detail = client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk})).content.decode()
    sent = client.get(reverse("tickets:message-list")).content.decode()

    for html in (listing, detail, sent):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_reading_a_case_marks_the_office_replies_read(client, customer, customer_user):
    case = _case(customer)
    reply = _staff_reply(case)
    client.force_login(customer_user)
    assert client.get(reverse("tickets:index")).context["cases_unread"] == 1

    response = client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk}))

    reply.refresh_from_db()
    assert reply.read_at is not None
    assert reply.pk in response.context["unread_ids"]
    assert client.get(reverse("tickets:index")).context["cases_unread"] == 0


def test_navigation_shows_the_unread_badge_beside_lista_spraw(client, customer, customer_user):
    _staff_reply(_case(customer))
    _staff_reply(_case(customer))
    client.force_login(customer_user)

    html = client.get(reverse("pages:dashboard")).content.decode()

    assert 'class="count-badge">2' in html
    assert "nieprzeczytane odpowiedzi" in html


def test_customer_replies_and_a_case_waiting_for_them_goes_back_to_the_office(
    client, customer, customer_user, png_upload
):
    case = _case(customer, status=CaseStatus.WAITING_FOR_CUSTOMER)
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:case-reply", kwargs={"case_id": case.pk}),
        {"body": "Przesyłam zdjęcie licznika.", "attachments": [png_upload]},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    last = case.messages.order_by("-id").first()
    assert (last.sender, last.body, last.attachments.count()) == (Sender.CUSTOMER, "Przesyłam zdjęcie licznika.", 1)


def test_closed_case_takes_no_reply(client, customer, customer_user):
    case = _case(customer, status=CaseStatus.CLOSED, closed_at=timezone.now())
    client.force_login(customer_user)

    response = client.post(reverse("tickets:case-reply", kwargs={"case_id": case.pk}), {"body": "Jeszcze jedno"})

    assert response.status_code == 400
    assert case.messages.count() == 1


def test_closed_case_is_reopened_within_the_period(client, customer, customer_user, settings):
    settings.IBOK_CASE_REOPEN_DAYS = 14
    case = _case(customer, status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=13))
    client.force_login(customer_user)

    page = client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk}))
    response = client.post(reverse("tickets:case-reopen", kwargs={"case_id": case.pk}))

    assert page.context["can_reopen"]
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (CaseStatus.IN_PROGRESS, None)


def test_closed_case_cannot_be_reopened_after_the_period(client, customer, customer_user, settings):
    settings.IBOK_CASE_REOPEN_DAYS = 14
    closed_at = timezone.now()
    case = _case(customer, status=CaseStatus.CLOSED, closed_at=closed_at)

    with time_machine.travel(closed_at + timedelta(days=14, seconds=1)):
        client.force_login(customer_user)  # sessions end when idle: sign in on the day
        page = client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk}))
        client.post(reverse("tickets:case-reopen", kwargs={"case_id": case.pk}))

    assert not page.context["can_reopen"]
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_sent_messages_list_shows_what_the_customer_wrote_not_the_office(client, customer, customer_user):
    case = _case(customer)
    factories.MessageFactory(case=case, body="Druga wiadomość klienta")
    _staff_reply(case, body="Odpowiedź urzędnika")
    client.force_login(customer_user)

    response = client.get(reverse("tickets:message-list"))

    html = response.content.decode()
    assert "Druga wiadomość klienta" in html
    assert "Odpowiedź urzędnika" not in html


@pytest.mark.parametrize("message_count", [1, 60])
def test_sent_messages_list_runs_a_fixed_number_of_queries(
    client, customer, customer_user, django_assert_num_queries, message_count
):
    case = factories.CaseFactory(customer=customer)
    factories.MessageFactory.create_batch(message_count, case=case)
    client.force_login(customer_user)

    with django_assert_num_queries(MESSAGE_LIST_QUERIES):
        response = client.get(reverse("tickets:message-list"))

    assert response.status_code == 200


def test_attachment_is_downloaded_as_a_file_that_is_never_sniffed(client, customer, customer_user):
    case = services.case_open(
        now=timezone.now(),
        customer=customer,
        opened_by=customer_user,
        case_type=CaseType.OTHER,
        subject="Skan",
        description="Skan pisma",
        attachments=[upload("pismo.pdf", make_pdf(), "text/html")],
    )
    attachment = Attachment.objects.get(message__case=case)
    client.force_login(customer_user)

    response = client.get(reverse("tickets:attachment-download", kwargs={"attachment_id": attachment.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="pismo.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == make_pdf()


def test_another_customers_case_and_attachment_are_not_found(client, customer, customer_user, stranger_user):
    case = services.case_open(
        now=timezone.now(),
        customer=customer,
        opened_by=customer_user,
        case_type=CaseType.OTHER,
        subject="Moja sprawa",
        description="Prywatne",
        attachments=[upload("pismo.pdf", make_pdf(), "application/pdf")],
    )
    attachment = Attachment.objects.get(message__case=case)
    client.force_login(stranger_user)

    urls_get = [
        reverse("tickets:case-detail", kwargs={"case_id": case.pk}),
        reverse("tickets:attachment-download", kwargs={"attachment_id": attachment.pk}),
    ]
    urls_post = [
        reverse("tickets:case-reply", kwargs={"case_id": case.pk}),
        reverse("tickets:case-reopen", kwargs={"case_id": case.pk}),
    ]

    assert [client.get(url).status_code for url in urls_get] == [404, 404]
    assert [client.post(url, {"body": "x"}).status_code for url in urls_post] == [404, 404]
    assert "Moja sprawa" not in client.get(reverse("tickets:index")).content.decode()
    assert "Prywatne" not in client.get(reverse("tickets:message-list")).content.decode()
    assert case.messages.count() == 1


def test_partial_manager_sees_only_cases_about_their_points(client, customer, partial_manager):
    other_point = customer.delivery_points.exclude(pk=partial_manager.managed_point.pk).get()
    managed_case = _case(customer, delivery_point=partial_manager.managed_point, subject="Sprawa zarządcy")
    other_case = _case(customer, delivery_point=other_point, subject="Sprawa innego punktu")
    general_case = _case(customer, subject="Sprawa ogólna odbiorcy")
    client.force_login(partial_manager)

    listing = {case.pk for case in client.get(reverse("tickets:index")).context["page"].object_list}

    assert listing == {managed_case.pk}
    assert client.get(reverse("tickets:case-detail", kwargs={"case_id": other_case.pk})).status_code == 404
    assert client.get(reverse("tickets:case-detail", kwargs={"case_id": general_case.pk})).status_code == 404


def test_partial_manager_must_name_one_of_their_points(client, customer, partial_manager):
    client.force_login(partial_manager)
    data = {"case_type": "TECHNICAL", "subject": "Cieknie", "description": "Przeciek w węźle"}

    without_point = client.post(reverse("tickets:case-create"), data)
    with_point = client.post(
        reverse("tickets:case-create"), {**data, "delivery_point": partial_manager.managed_point.pk}
    )

    assert "delivery_point" in without_point.context["form"].errors
    assert with_point.status_code == 302
    assert Case.objects.get().delivery_point == partial_manager.managed_point


def test_manager_of_two_customers_chooses_the_customer(client, customer):
    second = factories.DeliveryPointFactory().customer
    manager = factories.UserFactory(username="zarzadca2")
    factories.CustomerAccessFactory(user=manager, customer=customer, role="MANAGER")
    factories.CustomerAccessFactory(user=manager, customer=second, role="MANAGER")
    client.force_login(manager)
    data = {"case_type": "OTHER", "subject": "Pytanie", "description": "Treść"}

    missing = client.post(reverse("tickets:case-create"), data)
    chosen = client.post(reverse("tickets:case-create"), {**data, "customer": second.pk})

    assert "customer" in missing.context["form"].errors
    assert chosen.status_code == 302
    assert Case.objects.get().customer == second


def test_reading_a_case_leaves_the_customers_own_messages_unread_for_the_office(client, customer, customer_user):
    case = _case(customer)
    client.force_login(customer_user)

    client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk}))

    assert Message.objects.get(case=case).read_at is None


@pytest.mark.parametrize("reply_count", [1, 30])
def test_case_thread_runs_a_fixed_number_of_queries(
    client, customer, customer_user, django_assert_num_queries, reply_count
):
    case = services.case_open(
        now=timezone.now(),
        customer=customer,
        opened_by=customer_user,
        case_type=CaseType.OTHER,
        subject="Długi wątek",
        description="Pierwsza wiadomość",
        attachments=[upload("pismo.pdf", make_pdf(), "application/pdf")],
    )
    factories.MessageFactory.create_batch(reply_count, case=case, sender=Sender.STAFF)
    client.force_login(customer_user)

    # User (the session comes from the cache), the user's scope, the case, its messages, their attachments,
    # marking the replies read, the navigation's unread count.
    with django_assert_num_queries(7):
        response = client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk}))

    assert len(response.context["thread"]) == reply_count + 1
