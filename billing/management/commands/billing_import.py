from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing import services
from billing.sync.contract import BatchRefused


class Command(BaseCommand):
    help = "Load billing batch folders (docs/billing-sync.md) with bulk upserts; safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("folders", nargs="+", type=Path)

    def handle(self, *args, folders: list[Path], **options):
        for folder in folders:
            try:
                run = services.batch_import(folder=folder, clock=timezone.now)
            except BatchRefused as exc:
                raise CommandError(str(exc)) from exc
            seconds = (run.finished_at - run.started_at).total_seconds()
            self.stdout.write(f"{folder}: {run.get_status_display()} in {seconds:.1f} s")
            for entity, counts in run.counts.items():
                self.stdout.write(
                    f"  {entity:16} read {counts['read']:>8}  created {counts['created']:>8}  "
                    f"updated {counts['updated']:>8}  unchanged {counts['unchanged']:>8}  "
                    f"deleted {counts['deleted']:>6}  rejected {counts['rejected']:>6}"
                )
            for error in run.errors[:20]:
                self.stderr.write(f"  rejected {error['file']} line {error['line']}: {error['error']}")
