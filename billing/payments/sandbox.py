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
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from getpaid.exceptions import CommunicationError

from billing.payments.przelewy24 import NOTIFICATION_SIGN_FIELDS, REGISTER_SIGN_FIELDS, VERIFY_SIGN_FIELDS, sign

logger = logging.getLogger(__name__)

TOKEN_SALT = "billing.payments.sandbox.transaction"
TOKEN_MAX_AGE = 3600  # a registered transaction waits an hour for the customer, like the broker's


class SandboxRefused(CommunicationError):
    """The sandbox broker refuses a message (bad field, bad signature, expired transaction), as the broker would."""


# transaction/register's fields as Przelewy24's REST API documents them, written down here from that
# documentation (not from the portal's backend) so that the sandbox refuses what the real broker refuses.
REGISTER_REQUIRED = (
    "merchantId",
    "posId",
    "sessionId",
    "amount",
    "currency",
    "description",
    "email",
    "country",
    "language",
    "urlReturn",
    "sign",
)
REGISTER_MAX_LENGTHS = {
    "sessionId": 100,
    "currency": 3,
    "description": 1024,
    "email": 50,
    "client": 40,
    "address": 80,
    "zip": 10,
    "city": 50,
    "country": 2,
    "phone": 12,
    "language": 2,
    "urlReturn": 250,
    "urlStatus": 250,
    "transferLabel": 20,
    "sign": 100,
}
REGISTER_LANGUAGES = {"bg", "cs", "de", "en", "es", "fr", "hr", "hu", "it", "nl", "pl", "pt", "se", "sk", "ro"}


def registration_problems(registration: dict[str, Any]) -> list[str]:
    """What the broker's validation finds wrong in a registration (empty when it is accepted)."""
    problems = [f"{name}: required" for name in REGISTER_REQUIRED if registration.get(name) in (None, "")]
    for name, longest in REGISTER_MAX_LENGTHS.items():
        if len(str(registration.get(name) or "")) > longest:
            problems.append(f"{name}: longer than {longest} characters")
    if registration.get("language") and registration["language"] not in REGISTER_LANGUAGES:
        problems.append(f"language: {registration['language']!r} is not a supported language")
    if registration.get("email"):
        try:
            validate_email(registration["email"])
        except ValidationError:
            problems.append("email: not an e-mail address")
    return problems


def register(registration: dict[str, Any], *, crc: str) -> str:
    """transaction/register: check the fields and the shop's signature; the token carries the transaction."""
    problems = registration_problems(registration)
    if problems:
        raise SandboxRefused(f"400 Bad Request: {'; '.join(problems)}")
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
