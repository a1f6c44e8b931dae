"""The outbox contract (docs/billing-sync.md, "What the portal sends back"): the kinds the portal writes are the
documented ones; every documented example is booked by the demo billing system; signatures and idempotency keys
work as written; the portal's own deliveries, over HTTP and as files, carry signatures the receiver accepts.
(tests/conftest.py also holds every message any test makes the portal write to the documented payloads.)"""

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from core import outbox
from core import services as core_services
from core.models import OutboxMessage, OutboxStatus
from demo.server import DemoBillingSystem, serve
from tests.outbox_contract import documented_examples

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-secret-shared-with-the-billing-system-0123456789"
TOKEN = "billing-token"


def kinds_the_portal_writes() -> set[str]:
    kinds = set()
    for path in ROOT.glob("*/services.py"):
        source = path.read_text(encoding="utf-8")
        kinds |= set(re.findall(r'outbox_put\(\s*now=[^,]+,\s*kind="(\w+)"', source))
    return kinds


def test_the_document_describes_exactly_the_kinds_the_portal_sends():
    assert kinds_the_portal_writes() == set(documented_examples())
    assert len(documented_examples()) == 9


@pytest.fixture
def billing():
    system = DemoBillingSystem(token=TOKEN, secret=SECRET)
    system.put("customers", {
        "id": "C-000206", "changed_at": "2026-11-01T00:00:00+00:00", "number": "0100206", "kind": "PERSON",
        "name": "Jan Kowalski", "phone": "", "address": {"street": "ul. Wodna", "building": "1", "apartment": "",
        "postal_code": "00-950", "city": "Warszawa"},
    })  # fmt: skip
    system.put("invoices", {"id": "I-0001234", "changed_at": "2026-11-01T00:00:00+00:00", "customer_id": "C-000206",
                            "outstanding": "264.50", "lines": []})  # fmt: skip
    system.put("balances", {"id": "C-000206", "changed_at": "2026-11-01T00:00:00+00:00", "balance": "264.50",
                            "overdue": "0.00", "as_of": "2026-11-01T00:00:00+00:00"})  # fmt: skip
    system.put("meters", {"id": "M-000912", "changed_at": "2026-11-01T00:00:00+00:00", "delivery_point_id": "P-1"})
    server = serve(system)
    system.url = f"http://127.0.0.1:{server.server_port}/v1/inbox"
    yield system
    server.shutdown()


def post(url: str, message: dict, *, secret: str = SECRET) -> int:
    body = json.dumps(message, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {TOKEN}", "Idempotency-Key": message["idempotency_key"],
        outbox.SIGNATURE_HEADER: outbox.signature(body, secret),
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def envelope(kind: str, number: int) -> dict:
    return {"id": number, "kind": kind, "customer_number": "0100206", "idempotency_key": f"{kind}:{number}",
            "created_at": "2026-11-25T08:30:00+00:00", "payload": documented_examples()[kind]}  # fmt: skip


def test_the_demo_billing_system_books_every_documented_example_once(billing):
    since = billing.cursor()
    for number, kind in enumerate(documented_examples(), start=1):
        assert post(billing.url, envelope(kind, number)) == 201, kind
        assert post(billing.url, envelope(kind, number)) == 409, kind  # the same key again: booked once

    changed = {entity: billing.page(entity, {"changed_after": since})["records"] for entity in billing.records}
    payment = documented_examples()["online_payment"]
    assert [(p["portal_reference"], p["amount"], p["channel"]) for p in changed["payments"]] == [
        (payment["portal_reference"], payment["amount"], "ONLINE")
    ]
    assert [i["outstanding"] for i in changed["invoices"]] == ["0.00"]
    assert [b["balance"] for b in changed["balances"]] == ["0.00"]
    reading = documented_examples()["reading"]
    assert [(r["portal_reference"], r["value"]) for r in changed["readings"]] == [
        (reading["portal_reference"], reading["value"])
    ]
    assert changed["customers"][0]["address"]["street"] == "ul. Lipowa"
    assert len(billing.inbox) == 9
    plan = documented_examples()["payment_plan_decision"]
    assert [(p["portal_reference"], p["total"]) for p in changed["payment_plans"]] == [
        (plan["portal_reference"], "600.00")
    ]


def test_the_demo_billing_system_refuses_a_bad_signature_and_a_message_it_cannot_book(billing):
    message = envelope("reading", 1)
    assert post(billing.url, message, secret="someone-else") == 401
    assert post(billing.url, {**message, "kind": "refund"}) == 422
    assert post(billing.url, {**message, "payload": {"value": "1"}}) == 422
    assert billing.inbox == {}
    assert billing.records["readings"] == {}


@pytest.mark.django_db
def test_the_portal_signs_what_it_delivers_and_the_receiver_checks_it(billing, settings):
    settings.IBOK_OUTBOX_TRANSPORT = "http"
    settings.IBOK_OUTBOX_URL = billing.url
    settings.IBOK_OUTBOX_TOKEN = TOKEN
    settings.IBOK_OUTBOX_SECRET = "not-the-shared-secret-0123456789-0123456789"
    message = core_services.outbox_put(
        now=timezone.now(), kind="reading", customer_number="0100206", idempotency_key="reading:SR-1",
        payload={**documented_examples()["reading"], "portal_reference": "SR-1"},
    )  # fmt: skip

    core_services.outbox_deliver_due(now=timezone.now())
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING  # refused: 401
    assert billing.inbox == {}

    settings.IBOK_OUTBOX_SECRET = SECRET
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    core_services.outbox_deliver_due(now=timezone.now())
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert list(billing.inbox) == ["reading:SR-1"]
    assert "R-SR-1" in billing.records["readings"]


@pytest.mark.django_db
def test_a_file_drop_message_has_its_signature_beside_it(settings, tmp_path):
    settings.IBOK_OUTBOX_TRANSPORT = "files"
    settings.IBOK_OUTBOX_DIR = tmp_path
    settings.IBOK_OUTBOX_SECRET = SECRET
    core_services.outbox_put(
        now=timezone.now(), kind="reading", customer_number="0100206", idempotency_key="reading:SR-2",
        payload={**documented_examples()["reading"], "portal_reference": "SR-2"},
    )  # fmt: skip

    core_services.outbox_deliver_due(now=timezone.now())

    [written] = tmp_path.glob("*/*.json")
    signature = Path(f"{written}.sig").read_text().strip()
    assert outbox.signature_valid(written.read_bytes(), signature, SECRET)
    assert json.loads(written.read_bytes())["payload"]["portal_reference"] == "SR-2"
