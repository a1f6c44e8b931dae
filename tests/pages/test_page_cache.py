"""The pages cached under the customers' data version (core.versions) are never stale, and never shared wrongly."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import Customer
from billing.models import OnlinePayment
from billing.sync.loader import Loader
from core import versions
from meters import services as meters_services
from notices import services as notices_services
from tests import factories
from tests.billing.conftest import (  # sandbox_broker: the payment broker's sandbox, for this module too
    login_user_for,
    registration_from_redirect,
    sandbox_broker,  # noqa: F401
    signed_notification,
)
from tests.billing.test_importer import T2, base_batch, invoice, write_batch
from tests.managers.world import build_world
from tests.meters.conftest import add_readings
from tickets import services as tickets_services

pytestmark = pytest.mark.django_db

CACHED_PAGES = ["pages:dashboard", "billing:index"]
T3 = "2026-11-03T10:00:00+01:00"


def html(client, name: str, **params) -> str:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


@pytest.mark.parametrize("set_based", [True, False], ids=["set-based loader", "Python loader"])
def test_a_sync_shows_at_once_on_the_cached_pages_and_so_does_a_deletion(client, tmp_path, set_based):
    Loader(write_batch(tmp_path / "b1", base_batch()), set_based=set_based).load()
    client.force_login(login_user_for(Customer.objects.get(external_id="C1")))
    for name in CACHED_PAGES:
        assert "FV/2026/11/000002" not in html(client, name)  # now cached

    newer = invoice(id="F2", number="FV/2026/11/000002", changed_at=T2, issue_date="2026-11-02")
    Loader(write_batch(tmp_path / "b2", {"invoices": [newer]}), set_based=set_based).load()

    for name in CACHED_PAGES:
        assert "FV/2026/11/000002" in html(client, name)

    deleted = {"id": "F2", "changed_at": T3, "deleted": True}
    Loader(write_batch(tmp_path / "b3", {"invoices": [deleted]}), set_based=set_based).load()

    for name in CACHED_PAGES:
        assert "FV/2026/11/000002" not in html(client, name)


def test_a_sync_that_changes_nothing_keeps_the_version(tmp_path):
    folder = write_batch(tmp_path / "b1", base_batch())
    Loader(folder, set_based=True).load()
    customer = Customer.objects.get(external_id="C1")
    before = versions.version_of([customer.pk])

    Loader(folder, set_based=True).load()  # the same changes again: nothing newer is written

    assert before > 0
    assert versions.version_of([customer.pk]) == before


def test_an_online_payment_shows_in_progress_at_once_until_the_sync_books_it(client, customer, customer_user, tmp_path):
    from tests.billing.test_online_payment import notify, sync_payment

    point = customer.delivery_points.get()
    unpaid = factories.InvoiceFactory(customer=customer, delivery_point=point, number="FV/00101/10/2026")
    client.force_login(customer_user)
    for name in CACHED_PAGES:
        assert "Płatność w toku" not in html(client, name)

    started = client.post(reverse("billing:pay"), {"invoices": [unpaid.pk]})
    registration = registration_from_redirect(started["Location"])
    notify(client, registration, signed_notification(registration))

    for name in CACHED_PAGES:
        assert "Płatność w toku" in html(client, name)

    sync_payment(tmp_path, customer, OnlinePayment.objects.get().reference, [unpaid])

    for name in CACHED_PAGES:
        assert "Płatność w toku" not in html(client, name)


def test_the_customer_s_own_actions_move_the_version(customer, customer_user):
    point = customer.delivery_points.get()
    meter = factories.MeterFactory(delivery_point=point, installed_date=datetime(2021, 4, 1).date())
    add_readings(meter, (datetime(2026, 10, 31).date(), "180.000"))
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # in the reading window
    seen = [versions.version_of([customer.pk])]

    meters_services.self_reading_submit(meter=meter, value=Decimal("185.250"), now=now, user=customer_user)
    seen.append(versions.version_of([customer.pk]))
    case = tickets_services.case_open(
        now=now, customer=customer, opened_by=customer_user, case_type="OTHER", subject="Pytanie", description="Treść"
    )
    seen.append(versions.version_of([customer.pk]))
    tickets_services.case_reply(now=now, case=case, author=customer_user, body="Jeszcze jedno")
    seen.append(versions.version_of([customer.pk]))
    accounts_services.contact_change_submit(
        user=customer_user,
        customer=customer,
        street="ul. Nowa",
        building="2",
        apartment="",
        postal_code="37-700",
        city="Przemyśl",
        phone="+48600100200",
        now=now,
        ip_address=None,
    )
    seen.append(versions.version_of([customer.pk]))

    assert seen == sorted(set(seen))  # each action added to the version
    assert len(seen) == 5


def test_a_published_announcement_shows_at_once_on_the_cached_dashboard(
    client, customer, customer_user, django_capture_on_commit_callbacks
):
    from notices.models import Announcement

    client.force_login(customer_user)
    assert "Płukanie sieci" not in html(client, "pages:dashboard")  # the list is now cached for everyone
    now = timezone.now()
    announcement = Announcement.objects.create(
        kind="PLANNED_WORKS",
        title="Płukanie sieci",
        body="Możliwe zmętnienie wody.",
        starts_at=now - timedelta(hours=1),
        published=True,
        created_at=now,
    )

    with django_capture_on_commit_callbacks(execute=True):
        notices_services.announcement_publish(announcement=announcement, now=now, actor=None)

    assert "Płukanie sieci" in html(client, "pages:dashboard")
    with django_capture_on_commit_callbacks(execute=True):
        Announcement.objects.filter(pk=announcement.pk).first().delete()  # as the admin deletes it
    assert "Płukanie sieci" not in html(client, "pages:dashboard")


@pytest.mark.parametrize("name", CACHED_PAGES)
def test_each_language_has_its_own_cached_page(client, customer, customer_user, name):
    factories.InvoiceFactory(customer=customer, delivery_point=customer.delivery_points.get())
    client.force_login(customer_user)
    polish = html(client, name)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = html(client, name)

    assert "Faktury" in polish or "Faktura" in polish
    assert "Invoice number" in english
    assert "Numer faktury" not in english


@pytest.mark.parametrize("name", CACHED_PAGES)
def test_customers_and_scopes_never_share_a_cached_page(client, world, name):
    first_point_invoice, second_point_invoice = (invoice.number for invoice in world.a.invoices)
    client.force_login(world.a.owner)
    whole = html(client, name)  # the whole customer's page is now cached
    assert first_point_invoice in whole and second_point_invoice in whole

    client.force_login(world.partial_manager)
    partial = html(client, name)

    assert first_point_invoice in partial
    assert second_point_invoice not in partial
    client.force_login(world.b.owner)
    other = html(client, name)
    assert first_point_invoice not in other and world.b.invoices[0].number in other


def test_a_manager_s_page_changes_when_any_of_their_customers_changes(client, world):
    client.force_login(world.full_manager)
    factories.CustomerAccessFactory(user=world.full_manager, customer=world.b.customer, role="MANAGER")
    before = html(client, "billing:index")
    assert "FV/NOWA/2026" not in before

    point = world.b.points[0]
    added = factories.InvoiceFactory(customer=world.b.customer, delivery_point=point, number="FV/NOWA/2026")
    versions.bump([added.customer_id])  # what every write does (factories bypass the services)

    assert "FV/NOWA/2026" in html(client, "billing:index")


def test_a_cached_fragment_is_filed_under_the_version_read_before_the_data():
    calls = []

    def render() -> str:
        calls.append(1)
        return f"<p>{len(calls)}</p>"

    first = versions.fragment("test", customer_ids=[1, 2], identity=("a",), render=render)
    again = versions.fragment("test", customer_ids=[2, 1], identity=("a",), render=render)
    versions.bump([2])
    changed = versions.fragment("test", customer_ids=[1, 2], identity=("a",), render=render)
    other = versions.fragment("test", customer_ids=[1, 2], identity=("b",), render=render)

    assert (first, again, changed, other) == ("<p>1</p>", "<p>1</p>", "<p>2</p>", "<p>3</p>")
    assert json.dumps(versions.version_of([1, 2])) == "1"
