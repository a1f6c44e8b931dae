"""Serving a stored attachment: always as a download, with the type detected at upload."""

from django.http import FileResponse, Http404

from tickets.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download, never rendered inline, with the checked type rather than a guessed one."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
