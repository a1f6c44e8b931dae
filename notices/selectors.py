"""Notices reads, scoped to the acting user (accounts.permissions.Scope)."""

import copy
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import TermsVersion, User
from accounts.permissions import Scope, scope_for
from accounts.selectors import terms_versions
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
    """Current announcements, those reaching one of the user's delivery points first (`affects_me`).

    From the list cached for everyone (`published_announcements`); `scope`: the user's, when the page has read it.
    """
    scope = scope if scope is not None else scope_for(user=user)
    current = []
    for published in published_announcements(now=now):
        announcement = published.announcement
        if announcement.starts_at <= now and (announcement.ends_at is None or announcement.ends_at > now):
            shown = copy.copy(announcement)  # the cached instance is shared: mark a copy
            shown.affects_me = bool(
                published.customer_ids & scope.full_customer_ids or published.point_ids & scope.partial_point_ids
            )
            current.append(shown)
    current.sort(key=lambda a: not a.affects_me)  # stable: the latest first within each group
    return current[:limit]


@dataclass(frozen=True)
class PublishedAnnouncement:
    announcement: Announcement
    point_ids: frozenset[int]  # the delivery points it reaches
    customer_ids: frozenset[int]  # and their customers


_GENERATION_KEY = "notices:announcements:generation"


def published_announcements(*, now: datetime) -> list[PublishedAnnouncement]:
    """Every published announcement that has not ended by `now`, the latest first, with the points it reaches:
    cached for everyone until staff change announcements (notices.services.announcements_changed)."""
    generation = cache.get(_GENERATION_KEY)
    if generation is None:
        cache.add(_GENERATION_KEY, time.time_ns(), None)
        generation = cache.get(_GENERATION_KEY)
    key = f"notices:announcements:{generation}"
    published = cache.get(key)
    if published is None:
        announcements = list(
            Announcement.objects.filter(Q(published=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))).order_by(
                "-starts_at", "-id"
            )
        )
        reached: dict[int, tuple[set[int], set[int]]] = {a.pk: (set(), set()) for a in announcements}
        targets = AnnouncementTarget.objects.filter(announcement_id__in=list(reached)).values_list(
            "announcement_id", "delivery_point_id", "delivery_point__customer_id"
        )
        for announcement_id, point_id, customer_id in targets:
            reached[announcement_id][0].add(point_id)
            reached[announcement_id][1].add(customer_id)
        published = [
            PublishedAnnouncement(a, frozenset(reached[a.pk][0]), frozenset(reached[a.pk][1])) for a in announcements
        ]
        cache.set(key, published, settings.IBOK_FRAGMENT_CACHE_SECONDS)
    return published


def announcements_changed() -> None:
    """Staff published or changed an announcement: once this transaction commits, pages read the list anew. (A new
    generation rather than a deletion: a page that read the old list just before cannot store it again.)"""
    transaction.on_commit(lambda: cache.set(_GENERATION_KEY, time.time_ns(), None))


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
