from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts import selectors, setup
from accounts import services as account_services
from accounts.models import Customer, CustomerKind, User
from billing import services
from billing.models import Invoice
from demo import batch as demo
from demo import documents as demo_documents

DEMO_PASSWORD = "Demo1234"  # noqa: S105 - printed for the local demo only


class Command(BaseCommand):
    help = "Generate a demo billing batch, load it, and create a demo customer login (local demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--years", type=int, default=3)

    def handle(self, *args, customers: int, seed: int, years: int, **options):
        folder = Path(settings.VAR_DIR) / "demo-batch"
        today = timezone.localdate()
        counts = demo.write_demo_batch(folder, customers=customers, seed=seed, years=years, today=today)
        self.stdout.write(f"Demo billing batch written to {folder}: {sum(counts.values())} records.")
        run = services.batch_import(folder=folder, clock=timezone.now, source="demo")
        self.stdout.write(f"Imported: {run.total('created')} created, {run.total('rejected')} rejected.")
        terms = demo_documents.load_terms()
        customer = self.pick_demo_customer()
        count = demo_documents.load_documents(customer=customer)
        self.stdout.write(f"Documents: the terms in {len(demo_documents.TERMS_VERSIONS)} versions, {count} PDFs.")
        with transaction.atomic():
            user, _ = User.objects.get_or_create(
                username=customer.number,
                defaults={"email": f"demo+{customer.number}@example.pl", "first_name": customer.name.split()[0]},
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
            setup.owner_access_ensure(user=user, customer=customer, now=timezone.now())
            if not selectors.terms_accepted(user=user, terms=terms):
                account_services.terms_accept(user=user, terms=terms, now=timezone.now(), ip_address=None)
            staff, _ = User.objects.get_or_create(
                username="bok", defaults={"email": "bok@example.pl", "first_name": "Biuro", "is_staff": True}
            )
            staff.is_staff = staff.is_superuser = True
            staff.set_password(DEMO_PASSWORD)
            staff.save()
            EmailAddress.objects.update_or_create(
                user=staff, email=staff.email, defaults={"verified": True, "primary": True}
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: customer number {customer.number} ({customer.name}), password {DEMO_PASSWORD}"
            )
        )
        self.stdout.write(
            f"Office staff (admin at /admin/, a second factor is set up at the first sign-in): bok / {DEMO_PASSWORD}"
        )

    @staticmethod
    def pick_demo_customer() -> Customer:
        """A household customer with something to pay, so the demo has a story to tell."""
        owing = Invoice.objects.filter(customer=OuterRef("pk"), outstanding__gt=0)
        candidates = Customer.objects.filter(kind=CustomerKind.PERSON).order_by("number", "id")
        return candidates.filter(Exists(owing)).first() or candidates.first() or Customer.objects.order_by("id").first()
