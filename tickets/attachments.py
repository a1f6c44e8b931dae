"""Checking uploaded files by what they contain, never by their name or the browser's claimed type."""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import uploads
from tickets.models import AttachmentType

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_COUNT = 5

_PILLOW_FORMATS = {AttachmentType.PNG: "PNG", AttachmentType.JPEG: "JPEG"}
_KIND_NAMES = {AttachmentType.PDF: "PDF", AttachmentType.PNG: "PNG", AttachmentType.JPEG: "JPG"}


class AttachmentRejected(Exception):
    """The file is not a PDF, JPG or PNG, is damaged, too big, or one too many."""


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    content_type: str
    name: str
    size: int


def max_bytes() -> int:
    return getattr(settings, "IBOK_CASE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_count() -> int:
    return getattr(settings, "IBOK_CASE_ATTACHMENT_MAX_COUNT", DEFAULT_MAX_COUNT)


def _clean_name(name: str) -> str:
    # Only the last path component, without control characters; it is shown and sent back in a header.
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"')
    return base[:200] or "attachment"


def check_file(upload: UploadedFile) -> CheckedFile:
    """Return the file with its type detected from its content; raise AttachmentRejected otherwise."""
    name = _clean_name(upload.name or "")
    if upload.size is None or upload.size == 0:
        raise AttachmentRejected(_("The file %(name)s is empty.") % {"name": name})
    if upload.size > max_bytes():
        raise AttachmentRejected(
            _("The file %(name)s is too big: at most %(limit)s is allowed.")
            % {"name": name, "limit": filesizeformat(max_bytes())}
        )
    named_type = uploads.type_by_name(name)
    content_type = uploads.sniff(upload)
    if named_type is None or content_type is None:
        raise AttachmentRejected(_("The file %(name)s is not a PDF, JPG or PNG file.") % {"name": name})
    if content_type != named_type:
        raise AttachmentRejected(
            _("The file %(name)s is not what its name says: its content is not a %(kind)s file.")
            % {"name": name, "kind": _KIND_NAMES[named_type]}
        )
    if content_type == AttachmentType.PDF:
        if not uploads.is_complete_pdf(upload) or uploads.pdf_page_count(upload) == 0:
            raise AttachmentRejected(_("The file %(name)s is damaged or not a complete PDF.") % {"name": name})
    else:
        detected_format = uploads.image_format(upload)
        if detected_format is None:
            raise AttachmentRejected(_("The file %(name)s is damaged or not a real image.") % {"name": name})
        if detected_format != _PILLOW_FORMATS[content_type]:
            raise AttachmentRejected(_("The file %(name)s is not a PDF, JPG or PNG file.") % {"name": name})
    try:
        uploads.virus_scan(upload)
    except (uploads.VirusFound, uploads.ScannerUnavailable) as exc:
        raise AttachmentRejected(uploads.virus_message(exc, name=name)) from exc
    return CheckedFile(upload=upload, content_type=content_type, name=name, size=upload.size)


def check_files(uploads: list[UploadedFile], *, already_attached: int = 0) -> list[CheckedFile]:
    """Check every file and the count limit; raise AttachmentRejected with the first problem."""
    limit = max_count()
    if already_attached + len(uploads) > limit:
        raise AttachmentRejected(
            ngettext(
                "You can attach at most %(limit)d file.",
                "You can attach at most %(limit)d files.",
                limit,
            )
            % {"limit": limit}
        )
    return [check_file(upload) for upload in uploads]
