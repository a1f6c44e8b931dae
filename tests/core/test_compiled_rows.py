"""core.db.compiled_rows: an ORM query compiled once per process, then run as the same SQL with a new value."""

import pytest

from accounts.models import AccessRole, CustomerAccess
from accounts.permissions import _accesses_of, scope_for
from core import db
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_compiled_scope_query_returns_what_the_orm_returns_for_every_user():
    owner = factories.CustomerAccessFactory().user
    manager = factories.UserFactory()
    point = factories.DeliveryPointFactory()
    factories.DeliveryPointFactory(customer=point.customer)  # a point the manager was not granted
    partial = factories.CustomerAccessFactory(
        user=manager, customer=point.customer, role=AccessRole.MANAGER, all_points=False
    )
    partial.points.add(point)
    factories.CustomerAccessFactory(user=manager, role=AccessRole.MANAGER, all_points=True)
    nobody = factories.UserFactory()

    for user in (owner, manager, nobody):  # the first call compiles, the others reuse the SQL
        assert sorted(db.compiled_rows("scope_for", _accesses_of, user.pk)) == sorted(_accesses_of(user.pk))
    scope = scope_for(user=manager)
    assert scope.partial_point_ids == {point.pk} and len(scope.full_customer_ids) == 1


def test_a_query_with_another_parameter_than_its_argument_is_refused():
    def two_parameters(user_id):
        return CustomerAccess.objects.filter(user_id=user_id, role=AccessRole.OWNER).values_list("customer_id")

    with pytest.raises(ValueError, match="exactly one parameter"):
        db.compiled_rows("test-two-parameters", two_parameters, 1)
