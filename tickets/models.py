"""Cases ("Lista spraw"): a customer's matter with the office, its thread of messages, attachments and staff notes."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Customer, DeliveryPoint


class CaseType(models.TextChoices):
    BILLING = "BILLING", _("Billing")
    TECHNICAL = "TECHNICAL", _("Technical")
    COMPLAINT = "COMPLAINT", _("Complaint")
    FAILURE = "FAILURE", _("Failure report")
    WATER_QUALITY = "WATER_QUALITY", _("Water quality")
    CONTRACT_CHANGE = "CONTRACT_CHANGE", _("Contract data change")
    OTHER = "OTHER", pgettext_lazy("case type", "Other")
    # Opened by structured requests only.
    EINVOICE_REQUEST = "EINVOICE_REQUEST", _("e-Invoice request")
    EINVOICE_RESIGNATION = "EINVOICE_RESIGNATION", _("e-Invoice resignation")
    ADDRESS_CHANGE = "ADDRESS_CHANGE", _("Address change")
    METER_PROBLEM = "METER_PROBLEM", _("Meter problem")


# What a customer may pick on the free "new case" form; the rest come from structured requests.
FREE_CASE_TYPES = [
    CaseType.BILLING,
    CaseType.TECHNICAL,
    CaseType.COMPLAINT,
    CaseType.FAILURE,
    CaseType.WATER_QUALITY,
    CaseType.CONTRACT_CHANGE,
    CaseType.OTHER,
]

# What anyone may report without an account (/report/): a failure or a water-quality complaint.
PUBLIC_REPORT_TYPES = [CaseType.FAILURE, CaseType.WATER_QUALITY]

# Cases the billing system has to act on: they leave through the outbox when opened.
BILLING_ACTION_CASE_TYPES = frozenset(
    {
        CaseType.CONTRACT_CHANGE,
        CaseType.ADDRESS_CHANGE,
        CaseType.EINVOICE_REQUEST,
        CaseType.EINVOICE_RESIGNATION,
    }
)


class CaseStatus(models.TextChoices):
    NEW = "NEW", pgettext_lazy("case status", "New")
    IN_PROGRESS = "IN_PROGRESS", pgettext_lazy("case status", "In progress")
    WAITING_FOR_CUSTOMER = "WAITING_FOR_CUSTOMER", pgettext_lazy("case status", "Waiting for your reply")
    CLOSED = "CLOSED", pgettext_lazy("case status", "Closed")


class Case(models.Model):
    """A sprawa: opened by a user for a customer, optionally about one delivery point.

    A report without an account (/report/) has no customer: the reporter's contact, the place as they typed it and
    the hash of the private tracking link's token. Once the reporter signs in with the same verified e-mail the
    report gets `opened_by` and joins their case list (accounts.permissions.Scope.cases).
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    delivery_point = models.ForeignKey(
        DeliveryPoint,
        verbose_name=_("delivery point"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opened_cases",
    )
    case_type = models.CharField(_("case type"), max_length=32, choices=CaseType)
    status = models.CharField(_("status"), max_length=24, choices=CaseStatus, default=CaseStatus.NEW)
    subject = models.CharField(_("subject"), max_length=200)
    fields = models.JSONField(_("request data"), default=dict, blank=True)
    opened_at = models.DateTimeField(_("sent at"), db_index=True)
    last_message_at = models.DateTimeField(_("last message at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned clerk"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        limit_choices_to={"is_staff": True},
    )
    location = models.CharField(_("address or delivery point"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("reporter's e-mail"), blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    # sha256 of the tracking link's token: the token itself is only in the reporter's e-mail or SMS.
    tracking_token_hash = models.CharField(_("tracking token hash"), max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(condition=Q(case_type__in=CaseType.values), name="tickets_case_type_valid"),
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="tickets_case_status_valid"),
            models.CheckConstraint(
                condition=Q(status=CaseStatus.CLOSED, closed_at__isnull=False)
                | (~Q(status=CaseStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="tickets_case_closed_at_iff_closed",
            ),
            models.CheckConstraint(condition=~Q(subject=""), name="tickets_case_subject_not_empty"),
            # A case without a customer is a public report: a kind anyone may report, a way back to the reporter.
            models.CheckConstraint(
                condition=Q(customer__isnull=False)
                | (
                    Q(case_type__in=PUBLIC_REPORT_TYPES, tracking_token_hash__isnull=False)
                    & (~Q(reporter_email="") | ~Q(reporter_phone=""))
                ),
                name="tickets_case_customer_or_public_report",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-opened_at"], name="tickets_case_customer_idx"),
            # The office's queue sorts by the last message.
            models.Index(fields=["last_message_at", "id"], name="tickets_case_queue_idx"),
            # Every sign-in looks for the user's unclaimed reports by their (lower-cased) e-mail.
            models.Index(
                fields=["reporter_email"],
                condition=Q(customer__isnull=True, opened_by__isnull=True),
                name="tickets_case_unclaimed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED

    @property
    def is_waiting_for_customer(self) -> bool:
        return self.status == CaseStatus.WAITING_FOR_CUSTOMER

    @property
    def is_public_report(self) -> bool:
        return self.customer_id is None


class Sender(models.TextChoices):
    CUSTOMER = "CUSTOMER", _("Customer")
    STAFF = "STAFF", _("Customer service office")


class Message(models.Model):
    """One message in a case's thread; read_at is when the other side first read it."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(_("sender"), max_length=16, choices=Sender)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.TextField(_("message"))
    sent_at = models.DateTimeField(_("sent at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    customer_notified_at = models.DateTimeField(_("customer e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(condition=Q(sender__in=Sender.values), name="tickets_message_sender_valid"),
            models.CheckConstraint(condition=~Q(body=""), name="tickets_message_body_not_empty"),
        ]
        indexes = [
            # The unread badge: staff messages not yet read, per case.
            models.Index(
                fields=["case"],
                condition=Q(sender="STAFF", read_at__isnull=True),
                name="tickets_message_unread_idx",
            ),
            # The office's queue: the customer's messages no clerk has read yet, counted per case on the page.
            models.Index(
                fields=["case"],
                condition=Q(sender="CUSTOMER", read_at__isnull=True),
                name="tickets_msg_unread_cust_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.sender} {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def is_from_staff(self) -> bool:
        return self.sender == Sender.STAFF


class AttachmentType(models.TextChoices):
    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPG"
    PNG = "image/png", "PNG"


ATTACHMENT_EXTENSIONS = {AttachmentType.PDF: ".pdf", AttachmentType.JPEG: ".jpg", AttachmentType.PNG: ".png"}


def attachment_path(instance: "Attachment", filename: str) -> str:
    """A random name under MEDIA_ROOT: the customer's file name is kept only in the database."""
    extension = ATTACHMENT_EXTENSIONS.get(instance.content_type, PurePath(filename).suffix.lower())
    return f"cases/{instance.uploaded_at:%Y/%m}/{uuid.uuid4().hex}{extension}"


class Attachment(models.Model):
    """A checked file (PDF, JPG or PNG) sent with a message; downloaded only through an access-checked view."""

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=32, choices=AttachmentType)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=AttachmentType.values), name="tickets_attachment_type_valid"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="tickets_attachment_size_positive"),
        ]

    def __str__(self) -> str:
        return self.original_name


class CaseNote(models.Model):
    """An internal note by staff: never shown to the customer."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="tickets_casenote_body_not_empty")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.created_at:%Y-%m-%d %H:%M}"
