"""The online payment fee in the reader's money format (issue 19): English showed "1,00 zł" beside "PLN 264.50"."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "fee", "not_expected"),
    [("en", f"PLN{NBSP}1.00", "zł"), ("pl", f"1,00{NBSP}zł", "PLN"), ("uk", f"1,00{NBSP}зл", "PLN")],
)
def test_the_online_payment_fee_is_in_the_readers_money_format(client, customer_user, language, fee, not_expected):
    factories.InvoiceFactory(customer=customer_user.customer_accesses.get().customer, outstanding=Decimal("10.00"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(customer_user)

    html = client.get(reverse("billing:pay")).content.decode()
    fee_paragraph = html[html.index('id="fee-heading"') :][:800]

    assert fee in fee_paragraph
    assert not_expected not in fee_paragraph
