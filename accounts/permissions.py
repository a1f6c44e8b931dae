"""The portal's one authorization rule, and the one way to ask it: the request's `Scope`.

Who may see and do what:

- the customer's own login (OWNER) and a property manager of all its points act as the customer (full scope);
- a manager of some points (partial scope) sees the documents, payments and cases of those points only, may pay
  for them and open cases about them, but may not switch e-invoices or change the customer's base data
  (seed 003: "Administratorzy ... zarządzający tylko częścią nieruchomości");
- nobody but the user changes their own login data (password, e-mail, 2FA): those pages only ever touch
  request.user;
- staff see customers' data in the admin only; in the portal they are users like any other.

How to ask (docs/architecture.md, "Asking who may see what"):

- reads: `request_scope(request)` reads the user's accesses once per request; `scope.customers()`,
  `scope.points()`, `scope.invoices()`, `scope.meters()`, `scope.cases()` are querysets, and
  `scope.rows(queryset, customer=..., point=...)` scopes any other rows tied to a customer and a delivery point.
  Whether they filter by lists of ids or by subqueries on the accesses is decided here only (`Scope.is_small`).
- one object: a loader, `access_customer(scope, customer_id, need=...)` here, `access_invoice`, `access_meter`,
  `access_case`... in each app's selectors: the object, or Http404 for "missing" and "not yours" alike.
- the customer switcher (accounts.switcher): a property manager's chosen customer narrows the request's scope,
  so every page shows that customer only; loaders answer by the whole scope (a link to another managed
  customer's invoice still opens).

Nothing outside accounts reads CustomerAccess (ruff's banned-api rule, pyproject.toml).
"""

import enum
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404, HttpRequest

from accounts import switcher
from accounts.models import AccessRole, Customer, CustomerAccess, DeliveryPoint, User
from core import db

# Up to this many ids (whole customers plus single delivery points) a scope filters by id lists; beyond it the
# ids cost more to send than the rule's subqueries cost to run (a manager of 1,500 customers' points: 2 ms more
# per page for the unread-cases badge alone).
SMALL_SCOPE = 100


def _in(path: str, ids: frozenset[int]) -> Q:
    if not ids:
        # Plain false rather than an empty IN, which Django drops from WHERE but not from a CASE or a subquery.
        return Q(Value(False))
    return Q(**{f"{path}__in": sorted(ids)})  # sorted: one SQL text for one set, so it stays prepared


@dataclass(frozen=True)
class Scope:
    """What one user may see: whole customers, and single delivery points of partially managed customers."""

    full_customer_ids: frozenset[int] = frozenset()
    partial_customer_ids: frozenset[int] = frozenset()
    partial_point_ids: frozenset[int] = frozenset()
    # (point id, customer id) of the granted points, so that the scope can be narrowed to one customer.
    partial_points_of: frozenset[tuple[int, int]] = frozenset()
    user_id: int | None = None  # whose scope: a partial manager also sees what they did themselves
    owned_customer_ids: frozenset[int] = frozenset()  # the customers whose own login this is (OWNER)
    narrowed_to: int | None = None  # one customer of a wider scope (`whole`), see only()
    chosen: bool = False  # narrowed by the user's choice in the customer switcher
    whole: "Scope | None" = field(default=None, compare=False, repr=False)
    held: bool = True  # False: the accesses were not read (unread()); every condition is a subquery on them

    @classmethod
    def unread(cls, user: User) -> "Scope":
        """The user's scope without reading it: for a page that needs one figure (the header's badge) and has not
        read the scope, one query with the rule as subqueries instead of two."""
        return cls(user_id=user.pk, held=False) if user.is_authenticated else cls()

    # --- what the scope holds (no queries) -------------------------------------------------------------------

    @property
    def customer_ids(self) -> frozenset[int]:
        return self.full_customer_ids | self.partial_customer_ids

    @property
    def is_empty(self) -> bool:
        return self.held and not self.customer_ids

    @property
    def is_small(self) -> bool:
        """Few enough ids to filter by lists of them rather than by the rule's subqueries (SMALL_SCOPE)."""
        return self.held and len(self.full_customer_ids) + len(self.partial_point_ids) <= SMALL_SCOPE

    @property
    def one_customer_id(self) -> int | None:
        """The customer, when the scope is one whole customer and nothing else (most pages of most users)."""
        if len(self.full_customer_ids) == 1 and not self.partial_customer_ids:
            return next(iter(self.full_customer_ids))
        return None

    @property
    def has_many_customers(self) -> bool:
        return len(self.customer_ids) > 1

    def sees_customer(self, customer_id: int) -> bool:
        return customer_id in self.customer_ids

    def acts_as_customer(self, customer_id: int) -> bool:
        """Owner, or manager of all delivery points: everything the customer may do except their login data
        (switching e-invoices, changing base data, the customer's own documents)."""
        return customer_id in self.full_customer_ids

    def is_partial(self, customer_id: int) -> bool:
        """A manager of only some of the customer's delivery points."""
        return customer_id in self.partial_customer_ids

    def manages(self, customer_id: int) -> bool:
        """A property manager of the customer (of all or some points), not its own login."""
        return self.sees_customer(customer_id) and customer_id not in self.owned_customer_ids

    @property
    def manages_any(self) -> bool:
        return bool(self.customer_ids - self.owned_customer_ids)

    def sql_params(self) -> dict[str, object]:
        """The scope as the hand-written reads take it: %(full)s customers and %(points)s delivery points as
        arrays, %(customer)s, the one whole customer or None (core.db.scoped_sql), and %(user)s, the user's id."""
        return {
            "full": sorted(self.full_customer_ids),
            "points": sorted(self.partial_point_ids),
            "customer": self.one_customer_id,
            "user": self.user_id,
        }

    # --- narrowing -------------------------------------------------------------------------------------------

    def only(self, customer_id: int, *, chosen: bool = False) -> "Scope":
        """The same user's scope narrowed to one customer (the switcher's choice, or the dashboard's first)."""
        whole = self.everything()
        return Scope(
            whole.full_customer_ids & {customer_id},
            whole.partial_customer_ids & {customer_id},
            frozenset(point for point, customer in whole.partial_points_of if customer == customer_id),
            frozenset(pair for pair in whole.partial_points_of if pair[1] == customer_id),
            whole.user_id,
            whole.owned_customer_ids & {customer_id},
            narrowed_to=customer_id,
            chosen=chosen,
            whole=whole,
        )

    def everything(self) -> "Scope":
        """The scope before any narrowing: every customer the user may act for."""
        return self.whole if self.whole is not None else self

    # --- the rule as conditions on rows: id lists for a small scope, subqueries on the accesses otherwise -------

    def _accesses(self, **conditions) -> QuerySet[CustomerAccess]:
        accesses = CustomerAccess.objects.filter(user_id=self.user_id, **conditions)
        return accesses.filter(customer_id=self.narrowed_to) if self.narrowed_to is not None else accesses

    def acts_for(self, customer: str = "customer_id") -> Q:
        """The row's customer (at the path `customer`) is one the user acts as."""
        if self.is_small:
            return _in(customer, self.full_customer_ids)
        return Q(Exists(self._accesses(all_points=True, customer=OuterRef(customer))))

    def in_part(self, customer: str = "customer_id") -> Q:
        """The row's customer is one the user manages some points of."""
        if self.is_small:
            return _in(customer, self.partial_customer_ids)
        return Q(Exists(self._accesses(all_points=False, customer=OuterRef(customer))))

    def sees(self, customer: str = "customer_id") -> Q:
        """The row's customer is one the user may act for, in full or in part."""
        if self.is_small:
            return _in(customer, self.customer_ids)
        return Q(Exists(self._accesses(customer=OuterRef(customer))))

    def granted(self, point: str = "delivery_point_id") -> Q:
        """The row's delivery point is one granted to the user as a manager of some points."""
        if self.is_small:
            return _in(point, self.partial_point_ids)
        granted = CustomerAccess.points.through.objects.filter(
            customeraccess__in=self._accesses(all_points=False), deliverypoint_id=OuterRef(point)
        )
        return Q(Exists(granted))

    @property
    def _may_have_points(self) -> bool:
        return bool(self.partial_point_ids) or not self.held

    # --- the reads ---------------------------------------------------------------------------------------------

    def rows(self, queryset: QuerySet, *, customer: str = "customer_id", point: str | None = "delivery_point_id"):
        """`queryset`'s rows the user may see: those of a customer they act as, and (with `point`) those of a
        delivery point granted to them. Rows about no point in particular reach only those who act as the
        customer."""
        if self.is_empty:
            return queryset.none()
        condition = self.acts_for(customer)
        if point is not None and self._may_have_points:
            condition |= self.granted(point)
        return queryset.filter(condition)

    def customers(self) -> QuerySet[Customer]:
        """The customers the user acts for, in full or in part, by number."""
        if self.is_empty:
            return Customer.objects.none()
        return Customer.objects.filter(self.sees("pk")).order_by("number", "id")

    def full_customers(self) -> QuerySet[Customer]:
        """The customers the user acts as (base data, e-invoices, the customer's own documents), by number."""
        return self.rows(Customer.objects, customer="pk", point=None).order_by("number", "id")

    def points(self) -> QuerySet[DeliveryPoint]:
        """The delivery points the user may see: all of a customer's, or the granted ones."""
        return self.rows(DeliveryPoint.objects, point="pk")

    # The apps above accounts are named by label, not imported: accounts stays below them (lint-imports).

    def invoices(self) -> QuerySet:
        """Invoices, corrections and interest notes (billing.Invoice)."""
        return self.rows(apps.get_model("billing", "Invoice").objects)

    def meters(self) -> QuerySet:
        """Meters of the visible delivery points (meters.Meter)."""
        return self.rows(apps.get_model("meters", "Meter").objects, customer="delivery_point__customer_id")

    def cases(self) -> QuerySet:
        """Cases (tickets.Case): a customer's own, those about a visible delivery point, whichever customer they
        were filed under, and the user's own reports made without an account (no customer, claimed by their
        verified e-mail)."""
        case_model = apps.get_model("tickets", "Case")
        own_reports = Q(customer_id__isnull=True, opened_by_id=self.user_id)
        if self.is_empty:
            return case_model.objects.filter(own_reports) if self.user_id is not None else case_model.objects.none()
        condition = self.acts_for("customer_id") | self.acts_for("delivery_point__customer_id")
        if self._may_have_points:
            condition |= self.granted("delivery_point_id")
        if self.user_id is not None:
            condition |= own_reports
        return case_model.objects.filter(condition)


def _accesses_of(user_id: int) -> QuerySet:
    return CustomerAccess.objects.filter(user_id=user_id).values_list("customer_id", "all_points", "role", "points__id")


def scope_for(*, user: User) -> Scope:
    """The user's access, read once (one query)."""
    if not user.is_authenticated:
        return Scope()
    full, partial_customers, partial_points, owned = set(), set(), set(), set()
    rows = db.compiled_rows("scope_for", _accesses_of, user.pk)  # the ORM query, compiled once per process
    for customer_id, all_points, role, point_id in rows:
        if role == AccessRole.OWNER:
            owned.add(customer_id)
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
        frozenset(owned),
    )


def request_scope(request: HttpRequest) -> Scope:
    """The signed-in user's scope, read once per request and kept on the request (never across requests);
    narrowed to the customer chosen in the switcher while that customer is still in it."""
    user = request.user
    scope = getattr(request, "_ibok_scope", None)
    if scope is None or scope.user_id != user.pk:  # read again if the request's user changed (login, logout)
        scope = scope_for(user=user)
        chosen = switcher.current_id(request)
        if chosen is not None and chosen in scope.customer_ids:
            scope = scope.only(chosen, chosen=True)
        request._ibok_scope = scope
    return scope


def request_scope_if_read(request: HttpRequest) -> Scope | None:
    """The scope request_scope has read for this request's user, or None; never queries."""
    scope = getattr(request, "_ibok_scope", None)
    return scope if scope is not None and scope.user_id == request.user.pk else None


# --- one object ------------------------------------------------------------------------------------------------


class Need(enum.Enum):
    SEE = "see"  # any access: the customer's pages
    ACT = "act"  # acting as the customer: e-invoices, base data (a manager of some points is refused)


def access_customer(scope: Scope, customer_id: int, *, need: Need = Need.SEE) -> Customer:
    """One customer the user may act for, or Http404. With need=ACT, a manager of some of its points, who may see
    the customer but not act as it, gets PermissionDenied (403): the customer's existence is no secret to them."""
    scope = scope.everything()
    if not scope.sees_customer(customer_id):
        raise Http404
    if need is Need.ACT and not scope.acts_as_customer(customer_id):
        raise PermissionDenied
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    return customer


# --- the rule for background work (no request) ------------------------------------------------------------------


def access_covers(*, all_points: bool, granted_point_ids: set[int], point_ids: frozenset[int] | None) -> bool:
    """Whether an access (all points, or the granted ones) reaches something about `point_ids`.

    Something about no point in particular (a customer-wide invoice) reaches only those who act as the customer.
    """
    return all_points or bool(point_ids and set(point_ids) & granted_point_ids)


@dataclass(frozen=True)
class Reach:
    """One active user's access to one customer, for work done without a request (notifications)."""

    user: User
    customer_id: int
    all_points: bool
    granted_point_ids: frozenset[int]

    def covers(self, point_ids: frozenset[int] | None) -> bool:
        return access_covers(
            all_points=self.all_points, granted_point_ids=set(self.granted_point_ids), point_ids=point_ids
        )


def audience(*, customer_ids: set[int], **user_annotations) -> dict[int, list[Reach]]:
    """Per customer, the active users who act for it and what their access reaches, in two queries. Each keyword
    is an expression over the access's user (`user__...`), set on the user under its name."""
    accesses = list(
        CustomerAccess.objects.filter(customer_id__in=customer_ids, user__is_active=True)
        .select_related("user")
        .annotate(**user_annotations)
        .order_by("id")
    )
    granted: dict[int, set[int]] = {}
    partial = [access.pk for access in accesses if not access.all_points]
    if partial:
        through = CustomerAccess.points.through.objects.filter(customeraccess_id__in=partial)
        for access_id, point_id in through.values_list("customeraccess_id", "deliverypoint_id"):
            granted.setdefault(access_id, set()).add(point_id)
    reaches: dict[int, list[Reach]] = {}
    for access in accesses:
        for name in user_annotations:
            setattr(access.user, name, getattr(access, name))
        reach = Reach(access.user, access.customer_id, access.all_points, frozenset(granted.get(access.pk, ())))
        reaches.setdefault(access.customer_id, []).append(reach)
    return reaches
