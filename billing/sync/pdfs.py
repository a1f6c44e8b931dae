"""Invoice PDFs that come with a batch, stored so that a load killed half-way leaves nothing behind.

A PDF is stored before its invoice row is written, under a name made of the invoice number and the hash of
its content: a rerun of the same batch finds the file it stored before (or replaces a copy cut short by the
kill) instead of storing a second one. A PDF left without a row (its load was rolled back and the batch then
changed, or the billing system sent a new version) is removed by the sweep the runner does after loading.
"""

import hashlib
import logging
import re
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from billing.models import Invoice
from billing.sync.contract import Row

logger = logging.getLogger(__name__)

FOLDER = "invoices/billing"
SWEEP_PART = 1000


def pdf_name(number: str, content: bytes) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", number)
    return f"{FOLDER}/{safe}-{hashlib.sha256(content).hexdigest()[:24]}.pdf"


def pdf_store(source: Path, *, number: str) -> str | None:
    """The storage name of the batch's PDF `source`, stored once whatever the number of reruns."""
    if not source.is_file():
        logger.warning("invoice %s: PDF %s is missing in the batch", number, source.name)
        return None
    content = source.read_bytes()
    name = pdf_name(number, content)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as stored:
            if stored.read() == content:
                return name
        default_storage.delete(name)  # a copy cut short when its writer was killed
    return default_storage.save(name, ContentFile(content))


def invoice_pdfs_store(folder: Path, rows: list[Row]) -> None:
    """Store the PDFs the invoice rows name, before the rows are written; each row keeps its file's name."""
    for row in rows:
        relative = row.record.get("pdf")
        if relative:
            row.record["_pdf_name"] = pdf_store(folder / relative, number=row.values["number"])


def invoice_pdfs_attach(rows: list[Row], written: dict[str, int]) -> None:
    """Point the written invoices at their stored PDFs."""
    for row in rows:
        name = row.record.get("_pdf_name")
        if name and row.external_id in written:
            Invoice.objects.filter(pk=written[row.external_id]).update(pdf=name)


def orphan_pdfs_sweep() -> int:
    """Remove the billing system's PDFs that no invoice points to; returns how many went."""
    try:
        _, files = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return 0
    removed = 0
    for start in range(0, len(files), SWEEP_PART):
        names = [f"{FOLDER}/{file}" for file in files[start : start + SWEEP_PART]]
        kept = set(Invoice.objects.filter(pdf__in=names).values_list("pdf", flat=True))
        for name in names:
            if name not in kept:
                default_storage.delete(name)
                removed += 1
    if removed:
        logger.info("removed %d invoice PDFs no invoice points to", removed)
    return removed
