"""Prometheus metrics: request latency by view (measured here), and at each scrape the outbox, the sync lag and the
counters every process keeps in Redis (core.metrics: e-mails sent and failed, task failures).

Several gunicorn processes: set PROMETHEUS_MULTIPROC_DIR (an empty folder, the same for all of them) and the
latency of all of them is read at once (prometheus-client's multiprocess mode); without it, the process that
answers the scrape reports its own.
"""

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from billing import selectors as billing_selectors
from core import metrics as counters
from core import selectors as core_selectors

REQUEST_LATENCY = Histogram(
    "ibok_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by view (URL name) and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,
)


def request_latency(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware: observe every request's duration under its view's URL name ("unresolved" for a 404 path)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unresolved"
        REQUEST_LATENCY.labels(view=view, method=request.method).observe(time.perf_counter() - started)
        return response

    return middleware


class PortalCollector:
    """Read at each scrape: nothing of it is kept in the process."""

    def collect(self):
        now = timezone.now()
        depth = GaugeMetricFamily("ibok_outbox_depth", "Rows waiting in the outbox.", labels=["kind"])
        age = GaugeMetricFamily("ibok_outbox_oldest_age_seconds", "Age of the oldest waiting row.", labels=["kind"])
        for kind, waiting in (
            ("task", core_selectors.queued_tasks_waiting()),
            ("billing_message", core_selectors.billing_messages_waiting()),
        ):
            depth.add_metric([kind], waiting.count)
            age.add_metric([kind], waiting.age_seconds(now))
        yield depth
        yield age
        last_sync = billing_selectors.last_successful_sync()
        lag = GaugeMetricFamily(
            "ibok_sync_lag_seconds", "Seconds since the last successful sync finished (-1: never succeeded)."
        )
        lag.add_metric([], (now - last_sync.finished_at).total_seconds() if last_sync else -1)
        yield lag
        beat_at = core_selectors.last_heartbeat()
        heartbeat = GaugeMetricFamily(
            "ibok_heartbeat_age_seconds", "Seconds since a worker consumed beat's heartbeat task (-1: never)."
        )
        heartbeat.add_metric([], (now - beat_at).total_seconds() if beat_at else -1)
        yield heartbeat
        emails = counters.read(counters.EMAILS_SENT).get("", 0), counters.read(counters.EMAILS_FAILED).get("", 0)
        yield CounterMetricFamily("ibok_emails_sent", "E-mails the mail server accepted.", value=emails[0])
        yield CounterMetricFamily(
            "ibok_emails_failed", "E-mails the mail server refused or never got.", value=emails[1]
        )
        failures = CounterMetricFamily("ibok_task_failures", "Celery tasks that raised, by task.", labels=["task"])
        for task, value in sorted(counters.read(counters.TASKS_FAILED).items()):
            if task:
                failures.add_metric([task], value)
        yield failures


def exposition() -> bytes:
    """The text Prometheus scrapes."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(PortalCollector())
    return generate_latest(registry)
