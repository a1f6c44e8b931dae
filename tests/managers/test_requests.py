"""A property manager's request for access, sent through the portal (seed 003)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import ManagerRequest, ManagerRequestStatus
from core.models import AuditLogEntry
from tests.managers.world import PDF_BYTES, PNG_BYTES, login_user

pytestmark = pytest.mark.django_db


def request_data(**changes) -> dict:
    data = {
        "company_name": "Zarządca Nieruchomości Przemyśl sp. z o.o.",
        "nip": "526-025-02-74",
        "contact_name": "Anna Zarządzająca",
        "email": "biuro@zarzadca.example.pl",
        "phone": "+48 16 670 00 00",
        "properties": "ul. Słoneczna 5, Przemyśl\n\n  500100  \nul. Boczna 7",
    }
    data.update(changes)
    return data


def test_a_manager_sends_a_request_with_the_company_addresses_and_a_pdf(client, media):
    document = SimpleUploadedFile("pelnomocnictwo.pdf", PDF_BYTES, content_type="application/pdf")

    response = client.post(reverse("accounts:manager-request"), {**request_data(), "document": document})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:manager-request-sent")
    sent = ManagerRequest.objects.get()
    assert sent.nip == "5260250274"
    assert sent.status == ManagerRequestStatus.PENDING
    assert sent.property_lines == ["ul. Słoneczna 5, Przemyśl", "500100", "ul. Boczna 7"]
    assert sent.document.read() == PDF_BYTES
    assert sent.user is None
    assert AuditLogEntry.objects.filter(action="accounts.manager_request_sent", object_id=str(sent.pk)).exists()


def test_a_wrong_nip_is_refused_and_nothing_is_stored(client):
    response = client.post(reverse("accounts:manager-request"), request_data(nip="5260250275"))

    assert response.status_code == 400
    assert "To nie jest prawidłowy NIP" in response.content.decode()
    assert not ManagerRequest.objects.exists()


def test_a_file_named_pdf_that_is_not_a_pdf_is_refused(client, media):
    disguised = SimpleUploadedFile("umowa.pdf", PNG_BYTES, content_type="application/pdf")

    response = client.post(reverse("accounts:manager-request"), {**request_data(), "document": disguised})

    assert response.status_code == 400
    assert "Plik nie jest dokumentem PDF." in response.content.decode()
    assert not ManagerRequest.objects.exists()


def test_a_truncated_pdf_is_refused(client, media):
    truncated = SimpleUploadedFile("umowa.pdf", PDF_BYTES[:20], content_type="application/pdf")

    response = client.post(reverse("accounts:manager-request"), {**request_data(), "document": truncated})

    assert response.status_code == 400
    assert not ManagerRequest.objects.exists()


def test_a_request_without_properties_is_refused(client):
    response = client.post(reverse("accounts:manager-request"), request_data(properties="  \n \n"))

    assert response.status_code == 400
    assert not ManagerRequest.objects.exists()


def test_a_signed_in_user_s_request_is_tied_to_their_account(client):
    user = login_user("zarzadca")
    client.force_login(user)

    client.post(reverse("accounts:manager-request"), request_data(email=user.email))

    assert ManagerRequest.objects.get().user == user


def test_the_request_form_is_open_to_visitors_and_takes_a_file(client):
    response = client.get(reverse("accounts:manager-request"))

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()
