import time
from pathlib import Path

from django.core.management.base import BaseCommand

from demo.server import DemoBillingSystem, serve


class Command(BaseCommand):
    help = "Serve demo batch folders over the billing HTTP pull API and take outbox messages (demo and tests)."

    def add_arguments(self, parser):
        parser.add_argument("folders", nargs="+", type=Path)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--token", default="demo-token")
        parser.add_argument("--secret", default="", help="the outbox signature's shared secret (IBOK_OUTBOX_SECRET)")

    def handle(self, *args, folders: list[Path], port: int, token: str, secret: str, **options):
        system = DemoBillingSystem(token=token, secret=secret)
        for folder in folders:
            system.add_batch(folder)
        server = serve(system, port=port)
        self.stdout.write(f"Demo billing system on http://127.0.0.1:{server.server_port}/v1/ (token {token})")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.shutdown()
