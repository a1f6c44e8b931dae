"""e-Invoice: the customer's consent to electronic invoices (a legal act), its history, and the e-mail deliveries."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Customer, Registration
from billing.models import Invoice


class EinvoiceTerms(models.Model):
    """A version of the e-invoice terms (regulamin e-faktury); the newest one already published is in force."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("in force from"), db_index=True)

    class Meta:
        verbose_name = _("e-invoice terms version")
        verbose_name_plural = _("e-invoice terms versions")

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class ConsentStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting for the address to be confirmed")
    ACTIVE = "ACTIVE", pgettext_lazy("e-invoice", "Active")
    ENDED = "ENDED", _("Resigned")


class ConsentSource(models.TextChoices):
    PORTAL = "PORTAL", _("Request in the portal")
    REGISTRATION = "REGISTRATION", _("Registration in the portal")
    PAPER = "PAPER", _("Paper form")


class Consent(models.Model):
    """One customer's acceptance of e-invoices: who accepted which terms, when, from where, for which address.

    PENDING until the address is confirmed (when it differs from the account's verified e-mail), then ACTIVE
    from `active_from`; a resignation makes it ENDED with `ends_on`, the first day of paper invoices. Invoices
    issued on or after the day of `active_from` and before `ends_on` are e-mailed.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="einvoice_consents"
    )
    status = models.CharField(_("status"), max_length=12, choices=ConsentStatus)
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource)
    email = models.EmailField(_("e-invoice address"))
    terms = models.ForeignKey(EinvoiceTerms, verbose_name=_("terms accepted"), on_delete=models.PROTECT)
    accepted_at = models.DateTimeField(_("accepted at"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="einvoice_consents",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    registration = models.OneToOneField(
        Registration,
        verbose_name=_("registration"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="einvoice_consent",
    )
    case_id = models.PositiveIntegerField(_("case number"), null=True, blank=True)
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    ended_at = models.DateTimeField(_("resignation recorded at"), null=True, blank=True)
    ends_on = models.DateField(_("paper invoices from"), null=True, blank=True)
    paper_street = models.CharField(_("street"), max_length=128, blank=True)
    paper_building = models.CharField(_("building number"), max_length=16, blank=True)
    paper_apartment = models.CharField(_("apartment number"), max_length=16, blank=True)
    paper_postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    paper_city = models.CharField(_("city"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("e-invoice consent")
        verbose_name_plural = _("e-invoice consents")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ConsentStatus.values), name="einvoice_consent_status_valid"),
            models.CheckConstraint(condition=Q(source__in=ConsentSource.values), name="einvoice_consent_source_valid"),
            # One consent in force (or waiting for its address) per customer.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=[ConsentStatus.PENDING, ConsentStatus.ACTIVE]),
                name="einvoice_consent_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=~Q(status=ConsentStatus.ACTIVE) | Q(active_from__isnull=False),
                name="einvoice_consent_active_has_start",
            ),
            models.CheckConstraint(
                condition=~Q(status=ConsentStatus.ENDED) | Q(ended_at__isnull=False, ends_on__isnull=False),
                name="einvoice_consent_ended_has_date",
            ),
        ]
        indexes = [models.Index(fields=["customer", "-accepted_at"], name="einvoice_consent_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.email} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == ConsentStatus.PENDING

    @property
    def is_active(self) -> bool:
        return self.status == ConsentStatus.ACTIVE

    @property
    def is_ended(self) -> bool:
        return self.status == ConsentStatus.ENDED

    @property
    def paper_address(self) -> str:
        if not self.paper_street:
            return ""
        number = f"{self.paper_building}/{self.paper_apartment}" if self.paper_apartment else self.paper_building
        return f"{self.paper_street} {number}, {self.paper_postal_code} {self.paper_city}"


class VerificationPurpose(models.TextChoices):
    START = "START", _("Start of e-invoices")
    CHANGE = "CHANGE", _("Change of the e-invoice address")


class AddressVerification(models.Model):
    """A link sent to an e-invoice address: signed with the row's id, single use, expiring."""

    consent = models.ForeignKey(
        Consent, verbose_name=_("consent"), on_delete=models.CASCADE, related_name="verifications"
    )
    purpose = models.CharField(_("purpose"), max_length=8, choices=VerificationPurpose)
    email = models.EmailField(_("address to confirm"))
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="pl")

    class Meta:
        verbose_name = _("address verification")
        verbose_name_plural = _("address verifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=VerificationPurpose.values), name="einvoice_addressverification_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="einvoice_addressverification_expires_later"
            ),
            models.UniqueConstraint(
                fields=["consent"],
                condition=Q(confirmed_at__isnull=True, cancelled_at__isnull=True),
                name="einvoice_addressverification_one_open_per_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.purpose})"

    def is_open_at(self, now) -> bool:
        return self.confirmed_at is None and self.cancelled_at is None and self.expires_at > now


class EventKind(models.TextChoices):
    REQUESTED = "REQUESTED", _("Request for e-invoices")
    VERIFICATION_SENT = "VERIFICATION_SENT", _("Confirmation link sent")
    ACTIVATED = "ACTIVATED", _("e-Invoices started")
    CHANGE_REQUESTED = "CHANGE_REQUESTED", _("Change of the e-invoice address requested")
    ADDRESS_CHANGED = "ADDRESS_CHANGED", _("e-Invoice address changed")
    RESIGNED = "RESIGNED", _("Resignation from e-invoices")
    PAPER_CONSENT = "PAPER_CONSENT", _("Paper consent recorded by the office")
    PAPER_RESIGNATION = "PAPER_RESIGNATION", _("Paper resignation recorded by the office")


class ConsentEvent(models.Model):
    """The history the customer sees: every step of every consent, append-only."""

    consent = models.ForeignKey(Consent, verbose_name=_("consent"), on_delete=models.CASCADE, related_name="events")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="einvoice_events"
    )
    kind = models.CharField(_("event"), max_length=20, choices=EventKind)
    occurred_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    email = models.EmailField(_("e-invoice address"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("e-invoice history entry")
        verbose_name_plural = _("e-invoice history")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="einvoice_consentevent_kind_valid"),
        ]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="einvoice_event_customer_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}"


class PaperFormKind(models.TextChoices):
    CONSENT = "CONSENT", _("Request for e-invoices")
    RESIGNATION = "RESIGNATION", _("Resignation from e-invoices")


def paper_scan_path(instance: "PaperForm", filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"einvoice/paper/{instance.received_date:%Y/%m}/{instance.customer_id}-{instance.kind.lower()}.{suffix}"


class PaperForm(models.Model):
    """A signed paper form the office received and recorded, with its scan (served to staff only)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="einvoice_paper_forms"
    )
    kind = models.CharField(_("form"), max_length=12, choices=PaperFormKind)
    signed_date = models.DateField(_("date on the form"))
    received_date = models.DateField(_("received on"))
    email = models.EmailField(_("e-invoice address"), blank=True)
    ends_on = models.DateField(_("paper invoices from"), null=True, blank=True)
    paper_address = models.CharField(_("postal address for paper invoices"), max_length=300, blank=True)
    scan = models.FileField(_("scan"), upload_to=paper_scan_path)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    consent = models.ForeignKey(
        Consent, verbose_name=_("consent"), null=True, on_delete=models.SET_NULL, related_name="paper_forms"
    )

    class Meta:
        verbose_name = _("paper form")
        verbose_name_plural = _("paper forms")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PaperFormKind.values), name="einvoice_paperform_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=PaperFormKind.CONSENT) | ~Q(email=""), name="einvoice_paperform_consent_has_email"
            ),
            models.CheckConstraint(
                condition=~Q(kind=PaperFormKind.RESIGNATION) | Q(ends_on__isnull=False),
                name="einvoice_paperform_resignation_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.signed_date}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting to be sent")
    SENDING = "SENDING", _("Being sent")
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed")


class Delivery(models.Model):
    """One invoice e-mailed to one e-invoice address: at most once, claimed before sending."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="einvoice_deliveries"
    )
    consent = models.ForeignKey(Consent, verbose_name=_("consent"), on_delete=models.PROTECT, related_name="deliveries")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="einvoice_deliveries"
    )
    email = models.EmailField(_("sent to"))
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    created_at = models.DateTimeField(_("created at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("e-invoice delivery")
        verbose_name_plural = _("e-invoice deliveries")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "email"], name="einvoice_delivery_once_per_invoice_address"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="einvoice_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="einvoice_delivery_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="einvoice_delivery_due_idx"),
            models.Index(fields=["customer", "-created_at"], name="einvoice_delivery_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} → {self.email} ({self.status})"

    @property
    def is_failed(self) -> bool:
        return self.status == DeliveryStatus.FAILED
