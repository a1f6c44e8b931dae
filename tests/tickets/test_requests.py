"""Structured requests open a case of the right type with named fields."""

import pytest
from django.urls import reverse

from core.models import OutboxMessage
from tests import factories
from tickets.models import Case, CaseType

pytestmark = pytest.mark.django_db


def test_request_list_offers_every_structured_request(client, customer_user):
    client.force_login(customer_user)

    html = client.get(reverse("tickets:request-list")).content.decode()

    for title in (
        "Zmiana adresu korespondencyjnego",
        "Zmiana danych umowy",
        "Problem z licznikiem",
    ):
        assert title in html


def test_einvoice_requests_are_made_on_the_einvoice_page_which_records_the_consent(client, customer_user):
    client.force_login(customer_user)

    html = client.get(reverse("tickets:request-list")).content.decode()
    old_form = client.get(reverse("tickets:request-create", kwargs={"kind": "einvoice"}))

    assert reverse("einvoice:index") in html
    assert old_form.status_code == 404


def test_address_change_with_a_bad_postal_code_says_so_and_opens_nothing(client, customer_user):
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:request-create", kwargs={"kind": "address-change"}),
        {
            "street": "ul. Długa",
            "building": "1",
            "postal_code": "37700",
            "city": "Przemyśl",
            "valid_from": "2026-12-01",
        },
    )

    assert "Wpisz kod pocztowy w postaci 00-000." in response.content.decode()
    assert not Case.objects.exists()


def test_contract_change_is_queued_for_the_billing_system(client, customer, customer_user):
    client.force_login(customer_user)

    client.post(
        reverse("tickets:request-create", kwargs={"kind": "contract-change"}),
        {"change": "RESIDENTS", "new_value": "4 osoby", "valid_from": "2026-12-01"},
    )

    case = Case.objects.get()
    assert case.case_type == CaseType.CONTRACT_CHANGE
    assert case.fields == {"change": "RESIDENTS", "new_value": "4 osoby", "valid_from": "2026-12-01"}
    assert "Liczba mieszkańców" in case.messages.get().body
    assert OutboxMessage.objects.filter(idempotency_key=f"case:{case.pk}").exists()


def test_meter_problem_names_the_meter_at_the_delivery_point(client, customer, customer_user):
    point = customer.delivery_points.get()
    meter = factories.MeterFactory(delivery_point=point, serial_number="WM2021777")
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:request-create", kwargs={"kind": "meter-problem"}),
        {"delivery_point": point.pk, "meter": meter.pk, "problem": "SEAL", "details": "Plomba zerwana przy remoncie"},
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.case_type, case.delivery_point) == (CaseType.METER_PROBLEM, point)
    assert case.fields["meter"] == "WM2021777"
    assert case.fields["problem"] == "SEAL"
    assert not OutboxMessage.objects.exists()


def test_meter_of_another_customer_cannot_be_reported(client, customer, customer_user):
    point = customer.delivery_points.get()
    foreign_meter = factories.MeterFactory()
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:request-create", kwargs={"kind": "meter-problem"}),
        {"delivery_point": point.pk, "meter": foreign_meter.pk, "problem": "SEAL"},
    )

    assert "meter" in response.context["form"].errors
    assert not Case.objects.exists()


def test_unknown_request_kind_is_not_found(client, customer_user):
    client.force_login(customer_user)

    assert client.get(reverse("tickets:request-create", kwargs={"kind": "lottery"})).status_code == 404
