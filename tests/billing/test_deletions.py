"""What the billing system deletes takes the portal's online payments along; a deleted login leaves them."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import OnlinePayment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def online_payment(customer, customer_user):
    invoice = factories.InvoiceFactory(customer=customer)
    return services.online_payment_start(
        user=customer_user, customer=customer, invoices=[invoice], amount=None, fee=Decimal("1.00"), now=timezone.now()
    ).order


def test_a_deleted_login_leaves_the_online_payment(online_payment, customer_user):
    customer_user.delete()

    online_payment.refresh_from_db()
    assert online_payment.user is None


def test_an_invoice_the_billing_system_deletes_can_go_although_it_was_paid_online(online_payment):
    invoice = online_payment.invoices.get()

    invoice.delete()

    assert not online_payment.items.exists()


def test_a_customer_the_billing_system_deletes_takes_its_online_payments(online_payment, customer):
    customer.delete()

    assert not OnlinePayment.objects.exists()
