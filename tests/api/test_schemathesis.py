"""Schemathesis against the served OpenAPI document: every operation, with generated input, signed in with a token
as a customer and as a manager of part of that customer's points. No answer may be a 5xx, and every answer (its
status, media type and body) must be one the document declares.

The WSGI application itself is called (the whole middleware stack, in this test's database transaction); each
operation runs a few examples as generated and the same with the path's ids pointed at the customer's objects."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.v1 import api
from tests.api.conftest import make_token
from tests.managers.world import build_world

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
# Generated examples only (max_examples each): the coverage phase's hundreds of boundary cases per operation would
# take minutes; the document's own examples phase stays on.
schema.config.phases.coverage.enabled = False
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 5


@pytest.fixture(scope="module")
def signed_in(django_db_setup, django_db_blocker, tmp_path_factory):
    """Customer A's world once for the module, rolled back at its end; write tokens of A's owner and of the
    manager of A's first point, and ids of A's objects to put into paths."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        # The WSGI handler would close the connection (and lose this transaction) around each request; Django's
        # own test client stops it the same way.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        limits = [(throttle, throttle.num_requests) for throttle in api.throttle]
        for throttle, _ in limits:
            throttle.num_requests = 10**6  # hundreds of requests a minute here; the limit is tested elsewhere
        try:
            with transaction.atomic():
                world = build_world()
                a = world.a
                ids = {
                    "customer_id": a.customer.pk, "invoice_id": a.invoices[0].pk, "meter_id": a.meters[0].pk,
                    "case_id": a.cases[0].pk, "attachment_id": a.attachments[0].pk, "document_id": a.document.pk,
                    "reference": a.online_payment.reference,
                }  # fmt: skip
                yield {
                    "customer": make_token(a.owner, can_write=True),
                    "partial manager": make_token(world.partial_manager, can_write=True),
                    "ids": ids,
                }
                transaction.set_rollback(True)
        finally:
            for throttle, rate in limits:
                throttle.num_requests = rate
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case, signed_in):
    for role in ("customer", "partial manager"):
        headers = {"Authorization": f"Bearer {signed_in[role]}", "Accept-Language": "pl"}
        case.call_and_validate(headers=headers, checks=CHECKS)
        if case.path_parameters:
            generated = dict(case.path_parameters)
            case.path_parameters = {name: signed_in["ids"].get(name, value) for name, value in generated.items()}
            case.call_and_validate(headers=headers, checks=CHECKS)
            case.path_parameters = generated
