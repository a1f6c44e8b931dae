"""The bundled sandbox payment broker: Przelewy24's messages, answered inside the portal.

It is what the embedded default (DEBUG) and the tests pay through, so the whole protocol runs for real:
a signed registration, the broker's payment page, a signed notification POSTed to the shop's `urlStatus`,
and the shop's signed verification. No money moves; never enable it in production (IBOK_PAYMENT_SANDBOX).
"""

import hmac
import json
import logging
import secrets
import urllib.request
from typing import Any

from django.core import signing
from django.urls import reverse

from billing.payments.przelewy24 import NOTIFICATION_SIGN_FIELDS, REGISTER_SIGN_FIELDS, VERIFY_SIGN_FIELDS, sign

logger = logging.getLogger(__name__)

TOKEN_SALT = "billing.payments.sandbox.transaction"
TOKEN_MAX_AGE = 3600  # a registered transaction waits an hour for the customer, like the broker's


class SandboxRefused(Exception):
    """The sandbox broker refuses a message (bad signature, expired transaction)."""


def register(registration: dict[str, Any], *, crc: str) -> str:
    """transaction/register: check the shop's signature; the token carries the transaction (no storage)."""
    if not hmac.compare_digest(sign(REGISTER_SIGN_FIELDS, registration, crc), str(registration.get("sign", ""))):
        raise SandboxRefused("registration signature does not match")
    return signing.dumps(registration, salt=TOKEN_SALT, compress=True)


def transaction(token: str) -> dict[str, Any]:
    """The registered transaction behind a payment-page token."""
    try:
        return signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature as exc:
        raise SandboxRefused("unknown or expired transaction") from exc


def verify(verification: dict[str, Any], *, crc: str) -> None:
    """transaction/verify: the shop confirms a notification it received."""
    if not hmac.compare_digest(sign(VERIFY_SIGN_FIELDS, verification, crc), str(verification.get("sign", ""))):
        raise SandboxRefused("verification signature does not match")


def notification(registered: dict[str, Any], *, crc: str, method_id: int) -> dict[str, Any]:
    """The notification the broker sends once the customer has paid."""
    order_id = 300_000_000 + secrets.randbelow(600_000_000)
    body = {
        "merchantId": registered["merchantId"],
        "posId": registered["posId"],
        "sessionId": registered["sessionId"],
        "amount": registered["amount"],
        "originAmount": registered["amount"],
        "currency": registered["currency"],
        "orderId": order_id,
        "methodId": method_id,
        "statement": f"p24-{order_id}",
    }
    body["sign"] = sign(NOTIFICATION_SIGN_FIELDS, body, crc)
    return body


def deliver(url: str, body: dict[str, Any], *, timeout: float = 10) -> int:
    """POST the notification to the shop's urlStatus, as the broker does; returns the HTTP status."""
    request = urllib.request.Request(  # noqa: S310 - urlStatus from a registration we signed ourselves
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        logger.warning("sandbox broker: %s answered %s", url, exc.code)
        return exc.code
    except OSError as exc:
        logger.warning("sandbox broker: could not deliver the notification to %s: %s", url, exc)
        return 0


class SandboxTransport:
    """The sandbox broker as a transport of the Przelewy24 backend, called in-process: the same messages, no
    network. Registered under the name "sandbox" by BillingConfig.ready()."""

    def __init__(self, *, crc: str) -> None:
        self.crc = crc

    async def register(self, registration: dict[str, Any]) -> str:
        return register(registration, crc=self.crc)

    async def verify(self, verification: dict[str, Any]) -> None:
        verify(verification, crc=self.crc)

    def payment_url(self, token: str) -> str:
        return reverse("billing:sandbox-broker", kwargs={"token": token})
