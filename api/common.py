"""What every router shares: money, pagination, the write check and the customer-data cache headers."""

import hashlib
import math
from datetime import datetime, time
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator

from api import problems
from core import versions

PAGE_SIZE = 50


def require_write(request: HttpRequest) -> None:
    """A token made read-only may not write (403); the portal's session may (CSRF checked by ninja)."""
    token = getattr(request, "api_token", None)
    if token is not None and not token.can_write:
        raise problems.Forbidden(_("This token may only read. Make one that may submit readings and cases."))


WARSAW = ZoneInfo("Europe/Warsaw")

# A moment as ISO 8601 with Warsaw's offset (2026-12-03T23:10:00+01:00), whatever the database returned.
LocalDateTime = Annotated[datetime, AfterValidator(lambda value: value.astimezone(WARSAW))]


def form_invalid(form) -> problems.Invalid:
    """A page's form that refused the input, as a 422 with its errors (the same messages the page shows)."""
    errors = [
        {"loc": [field if field != "__all__" else "body"], "msg": str(message)}
        for field, messages in form.errors.items()
        for message in messages
    ]
    return problems.Invalid(_("The request is not valid."), errors)


class Money(Schema):
    amount: str
    currency: str = "PLN"


def money(value: Decimal) -> Money:
    return Money(amount=f"{value:.2f}")


def paginate(items, page: int, build) -> dict:
    """One page of `items` (already in a stable order) as {count, page, pages, results}; `build` makes a row."""
    paginator = Paginator(items, PAGE_SIZE)
    number = min(max(page, 1), max(paginator.num_pages, 1))
    return {
        "count": paginator.count,
        "page": number,
        "pages": max(math.ceil(paginator.count / PAGE_SIZE), 1),
        "results": [build(item) for item in paginator.page(number).object_list],
    }


# --- conditional GETs of customer data: ETag and Last-Modified from the customers' data version (core.versions) --


def _http_date(moment: datetime) -> str:
    return http_date(moment.timestamp())


def conditional(request: HttpRequest, customer_ids, *, extra: object = "") -> tuple[HttpResponse | None, dict]:
    """(a 304 answer or None, the headers for a 200) for a GET of the customers' data.

    The ETag hashes the customers' version sum with what else the answer depends on: the user, the full path with
    its query, the language and the day (an invoice turns overdue at midnight without a write). Last-Modified is
    when the latest version moved, or today's midnight in Warsaw if later. If-None-Match wins over
    If-Modified-Since (RFC 9110)."""
    version, changed_at = versions.state_of(customer_ids)
    today = timezone.localdate()
    identity = (sorted(customer_ids), version, request.user.pk, request.get_full_path(), get_language(), today, extra)
    etag = '"' + hashlib.sha256(repr(identity).encode()).hexdigest()[:32] + '"'
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    last_modified = max(changed_at, midnight) if changed_at else midnight
    headers = {"ETag": etag, "Last-Modified": _http_date(last_modified), "Vary": "Accept-Language, Authorization"}
    headers["Cache-Control"] = "private, no-cache"
    if_none_match = request.headers.get("If-None-Match")
    fresh = False
    if if_none_match is not None:
        fresh = etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    elif (since := parse_http_date_safe(request.headers.get("If-Modified-Since", ""))) is not None:
        fresh = int(last_modified.timestamp()) <= since
    if not fresh:
        return None, headers
    not_modified = HttpResponse(status=304)
    for name, value in headers.items():
        not_modified[name] = value
    return not_modified, headers


def with_headers(response: HttpResponse, headers: dict) -> None:
    for name, value in headers.items():
        response[name] = value
