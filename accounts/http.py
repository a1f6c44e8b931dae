"""The one place that says who is asking: the client's address behind the reverse proxy, and its browser."""

from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The real client address: X-Forwarded-For read with settings.IBOK_TRUSTED_PROXY_COUNT, else REMOTE_ADDR.

    allauth's rate limits use the same function (ALLAUTH_TRUSTED_PROXY_COUNT is set from the same setting),
    so the login throttle, the registration throttle and every record of an address agree.
    """
    return get_client_ip(request)


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
