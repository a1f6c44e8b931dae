"""Fixtures for cases: real files made on the spot, and a media folder per test."""

import io

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import AccessRole
from tests import factories


def make_pdf(size: int = 0) -> bytes:
    """A small, valid one-page PDF (with its cross-reference table, so a PDF library opens it); padded inside a
    comment before the objects to reach `size` bytes when asked."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
    ]

    def build(padding: int) -> bytes:
        out = b"%PDF-1.4\n" + (b"%" + b"x" * padding + b"\n" if padding else b"")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj" % number + body + b"endobj\n"
        xref = len(out)
        out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        return out + b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref

    plain = build(0)
    if size <= len(plain):
        return plain
    padding = size - len(plain) - 2
    while len(padded := build(padding)) > size:
        padding -= len(padded) - size
    return padded + b"\n" * (size - len(padded))


def make_image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 88, 163)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# A Windows program's first bytes: "MZ", the DOS stub, then the PE header offset.
EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores attachments in its own folder, like MEDIA_ROOT outside the web root."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def pdf_upload():
    return upload("skan faktury.pdf", make_pdf(), "application/pdf")


@pytest.fixture
def png_upload():
    return upload("wodomierz.png", make_image("PNG"), "image/png")


@pytest.fixture
def jpg_upload():
    return upload("przeciek.jpg", make_image("JPEG"), "image/jpeg")


@pytest.fixture
def stranger_user(db):
    """Another customer's login, with a case and an attachment of their own."""
    point = factories.DeliveryPointFactory(customer__number="999001", customer__name="Obcy Odbiorca")
    user = factories.UserFactory(username="999001")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    return user


def with_second_factor(user):
    """Staff need a second factor before the admin opens (accounts.middleware.StaffMfaRequiredMiddleware)."""
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return user


@pytest.fixture
def staff_user(db):
    return with_second_factor(
        factories.UserFactory(username="urzednik", is_staff=True, is_superuser=True, first_name="Ewa")
    )


@pytest.fixture
def partial_manager(db, customer):
    """A property manager of one of the customer's two delivery points."""
    managed = factories.DeliveryPointFactory(customer=customer, contract=customer.contracts.first())
    user = factories.UserFactory(username="zarzadca")
    access = factories.CustomerAccessFactory(user=user, customer=customer, role=AccessRole.MANAGER, all_points=False)
    access.points.add(managed)
    user.managed_point = managed
    return user
