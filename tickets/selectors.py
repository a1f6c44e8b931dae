"""Reads for cases, always scoped to what the acting user may see.

The customer and a manager of all a customer's points see all its cases; a manager of some points sees only
the cases about those points. Staff notes are never read here: they are for the admin only.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import permissions
from accounts.models import Customer, DeliveryPoint, User
from accounts.selectors import visible_customers, visible_delivery_points
from core import db
from meters.models import Meter
from tickets.models import Attachment, Case, Message, Sender

# Sort keys a customer may ask for in the list, each with a tiebreaker so pages never overlap.
CASE_SORTS = {
    "number": ("id",),
    "status": ("status", "-id"),
    "sent": ("opened_at", "id"),
    "type": ("case_type", "-id"),
    "subject": ("subject", "-id"),
    "unread": ("unread", "-id"),
}
DEFAULT_CASE_SORT = "-sent"


@dataclass(frozen=True)
class CaseSearch:
    status: str = ""
    case_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    sort: str = DEFAULT_CASE_SORT


def _unread_staff_messages() -> Q:
    return Q(messages__sender=Sender.STAFF, messages__read_at__isnull=True)


def cases_for(*, user: User) -> QuerySet[Case]:
    """Every case the user may see."""
    if not user.is_authenticated:
        return Case.objects.none()
    return Case.objects.filter(
        Q(permissions.full_access(user=user)) | Q(delivery_point__in=visible_delivery_points(user=user))
    )


def _order(sort: str) -> tuple[str, ...]:
    descending = sort.startswith("-")
    fields = CASE_SORTS.get(sort.lstrip("-"))
    if fields is None:
        return _order(DEFAULT_CASE_SORT)
    if not descending:
        return fields
    return tuple(field[1:] if field.startswith("-") else f"-{field}" for field in fields)


def case_list(*, user: User, search: CaseSearch) -> QuerySet[Case]:
    """The list of sent cases with their unread counts, filtered and sorted; the view pages it."""
    cases = cases_for(user=user)
    if search.status:
        cases = cases.filter(status=search.status)
    if search.case_type:
        cases = cases.filter(case_type=search.case_type)
    tz = timezone.get_current_timezone()
    if search.date_from:
        cases = cases.filter(opened_at__gte=datetime.combine(search.date_from, time.min, tzinfo=tz))
    if search.date_to:
        # Half-open: everything before the next day's midnight in Warsaw.
        cases = cases.filter(opened_at__lt=datetime.combine(search.date_to, time.min, tzinfo=tz) + timedelta(days=1))
    text = search.text.strip()
    if text:
        in_messages = Message.objects.filter(case=OuterRef("pk"), body__icontains=text)
        matches = Q(subject__icontains=text) | Q(Exists(in_messages))
        if text.lstrip("#").isdigit():
            matches |= Q(pk=int(text.lstrip("#")))
        cases = cases.filter(matches)
    return (
        cases.select_related("delivery_point")
        .annotate(unread=Count("messages", filter=_unread_staff_messages()))
        .order_by(*_order(search.sort))
    )


def case_detail(*, user: User, case_id: int) -> Case:
    """One case with its thread (oldest first) and attachments; raises Case.DoesNotExist when not visible."""
    thread = Message.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    return (
        cases_for(user=user)
        .select_related("customer", "delivery_point")
        .prefetch_related(Prefetch("messages", queryset=thread.order_by("sent_at", "id"), to_attr="thread"))
        .get(pk=case_id)
    )


def sent_messages(*, user: User) -> QuerySet[Message]:
    """Lista wysłanych wiadomości: what the user's side wrote, the latest first."""
    return (
        Message.objects.filter(case__in=cases_for(user=user), sender=Sender.CUSTOMER)
        .select_related("case")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-sent_at", "-id")
    )


def cases_in(*, scope: permissions.Scope) -> QuerySet[Case]:
    """The cases of a scope read beforehand: the same rule as cases_for, filtered by ids instead of subqueries."""
    if scope.is_empty:
        return Case.objects.none()
    q = Q(delivery_point_id__in=scope.partial_point_ids) if scope.partial_point_ids else Q(pk__in=[])
    if scope.full_customer_ids:
        # Also a case whose delivery point belongs to such a customer, as visible_delivery_points has it.
        q |= Q(customer_id__in=scope.full_customer_ids) | Q(delivery_point__customer_id__in=scope.full_customer_ids)
    return Case.objects.filter(q)


def unread_total(*, user: User, scope: permissions.Scope | None = None) -> int:
    """Replies from the office not yet read, across every visible case: one query.

    `scope`: the user's, when the page has read it; a small one filters by its ids, else the rule's subqueries.
    """
    small = scope is not None and scope.is_small
    if small and db.sql_twins_enabled():
        return _unread_total_sql(scope)
    cases = cases_in(scope=scope) if small else cases_for(user=user)
    return Message.objects.filter(case__in=cases, sender=Sender.STAFF, read_at__isnull=True).count()


# The PostgreSQL twin of the ORM count above (core.db; tests/core/test_sql_twins.py compares the two): shown on
# every page. A case is visible by its customer or delivery point (cases_in), the latter's customer included.
_UNREAD_TOTAL_SQL = """
SELECT count(*) AS unread FROM tickets_message m
WHERE m.sender = %(staff)s AND m.read_at IS NULL AND m.case_id IN (
    SELECT id FROM tickets_case
    WHERE customer_id = ANY(%(full)s::bigint[]) OR delivery_point_id = ANY(%(points)s::bigint[])
    UNION
    SELECT c.id FROM tickets_case c JOIN accounts_deliverypoint dp ON dp.id = c.delivery_point_id
    WHERE dp.customer_id = ANY(%(full)s::bigint[])
)
"""


def _unread_total_sql(scope: permissions.Scope) -> int:
    if scope.is_empty:
        return 0
    return db.fetch_named(_UNREAD_TOTAL_SQL, {**scope.sql_params(), "staff": Sender.STAFF.value})[0]["unread"]


def attachment_for(*, user: User, attachment_id: int) -> Attachment:
    """An attachment of a visible case; raises Attachment.DoesNotExist otherwise."""
    return Attachment.objects.get(pk=attachment_id, message__case__in=cases_for(user=user))


def customers_for_new_case(*, user: User) -> QuerySet[Customer]:
    return visible_customers(user=user).order_by("number", "id")


def points_for_new_case(*, user: User) -> QuerySet[DeliveryPoint]:
    return visible_delivery_points(user=user).select_related("customer").order_by("customer__number", "code", "id")


def fully_accessible_customer_ids(*, user: User) -> set[int]:
    """Customers for whom the user may open a case not tied to a delivery point."""
    if not user.is_authenticated:
        return set()
    return {row["customer_id"] for row in permissions.full_access_customer_ids(user=user)}


def meters_for_problem(*, user: User) -> QuerySet[Meter]:
    """Meters still installed at the user's visible delivery points, for the meter problem request."""
    return (
        Meter.objects.filter(delivery_point__in=visible_delivery_points(user=user), removed_date__isnull=True)
        .select_related("delivery_point")
        .order_by("delivery_point__code", "serial_number", "id")
    )
