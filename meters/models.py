from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import DeliveryPoint
from core.models import SyncedModel


class MeterKind(models.TextChoices):
    MAIN = "MAIN", _("Main meter")
    SUB = "SUB", _("Submeter")


class Medium(models.TextChoices):
    COLD_WATER = "COLD_WATER", _("Cold water")
    HOT_WATER = "HOT_WATER", _("Hot water")
    HEAT = "HEAT", _("Heat")


class Meter(SyncedModel):
    """A licznik: water meter (wodomierz) or heat meter (ciepłomierz)."""

    delivery_point = models.ForeignKey(
        DeliveryPoint, verbose_name=_("delivery point"), on_delete=models.CASCADE, related_name="meters"
    )
    serial_number = models.CharField(_("serial number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=4, choices=MeterKind)
    medium = models.CharField(_("medium"), max_length=12, choices=Medium)
    unit = models.CharField(_("unit"), max_length=8)
    installed_date = models.DateField(_("installed"))
    removed_date = models.DateField(_("removed"), null=True, blank=True)
    legalization_valid_until = models.DateField(_("legalization valid until"))

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MeterKind.values), name="meters_meter_kind_valid"),
            models.CheckConstraint(condition=Q(medium__in=Medium.values), name="meters_meter_medium_valid"),
            models.CheckConstraint(
                condition=Q(removed_date__isnull=True) | Q(removed_date__gte=models.F("installed_date")),
                name="meters_meter_removed_after_installed",
            ),
        ]
        indexes = [models.Index(fields=["serial_number"], name="meters_meter_serial_idx")]

    def __str__(self) -> str:
        return f"{self.serial_number} ({self.get_kind_display()})"

    @property
    def is_active(self) -> bool:
        return self.removed_date is None


class ReadingSource(models.TextChoices):
    COLLECTOR = "COLLECTOR", _("Collector")
    SELF = "SELF", _("Self-reading")
    REMOTE = "REMOTE", _("Remote")
    ESTIMATE = "ESTIMATE", _("Estimate")
    SMS = "SMS", _("Self-reading by SMS")


class PhotoCheck(models.TextChoices):
    """What the photo's own date (EXIF DateTimeOriginal) says about a self-reading; the office checks the flagged."""

    OK = "OK", _("Photo taken at the time of the reading")
    NO_DATE = "NO_DATE", _("Photo without a date")
    TOO_OLD = "TOO_OLD", _("Photo taken long before the reading")
    FUTURE = "FUTURE", _("Photo dated in the future")


class ReadingStatus(models.TextChoices):
    CONFIRMED = "CONFIRMED", _("Confirmed")
    PENDING = "PENDING", _("Pending")
    REJECTED = "REJECTED", _("Rejected")


class Reading(models.Model):
    """An odczyt. From the billing system (external_id set) or a customer's pending self-reading."""

    external_id = models.CharField(_("billing system id"), max_length=64, unique=True, null=True, blank=True)
    source_updated_at = models.DateTimeField(_("changed in billing system at"), null=True, blank=True)
    meter = models.ForeignKey(Meter, verbose_name=_("meter"), on_delete=models.CASCADE, related_name="readings")
    read_date = models.DateField(_("reading date"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=3)
    # Heating degree-days since the meter's previous reading, when the billing system sends them (heat meters):
    # the leak and jump check then compares use per degree-day, so a cold winter is not a jump.
    degree_days = models.DecimalField(_("degree-days"), max_digits=7, decimal_places=1, null=True, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=ReadingSource)
    status = models.CharField(_("status"), max_length=12, choices=ReadingStatus, db_default=ReadingStatus.CONFIRMED)
    # Set on a portal self-reading; the billing system echoes it on the reading that confirms it.
    portal_reference = models.CharField(_("portal reference"), max_length=64, blank=True, db_default="")
    photo = models.FileField(_("photo"), upload_to="readings/%Y/%m/", blank=True, db_default="")
    # When the camera says the photo was taken (EXIF DateTimeOriginal) and what that means for the reading.
    photo_taken_at = models.DateTimeField(_("photo taken at"), null=True, blank=True)
    photo_check = models.CharField(_("photo check"), max_length=8, choices=PhotoCheck, blank=True, db_default="")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="meters_reading_value_non_negative"),
            models.CheckConstraint(condition=Q(source__in=ReadingSource.values), name="meters_reading_source_valid"),
            models.CheckConstraint(condition=Q(status__in=ReadingStatus.values), name="meters_reading_status_valid"),
            models.CheckConstraint(
                condition=Q(photo_check="") | Q(photo_check__in=PhotoCheck.values),
                name="meters_reading_photo_check_valid",
            ),
            # A customer waits for the billing system before giving the next reading of the same meter.
            models.UniqueConstraint(
                fields=["meter"], condition=Q(status=ReadingStatus.PENDING), name="meters_reading_one_pending_per_meter"
            ),
            # Portal rows (no billing system id yet) carry unique references; the confirming synced row repeats one.
            models.UniqueConstraint(
                fields=["portal_reference"],
                condition=Q(external_id__isnull=True) & ~Q(portal_reference=""),
                name="meters_reading_portal_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(external_id__isnull=False) | ~Q(portal_reference=""),
                name="meters_reading_portal_row_has_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["meter", "read_date"], name="meters_reading_meter_date_idx"),
            models.Index(
                fields=["portal_reference"], condition=~Q(portal_reference=""), name="meters_reading_portal_ref_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.read_date} {self.value}"

    @property
    def is_pending(self) -> bool:
        return self.status == ReadingStatus.PENDING

    @property
    def is_rejected(self) -> bool:
        return self.status == ReadingStatus.REJECTED

    @property
    def photo_is_flagged(self) -> bool:
        """The photo's date does not fit the reading: the office looks at it before trusting the value."""
        return self.photo_check in (PhotoCheck.TOO_OLD, PhotoCheck.FUTURE)
