"""Dokumenty: public forms and terms for every signed-in user, a customer's own documents for them only."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessRole
from notices.models import Document, DocumentCategory
from tests import factories
from tests.notices.conftest import login_user_for
from tests.tickets.conftest import make_pdf

pytestmark = pytest.mark.django_db

# User (the session comes from the cache), the user's scope (shared with the navigation); the page: the terms
# versions and the documents (one query each); unread cases (the navigation).
LIST_QUERIES = 5


def document(title: str, customer=None, category=DocumentCategory.FORM, **fields) -> Document:
    item = Document(
        title=title,
        category=category,
        customer=customer,
        original_name=f"{title}.pdf",
        size=len(make_pdf()),
        published_at=fields.pop("published_at", timezone.now() - timedelta(days=1)),
        uploaded_at=timezone.now(),
        **fields,
    )
    item.file.save(f"{title}.pdf", ContentFile(make_pdf()), save=False)
    item.save()
    return item


def test_the_tab_lists_public_forms_and_the_customers_own_documents_only(client, customer, customer_user, stranger):
    document("Wniosek o e-fakturę")
    document("Regulamin iBOK", category=DocumentCategory.TERMS, version="3.0")
    document("Umowa UW/2021/00001", customer=customer, category=DocumentCategory.CONTRACT)
    document("Pismo do sąsiada", customer=stranger.customer_accesses.get().customer, category=DocumentCategory.LETTER)
    document("Cennik 2027", published_at=timezone.now() + timedelta(days=10))
    client.force_login(customer_user)

    html = client.get(reverse("notices:documents")).content.decode()

    assert "Wniosek o e-fakturę" in html
    assert "Regulamin iBOK (3.0)" in html
    assert "Umowa UW/2021/00001" in html
    assert "Twoje dokumenty" in html
    assert "Pismo do sąsiada" not in html
    assert "Cennik 2027" not in html


def test_the_documents_tab_is_in_the_main_menu(client, customer_user):
    client.force_login(customer_user)

    html = client.get(reverse("pages:dashboard")).content.decode()

    assert f'href="{reverse("notices:documents")}"' in html


def test_a_public_document_downloads_as_a_pdf_attachment(client, customer_user):
    item = document("Wniosek o zmianę adresu")
    client.force_login(customer_user)

    response = client.get(reverse("notices:document-download", kwargs={"document_id": item.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == make_pdf()


def test_another_customers_document_is_404(client, customer, stranger):
    letter = document("Pismo w sprawie zaległości", customer=customer, category=DocumentCategory.LETTER)
    client.force_login(stranger)

    response = client.get(reverse("notices:document-download", kwargs={"document_id": letter.pk}))

    assert response.status_code == 404


def test_a_manager_of_some_points_does_not_get_the_customers_own_documents(client, customer, point):
    contract = document("Umowa kompleksowa", customer=customer, category=DocumentCategory.CONTRACT)
    manager = login_user_for(customer, username="zarzadca", role=AccessRole.MANAGER, all_points=False)
    manager.customer_accesses.get().points.add(point)
    client.force_login(manager)

    response = client.get(reverse("notices:document-download", kwargs={"document_id": contract.pk}))

    assert response.status_code == 404


def test_a_document_not_yet_available_is_404(client, customer_user):
    item = document("Taryfa 2027", published_at=timezone.now() + timedelta(days=3))
    client.force_login(customer_user)

    response = client.get(reverse("notices:document-download", kwargs={"document_id": item.pk}))

    assert response.status_code == 404


def test_anonymous_visitors_cannot_download(client, db):
    item = document("Wniosek")

    response = client.get(reverse("notices:document-download", kwargs={"document_id": item.pk}))

    assert response.status_code == 302


@pytest.mark.parametrize("count", [1, 30])
def test_the_documents_tab_runs_a_fixed_number_of_queries(
    client, customer, customer_user, count, django_assert_num_queries
):
    for n in range(count):
        document(f"Formularz {n}")
        document(f"Pismo {n}", customer=customer, category=DocumentCategory.LETTER)
    client.force_login(customer_user)
    client.get(reverse("notices:documents"))

    with django_assert_num_queries(LIST_QUERIES):
        client.get(reverse("notices:documents"))


@pytest.fixture
def staff_client(client, db):
    staff = factories.UserFactory(username="bok", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(staff)
    return client


def test_staff_upload_a_letter_for_one_customer(staff_client, customer):
    response = staff_client.post(
        reverse("admin:notices_document_add"),
        {
            "title": "Pismo w sprawie legalizacji",
            "category": DocumentCategory.LETTER,
            "customer": customer.pk,
            "file": SimpleUploadedFile("pismo 12.pdf", make_pdf(), "application/pdf"),
            "published_at_0": "2026-11-20",
            "published_at_1": "10:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    item = Document.objects.get()
    assert item.customer == customer
    assert item.original_name == "pismo 12.pdf"
    assert item.size == len(make_pdf())
    assert item.uploaded_by.username == "bok"


def test_staff_cannot_upload_something_that_is_not_a_pdf(staff_client):
    response = staff_client.post(
        reverse("admin:notices_document_add"),
        {
            "title": "Formularz",
            "category": DocumentCategory.FORM,
            "file": SimpleUploadedFile("formularz.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
            "published_at_0": "2026-11-20",
            "published_at_1": "10:00:00",
        },
    )

    assert response.status_code == 200
    assert "Plik nie jest plikiem PDF." in response.content.decode()
    assert not Document.objects.exists()
