"""What an uploaded file really is, read from its content: never from its name or the type the browser claims;
and whether ClamAV finds a virus in it.

Each app keeps its own limits and messages; these are the checks they share.
"""

import logging
import socket
import struct
from datetime import datetime, timedelta, timezone
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import ExifTags, Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

logger = logging.getLogger(__name__)

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
_SIGNATURES = [(b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG)]
TYPE_BY_EXTENSION = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG}
_CHUNK = 64 * 1024


def type_by_name(name: str) -> str | None:
    """The type the file's name says (.pdf, .png, .jpg, .jpeg, any case), or None for any other name."""
    return TYPE_BY_EXTENSION.get(PurePath(name or "").suffix.lower())


def sniff(upload: UploadedFile) -> str | None:
    """The type the file's first bytes announce (PDF, PNG or JPEG), or None for anything else."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((content_type for signature, content_type in _SIGNATURES if head.startswith(signature)), None)


def is_complete_pdf(upload: UploadedFile) -> bool:
    """A PDF whose end-of-file marker is in its last kilobyte: a truncated or disguised file has none."""
    if sniff(upload) != PDF:
        return False
    upload.seek(max(upload.size - 1024, 0))
    complete = b"%%EOF" in upload.read()
    upload.seek(0)
    return complete


def image_format(upload: UploadedFile) -> str | None:
    """Pillow's name of the format ("PNG", "JPEG", …) once the whole image verifies; None if it does not."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            found = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        found = None
    upload.seek(0)
    return found


def _exif_offset(text: str | None) -> timezone | None:
    """EXIF's OffsetTimeOriginal ("+02:00") as a timezone; None when absent or malformed."""
    try:
        sign = -1 if text[0] == "-" else 1
        hours, minutes = text[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except (TypeError, ValueError, IndexError):
        return None


def image_taken_at(upload: UploadedFile) -> datetime | None:
    """When the camera says the picture was taken: EXIF DateTimeOriginal (else DateTime), None when it has none.

    Aware when the file says its offset (OffsetTimeOriginal), otherwise naive: the camera's local time.
    """
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            exif = image.getexif()
            details = exif.get_ifd(ExifTags.IFD.Exif)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    text = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    try:
        taken = datetime.strptime(str(text).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        return None
    offset = _exif_offset(details.get(ExifTags.Base.OffsetTimeOriginal))
    return taken.replace(tzinfo=offset) if offset else taken


def pdf_page_count(upload: UploadedFile) -> int:
    """How many pages the PDF has once a PDF library opens it; 0 when it does not open (damaged, disguised, locked)."""
    upload.seek(0)
    try:
        reader = PdfReader(upload, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return 0
        return len(reader.pages)
    except (PyPdfError, ValueError, TypeError, KeyError, OSError, RecursionError):
        return 0
    finally:
        upload.seek(0)


class VirusFound(Exception):
    """ClamAV found something; the message is its name for it ("Eicar-Test-Signature")."""


class ScannerUnavailable(Exception):
    """The scan is switched on but ClamAV's daemon did not answer (or answered with an error)."""


def _clamd_connection(timeout: float) -> socket.socket:
    address = settings.IBOK_CLAMAV_SOCKET
    if address.startswith("tcp://"):
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        return socket.create_connection((host, int(port)), timeout=timeout)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    connection.connect(address)
    return connection


def virus_message(exc: VirusFound | ScannerUnavailable, *, name: str) -> str:
    """What the person uploading is told."""
    from django.utils.translation import gettext as _

    if isinstance(exc, VirusFound):
        return _("The file %(name)s contains a virus (%(virus)s) and was refused.") % {"name": name, "virus": exc}
    return _("Files cannot be checked for viruses just now, so none are accepted. Please try again in a few minutes.")


def virus_scan(upload: UploadedFile) -> None:
    """Scan the file with ClamAV's daemon (its INSTREAM command) when IBOK_CLAMAV_ENABLED is on.

    Raises VirusFound, or ScannerUnavailable when the daemon cannot be reached or fails: then the upload is refused
    rather than stored unscanned. Does nothing when the scan is off.
    """
    if not settings.IBOK_CLAMAV_ENABLED or getattr(upload, "_ibok_virus_scanned", False):
        return
    upload.seek(0)
    try:
        with _clamd_connection(settings.IBOK_CLAMAV_TIMEOUT) as connection:
            connection.sendall(b"zINSTREAM\0")
            while chunk := upload.read(_CHUNK):
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                part = connection.recv(4096)
                if not part:
                    break
                answer += part
    except OSError as exc:
        logger.error("ClamAV at %s did not answer: %s", settings.IBOK_CLAMAV_SOCKET, exc)
        raise ScannerUnavailable(str(exc)) from exc
    finally:
        upload.seek(0)
    verdict = answer.rstrip(b"\0").decode("utf-8", "replace").strip()
    if verdict.endswith(" FOUND"):
        raise VirusFound(verdict.removeprefix("stream:").removesuffix(" FOUND").strip())
    if verdict != "stream: OK":
        logger.error("ClamAV at %s answered %r", settings.IBOK_CLAMAV_SOCKET, verdict)
        raise ScannerUnavailable(verdict or "no answer")
    upload._ibok_virus_scanned = True  # a form and then its service check the same file: one scan
