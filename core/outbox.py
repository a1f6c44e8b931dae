"""Delivery of outbox messages to the billing system: over HTTP, or as files for a file-based interface."""

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from core.models import OutboxMessage


class DeliveryFailed(Exception):
    """The receiver did not take the message; it is tried again later."""


def message_body(message: OutboxMessage) -> dict:
    return {
        "id": message.pk,
        "kind": message.kind,
        "customer_number": message.customer_number,
        "idempotency_key": message.idempotency_key,
        "created_at": message.created_at.isoformat(),
        "payload": message.payload,
    }


SIGNATURE_HEADER = "X-Ibok-Signature"


def signature(body: bytes, secret: str | None = None) -> str:
    """HMAC-SHA256 of the exact bytes sent, with the secret shared with the billing system (docs/billing-sync.md)."""
    key = (settings.IBOK_OUTBOX_SECRET if secret is None else secret).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, value: str, secret: str) -> bool:
    return bool(secret) and hmac.compare_digest(signature(body, secret), value or "")


def encoded_body(message: OutboxMessage) -> bytes:
    return json.dumps(message_body(message), ensure_ascii=False).encode()


def deliver_http(message: OutboxMessage) -> None:
    body = encoded_body(message)
    request = urllib.request.Request(
        settings.IBOK_OUTBOX_URL,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {settings.IBOK_OUTBOX_TOKEN}",
            # The receiver keeps the keys it has seen: a message delivered twice is booked once.
            "Idempotency-Key": message.idempotency_key,
            SIGNATURE_HEADER: signature(body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - configured URL
            response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 409:  # "already have it"
            return
        raise DeliveryFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(str(exc)) from exc


def deliver_file(message: OutboxMessage) -> None:
    folder = Path(settings.IBOK_OUTBOX_DIR) / message.created_at.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in message.idempotency_key)
    target = folder / f"{message.created_at:%H%M%S}-{message.pk:010d}-{name}.json"
    partial = target.with_suffix(".part")
    body = encoded_body(message)
    try:
        # The signature first, then the message: a reader that sees the .json finds its .json.sig beside it.
        Path(f"{target}.sig").write_text(signature(body) + "\n", encoding="ascii")
        partial.write_bytes(body)
        os.replace(partial, target)  # the reader never sees half a file
    except OSError as exc:
        raise DeliveryFailed(str(exc)) from exc


def deliver(message: OutboxMessage) -> None:
    if settings.IBOK_OUTBOX_TRANSPORT == "http":
        deliver_http(message)
    else:
        deliver_file(message)
