from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from ibok.core.models import SyncedModel


class User(AbstractUser):
    """A person who logs in: a customer, a property manager or office staff."""

    phone = PhoneNumberField(_("phone"), blank=True, region="PL")
    language = models.CharField(_("language"), max_length=8, default="pl")

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")


class CustomerKind(models.TextChoices):
    PERSON = "PERSON", _("Person")
    COMPANY = "COMPANY", _("Company or institution")
    HOUSING_COMMUNITY = "HOUSING_COMMUNITY", _("Housing community or cooperative")


class Service(models.TextChoices):
    WATER = "WATER", _("Water and sewage")
    HEAT = "HEAT", _("District heating")


class Address(models.Model):
    street = models.CharField(_("street"), max_length=128)
    building = models.CharField(_("building number"), max_length=16)
    apartment = models.CharField(_("apartment number"), max_length=16, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6)
    city = models.CharField(_("city"), max_length=64)

    class Meta:
        abstract = True

    @property
    def address_line(self) -> str:
        number = f"{self.building}/{self.apartment}" if self.apartment else self.building
        return f"{self.street} {number}"

    @property
    def address(self) -> str:
        return f"{self.address_line}, {self.postal_code} {self.city}"


class Customer(SyncedModel, Address):
    """A buyer (odbiorca / nabywca) in the billing system; its number is the portal login."""

    number = models.CharField(_("customer number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=CustomerKind)
    name = models.CharField(_("name"), max_length=200)
    nip = models.CharField("NIP", max_length=10, blank=True)
    pesel = models.CharField("PESEL", max_length=11, blank=True)
    email = models.EmailField(_("e-mail in billing system"), blank=True)
    phone = models.CharField(_("phone in billing system"), max_length=32, blank=True)
    bank_account = models.CharField(_("individual bank account"), max_length=26, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CustomerKind.values), name="accounts_customer_kind_valid"),
            models.CheckConstraint(
                condition=Q(bank_account="") | Q(bank_account__regex=r"^[0-9]{26}$"),
                name="accounts_customer_bank_account_26_digits",
            ),
        ]
        indexes = [models.Index(fields=["name"], name="accounts_customer_name_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def bank_account_display(self) -> str:
        acc = self.bank_account
        return f"{acc[:2]} {' '.join(acc[i : i + 4] for i in range(2, 26, 4))}" if acc else ""


class ContractKind(models.TextChoices):
    WATER_SEWAGE = "WATER_SEWAGE", _("Water supply and sewage disposal")
    WATER = "WATER", _("Water supply")
    SEWAGE = "SEWAGE", _("Sewage disposal")
    HEAT = "HEAT", _("Heat sale and distribution")


class Contract(SyncedModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contracts"
    )
    number = models.CharField(_("contract number"), max_length=32, unique=True)
    kind = models.CharField(_("contract type"), max_length=16, choices=ContractKind)
    signed_date = models.DateField(_("contract date"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("fixed-term end"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ContractKind.values), name="accounts_contract_kind_valid"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="accounts_contract_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_fixed_term(self) -> bool:
        return self.valid_until is not None


class DeliveryPoint(SyncedModel, Address):
    """A punkt odbioru: where water, sewage or heat is delivered and measured."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="delivery_points"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="delivery_points"
    )
    code = models.CharField(_("delivery point number"), max_length=32, unique=True)
    service = models.CharField(_("service"), max_length=8, choices=Service)
    tariff_group = models.CharField(_("tariff group"), max_length=32)

    class Meta:
        verbose_name = _("delivery point")
        verbose_name_plural = _("delivery points")
        constraints = [
            models.CheckConstraint(
                condition=Q(service__in=Service.values), name="accounts_deliverypoint_service_valid"
            ),
        ]
        indexes = [models.Index(fields=["city", "street"], name="accounts_dp_street_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.address_line}"


class AccessRole(models.TextChoices):
    OWNER = "OWNER", _("Customer")
    MANAGER = "MANAGER", _("Property manager")


class CustomerAccess(models.Model):
    """A user's right to act for a customer: as the customer, or as a manager of all or some points."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="customer_accesses")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="accesses"
    )
    role = models.CharField(_("role"), max_length=8, choices=AccessRole, default=AccessRole.OWNER)
    all_points = models.BooleanField(_("all delivery points"), default=True)
    points = models.ManyToManyField(DeliveryPoint, verbose_name=_("granted delivery points"), blank=True)
    granted_at = models.DateTimeField(_("granted at"))

    class Meta:
        verbose_name = _("customer access")
        verbose_name_plural = _("customer accesses")
        constraints = [
            models.UniqueConstraint(fields=["user", "customer"], name="accounts_customeraccess_once_per_user"),
            models.CheckConstraint(condition=Q(role__in=AccessRole.values), name="accounts_customeraccess_role_valid"),
            models.CheckConstraint(
                condition=Q(role=AccessRole.MANAGER) | Q(all_points=True),
                name="accounts_customeraccess_owner_all_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.customer_id} ({self.role})"

    @property
    def is_partial(self) -> bool:
        return not self.all_points
