"""accounts.permissions: the one rule every app asks."""

import pytest

from accounts import permissions
from accounts.models import AccessRole
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_customer_and_a_manager_of_all_points_act_as_the_customer(world):
    customer = world.a.customer

    assert permissions.can_act_as_customer(user=world.a.owner, customer=customer)
    assert permissions.can_act_as_customer(user=world.full_manager, customer=customer)
    assert not permissions.can_act_as_customer(user=world.partial_manager, customer=customer)
    assert not permissions.can_act_as_customer(user=world.b.owner, customer=customer)
    assert not permissions.can_act_as_customer(user=world.staff, customer=customer)


def test_a_manager_of_some_points_may_not_switch_e_invoices_or_change_base_data(world):
    customer = world.a.customer

    assert permissions.is_partial(user=world.partial_manager, customer=customer)
    assert not permissions.can_manage_einvoice(user=world.partial_manager, customer=customer)
    assert not permissions.can_change_base_data(user=world.partial_manager, customer=customer)
    assert permissions.can_manage_einvoice(user=world.full_manager, customer=customer)
    assert permissions.can_change_base_data(user=world.full_manager, customer=customer)


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


def test_the_visible_delivery_points_follow_the_scope(world):
    assert set(permissions.visible_delivery_points(user=world.partial_manager)) == {world.a.points[0]}
    assert set(permissions.visible_delivery_points(user=world.full_manager)) == set(world.a.points)
    assert not permissions.visible_delivery_points(user=world.staff).exists()


def test_a_manager_may_not_claim_the_customer_number_of_a_customer_they_manage(world):
    assert not permissions.can_claim_customer(user=world.full_manager, customer=world.a.customer)
    assert permissions.can_claim_customer(user=world.full_manager, customer=world.b.customer)


def test_something_about_no_point_reaches_only_those_who_act_as_the_customer():
    assert permissions.access_covers(all_points=True, granted_point_ids=set(), point_ids=None)
    assert not permissions.access_covers(all_points=False, granted_point_ids={1}, point_ids=None)
    assert permissions.access_covers(all_points=False, granted_point_ids={1}, point_ids=frozenset({1, 2}))
    assert not permissions.access_covers(all_points=False, granted_point_ids={1}, point_ids=frozenset({2}))
