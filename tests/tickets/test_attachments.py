"""Attachments are checked by content, size and count; a refused file leaves nothing behind."""

import pytest
from django.urls import reverse

from tests.tickets.conftest import EXECUTABLE, make_image, make_pdf, upload
from tickets.attachments import AttachmentRejected, check_file, check_files
from tickets.models import Attachment, Case

pytestmark = pytest.mark.django_db


def test_real_pdf_png_and_jpg_are_accepted_with_the_type_read_from_their_content(pdf_upload, png_upload, jpg_upload):
    checked = check_files([pdf_upload, png_upload, jpg_upload])

    assert [c.content_type for c in checked] == ["application/pdf", "image/png", "image/jpeg"]


def test_browser_claimed_type_is_ignored_in_favour_of_the_content():
    checked = check_file(upload("zdjecie.png", make_image("PNG"), "application/pdf"))

    assert checked.content_type == "image/png"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("zdjecie.pdf", lambda: make_image("PNG")),
        ("zdjecie.jpg", lambda: make_image("PNG")),
        ("skan.png", lambda: make_pdf()),
        ("skan.docx", lambda: make_pdf()),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(name, content):
    with pytest.raises(AttachmentRejected, match=name):
        check_file(upload(name, content(), "application/octet-stream"))


def test_a_pdf_that_a_pdf_library_cannot_open_is_refused_though_it_looks_complete():
    looks_complete = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

    with pytest.raises(AttachmentRejected, match="uszkodzony"):
        check_file(upload("umowa.pdf", looks_complete, "application/pdf"))


def test_a_pdf_without_pages_is_refused():
    no_pages = make_pdf().replace(b"/Kids[3 0 R]/Count 1", b"/Kids[]/Count 0     ")

    with pytest.raises(AttachmentRejected, match="uszkodzony"):
        check_file(upload("pusty.pdf", no_pages, "application/pdf"))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("faktura.pdf", "application/pdf"), ("licznik.jpg", "image/jpeg"), ("licznik.png", "image/png")],
)
def test_renamed_executable_is_refused(name, content_type):
    with pytest.raises(AttachmentRejected, match="nie jest plikiem PDF, JPG ani PNG"):
        check_file(upload(name, EXECUTABLE, content_type))


def test_file_with_a_png_signature_but_no_image_inside_is_refused():
    with pytest.raises(AttachmentRejected, match="nie jest prawdziwym obrazem"):
        check_file(upload("licznik.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image/png"))


def test_truncated_pdf_is_refused():
    with pytest.raises(AttachmentRejected, match="nie jest kompletnym plikiem PDF"):
        check_file(upload("umowa.pdf", make_pdf()[:60], "application/pdf"))


def test_empty_file_is_refused():
    with pytest.raises(AttachmentRejected, match="jest pusty"):
        check_file(upload("pusty.pdf", b"", "application/pdf"))


def test_file_over_the_size_limit_is_refused(settings):
    settings.IBOK_CASE_ATTACHMENT_MAX_BYTES = 2048

    with pytest.raises(AttachmentRejected, match="jest za duży"):
        check_file(upload("duzy.pdf", make_pdf(size=4096), "application/pdf"))


def test_file_exactly_at_the_size_limit_is_accepted(settings):
    content = make_pdf(size=2048)
    settings.IBOK_CASE_ATTACHMENT_MAX_BYTES = len(content)

    assert check_file(upload("graniczny.pdf", content, "application/pdf")).size == len(content)


def test_more_files_than_the_limit_are_refused(settings):
    settings.IBOK_CASE_ATTACHMENT_MAX_COUNT = 2
    files = [upload(f"skan{i}.pdf", make_pdf(), "application/pdf") for i in range(3)]

    with pytest.raises(AttachmentRejected, match="najwyżej 2 pliki"):
        check_files(files)


def test_path_and_quotes_are_stripped_from_the_original_name():
    checked = check_file(upload('..\\..\\windows\\"faktura".pdf', make_pdf(), "application/pdf"))

    assert checked.name == "faktura.pdf"


def _post_case(client, *files):
    return client.post(
        reverse("tickets:case-create"),
        {
            "case_type": "BILLING",
            "subject": "Korekta faktury",
            "description": "W załączeniu skan.",
            "attachments": list(files),
        },
    )


def test_new_case_with_a_renamed_executable_shows_an_error_and_saves_nothing(client, customer_user, media_root):
    client.force_login(customer_user)

    response = _post_case(client, upload("faktura.pdf", EXECUTABLE, "application/pdf"))

    assert response.status_code == 200
    assert "faktura.pdf nie jest plikiem PDF, JPG ani PNG" in response.content.decode()
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_new_case_with_a_too_big_file_shows_an_error_and_saves_nothing(client, customer_user, settings):
    settings.IBOK_CASE_ATTACHMENT_MAX_BYTES = 1024
    client.force_login(customer_user)

    response = _post_case(client, upload("duzy.pdf", make_pdf(size=5000), "application/pdf"))

    assert response.status_code == 200
    assert "jest za duży" in response.content.decode()
    assert Case.objects.count() == 0


def test_new_case_with_too_many_files_shows_an_error_and_saves_nothing(client, customer_user, settings):
    settings.IBOK_CASE_ATTACHMENT_MAX_COUNT = 1
    client.force_login(customer_user)

    response = _post_case(
        client,
        upload("a.pdf", make_pdf(), "application/pdf"),
        upload("b.pdf", make_pdf(), "application/pdf"),
    )

    assert response.status_code == 200
    assert "Możesz załączyć najwyżej 1 plik." in response.content.decode()
    assert Case.objects.count() == 0
