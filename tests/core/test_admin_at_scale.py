"""The office's admin at scale (issue 23) and an admin a clerk can trust (issue 19).

Every big list runs a fixed number of queries whatever its size; searches find the customers first and never join
all invoices (or payments, readings) to customers; lists count at most COUNT_LIMIT rows; billing-system data is
read-only unless a superuser switches editing on (audited, for a while); cases, users and consents cannot be
deleted.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Consent, ConsentKind
from accounts.search import customers_matching
from billing.models import Invoice
from core import admin as core_admin
from core.models import AuditLogEntry, OutboxMessage
from core.services import audit_record, outbox_put
from tests import factories
from tests.outbox_contract import documented_examples
from tickets.models import Sender

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client():
    clerk = factories.UserFactory(username="bok.nowak", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=clerk, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client = Client()
    client.force_login(clerk)
    client.clerk = clerk
    return client


def office_rows(count: int) -> list:
    """`count` customers, each with a delivery point, a meter with a reading, an invoice, a payment, a balance, a
    case with an unread message, an audit entry, an outbox message and a sync run."""
    customers = []
    for n in range(count):
        point = factories.DeliveryPointFactory(customer__name=f"Jan Kowalski {n}", customer__street="Leśna")
        customer = point.customer
        reading = factories.ReadingFactory(meter__delivery_point=point)
        invoice = factories.InvoiceFactory(customer=customer, delivery_point=point)
        factories.InvoiceLineFactory(invoice=invoice)
        factories.PaymentAllocationFactory(payment__customer=customer, invoice=invoice)
        factories.CustomerBalanceFactory(customer=customer)
        case = factories.CaseFactory(customer=customer, delivery_point=point)
        factories.MessageFactory(case=case, sent_at=timezone.now())
        audit_record(now=timezone.now(), action="accounts.unlocked", target=customer)
        outbox_put(
            now=timezone.now(), kind="reading", customer_number=customer.number, idempotency_key=f"test-{customer.pk}",
            payload={**documented_examples()["reading"], "portal_reference": f"SR-{reading.pk}"},
        )  # fmt: skip
        factories.SyncRunFactory()
        customers.append(customer)
    return customers


LISTS = [
    "accounts_customer",
    "accounts_contract",
    "accounts_deliverypoint",
    "accounts_user",
    "billing_invoice",
    "billing_payment",
    "billing_customerbalance",
    "billing_syncrun",
    "meters_meter",
    "meters_reading",
    "tickets_case",
    "core_auditlogentry",
    "core_outboxmessage",
]


def queries_of(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("name", LISTS)
def test_every_big_list_runs_the_same_queries_for_one_row_and_for_many(clerk_client, name):
    url = reverse(f"admin:{name}_changelist")
    office_rows(1)
    clerk_client.get(url)  # the session, content types and permissions are read once
    with_one = queries_of(clerk_client, url)

    office_rows(6)
    with_many = queries_of(clerk_client, url)

    assert len(with_many) == len(with_one), "\n".join(with_many)
    assert len(with_one) <= 9


@pytest.mark.parametrize("name", ["billing_invoice", "billing_payment", "meters_reading", "tickets_case"])
def test_every_search_runs_the_same_queries_for_one_customer_found_and_for_many(clerk_client, name):
    url = reverse(f"admin:{name}_changelist")
    office_rows(1)
    clerk_client.get(url, {"q": "Kowalski"})
    with_one = queries_of(clerk_client, url + "?q=Kowalski")

    office_rows(6)
    with_many = queries_of(clerk_client, url + "?q=Kowalski")

    assert len(with_many) == len(with_one), "\n".join(with_many)


def where_clause(sql: str) -> str:
    """The WHERE part of a statement's outermost query (what it filters on, not what it shows)."""
    match = re.search(r"\bWHERE\b(.*?)(\bORDER BY\b|\bLIMIT\b|\bGROUP BY\b|$)", sql, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("term_of", [lambda c: c.number, lambda c: "kowalski", lambda c: c.invoices.get().number])
def test_the_invoice_search_never_joins_invoices_to_customers_to_filter(clerk_client, term_of):
    customers = office_rows(3)
    term = term_of(customers[1])

    sqls = queries_of(clerk_client, reverse("admin:billing_invoice_changelist") + f"?q={term}")

    invoice_queries = [sql for sql in sqls if 'FROM "billing_invoice"' in sql]
    assert invoice_queries, sqls
    for sql in invoice_queries:
        assert '"accounts_customer"' not in where_clause(sql), sql
        assert 'UPPER("billing_invoice"."number"' not in sql, sql  # exact numbers are matched exactly (an index)
    customer_queries = [sql for sql in sqls if 'FROM "accounts_customer"' in sql and "billing_invoice" not in sql]
    assert customer_queries, "the customers are found first"


def test_the_invoice_search_finds_by_invoice_number_customer_number_and_name(clerk_client):
    first, second, third = office_rows(3)
    other = factories.InvoiceFactory(customer=factories.CustomerFactory(name="Anna Zielińska", street="Polna"))
    url = reverse("admin:billing_invoice_changelist")

    def found(term: str) -> set[Invoice]:
        return set(clerk_client.get(url, {"q": term}).context["cl"].result_list)

    assert found(second.invoices.get().number) == {second.invoices.get()}
    assert found(third.number.lower()) == {third.invoices.get()}
    assert found("zielińska") == {other}
    assert found("Kowalski") == {first.invoices.get(), second.invoices.get(), third.invoices.get()}
    assert found("FV/99999/11/2026") == set()


def test_the_customer_search_matches_identifiers_exactly_and_words_inside_names_streets_and_emails():
    kowalski = factories.CustomerFactory(name="Jan Kowalski", street="Leśna", email="jan.kowalski@example.pl")
    company = factories.CustomerFactory(name="Piekarnia Zdrój Sp. z o.o.", street="Długa", nip="7951234567")
    factories.CustomerFactory(name="Ewa Nowak", street="Polna", email="ewa@example.pl")

    assert set(customers_matching(kowalski.number.lower())) == {kowalski}
    assert set(customers_matching("795-123-45-67")) == {company}
    assert set(customers_matching("KOWALSKI")) == {kowalski}
    assert set(customers_matching("leśn")) == {kowalski}
    assert set(customers_matching("jan.kowalski@")) == {kowalski}
    assert set(customers_matching("jan leśna")) == {kowalski}  # every word, each in some field
    assert set(customers_matching("ja")) == set()  # too short to look inside anything
    assert set(customers_matching(" ")) == set()


def test_a_search_matching_too_many_customers_says_so(clerk_client, monkeypatch):
    from accounts import search

    monkeypatch.setattr(search, "MAX_CUSTOMERS", 2)
    office_rows(3)

    response = clerk_client.get(reverse("admin:billing_invoice_changelist"), {"q": "Kowalski"}, follow=True)

    assert len(response.context["cl"].result_list) == 2
    assert "Więcej niż 2 odbiorców" in response.content.decode()


def test_a_long_list_is_counted_up_to_the_limit_and_says_more_than(clerk_client, monkeypatch):
    monkeypatch.setattr(core_admin, "COUNT_LIMIT", 3)
    office_rows(5)

    response = clerk_client.get(reverse("admin:core_outboxmessage_changelist"), {"status__exact": "PENDING"})

    assert response.context["cl"].result_count == 3
    assert "więcej niż 3" in response.content.decode()
    sqls = queries_of(clerk_client, reverse("admin:core_outboxmessage_changelist") + "?status__exact=PENDING")
    assert any("LIMIT 4" in sql and "COUNT(*)" in sql for sql in sqls), sqls


def test_a_whole_big_table_shows_the_planners_estimate_instead_of_counting(clerk_client, monkeypatch):
    monkeypatch.setattr(core_admin, "COUNT_LIMIT", 3)
    office_rows(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_outboxmessage")

    sqls = queries_of(clerk_client, reverse("admin:core_outboxmessage_changelist"))
    response = clerk_client.get(reverse("admin:core_outboxmessage_changelist"))

    assert not any("COUNT(*)" in sql and "core_outboxmessage" in sql for sql in sqls), sqls
    assert response.context["cl"].result_count == OutboxMessage.objects.count()
    assert "około 5" in response.content.decode()


def test_the_case_queue_counts_unread_messages_per_case_on_the_page(clerk_client):
    case = factories.CaseFactory()
    factories.MessageFactory(case=case, sent_at=timezone.now())
    factories.MessageFactory(case=case, sent_at=timezone.now())
    factories.MessageFactory(case=case, sent_at=timezone.now(), sender=Sender.STAFF)
    read_case = factories.CaseFactory()
    factories.MessageFactory(case=read_case, sent_at=timezone.now(), read_at=timezone.now())

    response = clerk_client.get(reverse("admin:tickets_case_changelist"))

    unread = {row.pk: row.unread_from_customer for row in response.context["cl"].result_list}
    assert unread == {case.pk: 2, read_case.pk: 0}
    sqls = queries_of(clerk_client, reverse("admin:tickets_case_changelist"))
    assert not any('GROUP BY "tickets_case"' in sql for sql in sqls), sqls  # no grouping of every case


def test_the_audit_log_filter_lists_actions_from_the_index(clerk_client):
    audit_record(now=timezone.now(), action="billing.sync_requested")
    audit_record(now=timezone.now(), action="accounts.unlocked")
    audit_record(now=timezone.now(), action="accounts.unlocked")

    response = clerk_client.get(reverse("admin:core_auditlogentry_changelist"))

    action_filter = next(f for f in response.context["cl"].filter_specs if getattr(f, "field_path", "") == "action")
    assert action_filter.lookup_choices == ["accounts.unlocked", "billing.sync_requested"]


# --- An admin a clerk can trust ---------------------------------------------------------------------------------


def test_billing_system_data_is_read_only_in_the_admin(clerk_client):
    (customer,) = office_rows(1)
    invoice = customer.invoices.get()
    url = reverse("admin:billing_invoice_change", args=[invoice.pk])

    page = clerk_client.get(url)
    posted = clerk_client.post(url, {"number": "FV/ZMIENIONA", "net": "1.00"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).number == invoice.number
    for name in ["accounts_customer", "accounts_contract", "accounts_deliverypoint", "billing_invoice",
                 "billing_payment", "billing_customerbalance", "meters_meter", "meters_reading"]:  # fmt: skip
        assert clerk_client.get(reverse(f"admin:{name}_add")).status_code == 403, name
        assert clerk_client.post(reverse(f"admin:{name}_delete", args=[1]), {"post": "yes"}).status_code in (
            403,
            302,
        ), name
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_a_superuser_switches_editing_on_for_fifteen_minutes_on_the_record(clerk_client):
    (customer,) = office_rows(1)
    url = reverse("admin:accounts_customer_change", args=[customer.pk])

    clerk_client.post(reverse("admin:core_admin_override"), {"override": "on"})
    editable = clerk_client.get(url)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        expired = clerk_client.get(url)

    assert 'name="_save"' in editable.content.decode()
    assert 'name="_save"' not in expired.content.decode()
    entry = AuditLogEntry.objects.get(action="admin.override_started")
    assert entry.actor == clerk_client.clerk


def test_a_clerk_who_is_not_a_superuser_cannot_switch_editing_on(clerk_client):
    clerk_client.clerk.is_superuser = False
    clerk_client.clerk.save()

    response = clerk_client.post(reverse("admin:core_admin_override"), {"override": "on"})

    assert response.status_code == 403
    assert not AuditLogEntry.objects.filter(action="admin.override_started").exists()


def test_cases_users_and_consents_cannot_be_deleted(clerk_client):
    case = factories.CaseFactory()
    user = factories.UserFactory()
    consent = Consent.objects.create(user=user, kind=ConsentKind.values[0], recorded_at=timezone.now())

    for name, obj in [("tickets_case", case), ("accounts_user", user), ("accounts_consent", consent)]:
        response = clerk_client.post(reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"})
        assert response.status_code == 403, name
        assert type(obj).objects.filter(pk=obj.pk).exists()
    changelist = clerk_client.get(reverse("admin:tickets_case_changelist"))
    assert "delete_selected" not in changelist.content.decode()


def test_the_admin_speaks_polish_under_the_utilitys_name(clerk_client, settings):
    pages = {
        reverse("admin:index"): ["Administracja iBOK", "Operator płatności", "Uwierzytelnianie dwuskładnikowe"],
        reverse("admin:getpaid_payment_changelist"): ["opłacona", "Według pola status"],
        reverse("admin:mfa_authenticator_changelist"): ["Drugie składniki", "Ostatnio użyty"],
    }
    for url, words in pages.items():
        html = clerk_client.get(url, HTTP_ACCEPT_LANGUAGE="pl").content.decode()
        assert settings.IBOK_UTILITY_NAME in html.split("</title>")[0]
        assert "Django" not in re.sub(r"<script.*?</script>|<link[^>]*>", "", html, flags=re.S), url
        for word in words:
            assert word in html, (url, word)
