"""Billing writes."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from billing.models import SyncRun, SyncStatus
from billing.sync.importer import BatchRefused, Loader


def batch_import(*, folder: Path, clock: Callable[[], datetime], source: str = "") -> SyncRun:
    """Load one batch folder of the billing contract and record the run.

    Raises BatchRefused (recorded as a failed run) when the batch cannot be loaded at all.
    """
    run = SyncRun.objects.create(started_at=clock(), source=source or f"files:{folder}")
    try:
        result = Loader(folder).load()
    except BatchRefused as exc:
        run.status = SyncStatus.FAILED
        run.errors = [{"file": "manifest.json", "line": None, "id": None, "error": str(exc)}]
        run.finished_at = clock()
        run.save()
        raise
    except Exception as exc:
        run.status = SyncStatus.FAILED
        run.errors = [{"file": None, "line": None, "id": None, "error": f"{type(exc).__name__}: {exc}"}]
        run.finished_at = clock()
        run.save()
        raise
    run.cursor_to = result.cursor
    run.counts = {name: asdict(counts) for name, counts in result.counts.items()}
    run.errors = result.errors
    run.status = SyncStatus.SUCCEEDED_WITH_REJECTS if result.rejected else SyncStatus.SUCCEEDED
    run.finished_at = clock()
    run.save()
    return run
