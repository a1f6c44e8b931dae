"""Notifications (e-powiadomienia, e-monit, e-komunikat), announcements (komunikaty) and documents (Dokumenty)."""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField

from accounts.models import Customer, DeliveryPoint
from meters.models import Meter


class Kind(models.TextChoices):
    """What a notification is about; each user switches each kind per channel."""

    NEW_INVOICE = "NEW_INVOICE", _("New invoice issued")
    PAYMENT_DUE = "PAYMENT_DUE", _("Payment due soon")
    CONTRACT_END = "CONTRACT_END", _("Fixed-term contract ends soon")
    LEGALIZATION = "LEGALIZATION", _("Meter legalization expires soon")
    OUTAGE = "OUTAGE", _("Outages and planned works in my area")


class Channel(models.TextChoices):
    EMAIL = "EMAIL", _("E-mail")
    SMS = "SMS", pgettext_lazy("channel", "SMS")


class NotificationPreference(models.Model):
    """One switch: a kind on a channel, on or off. No row means off: notifications are opt-in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("notification"), max_length=16, choices=Kind)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    enabled = models.BooleanField(_("on"), default=False)
    updated_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="notices_notificationpreference_once"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="notices_notificationpreference_kind_valid"),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notices_notificationpreference_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel} {'on' if self.enabled else 'off'}"


class PhoneVerification(models.Model):
    """A code sent by SMS to prove the user holds the phone; SMS notifications go only to a verified number.

    The code is stored hashed, expires, and allows a few attempts. The number verified is kept, so a phone
    changed later in the contact data has to be verified again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="phone_verifications"
    )
    phone = PhoneNumberField(_("phone"), region="PL")
    code_hash = models.CharField(_("code (hashed)"), max_length=128)
    created_at = models.DateTimeField(_("code sent at"))
    expires_at = models.DateTimeField(_("code valid until"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="notices_phoneverification_expires_after_sent"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="notices_phonever_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.phone} {'verified' if self.verified_at else 'pending'}"


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting to be sent")
    SENDING = "SENDING", _("Being sent")
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed")
    CANCELLED = "CANCELLED", _("Not sent: switched off")


class Notification(models.Model):
    """One message to one user about one object on one channel: created before sending, sent at most once.

    object_key names the object and, where it can change, the date the message is about
    ("invoice:12", "contract:5:2027-03-31"), so an extended contract is reminded of again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    kind = models.CharField(_("notification"), max_length=16, choices=Kind)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    object_key = models.CharField(_("about"), max_length=64)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML version"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=NotificationStatus, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    claimed_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("sent notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "object_key", "channel"], name="notices_notification_once_per_user_object"
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="notices_notification_kind_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="notices_notification_channel_valid"),
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values), name="notices_notification_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=NotificationStatus.SENT) | Q(sent_at__isnull=False),
                name="notices_notification_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notices_notification_user_idx"),
            models.Index(
                fields=["status", "next_attempt_at"],
                name="notices_notification_due_idx",
                condition=Q(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} → {self.recipient} ({self.status})"

    @property
    def is_sent(self) -> bool:
        return self.status == NotificationStatus.SENT

    @property
    def is_failed(self) -> bool:
        return self.status == NotificationStatus.FAILED


class LocalSms(models.Model):
    """An SMS the local backend (development, tests) recorded instead of sending."""

    phone = models.CharField(_("phone"), max_length=32)
    text = models.TextField(_("text"))
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS recorded locally")
        verbose_name_plural = _("SMS recorded locally")

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:40]}"


class InboundSmsOutcome(models.TextChoices):
    ACCEPTED = "ACCEPTED", _("Reading recorded")
    MALFORMED = "MALFORMED", _("Message not understood")
    UNKNOWN_METER = "UNKNOWN_METER", _("No such meter")
    UNKNOWN_SENDER = "UNKNOWN_SENDER", _("Not the phone verified for the meter")
    REJECTED = "REJECTED", _("Reading refused")


class InboundSms(models.Model):
    """An SMS to the utility's number ("ODCZYT <meter no.> <value>") from the gateway's signed callback.

    One row per gateway message id: the gateway calling again (a retry) changes nothing. The reply, in Polish, is
    sent by a task (notices.inbound_sms_reply) that stamps replied_at.
    """

    gateway_message_id = models.CharField(_("gateway message id"), max_length=64, unique=True)
    sender = models.CharField(_("sender"), max_length=32)
    text = models.CharField(_("text"), max_length=1000)
    received_at = models.DateTimeField(_("received at"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=InboundSmsOutcome)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    portal_reference = models.CharField(_("portal reference"), max_length=64, blank=True)
    reply = models.CharField(_("reply"), max_length=1000)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply_attempts = models.PositiveSmallIntegerField(_("reply attempts"), default=0)

    class Meta:
        verbose_name = _("SMS reading")
        verbose_name_plural = _("SMS readings")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=InboundSmsOutcome.values), name="notices_inboundsms_outcome_valid"
            ),
        ]
        indexes = [models.Index(fields=["-received_at"], name="notices_inbound_received_idx")]

    def __str__(self) -> str:
        return f"{self.gateway_message_id} {self.sender} {self.outcome}"


class AnnouncementKind(models.TextChoices):
    OUTAGE = "OUTAGE", _("Outage")
    PLANNED_WORKS = "PLANNED_WORKS", _("Planned works")
    INFORMATION = "INFORMATION", _("Information")


_STREET_PREFIX = re.compile(r"^(ul\.?|ulica|al\.?|aleja|aleje|os\.?|osiedle|pl\.?|plac|skwer|rondo)\s+", re.IGNORECASE)


def normalize_street(name: str) -> str:
    """A street name compared without case, spacing or the "ul." / "al." / "os." / "pl." prefix."""
    name = " ".join(name.split()).lower()
    return _STREET_PREFIX.sub("", name)


def normalize_city(name: str) -> str:
    return " ".join(name.split()).lower()


class Announcement(models.Model):
    """A komunikat: an outage, planned works or information, shown in a time window, maybe for an area.

    The area is a city, some of its streets, and/or chosen delivery points; with none, it concerns everyone.
    The delivery points it reaches are resolved into AnnouncementTarget when it is published.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=AnnouncementKind, default=AnnouncementKind.OUTAGE)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    starts_at = models.DateTimeField(_("shown from"))
    ends_at = models.DateTimeField(_("shown until"), null=True, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True)
    streets = models.TextField(
        _("streets"), blank=True, help_text=_("One street per line, as in the address (the “ul.” prefix is optional).")
    )
    points = models.ManyToManyField(
        DeliveryPoint, verbose_name=_("delivery points"), blank=True, related_name="announcements"
    )
    targets = models.ManyToManyField(
        DeliveryPoint, verbose_name=_("delivery points reached"), through="AnnouncementTarget", related_name="+"
    )
    published = models.BooleanField(
        _("published"), default=False, help_text=_("Publishing shows it and tells the affected customers once.")
    )
    published_at = models.DateTimeField(_("first published at"), null=True, blank=True)
    targets_resolved_at = models.DateTimeField(_("area resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AnnouncementKind.values), name="notices_announcement_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="notices_announcement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(streets="") | ~Q(city=""), name="notices_announcement_streets_need_city"
            ),
        ]
        indexes = [models.Index(fields=["published", "starts_at"], name="notices_announce_window_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def street_list(self) -> list[str]:
        return [line.strip() for line in self.streets.splitlines() if line.strip()]

    @property
    def has_area(self) -> bool:
        return bool(self.city.strip())

    @property
    def area_label(self) -> str:
        """The area as the customer reads it: "Przemyśl: ul. Słowackiego, ul. Mickiewicza"."""
        if not self.city:
            return ""
        streets = self.street_list
        return f"{self.city}: {', '.join(streets)}" if streets else self.city

    @property
    def is_outage(self) -> bool:
        return self.kind == AnnouncementKind.OUTAGE


class AnnouncementTarget(models.Model):
    """A delivery point an announcement reaches: its area resolved when it was published."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="target_rows")
    delivery_point = models.ForeignKey(DeliveryPoint, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("delivery point reached")
        verbose_name_plural = _("delivery points reached")
        constraints = [
            models.UniqueConstraint(fields=["announcement", "delivery_point"], name="notices_announcementtarget_once"),
        ]
        indexes = [models.Index(fields=["delivery_point", "announcement"], name="notices_annt_point_idx")]

    def __str__(self) -> str:
        return f"{self.announcement_id} → {self.delivery_point_id}"


class DocumentCategory(models.TextChoices):
    FORM = "FORM", _("Form")
    TERMS = "TERMS", _("Terms")
    TARIFF = "TARIFF", _("Tariff and price list")
    CONTRACT = "CONTRACT", pgettext_lazy("document", "Contract")
    LETTER = "LETTER", _("Letter")
    OTHER = "OTHER", _("Other")


class Document(models.Model):
    """A PDF in Dokumenty: public to every signed-in user (customer empty) or one customer's own.

    A customer's documents are uploaded by staff or, once the import contract carries them, come from the
    billing system (external_id set).
    """

    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=DocumentCategory)
    description = models.TextField(_("description"), blank=True)
    version = models.CharField(_("version"), max_length=32, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
        help_text=_("Leave empty for a document every customer may download (forms, terms)."),
    )
    file = models.FileField(_("file (PDF)"), upload_to="documents/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size in bytes"))
    published_at = models.DateTimeField(_("available from"))
    external_id = models.CharField(_("billing system id"), max_length=64, unique=True, null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=DocumentCategory.values), name="notices_document_category_valid"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="notices_document_size_positive"),
        ]
        indexes = [models.Index(fields=["customer", "-published_at"], name="notices_document_customer_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.customer_id is None
