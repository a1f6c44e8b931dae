"""The shared content checks for uploads."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import uploads


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_complete_pdf_is_recognised_by_its_content_whatever_its_name():
    upload = SimpleUploadedFile("scan.png", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")

    assert uploads.sniff(upload) == uploads.PDF
    assert uploads.is_complete_pdf(upload)


def test_a_truncated_pdf_is_not_complete():
    assert not uploads.is_complete_pdf(SimpleUploadedFile("a.pdf", b"%PDF-1.7\n1 0 obj\n<<"))


def test_a_renamed_executable_is_nothing_we_accept():
    upload = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 64)

    assert uploads.sniff(upload) is None
    assert not uploads.is_complete_pdf(upload)
    assert uploads.image_format(upload) is None


def test_a_real_png_verifies_and_a_damaged_one_does_not():
    data = png_bytes()

    assert uploads.image_format(SimpleUploadedFile("p.jpg", data)) == "PNG"
    assert uploads.image_format(SimpleUploadedFile("p.png", data[:40])) is None
