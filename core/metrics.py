"""Counters shared by every process (web and workers) for /metrics: kept in the cache (Redis), never in the way.

A counter that cannot be written (Redis down) is skipped: metrics must not make an e-mail or a task fail.
Prometheus reads a counter that went back to zero (Redis flushed) as a restart, as it does for any process.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

PREFIX = "ibok:metrics:"
EMAILS_SENT = "emails_sent"
EMAILS_FAILED = "emails_failed"
EMAILS_DEDUPLICATED = "emails_deduplicated"  # a queued task run again did not send its e-mail twice
TASKS_FAILED = "tasks_failed"


def _key(name: str, label: str) -> str:
    return f"{PREFIX}{name}:{label}"


def count(name: str, *, label: str = "", amount: int = 1) -> None:
    """Add `amount` to the counter `name` (with an optional label value, e.g. the task's name)."""
    if amount <= 0:
        return
    key = _key(name, label)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key, amount)
        if label:
            labels = set(cache.get(_key(name, "*"), ()))
            if label not in labels:
                cache.set(_key(name, "*"), sorted(labels | {label}), timeout=None)
    except Exception:  # noqa: BLE001 - a metric is never worth a failed send
        logger.warning("metric %s not counted", name, exc_info=True)


def read(name: str) -> dict[str, int]:
    """{label: value} of a counter ("" for the unlabelled one)."""
    labels = ["", *cache.get(_key(name, "*"), ())]
    values = cache.get_many([_key(name, label) for label in labels])
    return {label: int(values.get(_key(name, label), 0)) for label in labels if _key(name, label) in values}
