"""What anyone may read without signing in: the current announcements (komunikaty), as the public page lists them."""

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from api.common import LocalDateTime, paginate
from notices import selectors as notices
from notices.models import Announcement, AnnouncementKind

router = Router(tags=["public"], auth=None)


class AnnouncementOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    starts_at: LocalDateTime
    ends_at: LocalDateTime | None
    city: str  # "" when it concerns everyone
    streets: list[str]  # empty: the whole city


class AnnouncementPage(Schema):
    count: int
    page: int
    pages: int
    results: list[AnnouncementOut]


class AnnouncementFilters(Schema):
    city: str | None = None  # those for this city, and those for everyone
    kind: AnnouncementKind | None = None
    page: int = 1


def street_list(announcement: Announcement) -> list[str]:
    return [line.strip() for line in announcement.streets.splitlines() if line.strip()]


@router.get(
    "/announcements",
    response=AnnouncementPage,
    summary="Current announcements (outages, planned works), the latest first; public, no sign-in",
)
def announcements(request: HttpRequest, filters: Query[AnnouncementFilters]):
    listed = notices.current_announcements(now=timezone.now())
    if filters.city:
        city = filters.city.strip()
        listed = listed.filter(Q(city__iexact=city) | Q(city=""))
    if filters.kind:
        listed = listed.filter(kind=filters.kind)
    return paginate(
        listed,
        filters.page,
        lambda a: {
            "id": a.pk, "kind": a.kind, "title": a.title, "body": a.body, "starts_at": a.starts_at,
            "ends_at": a.ends_at, "city": a.city, "streets": street_list(a),
        },
    )  # fmt: skip
