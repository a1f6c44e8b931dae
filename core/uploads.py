"""What an uploaded file really is, read from its content: never from its name or the type the browser claims.

Each app keeps its own limits and messages; these are the checks they share.
"""

from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
_SIGNATURES = [(b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG)]


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
