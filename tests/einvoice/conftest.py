"""Fixtures of the e-invoice tests: the published terms, a second customer, a partial manager, clean media."""

from datetime import UTC, date, datetime

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AccessRole
from einvoice import selectors
from einvoice.models import EinvoiceTerms
from tests import factories

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
PDF_SCAN = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IBOK_PORTAL_URL = "https://ibok.example.pl"
    return settings.MEDIA_ROOT


def published_terms() -> EinvoiceTerms:
    """The first version, published by the app's data migration (made again after a transactional test's flush)."""
    return selectors.terms_current(now=NOW) or EinvoiceTerms.objects.create(
        version="2026-01",
        title="Regulamin e-faktury",
        body="§ 1. Postanowienia ogólne",
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def terms(db):
    return published_terms()


@pytest.fixture
def stranger(db):
    point = factories.DeliveryPointFactory(customer__number="999001", customer__name="Obcy Odbiorca")
    user = factories.UserFactory(username="999001", email="obcy@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    point.customer.user = user
    return point.customer


@pytest.fixture
def partial_manager(db, customer):
    """A property manager of one of two delivery points of the customer (seed 003)."""
    granted = customer.delivery_points.get()
    factories.DeliveryPointFactory(customer=customer, contract=granted.contract)
    user = factories.UserFactory(username="zarzadca", email="zarzadca@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    access = factories.CustomerAccessFactory(user=user, customer=customer, role=AccessRole.MANAGER, all_points=False)
    access.points.add(granted)
    return user


@pytest.fixture
def full_manager(db, customer):
    user = factories.UserFactory(username="zarzadca-pelny", email="pelny@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer, role=AccessRole.MANAGER, all_points=True)
    return user


def scan(name: str = "wniosek.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_SCAN, content_type="application/pdf")


def invoice_for(customer, *, issued: date, **kwargs):
    invoice = factories.InvoiceFactory(
        customer=customer, delivery_point=customer.delivery_points.order_by("id").first(), issue_date=issued, **kwargs
    )
    factories.InvoiceLineFactory(invoice=invoice, position=1)
    return invoice
