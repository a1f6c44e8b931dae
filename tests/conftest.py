"""Fixtures shared by every test package. Factories live in tests/factories.py."""

import pytest
from allauth.account.models import EmailAddress

from tests import factories


@pytest.fixture
def customer(db):
    """A household customer of the water utility, with a contract and one delivery point."""
    point = factories.DeliveryPointFactory()
    return point.customer


@pytest.fixture
def customer_user(db, customer):
    """The customer's own login: username = customer number, a verified e-mail, owner access."""
    user = factories.UserFactory(username=customer.number, email=customer.email)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    return user


@pytest.fixture(autouse=True, scope="session")
def outbox_messages_keep_the_contract():
    """Every outbox message any test makes the portal write must match docs/billing-sync.md, or the test fails
    where it was written (tests/outbox_contract.py)."""
    from django.db.models.signals import pre_save

    from core.models import OutboxMessage
    from tests.outbox_contract import contract_breaches

    def check(sender, instance: OutboxMessage, **kwargs) -> None:
        breaches = contract_breaches(instance.kind, instance.payload)
        assert not breaches, f"an outbox message breaks the documented contract: {breaches}"

    pre_save.connect(check, sender=OutboxMessage, dispatch_uid="outbox-contract")
    yield
    pre_save.disconnect(sender=OutboxMessage, dispatch_uid="outbox-contract")


@pytest.fixture(autouse=True)
def empty_cache():
    """Redis is real and outlives a test: rate limits, throttles and alarms start from nothing each time."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the portal's default language (Polish), whatever language an earlier test left active
    in this thread (a request in English, translation.activate)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
