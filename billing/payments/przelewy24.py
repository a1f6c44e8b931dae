"""A django-getpaid backend for Przelewy24 (REST API v1) and the two ways to reach the broker.

The protocol: the portal registers a transaction (signed with the shop's CRC key), sends the customer to the
broker's page, and the broker POSTs a signed notification to `urlStatus`; the portal checks the signature, the
shop, the session, the amount and the currency, confirms it back to the broker (transaction/verify) and only then
records the payment. `transport` "http" talks to Przelewy24 itself; "sandbox" to the bundled sandbox broker
(billing.payments.sandbox, added to TRANSPORTS by the billing app), which implements the same messages inside the
portal for the demo and the tests; this module never imports it.

getpaid runs these coroutines on its own event-loop thread: nothing here may touch the database.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from getpaid.exceptions import CommunicationError, CredentialsError, InvalidCallbackError
from getpaid.processor import BaseProcessor
from getpaid_core.enums import BackendMethod, PaymentEvent
from getpaid_core.types import PaymentUpdate, TransactionResult

REGISTER_SIGN_FIELDS = ("sessionId", "merchantId", "amount", "currency")
NOTIFICATION_SIGN_FIELDS = (
    "merchantId",
    "posId",
    "sessionId",
    "amount",
    "originAmount",
    "currency",
    "orderId",
    "methodId",
    "statement",
)
VERIFY_SIGN_FIELDS = ("sessionId", "orderId", "amount", "currency")

# The languages of Przelewy24's payment page, as its REST API documents the `language` field (ISO 639-1; "se" is
# its code for Swedish). Independent clients carry the same list or a part of it (mnastalski/przelewy24-php has
# all but "ro"); none has Ukrainian.
BROKER_LANGUAGES = frozenset({"bg", "cs", "de", "en", "es", "fr", "hr", "hu", "it", "nl", "pl", "pt", "se", "sk", "ro"})
# transaction/register requires the payer's e-mail, at most this long.
EMAIL_MAX_LENGTH = 50


def broker_language(interface_language: str | None) -> str:
    """The payment page's language: the portal's where the broker has it, English for Ukrainian, else Polish."""
    code = (interface_language or "").split("-")[0].lower()
    if code in BROKER_LANGUAGES:
        return code
    return "en" if code == "uk" else "pl"


def payer_email_accepted(email: str | None) -> bool:
    """An address the broker takes as the payer's: present, well formed, at most EMAIL_MAX_LENGTH characters."""
    if not email or len(email) > EMAIL_MAX_LENGTH:
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def payer_email(*candidates: str | None) -> str:
    """The first of the addresses the broker accepts as the payer's, or "" when none is."""
    return next((email for email in candidates if payer_email_accepted(email)), "")


def sign(fields: tuple[str, ...], data: dict[str, Any], crc: str) -> str:
    """Przelewy24's signature: SHA-384 of the JSON of the named fields and the CRC key, in that order."""
    document = {name: data[name] for name in fields} | {"crc": crc}
    encoded = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha384(encoded.encode("utf-8")).hexdigest()


def to_grosze(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


class Transport(Protocol):
    """A way to reach a broker that speaks Przelewy24's protocol."""

    async def register(self, registration: dict[str, Any]) -> str: ...

    async def verify(self, verification: dict[str, Any]) -> None: ...

    def payment_url(self, token: str) -> str: ...


# Brokers reached otherwise than over Przelewy24's REST API, by the name the `transport` setting gives; each is
# made with the shop's CRC key. The bundled sandbox adds itself here (BillingConfig.ready()).
TRANSPORTS: dict[str, Callable[..., Transport]] = {}


class HttpTransport:
    """Przelewy24's REST API with HTTP basic auth (posId, API key)."""

    def __init__(self, *, base_url: str, pos_id: int, api_key: str, timeout: float = 15) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{pos_id}:{api_key}".encode()).decode()
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured broker's https address
            f"{self.base_url}{path}",
            data=json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "Authorization": self.auth},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except OSError as exc:
            raise CommunicationError(f"Przelewy24 {path}: {exc}") from exc

    async def register(self, registration: dict[str, Any]) -> str:
        answer = await asyncio.to_thread(self._call, "POST", "/api/v1/transaction/register", registration)
        token = (answer.get("data") or {}).get("token")
        if not token:
            raise CommunicationError(f"Przelewy24 refused the registration: {answer}")
        return token

    async def verify(self, verification: dict[str, Any]) -> None:
        answer = await asyncio.to_thread(self._call, "PUT", "/api/v1/transaction/verify", verification)
        if (answer.get("data") or {}).get("status") != "success":
            raise CommunicationError(f"Przelewy24 did not confirm the transaction: {answer}")

    def payment_url(self, token: str) -> str:
        return f"{self.base_url}/trnRequest/{token}"


class PaymentProcessor(BaseProcessor):
    slug = "przelewy24"
    display_name = "Przelewy24"
    accepted_currencies = ["PLN"]

    @property
    def merchant_id(self) -> int:
        return int(self.get_setting("merchant_id"))

    @property
    def pos_id(self) -> int:
        return int(self.get_setting("pos_id") or self.merchant_id)

    @property
    def crc(self) -> str:
        crc = self.get_setting("crc") or ""
        if not crc:
            raise CredentialsError("Przelewy24 CRC key is not configured (IBOK_P24_CRC).")
        return crc

    def transport(self) -> Transport:
        other = TRANSPORTS.get(self.get_setting("transport") or "http")
        if other is not None:
            return other(crc=self.crc)
        return HttpTransport(
            base_url=self.get_setting("base_url"), pos_id=self.pos_id, api_key=self.get_setting("api_key") or ""
        )

    async def prepare_transaction(self, request=None, **kwargs) -> TransactionResult:
        order = self.payment.order  # cached by the caller: no query on this thread
        session_id = str(self.payment.id)
        registration = {
            "merchantId": self.merchant_id,
            "posId": self.pos_id,
            "sessionId": session_id,
            "amount": to_grosze(self.payment.amount_required),
            "currency": self.payment.currency,
            "description": order.title[:1024],
            "email": kwargs.get("email") or "",
            "country": "PL",
            "language": broker_language(kwargs.get("language")),
            "urlReturn": request.build_absolute_uri(order.get_absolute_url()),
            "urlStatus": request.build_absolute_uri(reverse("billing:broker-notification", kwargs={"pk": session_id})),
        }
        registration["sign"] = sign(REGISTER_SIGN_FIELDS, registration, self.crc)
        transport = self.transport()
        token = await transport.register(registration)
        return TransactionResult(
            method=BackendMethod.REST, redirect_url=transport.payment_url(token), provider_data={"token": token}
        )

    async def verify_callback(self, data: dict, headers: dict, **kwargs) -> None:
        """The notification is Przelewy24's, for this shop and this payment; else InvalidCallbackError."""
        try:
            expected = sign(NOTIFICATION_SIGN_FIELDS, data, self.crc)
        except KeyError as exc:
            raise InvalidCallbackError(f"notification without {exc}") from None
        if not hmac.compare_digest(expected, str(data.get("sign", ""))):
            raise InvalidCallbackError("notification signature does not match")
        if data["merchantId"] != self.merchant_id or data["posId"] != self.pos_id:
            raise InvalidCallbackError("notification for another shop")
        if data["sessionId"] != str(self.payment.id):
            raise InvalidCallbackError("notification for another payment")

    async def handle_callback(self, data: dict, headers: dict, **kwargs) -> PaymentUpdate:
        if data["amount"] != to_grosze(self.payment.amount_required) or data["currency"] != self.payment.currency:
            raise InvalidCallbackError(
                f"notification amount {data['amount']} {data['currency']} does not match "
                f"{to_grosze(self.payment.amount_required)} {self.payment.currency}"
            )
        verification = {
            "merchantId": self.merchant_id,
            "posId": self.pos_id,
            "sessionId": data["sessionId"],
            "amount": data["amount"],
            "currency": data["currency"],
            "orderId": data["orderId"],
        }
        verification["sign"] = sign(VERIFY_SIGN_FIELDS, verification, self.crc)
        await self.transport().verify(verification)
        return PaymentUpdate(
            payment_event=PaymentEvent.PAYMENT_CAPTURED,
            paid_amount=self.payment.amount_required,
            external_id=f"p24:{data['orderId']}",
            provider_event_id=f"p24:{data['orderId']}",
            provider_data={"p24_order_id": data["orderId"], "p24_method_id": data.get("methodId")},
        )

    async def fetch_payment_status(self, **kwargs) -> PaymentUpdate | None:
        return None  # Przelewy24 pushes; there is nothing to pull
