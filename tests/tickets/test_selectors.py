"""The cases of a scope read once (by ids: the navigation's unread count) follow the same rule as the rule's
subqueries (a scope not read, Scope.unread)."""

import pytest

from accounts import permissions
from accounts.models import AccessRole
from tests import factories
from tickets import selectors
from tickets.models import Sender

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(customer, partial_manager):
    """A customer-wide case, a case about the managed point, one about the other point, and a stranger's case."""
    other_point = customer.delivery_points.exclude(pk=partial_manager.managed_point.pk).get()
    stranger = factories.DeliveryPointFactory()
    made = {
        "customer-wide": factories.CaseFactory(customer=customer, delivery_point=None),
        "managed point": factories.CaseFactory(customer=customer, delivery_point=partial_manager.managed_point),
        "other point": factories.CaseFactory(customer=customer, delivery_point=other_point),
        "stranger": factories.CaseFactory(customer=stranger.customer, delivery_point=stranger),
    }
    for case in made.values():
        factories.MessageFactory(case=case, sender=Sender.STAFF, read_at=None)
    return made


@pytest.fixture
def full_manager(customer):
    user = factories.UserFactory(username="zarzadca-calosci")
    factories.CustomerAccessFactory(user=user, customer=customer, role=AccessRole.MANAGER, all_points=True)
    return user


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("customer_user", {"customer-wide", "managed point", "other point"}),
        ("full_manager", {"customer-wide", "managed point", "other point"}),
        ("partial_manager", {"managed point"}),
        ("stranger_user", set()),
    ],
)
def test_cases_in_a_scope_are_the_cases_the_user_may_see(request, cases, who, expected):
    user = factories.UserFactory(username="obcy") if who == "stranger_user" else request.getfixturevalue(who)
    scope = permissions.scope_for(user=user)

    by_ids = set(scope.cases())
    by_subqueries = set(permissions.Scope.unread(user).cases())

    assert by_ids == by_subqueries == {cases[name] for name in expected}
    assert selectors.unread_total(user=user, scope=scope) == len(expected)
    assert selectors.unread_total(user=user) == len(expected)


def test_a_large_scope_counts_unread_replies_by_the_rules_subqueries(partial_manager, cases, monkeypatch):
    monkeypatch.setattr(permissions, "SMALL_SCOPE", 0)
    scope = permissions.scope_for(user=partial_manager)

    assert not scope.is_small
    assert selectors.unread_total(user=partial_manager, scope=scope) == 1
