"""What every router shares: money, pagination, the write check and the customer-data cache headers."""

import math
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema

from api import problems

PAGE_SIZE = 50


def require_write(request: HttpRequest) -> None:
    """A token made read-only may not write (403); the portal's session may (CSRF checked by ninja)."""
    token = getattr(request, "api_token", None)
    if token is not None and not token.can_write:
        raise problems.Forbidden(_("This token may only read. Make one that may submit readings and cases."))


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
