from django.core.management.base import BaseCommand
from django.utils import timezone

from billing import services


class Command(BaseCommand):
    help = (
        "Delete the invoices and payments of deleted accounts whose legal keeping period has ended (also run daily "
        "by beat; the Kubernetes CronJob runs this command). Safe to run twice."
    )

    def handle(self, *args, **options):
        counts = services.tax_records_purge(today=timezone.localdate())
        self.stdout.write(", ".join(f"{name}: {count} deleted" for name, count in counts.items()))
