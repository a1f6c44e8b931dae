"""The OpenAPI document as clients need it: every error an operation can answer (problem+json), files with their
real media types, and operation ids that do not move when code moves between modules."""

from typing import Any

from ninja import NinjaAPI

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `detail` in the language of Accept-Language (pl, en, uk).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "422 only: what is wrong with which field ({loc, msg}).",
        },
    },
    "required": ["type", "title", "status", "detail"],
}
ERRORS = {
    400: "Bad Request",
    401: "Not signed in, or the token is unknown, revoked or expired",
    403: "Not allowed: a read-only token writing, or a partial manager acting for the whole customer",
    404: "Missing, or not yours (one answer for both)",
    409: "Conflicts with the current state (a closed case, e-invoices already on, payments switched off)",
    422: "The input is not valid (with `errors`)",
    429: "Too many requests (with Retry-After)",
}
BINARY = {"type": "string", "format": "binary"}
# The media types of the file downloads (by operation id).
FILES = {
    "invoice_pdf": ["application/pdf"],
    "document_download": ["application/pdf"],
    "attachment": ["application/pdf", "image/jpeg", "image/png"],
}


class DocumentedAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__  # also the URL name (api-v1:<id>)

    def get_openapi_schema(self, *args, **kwargs) -> dict[str, Any]:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["components"].setdefault("schemas", {})["Problem"] = PROBLEM
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation["responses"]
                for status, description in ERRORS.items():
                    responses.setdefault(status, {"description": description, "content": problem})
                if operation["operationId"] in FILES:
                    responses[200]["content"] = {media: {"schema": BINARY} for media in FILES[operation["operationId"]]}
        return schema
