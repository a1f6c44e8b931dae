from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from getpaid.abstracts import AbstractOrder

from accounts.models import Customer, DeliveryPoint
from billing.payments import przelewy24
from core.models import SyncedModel

# gross = net + vat, written with half a grosz of slack: SQLite does this sum in floating point, where
# 220.04 + 17.61 != 237.65. On PostgreSQL numeric is exact, so for two-decimal amounts this is equality.
HALF_GROSZ = Decimal("0.005")
GROSS_IS_NET_PLUS_VAT = Q(gross__gte=F("net") + F("vat") - HALF_GROSZ) & Q(gross__lte=F("net") + F("vat") + HALF_GROSZ)


class InvoiceKind(models.TextChoices):
    INVOICE = "INVOICE", _("Invoice")
    CORRECTION = "CORRECTION", _("Correcting invoice")
    INTEREST_NOTE = "INTEREST_NOTE", _("Interest note")


class InvoiceStatus(models.TextChoices):
    PAID = "PAID", _("Paid")
    UNPAID = "UNPAID", _("Unpaid")
    PARTIAL = "PARTIAL", _("Partially paid")
    OVERDUE = "OVERDUE", _("Overdue")


class Invoice(SyncedModel):
    """A faktura, correction or interest note as issued by the billing system. The portal never computes one."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="invoices"
    )
    delivery_point = models.ForeignKey(
        DeliveryPoint,
        verbose_name=_("delivery point"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    kind = models.CharField(_("document type"), max_length=16, choices=InvoiceKind, default=InvoiceKind.INVOICE)
    corrected_invoice = models.ForeignKey(
        "self", verbose_name=_("corrected invoice"), null=True, blank=True, on_delete=models.SET_NULL
    )
    issue_date = models.DateField(_("issue date"))
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to (exclusive)"), null=True, blank=True)
    due_date = models.DateField(_("due date"))
    # Set when the customer's portal account is deleted: kept for tax law until then, purged after (tax_records_purge).
    purge_after = models.DateField(_("purge after"), null=True, blank=True)
    net = models.DecimalField(_("net"), max_digits=12, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    gross = models.DecimalField(_("gross"), max_digits=12, decimal_places=2)
    outstanding = models.DecimalField(_("left to pay"), max_digits=12, decimal_places=2)
    ksef_number = models.CharField(_("KSeF number"), max_length=64, blank=True)
    ksef_hash = models.CharField(_("KSeF XML hash (SHA-256, base64url)"), max_length=64, blank=True)
    # KOD II of an invoice issued offline: what the billing system signed with its KSeF offline certificate.
    ksef_context_type = models.CharField(_("KSeF context type"), max_length=16, blank=True, db_default="")
    ksef_context_id = models.CharField(_("KSeF context identifier"), max_length=64, blank=True, db_default="")
    ksef_certificate_serial = models.CharField(
        _("KSeF certificate serial number"), max_length=64, blank=True, db_default=""
    )
    ksef_certificate_signature = models.CharField(
        _("KSeF certificate signature (base64url)"), max_length=1024, blank=True, db_default=""
    )
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/%m/", blank=True, db_default="")
    # The broker confirmed an online payment of it that the billing system has not booked yet: set by
    # billing.services.online_payment_confirm, cleared when the sync brings the booked payment (billing.versions).
    payment_in_progress = models.BooleanField(_("payment in progress"), default=False, db_default=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InvoiceKind.values), name="billing_invoice_kind_valid"),
            models.CheckConstraint(condition=GROSS_IS_NET_PLUS_VAT, name="billing_invoice_gross_is_net_plus_vat"),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.CORRECTION) | Q(gross__gte=0), name="billing_invoice_gross_non_negative"
            ),
            models.CheckConstraint(condition=Q(outstanding__gte=0), name="billing_invoice_outstanding_non_negative"),
            models.CheckConstraint(
                condition=Q(period_end__isnull=True) | Q(period_end__gt=F("period_start")),
                name="billing_invoice_period_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-issue_date", "-id"], name="billing_invoice_customer_idx"),
            models.Index(
                fields=["customer", "due_date"], name="billing_invoice_due_idx", condition=Q(outstanding__gt=0)
            ),
            # The office's list: newest first, filtered by issue date.
            models.Index(fields=["issue_date", "id"], name="billing_invoice_issue_idx"),
            # The office's search by KSeF number.
            models.Index(fields=["ksef_number"], name="billing_invoice_ksef_idx", condition=~Q(ksef_number="")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def in_progress(self) -> bool:
        return self.payment_in_progress

    def status_on(self, today) -> str:
        """The one status source: views and selectors ask it for the day they show (templates get the result)."""
        if self.outstanding <= 0:
            return InvoiceStatus.PAID
        if self.due_date < today:
            return InvoiceStatus.OVERDUE
        if self.outstanding < self.gross:
            return InvoiceStatus.PARTIAL
        return InvoiceStatus.UNPAID

    @property
    def is_ksef_offline(self) -> bool:
        """Issued in KSeF's offline mode and not numbered yet: KOD I is labelled OFFLINE."""
        return bool(self.ksef_hash) and not self.ksef_number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=16)
    unit_price_net = models.DecimalField(_("unit net price"), max_digits=12, decimal_places=4)
    net = models.DecimalField(_("net"), max_digits=12, decimal_places=2)
    vat_rate = models.CharField(_("VAT rate"), max_length=4)
    vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    gross = models.DecimalField(_("gross"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="billing_invoiceline_position_unique"),
            models.CheckConstraint(condition=GROSS_IS_NET_PLUS_VAT, name="billing_invoiceline_gross_is_net_plus_vat"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position} {self.description}"


class PaymentChannel(models.TextChoices):
    TRANSFER = "TRANSFER", _("Bank transfer")
    ONLINE = "ONLINE", _("Online payment")
    CASH = "CASH", _("Cash desk")
    CARD = "CARD", _("Card at the office")
    OFFSET = "OFFSET", _("Offset of overpayment")


class Payment(SyncedModel):
    """A wpłata booked by the billing system."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="payments"
    )
    paid_date = models.DateField(_("payment date"))
    purge_after = models.DateField(_("purge after"), null=True, blank=True)  # as Invoice.purge_after
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    channel = models.CharField(_("channel"), max_length=12, choices=PaymentChannel)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # The reference of the portal's online payment this booking confirms (docs/billing-sync.md).
    portal_reference = models.CharField(_("portal reference"), max_length=64, blank=True, db_default="")
    invoices = models.ManyToManyField(Invoice, through="PaymentAllocation", related_name="payments")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(channel__in=PaymentChannel.values), name="billing_payment_channel_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-paid_date", "-id"], name="billing_payment_customer_idx"),
            models.Index(
                fields=["portal_reference"], name="billing_payment_portal_ref_idx", condition=~Q(portal_reference="")
            ),
            # The office's list: newest first, filtered by payment date.
            models.Index(fields=["paid_date", "id"], name="billing_payment_paid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.paid_date} {self.amount} zł"


class PaymentAllocation(models.Model):
    """The part of a payment that settled one invoice."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="allocations"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.UniqueConstraint(fields=["payment", "invoice"], name="billing_paymentallocation_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_paymentallocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class CustomerBalance(SyncedModel):
    """The saldo the billing system reports: positive is debt, negative is overpayment.

    external_id is the customer's id in the billing system.
    """

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="balance"
    )
    balance = models.DecimalField(_("balance"), max_digits=12, decimal_places=2)
    overdue = models.DecimalField(_("overdue"), max_digits=12, decimal_places=2)
    as_of = models.DateTimeField(_("as of"))

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        constraints = [
            models.CheckConstraint(condition=Q(overdue__gte=0), name="billing_customerbalance_overdue_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"

    @property
    def is_debt(self) -> bool:
        return self.balance > 0

    @property
    def is_overpayment(self) -> bool:
        return self.balance < 0

    @property
    def overpayment(self):
        return -self.balance if self.balance < 0 else 0


class SyncStatus(models.TextChoices):
    RUNNING = "RUNNING", _("Running")
    SUCCEEDED = "SUCCEEDED", _("Succeeded")
    SUCCEEDED_WITH_REJECTS = "REJECTS", _("Succeeded with rejected records")
    FAILED = "FAILED", _("Failed")


class SyncRun(models.Model):
    """One import from the billing system: what was read, written and rejected."""

    started_at = models.DateTimeField(_("started at"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=SyncStatus, default=SyncStatus.RUNNING)
    cursor_from = models.CharField(_("cursor before"), max_length=64, blank=True)
    cursor_to = models.CharField(_("cursor after"), max_length=64, blank=True)
    counts = models.JSONField(_("counts per entity"), default=dict, blank=True)
    errors = models.JSONField(_("rejected records"), default=list, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SyncStatus.values), name="billing_syncrun_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.source} ({self.status})"

    def total(self, key: str) -> int:
        return sum(entity.get(key, 0) for entity in self.counts.values())


class OnlinePayment(AbstractOrder):
    """A customer's online payment of chosen invoices (or an amount) through the broker: django-getpaid's order.

    Paid (`paid_at`) once the broker's verified notification arrives; booked once the billing system sends a
    payment carrying this `reference` as its portal_reference. In between the invoices show "payment in progress".
    """

    reference = models.CharField(_("payment reference"), max_length=32, unique=True)
    # A customer the billing system deletes takes its online payments along (the outbox already carried them); a
    # deleted login leaves the payment in place.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="online_payments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="online_payments",
    )
    created_at = models.DateTimeField(_("created at"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    fee = models.DecimalField(_("fee"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="PLN")
    title = models.CharField(_("title"), max_length=128)
    paid_at = models.DateTimeField(_("paid at (broker confirmed)"), null=True, blank=True)
    broker_reference = models.CharField(_("broker's reference"), max_length=64, blank=True)
    purge_after = models.DateField(_("purge after"), null=True, blank=True)  # as Invoice.purge_after
    invoices = models.ManyToManyField(Invoice, through="OnlinePaymentItem", related_name="online_payments")

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_onlinepayment_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="billing_onlinepayment_fee_non_negative"),
            models.CheckConstraint(condition=Q(total=F("amount") + F("fee")), name="billing_onlinepayment_total_sum"),
            models.CheckConstraint(condition=Q(currency="PLN"), name="billing_onlinepayment_currency_pln"),
            models.UniqueConstraint(
                fields=["broker_reference"],
                condition=~Q(broker_reference=""),
                name="billing_onlinepayment_broker_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | ~Q(broker_reference=""),
                name="billing_onlinepayment_paid_has_broker_reference",
            ),
        ]
        indexes = [models.Index(fields=["customer", "-created_at", "-id"], name="billing_onlinepay_customer_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    # django-getpaid's order interface
    def get_absolute_url(self) -> str:
        return reverse("billing:online-payment-detail", kwargs={"reference": self.reference})

    def get_total_amount(self) -> Decimal:
        return self.total

    def get_currency(self) -> str:
        return self.currency

    def get_buyer_info(self) -> dict:
        return {"email": self.payer_email}

    @property
    def payer_email(self) -> str:
        """Where the broker sends the confirmation: the payer's address, else the customer's, if the broker takes it."""
        return przelewy24.payer_email(self.user.email if self.user else "", self.customer.email)

    def get_description(self) -> str:
        return self.title


class OnlinePaymentItem(models.Model):
    """An invoice an online payment pays, with the part of the amount meant for it."""

    online_payment = models.ForeignKey(
        OnlinePayment, verbose_name=_("online payment"), on_delete=models.CASCADE, related_name="items"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="online_payment_items"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("paid invoice")
        verbose_name_plural = _("paid invoices")
        constraints = [
            models.UniqueConstraint(fields=["online_payment", "invoice"], name="billing_onlinepaymentitem_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_onlinepaymentitem_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.online_payment_id} → {self.invoice_id}: {self.amount}"


class BrokerEventOutcome(models.TextChoices):
    ACCEPTED = "ACCEPTED", _("Accepted")
    REJECTED = "REJECTED", _("Rejected")


class BrokerEvent(models.Model):
    """Every notification the payment broker sent, verified or not: what staff look at when a payment is disputed."""

    received_at = models.DateTimeField(_("received at"), db_index=True)
    online_payment = models.ForeignKey(
        OnlinePayment,
        verbose_name=_("online payment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="broker_events",
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=BrokerEventOutcome)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    remote_addr = models.GenericIPAddressField(_("sender address"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta:
        verbose_name = _("broker event")
        verbose_name_plural = _("broker events")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=BrokerEventOutcome.values), name="billing_brokerevent_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class CalendarFeed(models.Model):
    """A private, revocable address of a user's calendar of due dates (ICS)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user_id}"


class PaymentPlanRequestStatus(models.TextChoices):
    OPEN = "OPEN", _("Waiting for a decision")
    ACCEPTED = "ACCEPTED", _("Accepted")
    CHANGED = "CHANGED", _("Accepted with changes")
    REFUSED = "REFUSED", _("Refused")


class PaymentPlanRequest(models.Model):
    """A customer's request to pay overdue invoices in instalments (rozłożenie na raty), decided by staff.

    Sent to the billing system as outbox kind payment_plan_request, the decision as payment_plan_decision; the plan
    the billing system then keeps comes back in the import as a PaymentPlan.
    """

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="payment_plan_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_plan_requests",
    )
    created_at = models.DateTimeField(_("requested at"))
    total = models.DecimalField(_("amount to spread"), max_digits=12, decimal_places=2)
    instalments = models.PositiveSmallIntegerField(_("instalments asked for"))
    first_due_date = models.DateField(_("first instalment due"))
    status = models.CharField(
        _("status"), max_length=12, choices=PaymentPlanRequestStatus, default=PaymentPlanRequestStatus.OPEN
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_instalments = models.PositiveSmallIntegerField(_("instalments granted"), null=True, blank=True)
    decision_note = models.TextField(_("note to the customer"), blank=True)
    invoices = models.ManyToManyField(Invoice, through="PaymentPlanRequestItem", related_name="payment_plan_requests")

    class Meta:
        verbose_name = _("payment plan request")
        verbose_name_plural = _("payment plan requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PaymentPlanRequestStatus.values), name="billing_paymentplanrequest_status_valid"
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="billing_paymentplanrequest_total_positive"),
            models.CheckConstraint(condition=Q(instalments__gte=1), name="billing_paymentplanrequest_instalments_min"),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status=PaymentPlanRequestStatus.OPEN),
                name="billing_paymentplanrequest_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="billing_planreq_customer_idx"),
            models.Index(fields=["status", "created_at"], name="billing_planreq_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == PaymentPlanRequestStatus.OPEN

    @property
    def is_refused(self) -> bool:
        return self.status == PaymentPlanRequestStatus.REFUSED

    @property
    def granted_instalments(self) -> int:
        return self.decided_instalments or self.instalments


class PaymentPlanRequestItem(models.Model):
    """An overdue invoice a payment plan request asks to spread, with what was left to pay of it then."""

    request = models.ForeignKey(
        PaymentPlanRequest, verbose_name=_("payment plan request"), on_delete=models.CASCADE, related_name="items"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="payment_plan_items"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("invoice in the request")
        verbose_name_plural = _("invoices in the request")
        constraints = [
            models.UniqueConstraint(fields=["request", "invoice"], name="billing_paymentplanrequestitem_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_paymentplanrequestitem_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.invoice_id}: {self.amount}"


class PaymentPlanStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("In force")
    COMPLETED = "COMPLETED", _("Paid off")
    CANCELLED = "CANCELLED", _("Cancelled")


class PaymentPlan(SyncedModel):
    """An instalment plan as the billing system keeps it (import entity payment_plans): its schedule, due dates."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="payment_plans"
    )
    # The portal's request this plan answers (its reference), blank for a plan agreed at the office.
    portal_reference = models.CharField(_("portal reference"), max_length=32, blank=True, db_default="")
    status = models.CharField(_("status"), max_length=12, choices=PaymentPlanStatus)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    # [{"due_date": "2027-01-15", "amount": "120.00"}, ...] in due date order, as the billing system sent it.
    schedule = models.JSONField(_("schedule"), default=list)

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PaymentPlanStatus.values), name="billing_paymentplan_status_valid"
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="billing_paymentplan_total_positive"),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="billing_plan_customer_idx")]

    def __str__(self) -> str:
        return self.external_id

    @property
    def is_active(self) -> bool:
        return self.status == PaymentPlanStatus.ACTIVE

    @property
    def instalments(self) -> list[dict]:
        """The schedule with dates and Decimal amounts: [{"number", "due_date", "amount"}]."""
        from datetime import date as date_type  # noqa: PLC0415 - only here

        return [
            {"number": n, "due_date": date_type.fromisoformat(item["due_date"]), "amount": Decimal(item["amount"])}
            for n, item in enumerate(self.schedule, start=1)
        ]


class RefundMethod(models.TextChoices):
    BANK_TRANSFER = "BANK_TRANSFER", _("Transfer to my bank account")
    OFFSET = "OFFSET", _("Offset against the next invoices")


class RefundStatus(models.TextChoices):
    REQUESTED = "REQUESTED", _("Requested")
    PAID_OUT = "PAID_OUT", _("Paid out")
    OFFSET = "OFFSET", _("Offset against invoices")
    REFUSED = "REFUSED", _("Refused")


class RefundRequest(models.Model):
    """A customer's request to get an overpayment back (to a bank account or as an offset), decided by staff.

    One open (REQUESTED) request per customer, by a partial unique constraint.
    """

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="refund_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="refund_requests",
    )
    method = models.CharField(_("method"), max_length=16, choices=RefundMethod)
    bank_account = models.CharField(_("bank account (NRB)"), max_length=26, blank=True)
    amount = models.DecimalField(_("overpayment when requested"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=RefundStatus, default=RefundStatus.REQUESTED)
    requested_at = models.DateTimeField(_("requested at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField(_("note to the customer"), blank=True)

    class Meta:
        verbose_name = _("refund request")
        verbose_name_plural = _("refund requests")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_refundrequest_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="billing_refundrequest_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(method=RefundMethod.BANK_TRANSFER) & Q(bank_account__regex=r"^[0-9]{26}$"))
                | (Q(method=RefundMethod.OFFSET) & Q(bank_account="")),
                name="billing_refundrequest_method_account",
            ),
            models.CheckConstraint(
                condition=Q(status=RefundStatus.REQUESTED, decided_at__isnull=True)
                | (~Q(status=RefundStatus.REQUESTED) & Q(decided_at__isnull=False)),
                name="billing_refundrequest_decided_at",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status=RefundStatus.REQUESTED),
                name="billing_refundrequest_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "requested_at", "id"], name="billing_refund_queue_idx"),
            models.Index(fields=["customer", "-requested_at", "-id"], name="billing_refund_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == RefundStatus.REQUESTED

    @property
    def is_bank_transfer(self) -> bool:
        return self.method == RefundMethod.BANK_TRANSFER

    @property
    def bank_account_display(self) -> str:
        """The NRB in the banks' groups: 2 digits, then six groups of four."""
        account = self.bank_account
        return " ".join([account[:2], *(account[i : i + 4] for i in range(2, 26, 4))]) if account else ""
