"""Dokumenty: the public documents and a customer's own, under the documents page's rule (a customer's own
documents go to those who act as the customer only)."""

from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema

from accounts.permissions import request_scope
from api.common import LocalDateTime, paginate
from notices import selectors as notices

router = Router(tags=["documents"])


class DocumentOut(Schema):
    id: int
    title: str
    category: str
    description: str
    version: str
    customer_id: int | None  # null: a public document (forms, tariffs, terms)
    file_name: str
    size: int
    published_at: LocalDateTime
    url: str


class DocumentPage(Schema):
    count: int
    page: int
    pages: int
    results: list[DocumentOut]


class PageQuery(Schema):
    page: int = 1


@router.get(
    "/documents", response=DocumentPage, summary="The documents page: public documents first, then each customer's own"
)
def document_list(request: HttpRequest, query: Query[PageQuery]):
    page = notices.documents_page(scope=request_scope(request), now=timezone.now())
    documents = [d for group in page.public + page.own for d in group.documents]  # the page's order
    return paginate(
        documents,
        query.page,
        lambda d: {
            "id": d.pk, "title": d.title, "category": d.category, "description": d.description,
            "version": d.version, "customer_id": d.customer_id, "file_name": d.original_name, "size": d.size,
            "published_at": d.published_at, "url": reverse("api-v1:document_download", kwargs={"document_id": d.pk}),
        },
    )  # fmt: skip


@router.get("/documents/{document_id}/file", response={200: bytes}, summary="A document's PDF, as a download")
def document_download(request: HttpRequest, document_id: int):
    document = notices.access_document(request_scope(request), document_id, now=timezone.now())
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=document.original_name, content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
