"""A small world for the property-manager and authorization tests.

Customer A (two delivery points, each with an invoice, a meter with a photographed self-reading, a case with an
attachment; a payment; a saldo; a customer-wide document), its owner, a manager of all of A's points, a manager
of A's first point only; customer B with its owner and the same kinds of data; a staff member with a second factor.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import AccessRole, Customer, DeliveryPoint, User
from billing.models import CalendarFeed, Invoice, OnlinePayment
from meters.models import Meter, Reading
from notices.models import Document, DocumentCategory
from tests import factories
from tickets.models import Attachment, AttachmentType, Case

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 20


@dataclass
class Side:
    customer: Customer
    owner: User
    points: list[DeliveryPoint]
    invoices: list[Invoice]
    meters: list[Meter]
    readings: list[Reading]
    cases: list[Case]
    attachments: list[Attachment]
    document: Document
    online_payment: OnlinePayment
    calendar: CalendarFeed


@dataclass
class World:
    a: Side
    b: Side
    full_manager: User
    partial_manager: User
    staff: User

    @property
    def users(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "customer_a": self.a.owner,
            "customer_b": self.b.owner,
            "full_manager": self.full_manager,
            "partial_manager": self.partial_manager,
            "staff": self.staff,
        }


def login_user(username: str, **fields) -> User:
    user = factories.UserFactory(username=username, email=f"{username}@example.pl", **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _side(number: str, name: str) -> Side:
    first = factories.DeliveryPointFactory(customer__number=number, customer__name=name)
    customer = first.customer
    second = factories.DeliveryPointFactory(customer=customer, contract=first.contract, street="ul. Boczna")
    owner = login_user(number)
    factories.CustomerAccessFactory(user=owner, customer=customer)
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("500.00"), overdue=Decimal("100.00"))
    invoices = [
        factories.InvoiceFactory(customer=customer, delivery_point=point, number=f"FV/{number}/{i}/2026")
        for i, point in enumerate([first, second], start=1)
    ]
    factories.InvoiceLineFactory(invoice=invoices[0], position=1)
    factories.PaymentAllocationFactory(payment__customer=customer, invoice=invoices[0], amount=Decimal("10.00"))
    meters, readings, cases, attachments = [], [], [], []
    for point in (first, second):
        meter = factories.MeterFactory(delivery_point=point, legalization_valid_until=date(2026, 12, 1))
        reading = factories.ReadingFactory(meter=meter)
        reading.photo.save(f"odczyt-{meter.serial_number}.png", ContentFile(PNG_BYTES), save=True)
        case = factories.CaseFactory(customer=customer, delivery_point=point, opened_by=owner)
        message = factories.MessageFactory(case=case, author=owner)
        attachment = Attachment(
            message=message,
            original_name="skan.pdf",
            content_type=AttachmentType.PDF,
            size=len(PDF_BYTES),
            uploaded_at=timezone.now(),
        )
        attachment.file.save("skan.pdf", ContentFile(PDF_BYTES), save=True)
        meters.append(meter)
        readings.append(reading)
        cases.append(case)
        attachments.append(attachment)
    document = Document(
        title=f"Umowa {number}",
        category=DocumentCategory.CONTRACT,
        customer=customer,
        original_name="umowa.pdf",
        size=len(PDF_BYTES),
        published_at=timezone.now() - timedelta(days=1),
        uploaded_at=timezone.now() - timedelta(days=1),
    )
    document.file.save("umowa.pdf", ContentFile(PDF_BYTES), save=True)
    online_payment = OnlinePayment.objects.create(
        reference=f"IBOK-261121-{number}",
        customer=customer,
        user=owner,
        created_at=timezone.now(),
        amount=Decimal("10.00"),
        fee=Decimal("1.00"),
        total=Decimal("11.00"),
        title=f"nr odbiorcy {number}",
    )
    calendar = CalendarFeed.objects.create(user=owner, token=f"kalendarz-{number}", created_at=timezone.now())
    return Side(
        customer,
        owner,
        [first, second],
        invoices,
        meters,
        readings,
        cases,
        attachments,
        document,
        online_payment,
        calendar,
    )


def build_world() -> World:
    a = _side("500100", "Wspólnota Mieszkaniowa Słoneczna 5")
    b = _side("500200", "Jan Obcy")
    full_manager = login_user("zarzadca-pelny")
    factories.CustomerAccessFactory(user=full_manager, customer=a.customer, role=AccessRole.MANAGER, all_points=True)
    partial_manager = login_user("zarzadca-czesc")
    access = factories.CustomerAccessFactory(
        user=partial_manager, customer=a.customer, role=AccessRole.MANAGER, all_points=False
    )
    access.points.add(a.points[0])
    staff = login_user("urzednik", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return World(a, b, full_manager, partial_manager, staff)
