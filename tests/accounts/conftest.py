"""Fixtures for the account flows: a customer with a last invoice to prove, the terms in force, a clean throttle."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import TermsVersion
from tests import factories


@pytest.fixture(autouse=True)
def clean_throttles():
    """Rate-limit counters live in Redis, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def terms(db):
    return TermsVersion.objects.create(
        version="2026-01",
        title="Regulamin Internetowego Biura Obsługi Klienta",
        body="§ 1. Postanowienia ogólne.",
        published_at=timezone.now() - timedelta(days=30),
    )


@pytest.fixture
def invoiced_customer(db):
    """Customer 204518 whose latest invoice is FV/02291/11/2026 for 1050,24 zł (an older one exists too)."""
    point = factories.DeliveryPointFactory(customer__number="204518", customer__email="anna.wisniewska@example.pl")
    customer = point.customer
    factories.InvoiceFactory(customer=customer, number="FV/01873/10/2026", issue_date=date(2026, 10, 5))
    factories.InvoiceFactory(
        customer=customer, number="FV/02291/11/2026", issue_date=date(2026, 11, 5), net=Decimal("972.44")
    )
    return customer


@pytest.fixture
def registration_form(terms):
    """A complete, correct registration of customer 204518."""
    return {
        "customer_number": "204518",
        "invoice_number": "FV/02291/11/2026",
        "amount": "",
        "email": "anna.nowa@example.pl",
        "phone": "+48 600 100 200",
        "accept_terms": "on",
        "accept_data_processing": "on",
    }
