"""Where batches come from: a file drop folder, or a paged HTTP pull with a changed-since cursor.

Both end in the same place: a batch folder in the contract's format (docs/billing-sync.md), which the one
loader loads (billing/sync/loader.py). The HTTP source writes the pages it receives to such a folder as they
arrive, so memory stays constant however much changed.
"""

import json
import logging
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from billing.sync.contract import CONTRACT_VERSION
from billing.sync.entities import ENTITIES

logger = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The billing system could not be reached or answered nonsense; the sync is retried later."""


class NotOffered(SourceUnavailable):
    """The billing system has no such route (HTTP 404): fine for an optional entity."""


@dataclass
class Batch:
    folder: Path
    label: str
    done_folder: Path | None = None  # where a loaded batch is moved (file drop)
    temporary: bool = False  # a folder the source made itself and removes after loading

    def finish(self) -> None:
        """Put a loaded batch away."""
        if self.done_folder is not None:
            move_aside(self.folder, self.done_folder)
        elif self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

    def refuse(self) -> None:
        """Put a batch the loader refused where staff look (a file drop's `refused/`)."""
        if self.done_folder is not None:
            move_aside(self.folder, self.folder.parent / "refused" / self.folder.name)
        elif self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)


def move_aside(folder: Path, target: Path) -> Path:
    """Move `folder` to `target`, or beside it with a suffix when a batch of that name was put there before."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        candidate = target if attempt == 1 else target.with_name(f"{target.name}.{attempt}")
        if candidate.exists():
            continue
        try:
            folder.rename(candidate)
        except OSError:  # made meanwhile by someone else: try the next suffix
            continue
        if candidate != target:
            logger.warning("batch folder %s was there already: moved to %s", target, candidate.name)
        return candidate
    raise OSError(f"no free name beside {target}")


class Source(Protocol):
    name: str

    def batches(self, *, cursor: str, customer_id: str | None = None) -> Iterator[Batch]: ...


class FileDropSource:
    """Batch folders dropped into one directory, loaded in name order, then moved to `processed/`.

    A folder counts once its manifest.json exists: the billing system writes the manifest last.
    A folder that was being loaded when a worker died is still there and is loaded again, idempotently.
    """

    name = "files"

    def __init__(self, drop_dir: Path):
        self.drop_dir = Path(drop_dir)

    def batches(self, *, cursor: str, customer_id: str | None = None) -> Iterator[Batch]:
        if not self.drop_dir.is_dir():
            return
        ready = sorted(
            path
            for path in self.drop_dir.iterdir()
            if path.is_dir() and path.name not in {"processed", "refused"} and (path / "manifest.json").exists()
        )
        for folder in ready:
            yield Batch(
                folder=folder, label=f"files:{folder.name}", done_folder=self.drop_dir / "processed" / folder.name
            )


class HttpPullSource:
    """Pages of changes from the billing system's HTTP API (docs/billing-sync.md, "HTTP pull").

    GET {url}/v1/cursor                    -> {"contract_version": 1, "cursor": "<high-water mark>"}
    GET {url}/v1/{entity}?changed_after=…&changed_until=…[&customer_id=…]&page_token=…
                                           -> {"records": [...], "next_page_token": "…" | null}
    """

    name = "http"

    def __init__(self, *, url: str, token: str, work_dir: Path, page_size: int = 1000, timeout: float = 30):
        self.url = url.rstrip("/")
        self.token = token
        self.work_dir = Path(work_dir)
        self.page_size = page_size
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            f"{self.url}{path}{query}", headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        )
        for attempt in range(3):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                    return json.load(response)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise NotOffered(f"GET {path}: HTTP 404") from exc
                if exc.code < 500 or attempt == 2:
                    raise SourceUnavailable(f"GET {path}: HTTP {exc.code}") from exc
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
                if attempt == 2:
                    raise SourceUnavailable(f"GET {path}: {exc}") from exc
            time.sleep(2**attempt)
        raise SourceUnavailable(f"GET {path}: no answer")  # pragma: no cover - the loop returns or raises

    def batches(self, *, cursor: str, customer_id: str | None = None) -> Iterator[Batch]:
        head = self._get("/v1/cursor")
        if head.get("contract_version") != CONTRACT_VERSION:
            raise SourceUnavailable(f"the billing system speaks contract version {head.get('contract_version')!r}")
        until = str(head["cursor"])
        label = f"http:customer:{customer_id}" if customer_id else "http"
        folder = self.work_dir / f"pull-{until.replace(':', '-')}-{customer_id or 'all'}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for entity in ENTITIES:
            params = {"changed_until": until, "page_size": str(self.page_size)}
            if cursor and not customer_id:
                params["changed_after"] = cursor
            if customer_id:
                params["customer_id"] = customer_id
            with (folder / f"{entity.name}.jsonl").open("w", encoding="utf-8") as out:
                token = ""
                while True:
                    try:
                        page = self._get(f"/v1/{entity.name}", {**params, "page_token": token} if token else params)
                    except NotOffered:
                        if not entity.optional:
                            raise
                        break
                    for record in page.get("records", []):
                        out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    token = page.get("next_page_token") or ""
                    if not token:
                        break
        manifest = {
            "contract_version": CONTRACT_VERSION,
            "generated_at": until,
            # A one-customer pull says nothing about the others: it must not move the cursor.
            "cursor": "" if customer_id else until,
            "full": not cursor and not customer_id,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        yield Batch(folder=folder, label=label, temporary=True)
