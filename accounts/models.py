import hashlib

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from core.models import SyncedModel


class User(AbstractUser):
    """A person who logs in: a customer, a property manager or office staff."""

    phone = PhoneNumberField(_("phone"), blank=True, region="PL")
    language = models.CharField(_("language"), max_length=8, default="pl")
    # The dashboard offers a passkey until the user adds one or closes the offer (no query: read with the user).
    passkey_prompt_closed_at = models.DateTimeField(_("passkey offer closed at"), null=True, blank=True)

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
        indexes = [
            models.Index(fields=["name"], name="accounts_customer_name_idx"),
            # The office's search (accounts.search): a number typed in any case, a NIP, and words inside the name,
            # the street and the e-mail (pg_trgm trigrams, upper-cased as Django's icontains compares).
            models.Index(Upper("number"), name="accounts_cust_number_upper_idx"),
            models.Index(fields=["nip"], name="accounts_customer_nip_idx"),
            models.Index(fields=["city"], name="accounts_customer_city_idx"),  # the list's city filter
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="accounts_cust_name_trgm_idx"),
            GinIndex(OpClass(Upper("street"), name="gin_trgm_ops"), name="accounts_cust_street_trgm_idx"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="accounts_cust_email_trgm_idx"),
        ]

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
    # A manager is e-mailed about new or changed access once: the e-mail task claims rows where this is empty.
    manager_notified_at = models.DateTimeField(_("manager told at"), null=True, blank=True)

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
            # A customer number is registered once: its owner's login; managers are granted separately.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(role=AccessRole.OWNER),
                name="accounts_customeraccess_one_owner_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.customer_id} ({self.role})"

    @property
    def is_partial(self) -> bool:
        return not self.all_points


class TermsVersion(models.Model):
    """A version of the portal's terms (regulamin); the newest published one is the one in force.

    The Polish text is binding; the English and Ukrainian ones are translations shown to readers of those
    languages (the Polish one when a translation is empty). A change is a new version, never an edit of one
    already in force: customers accepted that text.
    """

    version = models.CharField(_("version"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    title_en = models.CharField(_("title in English"), max_length=200, blank=True, db_default="")
    body_en = models.TextField(_("text in English"), blank=True, db_default="")
    title_uk = models.CharField(_("title in Ukrainian"), max_length=200, blank=True, db_default="")
    body_uk = models.TextField(_("text in Ukrainian"), blank=True, db_default="")
    published_at = models.DateTimeField(_("in force from"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("terms version")
        verbose_name_plural = _("terms versions")

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def translated(self, language: str) -> tuple[str, str, str]:
        """(title, text, language of the text) for a reader of `language`: its translation, else the Polish."""
        code = (language or "pl").split("-")[0]
        title, body = getattr(self, f"title_{code}", ""), getattr(self, f"body_{code}", "")
        if code != "pl" and title and body:
            return title, body, code
        return self.title, self.body, "pl"

    @property
    def text_sha256(self) -> str:
        """The fingerprint of the text as published, kept with every acceptance (a later edit would not match)."""
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


class ConsentKind(models.TextChoices):
    TERMS = "TERMS", _("Acceptance of the terms")
    DATA_PROCESSING = "DATA_PROCESSING", _("Consent to data processing")
    EINVOICE = "EINVOICE", _("Consent to e-invoices")


class Consent(models.Model):
    """One consent given (or withdrawn) by a user, with the terms version in force, the moment and the address."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("consent"), max_length=16, choices=ConsentKind)
    given = models.BooleanField(_("given"), default=True)
    terms_version = models.ForeignKey(
        TermsVersion, verbose_name=_("terms version"), null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # What exactly was accepted and from which browser: the SHA-256 of the terms' text and the User-Agent header.
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ConsentKind.values), name="accounts_consent_kind_valid"),
        ]
        indexes = [models.Index(fields=["user", "kind", "-recorded_at"], name="accounts_consent_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.recorded_at:%Y-%m-%d %H:%M}"


class RegistrationStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting for the e-mail link")
    COMPLETED = "COMPLETED", _("Account activated")
    REJECTED = "REJECTED", _("Details did not match")
    ALREADY_REGISTERED = "ALREADY_REGISTERED", _("Customer already registered")
    EMAIL_TAKEN = "EMAIL_TAKEN", _("E-mail already has an account")


class Registration(models.Model):
    """Every registration attempt, kept whatever its outcome: the pending ones wait for their e-mail link."""

    created_at = models.DateTimeField(_("created at"), db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="pl")
    customer_number = models.CharField(_("customer number given"), max_length=32, db_index=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    phone = PhoneNumberField(_("phone"), blank=True, region="PL")
    terms_version = models.ForeignKey(
        TermsVersion, verbose_name=_("terms version accepted"), null=True, blank=True, on_delete=models.PROTECT
    )
    einvoice_requested = models.BooleanField(_("e-invoices requested"), default=False)
    status = models.CharField(_("status"), max_length=24, choices=RegistrationStatus)
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="registrations"
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Claims, so that a task run twice sends each e-mail once.
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)
    activation_sent_at = models.DateTimeField(_("activation e-mail sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RegistrationStatus.values), name="accounts_registration_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=RegistrationStatus.COMPLETED)
                | Q(user__isnull=False, completed_at__isnull=False, customer__isnull=False),
                name="accounts_registration_completed_has_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.email} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == RegistrationStatus.PENDING


class LoginEvent(models.Model):
    """A sign-in or a failed attempt, for the user's own history and for staff helping a locked-out customer."""

    occurred_at = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="login_events"
    )
    identifier = models.CharField(_("login given"), max_length=254, blank=True)
    succeeded = models.BooleanField(_("succeeded"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login history")
        indexes = [models.Index(fields=["user", "-occurred_at"], name="accounts_loginevent_user_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.identifier} {'ok' if self.succeeded else 'failed'}"


class ContactChange(models.Model):
    """A change of contact data (address for letters, phone) the user asked for; sent to billing via the outbox."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="contact_changes")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contact_changes"
    )
    requested_at = models.DateTimeField(_("requested at"))
    street = models.CharField(_("street"), max_length=128)
    building = models.CharField(_("building number"), max_length=16)
    apartment = models.CharField(_("apartment number"), max_length=16, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6)
    city = models.CharField(_("city"), max_length=64)
    phone = PhoneNumberField(_("phone"), blank=True, region="PL")

    class Meta:
        verbose_name = _("contact data change")
        verbose_name_plural = _("contact data changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(postal_code__regex=r"^[0-9]{2}-[0-9]{3}$"), name="accounts_contactchange_postal_code_valid"
            ),
        ]
        indexes = [models.Index(fields=["customer", "-requested_at"], name="accounts_contact_cust_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def address(self) -> str:
        number = f"{self.building}/{self.apartment}" if self.apartment else self.building
        return f"{self.street} {number}, {self.postal_code} {self.city}"


class DeletionRequestStatus(models.TextChoices):
    OPEN = "OPEN", _("Waiting for the office")
    DONE = "DONE", _("Account deleted")
    REJECTED = "REJECTED", _("Rejected")


class DeletionRequest(models.Model):
    """A user's request to delete their account; the office handles it (the billing data stays with the utility)."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, on_delete=models.SET_NULL, related_name="deletion_requests"
    )
    username = models.CharField(_("login"), max_length=150)
    requested_at = models.DateTimeField(_("requested at"))
    reason = models.TextField(_("reason"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeletionRequestStatus, default=DeletionRequestStatus.OPEN
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        User, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("account deletion request")
        verbose_name_plural = _("account deletion requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeletionRequestStatus.values), name="accounts_deletionrequest_status_valid"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status=DeletionRequestStatus.OPEN),
                name="accounts_deletionrequest_one_open_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.requested_at:%Y-%m-%d} ({self.status})"


class ManagerRequestStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting for the office")
    HANDLED = "HANDLED", _("Access granted")
    REJECTED = "REJECTED", _("Rejected")


class ManagerRequest(models.Model):
    """A property manager's request for access to the customers they manage (seed 003), handled by staff.

    Staff grant access per customer (all points or a chosen subset) from it in the admin; grants and
    revocations are CustomerAccess rows with role MANAGER, each recorded in the audit log.
    """

    created_at = models.DateTimeField(_("sent at"), db_index=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("manager's account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="manager_requests",
    )
    company_name = models.CharField(_("company name"), max_length=200)
    nip = models.CharField("NIP", max_length=10)
    contact_name = models.CharField(_("contact person"), max_length=120)
    email = models.EmailField(_("e-mail"))
    phone = PhoneNumberField(_("phone"), blank=True, region="PL")
    properties = models.TextField(_("managed properties (addresses or customer numbers)"))
    document = models.FileField(_("authorisation document (PDF)"), upload_to="manager-requests/%Y/%m/", blank=True)
    language = models.CharField(_("language"), max_length=8, default="pl")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ManagerRequestStatus, default=ManagerRequestStatus.PENDING
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        User, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_email_sent_at = models.DateTimeField(_("access e-mail sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("property manager's request")
        verbose_name_plural = _("property managers' requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ManagerRequestStatus.values), name="accounts_managerrequest_status_valid"
            ),
            models.CheckConstraint(condition=Q(nip__regex=r"^[0-9]{10}$"), name="accounts_managerrequest_nip_digits"),
            models.CheckConstraint(
                condition=Q(status=ManagerRequestStatus.PENDING) | Q(handled_at__isnull=False),
                name="accounts_managerrequest_handled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} (NIP {self.nip}) {self.created_at:%Y-%m-%d}"

    @property
    def is_pending(self) -> bool:
        return self.status == ManagerRequestStatus.PENDING

    @property
    def property_lines(self) -> list[str]:
        return [line.strip() for line in self.properties.splitlines() if line.strip()]
