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
    SMS_CALLBACK_REFUSED = "SMS_CALLBACK_REFUSED", _("SMS gateway callback refused")


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


class QueuedTask(models.Model):
    """A background task a change owes (an e-mail, an SMS, a PDF, a sync), written in the change's transaction.

    The relay (core.jobs) hands it to Celery and stamps relayed_at; while the broker is down it waits here.
    """

    created_at = models.DateTimeField(_("created at"))
    task = models.CharField(_("task"), max_length=100)  # "<app>.<task>", e.g. "accounts.registration_email_send"
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    relayed_at = models.DateTimeField(_("handed to the worker at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("failed hand-overs"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(task__regex=r"^[a-z_]+\.[a-z0-9_]+$"), name="core_queuedtask_task_named"
            ),
        ]
        indexes = [
            models.Index(fields=["id"], name="core_queuedtask_waiting_idx", condition=Q(relayed_at__isnull=True)),
            models.Index(fields=["relayed_at"], name="core_queuedtask_relayed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.kwargs}"


class Heartbeat(models.Model):
    """When a worker last consumed a task of this name (Celery beat sends one every minute)."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    beat_at = models.DateTimeField(_("last beat at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class DataVersion(models.Model):
    """How often a customer's data has changed: every write to it adds one in the same transaction (core.versions).

    A plain id, no foreign key: a row is never deleted, so that a sum of versions only ever grows (a cached page
    keyed by it is never served again once anything under it changed)."""

    customer_id = models.BigIntegerField(_("customer id"), primary_key=True)
    version = models.BigIntegerField(_("version"), default=0)
    # When the version last moved (the API's Last-Modified); null for rows not bumped since the column came.
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.version}"


class SentEmail(models.Model):
    """An e-mail sent by a queued task, so that the same task run again (a retry, or the relay handing the same
    row over twice) does not send it again (core.emails.CountingBackend). No address, no content: only the key,
    "<the queued task's Celery id>:<the e-mail's number within that task>". Purged daily after KEEP days."""

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    sent_at = models.DateTimeField(_("sent at"), db_index=True)

    class Meta:
        verbose_name = _("sent e-mail")
        verbose_name_plural = _("sent e-mails")

    def __str__(self) -> str:
        return self.key
