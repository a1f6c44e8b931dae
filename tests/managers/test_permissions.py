"""accounts.permissions: the one rule every app asks."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts import permissions
from accounts.models import AccessRole
from tests import factories

pytestmark = pytest.mark.django_db


def acts_as(user, customer) -> bool:
    return permissions.scope_for(user=user).acts_as_customer(customer.pk)


def test_the_customer_and_a_manager_of_all_points_act_as_the_customer(world):
    customer = world.a.customer

    assert acts_as(world.a.owner, customer)
    assert acts_as(world.full_manager, customer)
    assert not acts_as(world.partial_manager, customer)
    assert not acts_as(world.b.owner, customer)
    assert not acts_as(world.staff, customer)


def test_a_manager_of_some_points_may_not_switch_e_invoices_or_change_base_data(world):
    customer = world.a.customer
    partial, full = permissions.scope_for(user=world.partial_manager), permissions.scope_for(user=world.full_manager)

    assert partial.is_partial(customer.pk)
    # Switching e-invoices and changing base data both need to act as the customer (Need.ACT).
    with pytest.raises(PermissionDenied):
        permissions.access_customer(partial, customer.pk, need=permissions.Need.ACT)
    assert customer not in partial.full_customers()
    assert permissions.access_customer(full, customer.pk, need=permissions.Need.ACT) == customer
    assert customer in full.full_customers()


def test_the_scope_of_a_partial_manager_holds_the_granted_points_only(world):
    scope = permissions.scope_for(user=world.partial_manager)

    assert scope.partial_customer_ids == {world.a.customer.pk}
    assert scope.full_customer_ids == frozenset()
    assert scope.partial_point_ids == {world.a.points[0].pk}
    assert scope.is_partial(world.a.customer.pk)


def test_a_scope_narrowed_to_one_customer_keeps_only_its_points(world):
    other = factories.DeliveryPointFactory()
    access = factories.CustomerAccessFactory(
        user=world.partial_manager, customer=other.customer, role=AccessRole.MANAGER, all_points=False
    )
    access.points.add(other)

    narrowed = permissions.scope_for(user=world.partial_manager).only(world.a.customer.pk)

    assert narrowed.customer_ids == {world.a.customer.pk}
    assert narrowed.partial_point_ids == {world.a.points[0].pk}


@pytest.mark.parametrize("small", [True, False], ids=["by ids", "by subqueries"])
def test_the_visible_delivery_points_follow_the_scope(world, small, monkeypatch):
    monkeypatch.setattr(permissions, "SMALL_SCOPE", 100 if small else 0)

    def points(user):
        return permissions.scope_for(user=user).points()

    assert set(points(world.partial_manager)) == {world.a.points[0]}
    assert set(points(world.full_manager)) == set(world.a.points)
    assert not points(world.staff).exists()


def test_a_manager_may_not_claim_the_customer_number_of_a_customer_they_manage(world):
    assert permissions.scope_for(user=world.full_manager).manages(world.a.customer.pk)
    assert not permissions.scope_for(user=world.full_manager).manages(world.b.customer.pk)


def test_something_about_no_point_reaches_only_those_who_act_as_the_customer():
    assert permissions.access_covers(all_points=True, granted_point_ids=set(), point_ids=None)
    assert not permissions.access_covers(all_points=False, granted_point_ids={1}, point_ids=None)
    assert permissions.access_covers(all_points=False, granted_point_ids={1}, point_ids=frozenset({1, 2}))
    assert not permissions.access_covers(all_points=False, granted_point_ids={1}, point_ids=frozenset({2}))
