"""Reads for cases, always scoped to what the acting user may see.

The customer and a manager of all a customer's points see all its cases; a manager of some points sees only
the cases about those points. Staff notes are never read here: they are for the admin only.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Customer, DeliveryPoint, User
from accounts.permissions import Scope
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


def _order(sort: str) -> tuple[str, ...]:
    descending = sort.startswith("-")
    fields = CASE_SORTS.get(sort.lstrip("-"))
    if fields is None:
        return _order(DEFAULT_CASE_SORT)
    if not descending:
        return fields
    return tuple(field[1:] if field.startswith("-") else f"-{field}" for field in fields)


def case_list(*, scope: Scope, search: CaseSearch) -> QuerySet[Case]:
    """The list of sent cases with their unread counts, filtered and sorted; the view pages it."""
    cases = scope.cases()
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


def access_case(scope: Scope, case_id: int) -> Case:
    """One case with its thread (oldest first) and attachments, or Http404 for a missing case and another's alike."""
    thread = Message.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    case = (
        scope.everything()
        .cases()
        .select_related("customer", "delivery_point")
        .prefetch_related(Prefetch("messages", queryset=thread.order_by("sent_at", "id"), to_attr="thread"))
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def sent_messages(*, scope: Scope) -> QuerySet[Message]:
    """Lista wysłanych wiadomości: what the user's side wrote, the latest first."""
    return (
        Message.objects.filter(case__in=scope.cases(), sender=Sender.CUSTOMER)
        .select_related("case")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-sent_at", "-id")
    )


def unread_total(*, user: User, scope: Scope | None = None) -> int:
    """Replies from the office not yet read, across every visible case: one query.

    `scope`: the user's, when the page has read it; else the rule as subqueries (Scope.unread).
    """
    scope = scope if scope is not None else Scope.unread(user)
    if scope.is_small and db.sql_twins_enabled():
        return _unread_total_sql(scope)
    return Message.objects.filter(case__in=scope.cases(), sender=Sender.STAFF, read_at__isnull=True).count()


# The PostgreSQL twin of the ORM count above (core.db; tests/core/test_sql_twins.py compares the two): shown on
# every page. A case is visible by its customer or delivery point (Scope.cases), the latter's customer included,
# and a report without an account by the user who claimed it.
_UNREAD_TOTAL_SQL = """
SELECT count(*) AS unread FROM tickets_message m
WHERE m.sender = %(staff)s AND m.read_at IS NULL AND m.case_id IN (
    SELECT id FROM tickets_case
    WHERE customer_id = ANY(%(full)s::bigint[]) OR delivery_point_id = ANY(%(points)s::bigint[])
    UNION
    SELECT c.id FROM tickets_case c JOIN accounts_deliverypoint dp ON dp.id = c.delivery_point_id
    WHERE dp.customer_id = ANY(%(full)s::bigint[])
    UNION
    SELECT id FROM tickets_case WHERE customer_id IS NULL AND opened_by_id = %(user)s
)
"""


def _unread_total_sql(scope: Scope) -> int:
    if scope.is_empty and scope.user_id is None:
        return 0
    return db.fetch_named(_UNREAD_TOTAL_SQL, {**scope.sql_params(), "staff": Sender.STAFF.value})[0]["unread"]


def report_attachment(*, token: str, attachment_id: int) -> Attachment:
    """An attachment of the report behind a tracking link's token (the reporter's photo, the office's files), or
    Http404: a wrong token and another case's attachment alike."""
    attachment = Attachment.objects.filter(
        pk=attachment_id, message__case__customer__isnull=True,
        message__case__tracking_token_hash=report_token_hash(token),
    ).first()  # fmt: skip
    if attachment is None:
        raise Http404
    return attachment


def access_attachment(scope: Scope, attachment_id: int) -> Attachment:
    """An attachment of a case the user may see, or Http404."""
    attachment = Attachment.objects.filter(pk=attachment_id, message__case__in=scope.everything().cases()).first()
    if attachment is None:
        raise Http404
    return attachment


def customers_for_new_case(*, scope: Scope) -> QuerySet[Customer]:
    return scope.customers()


def points_for_new_case(*, scope: Scope) -> QuerySet[DeliveryPoint]:
    return scope.points().select_related("customer").order_by("customer__number", "code", "id")


def fully_accessible_customer_ids(*, scope: Scope) -> frozenset[int]:
    """Customers for whom the user may open a case not tied to a delivery point (those they act as)."""
    return scope.full_customer_ids


def meters_for_problem(*, scope: Scope) -> QuerySet[Meter]:
    """Meters still installed at the user's visible delivery points, for the meter problem request."""
    return (
        scope.meters()
        .filter(removed_date__isnull=True)
        .select_related("delivery_point")
        .order_by("delivery_point__code", "serial_number", "id")
    )


def verified_emails(*, user: User) -> list[str]:
    """The user's verified e-mail addresses (allauth's), lower-cased."""
    return [
        email.lower() for email in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ]


def report_token_hash(token: str) -> str:
    """What is stored of a tracking link's token: its SHA-256 (the token has 256 random bits, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def report_by_token(*, token: str) -> Case:
    """The report without an account behind a tracking link's token, with its thread, or Http404."""
    token_hash = report_token_hash(token)
    thread = Message.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    case = (
        Case.objects.filter(customer__isnull=True, tracking_token_hash=token_hash)
        .prefetch_related(Prefetch("messages", queryset=thread.order_by("sent_at", "id"), to_attr="thread"))
        .first()
    )
    if case is None:
        raise Http404
    return case


def has_own_reports(*, user: User) -> bool:
    """Whether the user has claimed reports made without an account (cases with no customer, hence no data
    version for a conditional GET)."""
    return user.is_authenticated and Case.objects.filter(customer__isnull=True, opened_by_id=user.pk).exists()
