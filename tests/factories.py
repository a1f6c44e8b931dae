"""factory_boy factories with realistic Polish data for every model the portal mirrors or owns."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from faker import Faker

from accounts.models import (
    AccessRole,
    Contract,
    ContractKind,
    Customer,
    CustomerAccess,
    CustomerKind,
    DeliveryPoint,
    Service,
    User,
)
from billing.models import (
    CustomerBalance,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentChannel,
    SyncRun,
    SyncStatus,
)
from core.money import round_money, vat_for
from meters.models import Medium, Meter, MeterKind, Reading, ReadingSource, ReadingStatus
from tickets.models import Case, CaseStatus, CaseType, Message, Sender

PASSWORD = "Wodociagi2026"  # noqa: S105 - test-only; meets the portal's rule (upper, lower, digit, 10+)
VAT_RATE_WATER = Decimal("8")
fake = Faker("pl_PL")


class SyncedFactory(factory.django.DjangoModelFactory):
    """Rows mirrored from the billing system carry its id and the time they changed there."""

    source_updated_at = factory.LazyFunction(timezone.now)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"{100000 + n}")
    first_name = factory.Faker("first_name", locale="pl_PL")
    last_name = factory.Faker("last_name", locale="pl_PL")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.pl")
    language = "pl"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the instance first
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class CustomerFactory(SyncedFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"KLI-{n:06d}")
    number = factory.Sequence(lambda n: f"{100000 + n}")
    kind = CustomerKind.PERSON
    name = factory.Faker("name", locale="pl_PL")
    street = factory.LazyFunction(lambda: f"ul. {fake.street_name()}")
    building = factory.Faker("building_number", locale="pl_PL")
    apartment = factory.Faker("numerify", text="#", locale="pl_PL")
    postal_code = factory.Faker("postcode", locale="pl_PL")
    city = "Przemyśl"
    email = factory.LazyAttribute(lambda c: f"{c.number}@example.pl")
    phone = "+48 16 670 74 02"
    bank_account = factory.Sequence(lambda n: f"6110201491000000{n:010d}")


class ContractFactory(SyncedFactory):
    class Meta:
        model = Contract

    external_id = factory.Sequence(lambda n: f"UMO-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"UW/{2020 + n % 6}/{n:05d}")
    kind = ContractKind.WATER_SEWAGE
    signed_date = date(2021, 3, 15)
    valid_from = date(2021, 4, 1)
    valid_until = None


class DeliveryPointFactory(SyncedFactory):
    class Meta:
        model = DeliveryPoint

    external_id = factory.Sequence(lambda n: f"PPE-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    contract = factory.SubFactory(ContractFactory, customer=factory.SelfAttribute("..customer"))
    code = factory.Sequence(lambda n: f"PO-{n:07d}")
    service = Service.WATER
    tariff_group = "W1 gospodarstwa domowe"
    street = factory.SelfAttribute("customer.street")
    building = factory.SelfAttribute("customer.building")
    apartment = factory.SelfAttribute("customer.apartment")
    postal_code = factory.SelfAttribute("customer.postal_code")
    city = factory.SelfAttribute("customer.city")


class CustomerAccessFactory(factory.django.DjangoModelFactory):
    """The customer's own access: an owner always sees all delivery points."""

    class Meta:
        model = CustomerAccess

    user = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)
    role = AccessRole.OWNER
    all_points = True
    granted_at = factory.LazyFunction(timezone.now)


class MeterFactory(SyncedFactory):
    class Meta:
        model = Meter

    external_id = factory.Sequence(lambda n: f"LIC-{n:06d}")
    delivery_point = factory.SubFactory(DeliveryPointFactory)
    serial_number = factory.Sequence(lambda n: f"WM{2021000 + n}")
    kind = MeterKind.MAIN
    medium = Medium.COLD_WATER
    unit = "m³"
    installed_date = date(2021, 4, 1)
    legalization_valid_until = date(2027, 4, 1)


class ReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reading

    external_id = factory.Sequence(lambda n: f"ODC-{n:06d}")
    source_updated_at = factory.LazyFunction(timezone.now)
    meter = factory.SubFactory(MeterFactory)
    read_date = date(2026, 10, 31)
    value = Decimal("123.456")
    source = ReadingSource.COLLECTOR
    status = ReadingStatus.CONFIRMED


class InvoiceFactory(SyncedFactory):
    """An unpaid water invoice: gross = net + 8% VAT; outstanding defaults to the whole gross."""

    class Meta:
        model = Invoice

    external_id = factory.Sequence(lambda n: f"FAK-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    delivery_point = None
    number = factory.Sequence(lambda n: f"FV/{n:05d}/11/2026")
    kind = InvoiceKind.INVOICE
    issue_date = date(2026, 11, 5)
    period_start = date(2026, 10, 1)
    period_end = date(2026, 11, 1)
    due_date = factory.LazyAttribute(lambda i: i.issue_date + timedelta(days=14))
    net = Decimal("150.00")
    vat = factory.LazyAttribute(lambda i: vat_for(i.net, VAT_RATE_WATER))
    gross = factory.LazyAttribute(lambda i: round_money(i.net + i.vat))
    outstanding = factory.SelfAttribute("gross")


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    position = factory.Sequence(lambda n: n + 1)
    description = "Dostawa wody"
    quantity = Decimal("12.000")
    unit = "m³"
    unit_price_net = Decimal("5.5500")
    net = factory.LazyAttribute(lambda line: round_money(line.quantity * line.unit_price_net))
    vat_rate = "8"
    vat = factory.LazyAttribute(lambda line: vat_for(line.net, Decimal(line.vat_rate)))
    gross = factory.LazyAttribute(lambda line: round_money(line.net + line.vat))


class PaymentFactory(SyncedFactory):
    class Meta:
        model = Payment

    external_id = factory.Sequence(lambda n: f"WPL-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    paid_date = date(2026, 10, 20)
    amount = Decimal("162.00")
    channel = PaymentChannel.TRANSFER
    title = factory.LazyAttribute(lambda p: f"Opłata za wodę, nr odbiorcy {p.customer.number}")


class PaymentAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentAllocation

    payment = factory.SubFactory(PaymentFactory)
    invoice = factory.SubFactory(InvoiceFactory, customer=factory.SelfAttribute("..payment.customer"))
    amount = factory.SelfAttribute("payment.amount")


class CustomerBalanceFactory(SyncedFactory):
    """A saldo as the billing system reports it: positive is debt, negative is overpayment."""

    class Meta:
        model = CustomerBalance

    customer = factory.SubFactory(CustomerFactory)
    external_id = factory.SelfAttribute("customer.external_id")
    balance = Decimal("0.00")
    overdue = Decimal("0.00")
    as_of = factory.LazyFunction(timezone.now)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=2))
    finished_at = factory.LazyFunction(timezone.now)
    source = "file:/var/lib/ibok/billing-drop/batch-2026-11-21T10-00-00Z"
    status = SyncStatus.SUCCEEDED
    counts = factory.LazyFunction(lambda: {"customers": {"read": 1, "written": 1, "rejected": 0}})


class CaseFactory(factory.django.DjangoModelFactory):
    """A new billing case of a customer, opened by nobody in particular; add messages with MessageFactory."""

    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    delivery_point = None
    opened_by = None
    case_type = CaseType.BILLING
    status = CaseStatus.NEW
    subject = factory.Sequence(lambda n: f"Pytanie o fakturę nr {n}")
    opened_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.SelfAttribute("opened_at")


class MessageFactory(factory.django.DjangoModelFactory):
    """A message in a case's thread: from the customer unless sender=Sender.STAFF."""

    class Meta:
        model = Message

    case = factory.SubFactory(CaseFactory)
    sender = Sender.CUSTOMER
    author = None
    body = "Proszę o wyjaśnienie naliczonej kwoty za wodę."
    sent_at = factory.LazyFunction(timezone.now)


def sign_in_recently(client, user) -> None:
    """force_login, plus the record a real sign-in leaves: sensitive changes need no password for five minutes."""
    import time

    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
