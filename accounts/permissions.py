"""The portal's one authorization rule: which customers and delivery points a user may see, and what they may do.

Every app asks here, never CustomerAccess directly:

- the customer's own login (OWNER) and a property manager of all its points act as the customer (full scope);
- a manager of some points (partial scope) sees the documents, payments and cases of those points only, may pay
  for them and open cases about them, but may not switch e-invoices or change the customer's base data
  (seed 003: "Administratorzy ... zarządzający tylko częścią nieruchomości");
- nobody but the user changes their own login data (password, e-mail, 2FA): those pages only ever touch
  request.user;
- staff see customers' data in the admin only; in the portal they are users like any other.

`scope_for` reads the rule (one query) so list selectors filter by plain ids; `request_scope` reads it once per
request, shared by the page and its header (the unread cases count); the `Exists` twins (`visible_customers`,
`visible_delivery_points`, `full_access`) serve subqueries, and scopes too large for id lists (`Scope.is_small`:
a property manager of thousands of delivery points).
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest

from accounts.models import AccessRole, Customer, CustomerAccess, DeliveryPoint, User

# Up to this many ids (whole customers plus single delivery points) a scope filters by id lists; beyond it the
# ids cost more to send than the rule's subqueries cost to run (a manager of 1,500 customers' points: 2 ms more
# per page for the unread-cases badge alone).
SMALL_SCOPE = 100


@dataclass(frozen=True)
class Scope:
    """What one user may see: whole customers, and single delivery points of partially managed customers."""

    full_customer_ids: frozenset[int] = frozenset()
    partial_customer_ids: frozenset[int] = frozenset()
    partial_point_ids: frozenset[int] = frozenset()
    # (point id, customer id) of the granted points, so that the scope can be narrowed to one customer.
    partial_points_of: frozenset[tuple[int, int]] = frozenset()
    user_id: int | None = None  # whose scope: a partial manager also sees what they did themselves

    @property
    def customer_ids(self) -> frozenset[int]:
        return self.full_customer_ids | self.partial_customer_ids

    @property
    def is_empty(self) -> bool:
        return not self.customer_ids

    @property
    def is_small(self) -> bool:
        """Few enough ids to filter by lists of them rather than by the rule's subqueries (SMALL_SCOPE)."""
        return len(self.full_customer_ids) + len(self.partial_point_ids) <= SMALL_SCOPE

    def only(self, customer_id: int) -> "Scope":
        """The same user's scope narrowed to one customer (the switcher's current one)."""
        points = frozenset(point for point, customer in self.partial_points_of if customer == customer_id)
        return Scope(
            self.full_customer_ids & {customer_id},
            self.partial_customer_ids & {customer_id},
            points,
            frozenset(pair for pair in self.partial_points_of if pair[1] == customer_id),
            self.user_id,
        )

    @property
    def one_customer_id(self) -> int | None:
        """The customer, when the scope is one whole customer and nothing else (most pages of most users)."""
        if len(self.full_customer_ids) == 1 and not self.partial_customer_ids:
            return next(iter(self.full_customer_ids))
        return None

    def sql_params(self) -> dict[str, object]:
        """The scope as the hand-written reads take it: %(full)s customers and %(points)s delivery points as
        arrays, and %(customer)s, the one whole customer or None (core.db.scoped_sql)."""
        return {
            "full": sorted(self.full_customer_ids),
            "points": sorted(self.partial_point_ids),
            "customer": self.one_customer_id,
        }

    def is_partial(self, customer_id: int) -> bool:
        return customer_id in self.partial_customer_ids

    def acts_as_customer(self, customer_id: int) -> bool:
        return customer_id in self.full_customer_ids

    def invoice_filter(self, prefix: str = "") -> Q:
        """Rows tied to a customer and (optionally) a delivery point: invoices, cases, allocations' invoices."""
        q = Q(**{f"{prefix}customer_id__in": self.full_customer_ids}) if self.full_customer_ids else Q(pk__in=[])
        if self.partial_point_ids:
            q |= Q(**{f"{prefix}delivery_point_id__in": self.partial_point_ids})
        return q

    def point_filter(self, prefix: str = "") -> Q:
        """Delivery points (or rows with a delivery_point FK when prefix="delivery_point__")."""
        q = Q(**{f"{prefix}customer_id__in": self.full_customer_ids}) if self.full_customer_ids else Q(pk__in=[])
        if self.partial_point_ids:
            q |= Q(**{f"{prefix}pk__in" if prefix else "pk__in": self.partial_point_ids})
        return q


def scope_for(*, user: User) -> Scope:
    """The user's access, read once (one query)."""
    if not user.is_authenticated:
        return Scope()
    full, partial_customers, partial_points = set(), set(), set()
    for customer_id, all_points, point_id in _access_rows(user):
        if all_points:
            full.add(customer_id)
        else:
            partial_customers.add(customer_id)
            if point_id is not None:
                partial_points.add((point_id, customer_id))
    return Scope(
        frozenset(full),
        frozenset(partial_customers - full),
        frozenset(point for point, _customer in partial_points),
        frozenset(partial_points),
        user.pk,
    )


def _access_rows(user: User) -> list[tuple[int, bool, int | None]]:
    """(customer, all points?, a granted point or None) for each of the user's accesses and granted points."""
    return list(CustomerAccess.objects.filter(user=user).values_list("customer_id", "all_points", "points__id"))


def request_scope(request: HttpRequest) -> Scope:
    """The signed-in user's scope, read once per request and kept on the request (never across requests)."""
    user = request.user
    scope = getattr(request, "_ibok_scope", None)
    if scope is None or scope.user_id != user.pk:  # read again if the request's user changed (login, logout)
        scope = request._ibok_scope = scope_for(user=user)
    return scope


def request_scope_if_read(request: HttpRequest) -> Scope | None:
    """The scope request_scope has read for this request's user, or None; never queries."""
    scope = getattr(request, "_ibok_scope", None)
    return scope if scope is not None and scope.user_id == request.user.pk else None


# --- the same rule as subqueries -------------------------------------------------------------------------------


def visible_customers(*, user: User) -> QuerySet[Customer]:
    """Customers the user may act for (in any scope)."""
    if not user.is_authenticated:
        return Customer.objects.none()
    return Customer.objects.filter(Exists(CustomerAccess.objects.filter(user=user, customer=OuterRef("pk"))))


def visible_delivery_points(*, user: User) -> QuerySet[DeliveryPoint]:
    """Delivery points the user may see: all of a customer's, or the granted subset for a partial manager."""
    if not user.is_authenticated:
        return DeliveryPoint.objects.none()
    full = CustomerAccess.objects.filter(user=user, customer=OuterRef("customer_id"), all_points=True)
    partial = CustomerAccess.objects.filter(user=user, all_points=False, points=OuterRef("pk"))
    return DeliveryPoint.objects.filter(Q(Exists(full)) | Q(Exists(partial)))


def full_access(*, user: User, customer_ref: str = "customer_id") -> Exists:
    """SQL: the user acts as the customer of the outer row (owner or manager of all its points)."""
    return Exists(CustomerAccess.objects.filter(user=user, customer=OuterRef(customer_ref), all_points=True))


def full_access_customer_ids(*, user: User) -> QuerySet:
    """Ids (a values() subquery) of the customers the user acts as: owner, or manager of all points."""
    if not user.is_authenticated:
        return CustomerAccess.objects.none().values("customer_id")
    return CustomerAccess.objects.filter(user=user, all_points=True).values("customer_id")


# --- decisions about one customer ------------------------------------------------------------------------------


def access_for(*, user: User, customer: Customer) -> CustomerAccess | None:
    if not user.is_authenticated:
        return None
    return CustomerAccess.objects.filter(user=user, customer=customer).first()


def can_see_customer(*, user: User, customer: Customer) -> bool:
    return user.is_authenticated and CustomerAccess.objects.filter(user=user, customer=customer).exists()


def can_act_as_customer(*, user: User, customer: Customer) -> bool:
    """Owner, or manager of all delivery points: everything the customer may do except their login data."""
    return (
        user.is_authenticated and CustomerAccess.objects.filter(user=user, customer=customer, all_points=True).exists()
    )


def is_partial(*, user: User, customer: Customer) -> bool:
    """A manager of only some of the customer's delivery points."""
    return (
        user.is_authenticated and CustomerAccess.objects.filter(user=user, customer=customer, all_points=False).exists()
    )


def can_manage_einvoice(*, user: User, customer: Customer) -> bool:
    """Switching e-invoices on or off, or changing their address, concerns all the customer's points (seed 003)."""
    return can_act_as_customer(user=user, customer=customer)


def can_change_base_data(*, user: User, customer: Customer) -> bool:
    """Contact data (address for letters, phone) of the customer: the customer or a manager of all its points."""
    return can_act_as_customer(user=user, customer=customer)


def base_data_customers(*, user: User) -> QuerySet[Customer]:
    """Customers whose base data the user may change, for the settings forms."""
    if not user.is_authenticated:
        return Customer.objects.none()
    return Customer.objects.filter(pk__in=full_access_customer_ids(user=user)).order_by("number", "id")


def can_claim_customer(*, user: User, customer: Customer) -> bool:
    """Adding a customer number as one's own (its login) is not for a manager of that customer: the office
    changes a manager's scope, and the customer number stays the customer's login."""
    return not CustomerAccess.objects.filter(user=user, customer=customer, role=AccessRole.MANAGER).exists()


def is_manager(*, user: User) -> bool:
    return user.is_authenticated and CustomerAccess.objects.filter(user=user, role=AccessRole.MANAGER).exists()


def access_covers(*, all_points: bool, granted_point_ids: set[int], point_ids: frozenset[int] | None) -> bool:
    """Whether an access (all points, or the granted ones) reaches something about `point_ids`.

    Something about no point in particular (a customer-wide invoice) reaches only those who act as the customer.
    """
    return all_points or bool(point_ids and set(point_ids) & granted_point_ids)


def access_exists(*, user_id: int | None, customer_ref: str = "pk", all_points: bool | None = None) -> Exists:
    """SQL: the user may act for the outer row's customer (only in full, or only in part, when asked).

    For queries over many customers: the rule as a correlated subquery instead of a list of ids.
    """
    accesses = CustomerAccess.objects.filter(user_id=user_id, customer=OuterRef(customer_ref))
    if all_points is not None:
        accesses = accesses.filter(all_points=all_points)
    return Exists(accesses)


def granted_point_exists(*, user_id: int | None, point_ref: str = "delivery_point_id") -> Exists:
    """SQL: the outer row's delivery point is one granted to the user as a manager of some points."""
    return Exists(
        CustomerAccess.points.through.objects.filter(
            customeraccess__user_id=user_id, customeraccess__all_points=False, deliverypoint_id=OuterRef(point_ref)
        )
    )
