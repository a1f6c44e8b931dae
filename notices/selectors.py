"""Notices reads, scoped to the acting user (accounts.permissions.Scope)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404

from accounts.models import TermsVersion, User
from accounts.permissions import Scope
from accounts.selectors import terms_versions
from core import db
from notices.models import (
    Announcement,
    AnnouncementTarget,
    Document,
    DocumentCategory,
    Notification,
    NotificationPreference,
    PhoneVerification,
)

DASHBOARD_ANNOUNCEMENTS = 6


def _current(now: datetime) -> Q:
    return Q(published=True, starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def current_announcements(*, now: datetime) -> QuerySet[Announcement]:
    """Published announcements in their time window, for everyone (also the login page): one query."""
    return Announcement.objects.filter(_current(now)).order_by("-starts_at", "-id")


def announcements_for(
    *, user: User, now: datetime, limit: int = DASHBOARD_ANNOUNCEMENTS, scope: Scope | None = None
) -> list[Announcement]:
    """Current announcements, those reaching one of the user's delivery points first (`affects_me`): one query.

    `scope`: the user's, when the page has read it; else the rule as subqueries (Scope.unread).
    """
    scope = scope if scope is not None else Scope.unread(user)
    if scope.is_small and db.sql_twins_enabled():
        return _announcements_for_sql(scope, now, limit)
    if scope.is_empty:
        affects_me = Value(False)
    else:
        targets = AnnouncementTarget.objects
        reaches_me = scope.rows(targets, customer="delivery_point__customer_id", point="delivery_point_id")
        affects_me = Exists(reaches_me.filter(announcement=OuterRef("pk")))
    return list(
        Announcement.objects.filter(_current(now))
        .annotate(affects_me=affects_me)
        .order_by("-affects_me", "-starts_at", "-id")[:limit]
    )


# The PostgreSQL twin of the ORM query above (core.db; tests/core/test_sql_twins.py compares the two).
_ANNOUNCEMENTS_SQL = f"""
SELECT {db.columns(Announcement, "a")},
    EXISTS (
        SELECT 1 FROM notices_announcementtarget t JOIN accounts_deliverypoint dp ON dp.id = t.delivery_point_id
        WHERE t.announcement_id = a.id
            AND (dp.customer_id = ANY(%(full)s::bigint[]) OR t.delivery_point_id = ANY(%(points)s::bigint[]))
    ) AS affects_me
FROM notices_announcement a
WHERE a.published AND a.starts_at <= %(now)s AND (a.ends_at IS NULL OR a.ends_at > %(now)s)
ORDER BY affects_me DESC, a.starts_at DESC, a.id DESC
LIMIT %(limit)s
"""


def _announcements_for_sql(scope: Scope, now: datetime, limit: int) -> list[Announcement]:
    announcements = []
    for row in db.fetch(_ANNOUNCEMENTS_SQL, {**scope.sql_params(), "now": now, "limit": limit}):
        announcement = db.from_row(Announcement, row)
        announcement.affects_me = row[-1]
        announcements.append(announcement)
    return announcements


@dataclass(frozen=True)
class PhoneState:
    phone: str  # the account's phone, "" when none
    verified: bool
    pending: PhoneVerification | None  # a code sent for this phone, not yet entered, still valid


def phone_state(*, user: User, now: datetime) -> PhoneState:
    """Is the account's phone verified, and is a code waiting to be entered? One query."""
    phone = str(user.phone) if user.phone else ""
    if not phone:
        return PhoneState(phone="", verified=False, pending=None)
    rows = list(PhoneVerification.objects.filter(user=user, phone=phone).order_by("-created_at", "-id")[:10])
    verified = any(row.verified_at is not None for row in rows)
    pending = next((row for row in rows if row.verified_at is None and row.expires_at > now), None)
    return PhoneState(phone=phone, verified=verified, pending=None if verified else pending)


def verified_phone_filter(prefix: str = "") -> Exists:
    """An Exists() for User rows: the user's current phone has been verified."""
    return Exists(
        PhoneVerification.objects.filter(
            user=OuterRef(f"{prefix}pk"), phone=OuterRef(f"{prefix}phone"), verified_at__isnull=False
        )
    )


def preferences_of(*, user: User) -> set[tuple[str, str]]:
    """The (kind, channel) pairs the user switched on."""
    return set(NotificationPreference.objects.filter(user=user, enabled=True).values_list("kind", "channel").order_by())


def notifications_of(*, user: User) -> QuerySet[Notification]:
    """What was sent (or tried) to the user, the latest first: the customer's own log."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class DocumentGroup:
    title: str
    documents: list[Document]


@dataclass(frozen=True)
class DocumentsPage:
    public: list[DocumentGroup]
    own: list[DocumentGroup]  # one per customer, titled with its number and name
    terms: list[TermsVersion]  # every published version of the portal's terms, the one in force first


def documents_for(*, scope: Scope) -> QuerySet[Document]:
    """Every document the user may download: the public ones, and a customer's own (contracts, letters) for its
    owner and the managers of all its points only."""
    return Document.objects.filter(Q(customer__isnull=True) | scope.acts_for("customer_id"))


def documents_page(*, scope: Scope, now: datetime) -> DocumentsPage:
    """The Dokumenty tab: the terms in every version, public documents by category, then each customer's own.

    Two queries: the terms versions and the documents.
    """
    documents = (
        documents_for(scope=scope)
        .filter(published_at__lte=now)
        .select_related("customer")
        .order_by("category", "title", "-published_at", "-id")
    )
    public: dict[str, list[Document]] = {}
    own: dict[int, list[Document]] = {}
    for document in documents:
        if document.customer_id is None:
            public.setdefault(document.category, []).append(document)
        else:
            own.setdefault(document.customer_id, []).append(document)
    labels = dict(DocumentCategory.choices)
    return DocumentsPage(
        public=[
            DocumentGroup(title=str(labels[category]), documents=public[category])
            for category in DocumentCategory.values
            if category in public
        ],
        own=[
            DocumentGroup(title=f"{docs[0].customer.number} {docs[0].customer.name}", documents=docs)
            for docs in sorted(own.values(), key=lambda docs: docs[0].customer.number)
        ],
        terms=terms_versions(now=now),
    )


def access_document(scope: Scope, document_id: int, *, now: datetime) -> Document:
    """A published document the user may download, or Http404."""
    document = documents_for(scope=scope.everything()).filter(published_at__lte=now, pk=document_id).first()
    if document is None:
        raise Http404
    return document
