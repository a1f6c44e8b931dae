"""The authorization matrix: every URL of the portal, for every kind of user, answers as expected.

Users (tests/managers/world.py): anonymous, customer A's own login, customer B's own login, a manager of all of
A's delivery points, a manager of A's first delivery point only, and a staff member (who has no customer in the
portal; staff work in the admin). URL arguments point at A's objects (invoice, meter, reading photo, case,
attachment, document, online payment, calendar token...), so B and staff must get 404, and a partial manager
must get 404 for what belongs to A's second delivery point.

Every 200 answer is also read: what A keeps to itself (invoice numbers, delivery point codes, meter serial
numbers, case subjects) must not appear for B, staff or anonymous, and what belongs to A's second point must
not appear for the partial manager.

A URL without an entry below fails `test_every_url_of_the_portal_has_an_entry`: add one when you add a URL.
Not walked (they hold no customer data): admin/ (staff only, Django's own permission checks; the managers'
grant pages are tested in tests/managers/test_admin_grants.py), i18n/ (the language switch) and allauth's own
account/ pages (sign-in, password, e-mail and 2FA of the signed-in user only).
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from tests import factories
from tests.managers.world import World, build_world

ROLES = ("anonymous", "customer_a", "customer_b", "full_manager", "partial_manager", "staff")
SKIPPED_PREFIXES = ("admin/", "i18n/", "account/")

LOGIN = "login"  # a redirect to the sign-in page
REDIRECT = "redirect"  # any other redirect (a form that saved, a page that sends elsewhere)


@dataclass(frozen=True)
class Case:
    """One request to one URL name and what each role must get (a status code, LOGIN or REDIRECT)."""

    kwargs: Callable[[World], dict] = lambda w: {}
    expect: dict[str, object] = field(default_factory=dict)
    method: str = "get"
    data: Callable[[World], dict] = lambda w: {}
    query: str = ""
    leak_check: bool = True
    label: str = ""
    as_json: bool = False  # the data sent as a JSON body (the API's writes)


def signed_in(ok: object = 200, **overrides) -> dict[str, object]:
    """Anonymous users are sent to sign in; everyone signed in gets `ok`."""
    return {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], ok), **overrides}


def public(ok: object = 200) -> dict[str, object]:
    return dict.fromkeys(ROLES, ok)


def of_a(first_point: bool = True, partial_ok: object = 200, ok: object = 200) -> dict[str, object]:
    """Something of customer A: A, its managers (the partial one for its first point only); others get 404."""
    return {
        "anonymous": LOGIN,
        "customer_a": ok,
        "full_manager": ok,
        "partial_manager": partial_ok if first_point else 404,
        "customer_b": 404,
        "staff": 404,
    }


def a_token(w: World) -> int:
    """A fresh personal access token of A's owner (api.services), for the revoke page."""
    from django.utils import timezone

    from api import services

    return services.token_create(user=w.a.owner, name="Arkusz", days=30, can_write=False, now=timezone.now())[0].pk


def meter_photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="JPEG")
    return SimpleUploadedFile("licznik.jpg", buffer.getvalue(), content_type="image/jpeg")


def first(objects):
    return lambda w: objects(w)[0]


MATRIX: dict[str, list[Case]] = {
    # --- pages (cross-app) -------------------------------------------------------------------------------------
    "pages:dashboard": [Case(expect=signed_in())],
    "pages:accessibility": [Case(expect=public())],
    "pages:data-refresh": [Case(expect=public(405), label="POST only")],
    "pages:health": [Case(expect={**dict.fromkeys(ROLES, REDIRECT), "anonymous": REDIRECT, "staff": (200, 503)})],
    "pages:metrics": [Case(expect={**dict.fromkeys(ROLES, 403), "anonymous": 403, "staff": 200})],
    "pages:manifest": [Case(expect=public())],
    "pages:service-worker": [Case(expect=public())],
    "pages:offline": [Case(expect=public())],
    "pages:manager-overview": [Case(expect=signed_in())],
    "pages:manager-overview-csv": [Case(expect=signed_in())],
    "pages:manager-pay": [Case(expect=signed_in())],
    "pages:manager-pay-batch": [Case(expect=signed_in())],
    # --- the JSON API (api/routers/): signed in by session here, by token in tests/api; anonymous gets 401 ----------
    # The mobile app's sign-in (allauth headless, accounts/headless.py): it knows only its own session token
    # (X-Session-Token), never the web's cookie, so every visitor here is a stranger to it.
    "headless-app:config": [Case(expect=public())],
    "headless-app:current_session": [Case(expect=public(401))],
    "headless-app:login": [Case(method="post", as_json=True, expect=public(400))],
    "headless-app:mfa_authenticate": [
        Case(method="post", as_json=True, data=lambda w: {"code": "1"}, expect=public(401))
    ],
    "headless-app:request_password_reset": [Case(method="post", as_json=True, expect=public(400))],
    "headless-app:reset_password": [Case(expect=public(400))],
    "api-v1:api-root": [Case(expect=public(404), leak_check=False)],
    "api-v1:openapi-json": [Case(expect=public())],
    "api-v1:openapi-view": [Case(expect=public())],
    "api-v1:me": [Case(expect=signed_in(anonymous=401))],
    "api-v1:balance": [
        Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect={**of_a(partial_ok=404), "anonymous": 401}),
    ],
    "api-v1:invoices": [Case(expect=signed_in(anonymous=401))],
    "api-v1:invoice": [
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[0].pk}, expect={**of_a(), "anonymous": 401}),
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[1].pk}, expect={**of_a(first_point=False), "anonymous": 401}),
    ],
    "api-v1:reading_submit": [
        # Saved (201) or refused by the page's own validation (422: the reading window, one pending at a time)
        # means the rule let the user in; A's second point's meter is not the partial manager's.
        Case(
            kwargs=lambda w: {"meter_id": w.a.meters[0].pk},
            method="post",
            as_json=True,
            data=lambda w: {"value": "999999.000", "confirm_unusual": True},
            expect={**of_a(ok=(201, 422), partial_ok=(201, 422)), "anonymous": 401},
            leak_check=False,
        ),
        Case(
            kwargs=lambda w: {"meter_id": w.a.meters[1].pk},
            method="post",
            as_json=True,
            data=lambda w: {"value": "999999.000", "confirm_unusual": True},
            expect={**of_a(first_point=False, ok=(201, 422)), "anonymous": 401},
            leak_check=False,
        ),
    ],
    # The same rule with a photo (api/readings_photo.py): a multipart POST, a fresh picture for every request.
    "api-v1:reading_photo_submit": [
        Case(
            kwargs=lambda w: {"meter_id": w.a.meters[0].pk},
            method="post",
            data=lambda w: {"value": "999999", "confirm_unusual": "true", "photo": meter_photo()},
            expect={**of_a(ok=(201, 422), partial_ok=(201, 422)), "anonymous": 401},
            leak_check=False,
        ),
        Case(
            kwargs=lambda w: {"meter_id": w.a.meters[1].pk},
            method="post",
            data=lambda w: {"value": "999999", "confirm_unusual": "true", "photo": meter_photo()},
            expect={**of_a(first_point=False, ok=(201, 422)), "anonymous": 401},
            leak_check=False,
        ),
    ],
    "api-v1:invoice_pdf": [
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[0].pk}, expect={**of_a(), "anonymous": 401}),
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[1].pk}, expect={**of_a(first_point=False), "anonymous": 401}),
    ],
    "api-v1:preferences": [Case(expect=signed_in(anonymous=401))],
    "api-v1:preferences_update": [
        Case(
            method="post",
            as_json=True,
            data=lambda w: {"enabled": [{"kind": "NEW_INVOICE", "channel": "EMAIL"}]},
            expect=signed_in(anonymous=401),
        )
    ],
    # A partial manager gets the ledger of their points' documents (as on the settlements page).
    "api-v1:settlements": [
        Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect={**of_a(), "anonymous": 401})
    ],
    "api-v1:payments": [Case(expect=signed_in(anonymous=401))],
    "api-v1:transfer": [Case(expect=signed_in(anonymous=401))],
    # The payment form's choices are the user's payable invoices: another's is a 422 from the same form; the
    # broker is off in tests (409) once the choice passed.
    "api-v1:forecast": [
        Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect={**of_a(), "anonymous": 401}),
    ],
    "api-v1:payment_plans": [
        Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect={**of_a(partial_ok=404), "anonymous": 401}),
    ],
    "api-v1:payment_plan_request_submit": [
        Case(
            method="post",
            as_json=True,
            kwargs=lambda w: {"customer_id": w.a.customer.pk},
            data=lambda w: {"invoice_ids": [w.a.invoices[0].pk], "instalments": 1},
            expect={**of_a(ok=422, partial_ok=404), "anonymous": 401},
            leak_check=False,
        ),
    ],
    "api-v1:online_payment_start": [
        Case(
            method="post",
            as_json=True,
            data=lambda w: {"invoice_ids": [w.a.invoices[0].pk]},
            expect={**of_a(ok=409, partial_ok=409), "customer_b": 422, "staff": 422, "anonymous": 401},
            leak_check=False,
        ),
        Case(
            method="post",
            as_json=True,
            data=lambda w: {"invoice_ids": [w.a.invoices[1].pk]},
            expect={**of_a(ok=409, partial_ok=422), "customer_b": 422, "staff": 422, "anonymous": 401},
            leak_check=False,
        ),
    ],
    "api-v1:online_payment": [
        Case(
            kwargs=lambda w: {"reference": w.a.online_payment.reference},
            expect={**of_a(partial_ok=404), "anonymous": 401},
        )
    ],
    "api-v1:reading_list": [
        Case(kwargs=lambda w: {"meter_id": w.a.meters[0].pk}, expect={**of_a(), "anonymous": 401}),
        Case(kwargs=lambda w: {"meter_id": w.a.meters[1].pk}, expect={**of_a(first_point=False), "anonymous": 401}),
    ],
    "api-v1:contracts": [Case(expect=signed_in(anonymous=401))],
    "api-v1:delivery_points": [Case(expect=signed_in(anonymous=401))],
    "api-v1:meter_list": [Case(expect=signed_in(anonymous=401))],
    # Staff have no meters: nothing to analyse.
    "api-v1:consumption": [Case(expect=signed_in(anonymous=401, staff=404))],
    "api-v1:case_list": [Case(expect=signed_in(anonymous=401))],
    # The new-case form's choices are the user's points: another's point is a 422 from the same form.
    "api-v1:case_create": [
        Case(
            method="post",
            data=lambda w: {
                "case_type": "BILLING",
                "subject": "Pytanie",
                "description": "Treść",
                "delivery_point": w.a.points[0].pk,
            },
            expect={**of_a(ok=201, partial_ok=201), "customer_b": 422, "staff": 422, "anonymous": 401},
        ),
        Case(
            method="post",
            data=lambda w: {
                "case_type": "BILLING",
                "subject": "Pytanie",
                "description": "Treść",
                "delivery_point": w.a.points[1].pk,
            },
            expect={**of_a(ok=201, partial_ok=422), "customer_b": 422, "staff": 422, "anonymous": 401},
        ),
    ],
    "api-v1:case_detail": [
        Case(kwargs=lambda w: {"case_id": w.a.cases[0].pk}, expect={**of_a(), "anonymous": 401}),
        Case(kwargs=lambda w: {"case_id": w.a.cases[1].pk}, expect={**of_a(first_point=False), "anonymous": 401}),
    ],
    "api-v1:case_reply": [
        Case(
            kwargs=lambda w: {"case_id": w.a.cases[1].pk},
            method="post",
            data=lambda w: {"body": "Odpowiedź"},
            expect={**of_a(first_point=False, ok=201), "anonymous": 401},
            leak_check=False,
        )
    ],
    "api-v1:attachment": [
        Case(kwargs=lambda w: {"attachment_id": w.a.attachments[0].pk}, expect={**of_a(), "anonymous": 401}),
        Case(
            kwargs=lambda w: {"attachment_id": w.a.attachments[1].pk},
            expect={**of_a(first_point=False), "anonymous": 401},
        ),
    ],
    "api-v1:einvoice_list": [Case(expect=signed_in(anonymous=401))],
    # Switching e-invoices concerns all of a customer's points: a partial manager is refused (403), as on the pages;
    # the customer's side gets the service's answer (no terms published in this world: 409).
    "api-v1:einvoice_request": [
        Case(
            kwargs=lambda w: {"customer_id": w.a.customer.pk},
            method="post",
            as_json=True,
            data=lambda w: {"email": "faktury@example.pl", "accept_terms": True},
            expect={**of_a(partial_ok=403, ok=(201, 409)), "anonymous": 401},
            leak_check=False,
        )
    ],
    "api-v1:einvoice_resign": [
        Case(
            kwargs=lambda w: {"customer_id": w.a.customer.pk},
            method="post",
            as_json=True,
            data=lambda w: {"paper_from": "2099-01-01"},
            expect={**of_a(partial_ok=403, ok=409), "anonymous": 401},
            leak_check=False,
        )
    ],
    "api-v1:document_list": [Case(expect=signed_in(anonymous=401))],
    "api-v1:document_download": [
        Case(kwargs=lambda w: {"document_id": w.a.document.pk}, expect={**of_a(partial_ok=404), "anonymous": 401})
    ],
    "api-v1:announcements": [Case(expect=public())],
    # Refunds: each user's own customers only; A's request from anyone else is the form's 422 (not their customer),
    # A itself is refused because A has a debt, not an overpayment (409); a wrong password is 403 for everyone.
    "api-v1:refund_list": [Case(expect=signed_in(anonymous=401))],
    "api-v1:refund_create": [
        Case(
            method="post",
            as_json=True,
            data=lambda w: {"customer_id": w.a.customer.pk, "method": "OFFSET", "password": factories.PASSWORD},
            expect={**signed_in(422, customer_a=409), "anonymous": 401},
            leak_check=False,
        ),
        Case(
            method="post",
            as_json=True,
            data=lambda w: {"customer_id": w.a.customer.pk, "method": "OFFSET", "password": "not-the-password"},
            expect={**signed_in(403), "anonymous": 401},
            label="wrong password",
        ),
    ],
    # Reports without an account: public; a report only behind its token.
    "api-v1:report_create": [
        Case(method="post", data=lambda w: {"case_type": "FAILURE"}, expect=public(422), leak_check=False)
    ],
    "api-v1:report_detail": [Case(kwargs=lambda w: {"token": "not-a-token"}, expect=public(404))],
    # --- accounts ----------------------------------------------------------------------------------------------
    "accounts:passkey-prompt-dismiss": [
        Case(expect=public(405), label="POST only"),
        Case(method="post", expect=signed_in(REDIRECT)),
    ],
    "accounts:register": [Case(expect={**dict.fromkeys(ROLES, REDIRECT), "anonymous": 200})],
    "accounts:register-sent": [Case(expect=public())],
    "accounts:register-confirm": [Case(kwargs=lambda w: {"token": "not-a-token"}, expect=public(400))],
    "accounts:terms": [Case(expect=public())],
    "accounts:terms-accept": [Case(expect=signed_in(REDIRECT), label="no terms to accept")],
    "accounts:terms-pdf": [Case(kwargs=lambda w: {"version": "2026-02"}, expect=public(404), label="not published")],
    "accounts:settings": [Case(expect=signed_in())],
    "accounts:contact-update": [
        Case(
            method="post",
            data=lambda w: {
                "customer": w.a.customer.pk,
                "street": "ul. Nowa",
                "building": "1",
                "postal_code": "37-700",
                "city": "Przemyśl",
            },
            # The customer and a manager of all points change A's contact data; the others are refused.
            expect=signed_in(400, customer_a=REDIRECT, full_manager=REDIRECT),
        )
    ],
    "accounts:language-update": [Case(expect=public(405), label="POST only")],
    "accounts:customer-add": [Case(expect=signed_in())],
    "accounts:data-export": [Case(expect=signed_in())],
    "api-tokens:list": [Case(expect=signed_in())],
    # Creating a token is behind re-authentication (tests/api/test_tokens_page.py); the matrix's sign-ins are recent.
    "api-tokens:create": [
        Case(expect=public(405), label="POST only"),
        Case(method="post", data=lambda w: {"name": "Arkusz", "days": "30"}, expect=signed_in()),
    ],
    "api-tokens:revoke": [
        Case(kwargs=lambda w: {"token_id": a_token(w)}, expect=public(405), label="POST only"),
        Case(
            method="post",
            kwargs=lambda w: {"token_id": a_token(w)},
            expect={**signed_in(404), "customer_a": REDIRECT},
            label="A's token",
        ),
    ],
    "accounts:deletion-request": [Case(expect=public(405), label="POST only")],
    "accounts:manager-request": [Case(expect=public())],
    "accounts:manager-request-sent": [Case(expect=public())],
    "accounts:customer-switch": [
        Case(expect=signed_in()),
        Case(
            method="post",
            data=lambda w: {"customer": w.a.customer.pk},
            expect=of_a(ok=REDIRECT, partial_ok=REDIRECT),
        ),
    ],
    # --- billing -----------------------------------------------------------------------------------------------
    "billing:index": [Case(expect=signed_in())],
    "billing:invoice-detail": [
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[1].pk}, expect=of_a(first_point=False)),
    ],
    "billing:invoice-pdf": [
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"invoice_id": w.a.invoices[1].pk}, expect=of_a(first_point=False)),
    ],
    "billing:settlements": [Case(expect=signed_in())],
    # Staff act for no customer: there is no ledger to export.
    "billing:settlements-csv": [Case(expect=signed_in(staff=404))],
    "billing:payments": [Case(expect=signed_in())],
    # A's payment settled an invoice of A's first point: the partial manager sees it (their part only).
    "billing:payment-detail": [Case(kwargs=lambda w: {"payment_id": w.a.customer.payments.get().pk}, expect=of_a())],
    "billing:transfer": [Case(expect=signed_in())],
    "billing:forecast": [Case(expect=signed_in())],
    "billing:payment-plan": [Case(expect=signed_in())],
    "billing:pay": [Case(expect=signed_in())],
    # The owner's payment of an amount (no invoice of the partial manager's point): not theirs to see.
    "billing:online-payment-detail": [
        Case(kwargs=lambda w: {"reference": w.a.online_payment.reference}, expect=of_a(partial_ok=404))
    ],
    # The broker's notification is public (verified by signature); an unknown payment is not found.
    "billing:broker-notification": [
        Case(kwargs=lambda w: {"pk": UUID(int=1)}, method="post", data=lambda w: {}, expect=public(404))
    ],
    # The sandbox broker exists only with IBOK_PAYMENT_SANDBOX (off in tests).
    "billing:sandbox-broker": [Case(kwargs=lambda w: {"token": "x"}, expect=public(404))],
    "billing:calendar": [Case(expect=signed_in())],
    # Only the customer's own login asks for its overpayment; anyone else is shown no form, and a request for A
    # from anyone but A is a form error (A is not among their customers).
    "billing:refund": [Case(expect=signed_in())],
    "billing:refund-submit": [
        Case(expect=public(405), label="POST only"),
        Case(
            method="post",
            data=lambda w: {"customer": w.a.customer.pk, "method": "OFFSET"},
            expect=signed_in(400),
            label="no overpayment or not theirs",
        ),
    ],
    # The private calendar address: the unguessable token is the key (calendar apps cannot sign in).
    "billing:calendar-feed": [
        Case(kwargs=lambda w: {"token": w.a.calendar.token}, expect=public(), leak_check=False),
        Case(kwargs=lambda w: {"token": "guessed-token"}, expect=public(404)),
    ],
    # --- meters ------------------------------------------------------------------------------------------------
    "meters:index": [Case(expect=signed_in())],
    "meters:meter": [
        Case(kwargs=lambda w: {"meter_id": w.a.meters[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"meter_id": w.a.meters[1].pk}, expect=of_a(first_point=False)),
    ],
    "meters:reading-create": [
        Case(kwargs=lambda w: {"meter_id": w.a.meters[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"meter_id": w.a.meters[1].pk}, expect=of_a(first_point=False)),
    ],
    "meters:reading-photo": [
        Case(kwargs=lambda w: {"reading_id": w.a.readings[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"reading_id": w.a.readings[1].pk}, expect=of_a(first_point=False)),
    ],
    "meters:consumption": [Case(expect=signed_in())],
    # Staff have no meters, so there is nothing to export.
    "meters:consumption-csv": [Case(expect=signed_in(staff=404))],
    "meters:contract": [Case(expect=signed_in())],
    # --- tickets -----------------------------------------------------------------------------------------------
    "tickets:index": [Case(expect=signed_in())],
    "tickets:case-create": [Case(expect=signed_in())],
    "tickets:case-detail": [
        Case(kwargs=lambda w: {"case_id": w.a.cases[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"case_id": w.a.cases[1].pk}, expect=of_a(first_point=False)),
    ],
    "tickets:case-reply": [
        Case(kwargs=lambda w: {"case_id": w.a.cases[1].pk}, method="post", expect=of_a(first_point=False, ok=400))
    ],
    "tickets:case-reopen": [
        Case(kwargs=lambda w: {"case_id": w.a.cases[1].pk}, method="post", expect=of_a(first_point=False, ok=REDIRECT))
    ],
    "tickets:message-list": [Case(expect=signed_in())],
    "tickets:request-list": [Case(expect=signed_in())],
    "tickets:request-create": [Case(kwargs=lambda w: {"kind": "address-change"}, expect=signed_in())],
    "tickets:attachment-download": [
        Case(kwargs=lambda w: {"attachment_id": w.a.attachments[0].pk}, expect=of_a()),
        Case(kwargs=lambda w: {"attachment_id": w.a.attachments[1].pk}, expect=of_a(first_point=False)),
    ],
    # Reports without an account: public; the tracking page only behind its token (tests/tickets/test_reports.py).
    "reports:create": [Case(expect=public())],
    "reports:detail": [
        Case(kwargs=lambda w: {"token": "not-a-token"}, expect=public(404)),
        Case(
            kwargs=lambda w: {"token": "not-a-token"}, method="post", data=lambda w: {"body": "x"}, expect=public(404)
        ),
    ],
    # A file of a report behind its token only: another case's file with a wrong token is not found for anyone.
    "reports:attachment-download": [
        Case(kwargs=lambda w: {"token": "not-a-token", "attachment_id": w.a.attachments[0].pk}, expect=public(404)),
    ],
    # --- e-invoice ---------------------------------------------------------------------------------------------
    "einvoice:index": [Case(expect=signed_in())],
    "einvoice:terms": [Case(expect=public())],
    "einvoice:paper-form": [Case(kwargs=lambda w: {"kind": "request"}, expect=public())],
    "einvoice:verified": [Case(expect=public())],
    "einvoice:verify": [Case(kwargs=lambda w: {"token": "not-a-token"}, expect=public(400))],
    "einvoice:detail": [Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect=of_a())],
    # Switching e-invoices concerns all of a customer's points: a partial manager is refused (seed 003).
    "einvoice:request": [Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect=of_a(partial_ok=403))],
    "einvoice:address-change": [
        Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect=of_a(partial_ok=403, ok=(200, REDIRECT)))
    ],
    "einvoice:resignation": [
        Case(kwargs=lambda w: {"customer_id": w.a.customer.pk}, expect=of_a(partial_ok=403, ok=(200, REDIRECT)))
    ],
    "einvoice:verification-renew": [
        Case(
            kwargs=lambda w: {"customer_id": w.a.customer.pk},
            method="post",
            expect=of_a(partial_ok=403, ok=(REDIRECT, 400)),
        )
    ],
    # --- notices -----------------------------------------------------------------------------------------------
    "notices:settings": [Case(expect=signed_in())],
    "notices:phone-code-send": [Case(expect=public(405), label="POST only")],
    "notices:phone-verify": [Case(expect=public(405), label="POST only")],
    "notices:sent": [Case(expect=signed_in())],
    "notices:announcements": [Case(expect=public())],
    "notices:documents": [Case(expect=signed_in())],
    # A customer's own documents go to those who act as the customer, not to a manager of some points.
    # The SMS gateway's callback: no user, only its signature (tests/notices/test_sms_readings.py signs it).
    "notices:sms-inbound": [
        Case(expect=public(405), label="POST only"),
        Case(
            method="post",
            data=lambda w: {"MsgId": "m1", "sms_from": "48600100200", "sms_text": "ODCZYT X 1"},
            expect=public(403),
            label="unsigned",
        ),
    ],  # fmt: skip
    "notices:document-download": [Case(kwargs=lambda w: {"document_id": w.a.document.pk}, expect=of_a(partial_ok=404))],
}


def portal_urls() -> dict[str, str]:
    """{url name: route} of every URL pattern, walked recursively, without the skipped prefixes."""
    found: dict[str, str] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
                walk(pattern, route, inner or namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
                found[name or f"<unnamed {route}>"] = route

    walk(get_resolver(), "", "")
    return found


def test_every_url_of_the_portal_has_an_entry():
    urls = portal_urls()
    missing = sorted(name for name in urls if name not in MATRIX)
    assert not missing, "URLs without an entry in tests/test_authorization_matrix.py MATRIX: " + ", ".join(
        f"{name} ({urls[name]})" for name in missing
    )


def test_every_entry_names_a_url_that_exists():
    stale = sorted(set(MATRIX) - set(portal_urls()))
    assert not stale, f"entries for URLs that no longer exist: {', '.join(stale)}"


def test_every_case_says_what_every_role_gets():
    incomplete = [name for name, cases in MATRIX.items() for case in cases if set(case.expect) != set(ROLES)]
    assert not incomplete, f"cases missing a role: {incomplete}"


def secrets_of(world: World) -> dict[str, list[str]]:
    """Strings only those who may see A's data (or A's second point) may find on a page."""
    a_all = (
        [invoice.number for invoice in world.a.invoices]
        + [point.code for point in world.a.points]
        + [meter.serial_number for meter in world.a.meters]
        + [case.subject for case in world.a.cases]
    )
    second = [world.a.invoices[1].number, world.a.points[1].code, world.a.meters[1].serial_number]
    second.append(world.a.cases[1].subject)
    return {
        "anonymous": a_all,
        "customer_b": a_all,
        "staff": a_all,
        "partial_manager": second,
        "customer_a": [],
        "full_manager": [],
    }


def outcome(response) -> object:
    if response.status_code in (301, 302, 303):
        return LOGIN if response["Location"].startswith(reverse("account_login")) else REDIRECT
    return response.status_code


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


CASES = [(name, index) for name, cases in MATRIX.items() for index in range(len(cases))]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{name}#{index}" for name, index in CASES])
def test_each_role_gets_the_expected_answer(name, index, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    case = MATRIX[name][index]
    url = reverse(name, kwargs=case.kwargs(world)) + case.query
    secrets = secrets_of(world)
    wrong = []
    for role, user in world.users.items():
        client = Client()
        if user is not None:
            factories.sign_in_recently(client, user)  # a fresh sign-in: no password asked again
        if case.as_json:
            response = getattr(client, case.method)(url, json.dumps(case.data(world)), content_type="application/json")
        else:
            response = getattr(client, case.method)(url, case.data(world))
        got = outcome(response)
        expected = case.expect[role]
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if got not in allowed:
            wrong.append(f"{role}: got {got}, expected {expected}")
            continue
        if got == 200 and case.leak_check:
            text = body(response)
            shown = [secret for secret in secrets[role] if secret in text]
            if shown:
                wrong.append(f"{role}: sees {shown}")
    assert not wrong, f"{case.method.upper()} {url} ({name}): " + "; ".join(wrong)
