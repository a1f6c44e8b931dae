"""Accesses granted directly, for the demo and the benches that build their own data.

The office grants and revokes accesses through accounts.services (audited, the manager told by e-mail); these
set-up helpers skip that, and keep CustomerAccess inside accounts (ruff's banned-api rule).
"""

from datetime import datetime

from django.db import transaction

from accounts.models import AccessRole, Customer, CustomerAccess, User


def owner_access_ensure(*, user: User, customer: Customer, now: datetime) -> None:
    """Make `user` the customer's own login (nothing changes if it already is)."""
    CustomerAccess.objects.get_or_create(
        user=user, customer=customer, defaults={"role": AccessRole.OWNER, "granted_at": now}
    )


def manager_accesses_replace(*, user: User, grants: list[tuple[int, int | None]], now: datetime) -> None:
    """Replace the user's accesses by manager accesses: (customer id, None) for all of a customer's points,
    (customer id, point id) for that one point. Bulk: thousands at once."""
    with transaction.atomic():
        CustomerAccess.objects.filter(user=user).delete()
        accesses = CustomerAccess.objects.bulk_create(
            CustomerAccess(
                user=user, customer_id=customer_id, role=AccessRole.MANAGER, all_points=point_id is None, granted_at=now
            )
            for customer_id, point_id in grants
        )
        points = dict(grants)
        CustomerAccess.points.through.objects.bulk_create(
            CustomerAccess.points.through(customeraccess_id=access.pk, deliverypoint_id=points[access.customer_id])
            for access in accesses
            if points[access.customer_id] is not None
        )


def access_count(*, user: User) -> int:
    return CustomerAccess.objects.filter(user=user).count()
