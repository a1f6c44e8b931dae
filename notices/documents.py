"""Checking a document staff upload: a complete PDF by its content, within IBOK_DOCUMENT_MAX_BYTES."""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core import uploads


class DocumentRejected(Exception):
    """The file is not a complete PDF, is empty, or is too big."""


def clean_name(name: str) -> str:
    """Only the last path component, printable, without quotes: it goes back in a download header."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"')
    return base[:200] or "document.pdf"


def check_pdf(upload: UploadedFile) -> None:
    """Raise DocumentRejected unless the upload is a complete PDF of an allowed size."""
    limit = getattr(settings, "IBOK_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
    if not upload.size:
        raise DocumentRejected(_("The file is empty."))
    if upload.size > limit:
        raise DocumentRejected(_("The file is too big: at most %(limit)s.") % {"limit": filesizeformat(limit)})
    if uploads.sniff(upload) != uploads.PDF:
        raise DocumentRejected(_("The file is not a PDF."))
    if not uploads.is_complete_pdf(upload):
        raise DocumentRejected(_("The file is damaged or not a complete PDF."))
    try:
        uploads.virus_scan(upload)
    except (uploads.VirusFound, uploads.ScannerUnavailable) as exc:
        raise DocumentRejected(uploads.virus_message(exc, name=upload.name or "")) from exc
