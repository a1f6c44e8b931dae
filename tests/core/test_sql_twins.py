"""The hand-written PostgreSQL reads (core.db) against their ORM originals, on the same data and scopes.

Each twin must return what its original returns, value for value, for a customer's own scope, several customers,
a manager of some delivery points, a mix of both, and nobody; otherwise a page would show one thing on SQLite and
another on PostgreSQL, or a manager would see more than their points.
"""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.permissions import Scope
from billing.models import PaymentChannel
from core import db
from tests import factories
from tickets import selectors as tickets_selectors
from tickets.models import Sender

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 21)
ORM_COLUMN = re.compile(r'"\w+"\."\w+"')
NOW = datetime.fromisoformat("2026-11-21T10:00:00+01:00")


def _points(customer, count):
    first = factories.DeliveryPointFactory(customer=customer, code=f"{customer.number}-Z")
    others = [
        factories.DeliveryPointFactory(customer=customer, contract=first.contract, code=f"{customer.number}-{n}")
        for n in range(count - 1)
    ]
    return [first, *others]


@pytest.fixture
def world():
    """Three customers with points, invoices due in the past and future (two due the same day at one point, some
    customer-wide, some paid), payments split over points, and cases with read and unread replies."""
    a, b, c = (factories.CustomerFactory(number=n) for n in ("600300", "600100", "600200"))
    points = {customer.number: _points(customer, 3) for customer in (a, b, c)}
    factories.CustomerBalanceFactory(customer=a, balance=Decimal("321.50"), overdue=Decimal("20.00"))
    factories.CustomerBalanceFactory(customer=b, balance=Decimal("-12.00"))  # c: no saldo reported yet
    invoices = []
    for customer in (a, b, c):
        first, second, third = points[customer.number]
        for point, due, outstanding in (
            (first, date(2026, 10, 30), None),
            (first, date(2026, 12, 5), None),
            (first, date(2026, 12, 5), Decimal("40.00")),
            (second, date(2026, 11, 20), Decimal("0.00")),
            (second, date(2026, 11, 21), Decimal("12.34")),
            (third, date(2026, 12, 1), None),
            (None, date(2026, 11, 2), Decimal("5.00")),
            (None, date(2027, 1, 15), None),
        ):
            invoice = factories.InvoiceFactory(customer=customer, delivery_point=point, due_date=due)
            if outstanding is not None:
                invoice.outstanding = outstanding
                invoice.save(update_fields=["outstanding"])
            invoices.append(invoice)
        for n, (first_amount, second_amount) in enumerate(((Decimal("30.00"), Decimal("12.00")), (Decimal("7.00"), 0))):
            payment = factories.PaymentFactory(
                customer=customer,
                paid_date=date(2026, 11, 1 + n),
                amount=first_amount + second_amount,
                channel=PaymentChannel.ONLINE if n else PaymentChannel.TRANSFER,
            )
            factories.PaymentAllocationFactory(payment=payment, invoice=invoices[-8], amount=first_amount)
            if second_amount:
                factories.PaymentAllocationFactory(payment=payment, invoice=invoices[-3], amount=second_amount)
        factories.PaymentFactory(customer=customer, paid_date=date(2026, 11, 1))  # not allocated, same day
        for point in (None, first, third):
            case = factories.CaseFactory(customer=customer, delivery_point=point)
            factories.MessageFactory(case=case, sender=Sender.STAFF)  # unread
            factories.MessageFactory(case=case, sender=Sender.STAFF, read_at=NOW)
            factories.MessageFactory(case=case)
    # A case filed under another customer at one of a's points (the rule sees it through the point's customer).
    factories.MessageFactory(
        case=factories.CaseFactory(customer=b, delivery_point=points["600300"][1]), sender=Sender.STAFF
    )
    return {"a": a, "b": b, "c": c, "points": points}


def scopes(world) -> dict[str, Scope]:
    a, b, c, points = world["a"], world["b"], world["c"], world["points"]
    some = [points["600300"][0], points["600300"][2]]
    return {
        "owner": Scope(frozenset({a.pk}), user_id=1),
        "several customers": Scope(frozenset({a.pk, b.pk, c.pk}), user_id=1),
        "some points": Scope(
            partial_customer_ids=frozenset({a.pk}),
            partial_point_ids=frozenset(p.pk for p in some),
            partial_points_of=frozenset((p.pk, a.pk) for p in some),
            user_id=1,
        ),
        "customer and points": Scope(
            frozenset({b.pk}),
            frozenset({a.pk}),
            frozenset({some[0].pk}),
            frozenset({(some[0].pk, a.pk)}),
            user_id=1,
        ),
        "nobody": Scope(user_id=1),
    }


def values(instance, *extra: str) -> tuple:
    return tuple(getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields) + tuple(
        getattr(instance, name) for name in extra
    )


# The dashboard's reads lost their twins: the page is cached under the customers' data version (core.versions).
READS = {
    "unread replies": lambda scope, user: tickets_selectors.unread_total(user=user, scope=scope),
}


@pytest.mark.parametrize("read", READS)
def test_each_sql_twin_returns_what_its_orm_original_returns(world, read, monkeypatch):
    assert connection.vendor == "postgresql"
    user = factories.UserFactory()
    seen = set()  # what the scopes saw
    for name, scope in scopes(world).items():
        monkeypatch.setattr(db, "sql_twins_enabled", lambda: False)
        with CaptureQueriesContext(connection) as orm_queries:
            expected = READS[read](scope, user)
        monkeypatch.setattr(db, "sql_twins_enabled", lambda: True)
        with CaptureQueriesContext(connection) as sql_queries:
            actual = READS[read](scope, user)
        assert actual == expected, f"{read}, {name}"
        # The twin ran, not the ORM (which names every column "table"."column"), and in as many queries.
        assert len(sql_queries) == len(orm_queries), f"{read}, {name}"
        assert not any(ORM_COLUMN.search(q["sql"]) for q in sql_queries.captured_queries), f"{read}, {name}"
        assert all(ORM_COLUMN.search(q["sql"]) for q in orm_queries.captured_queries), f"{read}, {name}"
        seen.add(repr(expected))
    assert len(seen) >= 4, "the scopes must see different things"
