"""A small local billing system for the demo and the tests: serves batches over the HTTP pull API and takes
the portal's outbox messages, the way a real billing system would (docs/billing-sync.md, "HTTP pull" and
"What the portal sends back").

It checks each message's signature, keeps the idempotency keys it has seen, and books what it is sent: an online
payment becomes a payment settling the invoices it names, a self-reading a confirmed reading, a contact change
the customer's new address and phone. Each booking is a change with a new `changed_at`, so the portal's next
sync brings it back. It keeps everything in memory, which suits demo-sized data; it is not for production.
"""

import json
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from billing.sync.contract import CONTRACT_VERSION
from billing.sync.entities import ENTITIES
from core.outbox import SIGNATURE_HEADER, signature_valid

ENTITY_NAMES = [entity.name for entity in ENTITIES]


class DemoBillingSystem:
    """Records by entity and id (a later change replaces the earlier), and the inbox of outbox messages."""

    def __init__(self, *, token: str, secret: str = ""):
        self.token = token
        self.secret = secret  # the outbox signature's shared secret; messages are not checked without one
        self.records: dict[str, dict[str, dict]] = {name: {} for name in ENTITY_NAMES}
        self.inbox: dict[str, dict] = {}  # idempotency key -> message
        self.inbox_posts = 0  # every POST, duplicates and failures included
        self.fail_next_posts = 0  # answer 503 to this many POSTs (to test retries)
        self.lock = threading.Lock()

    def add_batch(self, folder: Path) -> None:
        with self.lock:
            for name in ENTITY_NAMES:
                path = Path(folder) / f"{name}.jsonl"
                if not path.exists():
                    continue
                with path.open(encoding="utf-8") as lines:
                    for line in lines:
                        if line.strip():
                            self.put(name, json.loads(line))

    def put(self, entity: str, record: dict) -> None:
        self.records[entity][record["id"]] = record

    def cursor(self) -> str:
        with self.lock:
            moments = [r["changed_at"] for records in self.records.values() for r in records.values()]
        return max(moments, key=datetime.fromisoformat) if moments else "1970-01-01T00:00:00+00:00"

    def _customer_of(self, entity: str, record: dict) -> str | None:
        if entity in ("customers", "balances"):
            return record["id"]
        if "customer_id" in record:
            return record["customer_id"]
        if entity == "meters":
            point = self.records["delivery_points"].get(record.get("delivery_point_id"), {})
            return point.get("customer_id")
        if entity == "readings":
            meter = self.records["meters"].get(record.get("meter_id"), {})
            return self._customer_of("meters", meter) if meter else None
        return None

    def page(self, entity: str, params: dict[str, str]) -> dict:
        after = datetime.fromisoformat(params["changed_after"]) if params.get("changed_after") else None
        until = datetime.fromisoformat(params["changed_until"]) if params.get("changed_until") else None
        customer = params.get("customer_id")
        size = max(1, min(int(params.get("page_size", 1000)), 10_000))
        offset = int(params.get("page_token") or 0)
        with self.lock:
            chosen = []
            for record in self.records[entity].values():
                changed = datetime.fromisoformat(record["changed_at"])
                if after is not None and changed <= after:
                    continue
                if until is not None and changed > until:
                    continue
                if customer and self._customer_of(entity, record) != customer:
                    continue
                chosen.append((changed, record["id"], record))
        chosen.sort(key=lambda item: (item[0], item[1]))
        page = [record for _, _, record in chosen[offset : offset + size]]
        more = offset + size < len(chosen)
        return {"records": page, "next_page_token": str(offset + size) if more else None}

    def receive(self, key: str, message: dict) -> int:
        """201 booked, 409 a key seen before (booked once), 422 a message this contract does not know."""
        with self.lock:
            self.inbox_posts += 1
            if self.fail_next_posts > 0:
                self.fail_next_posts -= 1
                return 503
            if key in self.inbox:
                return 409
            if message.get("kind") not in BOOKINGS or message.get("idempotency_key") != key:
                return 422
            try:
                BOOKINGS[message["kind"]](self, message["payload"], self._next_moment())
            except (KeyError, TypeError, ValueError, ArithmeticError):
                return 422  # a payload the contract does not describe
            self.inbox[key] = message
            return 201

    def _next_moment(self) -> str:
        """A change time later than every record's, so the portal's next changed-since pull includes it."""
        latest = max(
            (datetime.fromisoformat(r["changed_at"]) for records in self.records.values() for r in records.values()),
            default=datetime.now(UTC),
        )
        return max(datetime.now(UTC), latest + timedelta(milliseconds=1)).isoformat()

    def _book_payment(self, payload: dict, now: str) -> None:
        allocations = [item for item in payload["invoices"] if item["invoice_id"] in self.records["invoices"]]
        amount = Decimal(payload["amount"])
        self.put("payments", {
            "id": f"P-{payload['portal_reference']}", "changed_at": now,
            "customer_id": payload["customer_id"], "paid_date": now[:10], "amount": f"{amount:.2f}",
            "channel": "ONLINE", "title": f"Płatność online {payload['portal_reference']}",
            "portal_reference": payload["portal_reference"],
            "allocations": [{"invoice_id": item["invoice_id"], "amount": item["amount"]} for item in allocations],
        })  # fmt: skip
        for item in allocations:
            invoice = self.records["invoices"][item["invoice_id"]]
            left = max(Decimal(invoice["outstanding"]) - Decimal(item["amount"]), Decimal("0"))
            self.put("invoices", {**invoice, "outstanding": f"{left:.2f}", "changed_at": now})
        balance = self.records["balances"].get(payload["customer_id"])
        if balance:
            self.put("balances", {
                **balance, "changed_at": now, "as_of": now,
                "balance": f"{Decimal(balance['balance']) - amount:.2f}",
                "overdue": f"{max(Decimal(balance['overdue']) - amount, Decimal('0')):.2f}",
            })  # fmt: skip

    def _book_reading(self, payload: dict, now: str) -> None:
        if payload["meter_id"] in self.records["meters"]:
            self.put("readings", {
                "id": f"R-{payload['portal_reference']}", "changed_at": now, "meter_id": payload["meter_id"],
                "read_date": payload["read_date"], "value": payload["value"], "source": "SELF",
                "portal_reference": payload["portal_reference"],
            })  # fmt: skip

    def _book_contact_change(self, payload: dict, now: str) -> None:
        customer = next(
            (c for c in self.records["customers"].values() if c["number"] == payload["customer_number"]), None
        )
        if customer:
            address = {**customer["address"], **payload["correspondence_address"]}
            phone = payload.get("phone") or customer.get("phone")
            self.put("customers", {**customer, "address": address, "phone": phone, "changed_at": now})

    def _book_payment_plan_decision(self, payload: dict, now: str) -> None:
        """An accepted request becomes a plan in force, sent back in payment_plans; a refusal changes nothing."""
        if payload["decision"] == "REFUSED":
            return
        schedule = [{"due_date": item["due_date"], "amount": item["amount"]} for item in payload["schedule"]]
        total = sum((Decimal(item["amount"]) for item in schedule), Decimal("0"))
        self.put("payment_plans", {
            "id": f"PP-{payload['portal_reference']}", "changed_at": now, "customer_id": payload["customer_id"],
            "status": "ACTIVE", "total": f"{total:.2f}", "portal_reference": payload["portal_reference"],
            "schedule": schedule,
        })  # fmt: skip

    def _book_receipt(self, payload: dict, now: str) -> None:
        """E-invoice consents, cases, refund requests and decisions: recorded by the billing system's staff; nothing
        comes back by the sync (a refund paid out would, as a payment of the ledger's own)."""

    def messages_by_kind(self) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = defaultdict(list)
        for message in self.inbox.values():
            grouped[message["kind"]].append(message)
        return dict(grouped)


BOOKINGS = {
    "online_payment": DemoBillingSystem._book_payment,
    "reading": DemoBillingSystem._book_reading,
    "contact_change": DemoBillingSystem._book_contact_change,
    "einvoice_consent": DemoBillingSystem._book_receipt,
    "case": DemoBillingSystem._book_receipt,
    "refund_request": DemoBillingSystem._book_receipt,
    "refund_decision": DemoBillingSystem._book_receipt,
    "payment_plan_request": DemoBillingSystem._book_receipt,
    "payment_plan_decision": DemoBillingSystem._book_payment_plan_decision,
}


def make_handler(system: DemoBillingSystem) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
            return

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {system.token}":
                self._send(401, {"error": "unauthorised"})
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if not self._authorised():
                return
            url = urlparse(self.path)
            params = {key: values[-1] for key, values in parse_qs(url.query).items()}
            if url.path == "/v1/cursor":
                self._send(200, {"contract_version": CONTRACT_VERSION, "cursor": system.cursor()})
            elif url.path.startswith("/v1/") and url.path[4:] in ENTITY_NAMES:
                self._send(200, system.page(url.path[4:], params))
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            if not self._authorised():
                return
            if urlparse(self.path).path != "/v1/inbox":
                self._send(404, {"error": "not found"})
                return
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if system.secret and not signature_valid(raw, self.headers.get(SIGNATURE_HEADER, ""), system.secret):
                self._send(401, {"error": "bad signature"})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, {"error": "not JSON"})
                return
            key = self.headers.get("Idempotency-Key") or body.get("idempotency_key", "")
            status = system.receive(key, body)
            self._send(status, {"status": status})

    return Handler


def serve(system: DemoBillingSystem, *, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start serving in a background thread; returns the server (server.server_port has the port)."""
    server = ThreadingHTTPServer((host, port), make_handler(system))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
