"""The readiness probe of load balancers and orchestrators (Kubernetes, Docker's HEALTHCHECK).

It answers before any other middleware: the probe comes over plain http to the pod's own address, which is not
an allowed host and would be redirected to https. It says only yes or no (can this web process serve pages: does
its database answer?), so it is open to anyone; the staff page /health/ names each dependency. Redis is not asked:
the cache fails open (core/cache.py) and background work waits in the outbox, so a Redis outage is no reason to
take every web process out of service."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse

READY_PATH = "/health/ready/"


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


class ReadinessProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != READY_PATH:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        ready = _database_answers()
        response = HttpResponse(
            b"ok\n" if ready else b"unavailable\n", content_type="text/plain", status=200 if ready else 503
        )
        response["Cache-Control"] = "no-store"
        return response
