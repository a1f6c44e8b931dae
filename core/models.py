from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AuditLogEntry(models.Model):
    """A sensitive action: who did what to which object, and when. Append-only."""

    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class SecurityEventKind(models.TextChoices):
    LOGIN_THROTTLED = "LOGIN_THROTTLED", _("Sign-in attempts throttled")
    REGISTRATION_THROTTLED = "REGISTRATION_THROTTLED", _("Registration attempts throttled")
    PAYMENT_NOTICE_REFUSED = "PAYMENT_NOTICE_REFUSED", _("Payment notice refused")
    UPLOAD_REFUSED = "UPLOAD_REFUSED", _("Upload refused")


class SecurityEvent(models.Model):
    """Something refused that may be an attack: who asked (address, hashed identifier), what and when. Append-only.

    The identifier (a customer number, an e-mail, a login) is stored as a keyed hash (core.security), so that staff
    can find every event about a given one without the log holding the personal data itself.
    """

    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=SecurityEventKind)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    identifier_hash = models.CharField(_("identifier (hashed)"), max_length=64, blank=True, db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security log")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SecurityEventKind.values), name="core_securityevent_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["ip_address", "-occurred_at"], name="core_securityevent_ip_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.ip_address or ''}"


class OutboxStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    DELIVERED = "DELIVERED", _("Delivered")
    FAILED = "FAILED", _("Failed")


class OutboxMessage(models.Model):
    """What the portal owes the billing system, written in the same transaction as the change."""

    created_at = models.DateTimeField(_("created at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=64)
    customer_number = models.CharField(_("customer number"), max_length=32, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, unique=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=16, choices=OutboxStatus, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="core_outboxmessage_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="core_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_number} ({self.status})"


class SyncedModel(models.Model):
    """A row mirrored from the billing system: its id there and when it last changed there."""

    external_id = models.CharField(_("billing system id"), max_length=64, unique=True)
    source_updated_at = models.DateTimeField(_("changed in billing system at"))

    class Meta:
        abstract = True
