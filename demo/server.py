"""A small local billing system for the demo and the tests: serves batches over the HTTP pull API and takes
the portal's outbox messages, the way a real billing system would (docs/billing-sync.md, "HTTP pull").

It keeps everything in memory, which suits demo-sized data; it is not for production.
"""

import json
import threading
from collections import defaultdict
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from billing.sync.contract import CONTRACT_VERSION
from billing.sync.entities import ENTITIES

ENTITY_NAMES = [entity.name for entity in ENTITIES]


class DemoBillingSystem:
    """Records by entity and id (a later change replaces the earlier), and the inbox of outbox messages."""

    def __init__(self, *, token: str):
        self.token = token
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
        with self.lock:
            self.inbox_posts += 1
            if self.fail_next_posts > 0:
                self.fail_next_posts -= 1
                return 503
            if key in self.inbox:
                return 409
            self.inbox[key] = message
            return 201

    def messages_by_kind(self) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = defaultdict(list)
        for message in self.inbox.values():
            grouped[message["kind"]].append(message)
        return dict(grouped)


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
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
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
