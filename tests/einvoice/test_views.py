"""The e-invoice pages: what each user sees and may do, another customer's pages are 404, fixed query counts."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from einvoice import services
from einvoice.models import Consent, ConsentSource, ConsentStatus, Delivery
from tests import factories
from tests.einvoice.conftest import NOW, invoice_for
from tests.einvoice.helpers import token_from_mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in(client, customer_user):
    client.force_login(customer_user)
    return client


def test_the_page_offers_the_request_with_the_seed_wording_and_the_paper_forms(signed_in, customer):
    response = signed_in.get(reverse("einvoice:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Wniosek o przesyłanie faktur drogą elektroniczną" in html
    assert reverse("einvoice:request", kwargs={"customer_id": customer.pk}) in html
    for kind in ("request", "address-change", "resignation"):
        assert reverse("einvoice:paper-form", kwargs={"kind": kind}) in html


def test_the_request_page_shows_the_terms_and_zatwierdz_records_the_consent(
    signed_in, customer, customer_user, terms, django_capture_on_commit_callbacks
):
    url = reverse("einvoice:request", kwargs={"customer_id": customer.pk})
    page = signed_in.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(url, {"email": customer_user.email, "accept_terms": "on"}, REMOTE_ADDR="192.0.2.55")

    assert terms.title in page.content.decode()
    assert "Zatwierdź" in page.content.decode()
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.status, consent.ip_address, consent.accepted_by) == (
        ConsentStatus.ACTIVE,
        "192.0.2.55",
        customer_user,
    )
    status_page = signed_in.get(reverse("einvoice:index")).content.decode()
    assert "Aktywna" in status_page


def test_a_request_without_accepting_the_terms_is_refused_with_a_message(signed_in, customer, customer_user):
    response = signed_in.post(
        reverse("einvoice:request", kwargs={"customer_id": customer.pk}), {"email": customer_user.email}
    )

    assert response.status_code == 200
    assert "Zaakceptuj regulamin e-faktury" in response.content.decode()
    assert not Consent.objects.exists()


def test_a_different_address_shows_that_the_service_waits(signed_in, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(
            reverse("einvoice:request", kwargs={"customer_id": customer.pk}),
            {"email": "ksiegowosc@example.pl", "accept_terms": "on"},
        )

    html = signed_in.get(reverse("einvoice:index")).content.decode()

    assert "Czeka na potwierdzenie" in html
    assert "ksiegowosc@example.pl" in html
    assert reverse("einvoice:verification-renew", kwargs={"customer_id": customer.pk}) in html


def test_the_link_page_asks_for_a_click_and_the_click_confirms(
    client, customer, customer_user, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.consent_request(
            customer=customer,
            user=customer_user,
            email="k@example.pl",
            terms=terms,
            now=NOW,
            ip_address=None,
            base_url="https://ibok.example.pl/",
        )
    url = reverse("einvoice:verify", kwargs={"token": token_from_mail()})

    page = client.get(url)
    assert Consent.objects.get().status == ConsentStatus.PENDING  # opening the link alone changes nothing
    confirmed = client.post(url)
    again = client.post(url)

    assert page.status_code == 200
    assert "k@example.pl" in page.content.decode()
    assert confirmed.status_code == 302
    assert Consent.objects.get().status == ConsentStatus.ACTIVE
    assert again.status_code == 400
    assert "Ten link został już użyty" in again.content.decode()


def test_an_expired_link_page_says_so(client, customer, customer_user, terms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.consent_request(
            customer=customer,
            user=customer_user,
            email="k@example.pl",
            terms=terms,
            now=NOW - timedelta(days=4),
            ip_address=None,
            base_url="https://ibok.example.pl/",
        )

    response = client.post(reverse("einvoice:verify", kwargs={"token": token_from_mail()}))

    assert response.status_code == 400
    assert "Ten link wygasł" in response.content.decode()
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_a_resignation_date_in_the_past_is_shown_beside_the_field(signed_in, customer, customer_user, terms):
    services.consent_request(
        customer=customer,
        user=customer_user,
        email=customer_user.email,
        terms=terms,
        now=NOW,
        ip_address=None,
        base_url="https://ibok.example.pl/",
    )

    response = signed_in.post(
        reverse("einvoice:resignation", kwargs={"customer_id": customer.pk}),
        {
            "paper_from": "2026-11-01",
            "street": "ul. Długa",
            "building": "1",
            "postal_code": "37-700",
            "city": "Przemyśl",
        },
    )

    assert response.status_code == 200
    assert "nie może być w przeszłości" in response.content.decode()
    assert Consent.objects.get().status == ConsentStatus.ACTIVE


def test_a_partial_manager_sees_the_state_but_no_switch_and_is_refused_403(client, customer, partial_manager):
    client.force_login(partial_manager)

    page = client.get(reverse("einvoice:index")).content.decode()
    responses = [
        client.get(reverse(name, kwargs={"customer_id": customer.pk}))
        for name in ("einvoice:request", "einvoice:address-change", "einvoice:resignation")
    ]
    posted = client.post(
        reverse("einvoice:request", kwargs={"customer_id": customer.pk}),
        {"email": "z@example.pl", "accept_terms": "on"},
    )

    assert customer.number in page
    assert reverse("einvoice:request", kwargs={"customer_id": customer.pk}) not in page
    assert "nie możesz włączyć ani wyłączyć e-faktur" in page
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert posted.status_code == 403
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "name", ["einvoice:detail", "einvoice:request", "einvoice:address-change", "einvoice:resignation"]
)
def test_another_customers_pages_are_404(signed_in, stranger, name):
    assert signed_in.get(reverse(name, kwargs={"customer_id": stranger.pk})).status_code == 404


def test_another_customers_renew_link_is_404(signed_in, stranger):
    response = signed_in.post(reverse("einvoice:verification-renew", kwargs={"customer_id": stranger.pk}))

    assert response.status_code == 404


def test_the_pages_need_a_login(client, customer):
    response = client.get(reverse("einvoice:detail", kwargs={"customer_id": customer.pk}))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("kind", ["request", "address-change", "resignation"])
def test_each_paper_form_downloads_as_a_pdf(client, kind):
    response = client.get(reverse("einvoice:paper-form", kwargs={"kind": kind}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 5000


def test_an_unknown_paper_form_is_404(client):
    assert client.get(reverse("einvoice:paper-form", kwargs={"kind": "other"})).status_code == 404


def test_the_terms_page_is_public(client, terms):
    response = client.get(reverse("einvoice:terms"))

    assert response.status_code == 200
    assert terms.title in response.content.decode()


def deliveries(customer, count: int):
    for i in range(count):
        invoice_for(customer, issued=date(2026, 11, 21) + timedelta(days=i))


@pytest.fixture
def active(customer, customer_user, terms):
    return services.consent_request(
        customer=customer,
        user=customer_user,
        email=customer_user.email,
        terms=terms,
        now=NOW,
        ip_address=None,
        base_url="https://ibok.example.pl/",
    )


@pytest.mark.parametrize("count", [1, 30])
def test_the_history_page_runs_a_fixed_number_of_queries(signed_in, customer, active, count, django_assert_num_queries):
    deliveries(customer, count)
    services.deliveries_create(invoice_ids=list(customer.invoices.values_list("id", flat=True)), now=NOW)
    assert Delivery.objects.count() == count

    # user (the session comes from the cache), the user's scope (read once for the page and the navigation),
    # customer, state (consent with terms, open link), events, deliveries (count and page), unread cases
    with django_assert_num_queries(9):
        response = signed_in.get(reverse("einvoice:detail", kwargs={"customer_id": customer.pk}))

    assert response.status_code == 200
    assert response.content.decode().count("PDF ") >= min(count, 25)


@pytest.mark.parametrize("customers", [1, 5])
def test_the_index_runs_a_fixed_number_of_queries(client, customer_user, terms, customers, django_assert_num_queries):
    for _ in range(customers):
        point = factories.DeliveryPointFactory()
        factories.CustomerAccessFactory(user=customer_user, customer=point.customer, role="MANAGER", all_points=True)
        services.consent_request(
            customer=point.customer,
            user=customer_user,
            email="k@example.pl",
            terms=terms,
            now=NOW,
            ip_address=None,
            base_url="https://ibok.example.pl/",
        )
    client.force_login(customer_user)

    # 7 however many customers: the user, the page's own and the navigation's unread cases (the session comes from
    # the cache; no session write)
    with django_assert_num_queries(7):
        response = client.get(reverse("einvoice:index"))

    assert response.status_code == 200
    assert response.content.decode().count("k@example.pl") == customers


def test_e_mails_are_sent_in_the_owners_language(customer, customer_user, terms, django_capture_on_commit_callbacks):
    customer_user.language = "en"
    customer_user.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        services.consent_request(
            customer=customer,
            user=customer_user,
            email="k@example.pl",
            terms=terms,
            now=NOW,
            ip_address=None,
            base_url="https://ibok.example.pl/",
        )

    assert mail.outbox[0].subject == "Confirm the address for your e-invoices"


def test_a_customer_who_had_e_invoices_before_registering_sees_all_their_pdfs_at_once(client, customer, terms):
    started = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    Consent.objects.create(
        customer=customer,
        status=ConsentStatus.ACTIVE,
        source=ConsentSource.PAPER,
        email="papier@example.pl",
        terms=terms,
        accepted_at=started,
        active_from=started,
    )
    invoices = [invoice_for(customer, issued=date(2026, month, 5)) for month in (3, 6, 9)]
    services.deliveries_sweep(now=NOW)  # e-mailed over the months, before any account existed
    user = factories.UserFactory(username=customer.number, email="nowy@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    client.force_login(user)

    html = client.get(reverse("einvoice:detail", kwargs={"customer_id": customer.pk})).content.decode()
    pdf = client.get(reverse("billing:invoice-pdf", kwargs={"invoice_id": invoices[0].pk}))

    for invoice in invoices:
        assert reverse("billing:invoice-pdf", kwargs={"invoice_id": invoice.pk}) in html
    assert "Aktywna" in html
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_a_partial_manager_sees_only_the_emailed_invoices_of_their_points(client, customer, partial_manager, active):
    granted, other = customer.delivery_points.order_by("id")
    mine = invoice_for(customer, issued=date(2026, 11, 22))
    theirs = factories_invoice(customer, other)
    services.deliveries_create(invoice_ids=[mine.pk, theirs.pk], now=NOW)
    client.force_login(partial_manager)

    html = client.get(reverse("einvoice:detail", kwargs={"customer_id": customer.pk})).content.decode()

    assert mine.number in html
    assert theirs.number not in html


def factories_invoice(customer, point):
    return factories.InvoiceFactory(customer=customer, delivery_point=point, issue_date=date(2026, 11, 23))
