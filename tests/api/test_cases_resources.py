"""Cases over the API: the list's columns and unread counts, the thread, new cases and replies with attachments
checked as on the page, and nothing written by a read-only token or into another customer's case."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core.models import SecurityEvent, SecurityEventKind
from tests import factories
from tests.tickets.conftest import make_pdf, upload
from tickets.models import Attachment, Case, CaseStatus, Message, Sender

pytestmark = pytest.mark.django_db


def test_the_list_has_the_pages_columns_and_unread_counts(world, as_user):
    case = world.a.cases[0]
    factories.MessageFactory(case=case, sender=Sender.STAFF, body="Odpowiedź biura")
    factories.MessageFactory(case=case, sender=Sender.STAFF, body="Druga odpowiedź")

    rows = as_user(world.a.owner).get("/api/v1/cases", {"sort": "number"}).json()["results"]

    assert [(r["id"], r["subject"], r["unread"]) for r in rows] == [
        (world.a.cases[0].pk, world.a.cases[0].subject, 2),
        (world.a.cases[1].pk, world.a.cases[1].subject, 0),
    ]
    assert set(rows[0]) >= {"id", "status", "opened_at", "case_type", "subject", "unread"}


def test_a_partial_manager_lists_the_cases_of_their_point_only(world, as_user):
    rows = as_user(world.partial_manager).get("/api/v1/cases").json()["results"]

    assert [r["id"] for r in rows] == [world.a.cases[0].pk]


def test_the_thread_is_read_as_on_the_page(world, as_user):
    case = world.a.cases[0]
    factories.MessageFactory(case=case, sender=Sender.STAFF, body="Odpowiedź biura")

    body = as_user(world.a.owner).get(f"/api/v1/cases/{case.pk}").json()

    assert [m["sender"] for m in body["thread"]] == ["CUSTOMER", "STAFF"]
    assert body["thread"][0]["attachments"][0]["name"] == "skan.pdf"
    assert body["unread"] == 1
    assert not Message.objects.filter(case=case, sender=Sender.STAFF, read_at__isnull=True).exists()
    attachment = Client(HTTP_AUTHORIZATION=as_user(world.a.owner).defaults["HTTP_AUTHORIZATION"]).get(
        body["thread"][0]["attachments"][0]["url"]
    )
    assert b"".join(attachment.streaming_content) == world.a.attachments[0].file.open("rb").read()


def test_a_new_case_with_an_attachment_goes_through_the_pages_form(world, as_user):
    client = as_user(world.a.owner, can_write=True)

    response = client.post(
        "/api/v1/cases",
        {"case_type": "BILLING", "subject": "Korekta faktury", "description": "Proszę o korektę.",
         "delivery_point": world.a.points[1].pk, "attachments": [upload("pismo.pdf", make_pdf(), "application/pdf")]},
    )  # fmt: skip

    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert case.subject == "Korekta faktury" and case.delivery_point == world.a.points[1]
    assert Attachment.objects.get(message__case=case).original_name == "pismo.pdf"


def test_a_file_that_is_not_what_it_says_is_refused_and_logged_and_no_case_opens(world, as_user):
    client = as_user(world.a.owner, can_write=True)
    before = Case.objects.count()

    response = client.post(
        "/api/v1/cases",
        {"case_type": "BILLING", "subject": "Skan", "description": "W załączniku.",
         "attachments": [SimpleUploadedFile("skan.pdf", b"MZ\x90\x00 not a pdf at all")]},
    )  # fmt: skip

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["attachments"]
    assert Case.objects.count() == before
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.UPLOAD_REFUSED).exists()


def test_a_read_only_token_opens_no_case_and_sends_no_reply(world, as_user):
    client = as_user(world.a.owner)
    cases, messages = Case.objects.count(), Message.objects.count()

    opened = client.post("/api/v1/cases", {"case_type": "BILLING", "subject": "X", "description": "Y"})
    replied = client.post(f"/api/v1/cases/{world.a.cases[0].pk}/messages", {"body": "Z"})

    assert (opened.status_code, replied.status_code) == (403, 403)
    assert (Case.objects.count(), Message.objects.count()) == (cases, messages)


def test_another_customers_case_is_a_404_and_gets_no_reply(world, as_user):
    client = as_user(world.b.owner, can_write=True)
    case = world.a.cases[0]
    messages = Message.objects.filter(case=case).count()

    assert client.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert client.post(f"/api/v1/cases/{case.pk}/messages", {"body": "Cudza sprawa"}).status_code == 404
    assert Message.objects.filter(case=case).count() == messages


def test_a_reply_lands_in_the_thread_and_a_closed_case_answers_409(world, as_user):
    client = as_user(world.a.owner, can_write=True)
    case = world.a.cases[0]

    replied = client.post(f"/api/v1/cases/{case.pk}/messages", {"body": "Dziękuję, czekam."})
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=timezone.now())
    closed = client.post(f"/api/v1/cases/{case.pk}/messages", {"body": "Jeszcze jedno"})

    assert replied.status_code == 201 and replied.json()["thread"][-1]["body"] == "Dziękuję, czekam."
    assert closed.status_code == 409
    assert not Message.objects.filter(body="Jeszcze jedno").exists()
