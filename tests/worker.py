"""A real Celery worker for tests: `celery -A ibok worker` in a child process, against the test database.

Shared by the worker tests (tests/billing/test_sync_worker.py, tests/einvoice/test_worker.py). A worker given
IBOK_CELERY_QUEUE in its environment also sends the tasks it queues itself to that queue (ibok/test_settings.py).
"""

import contextlib
import email
import os
import signal
import subprocess
import sys
import time
from email.message import Message
from pathlib import Path

from ibok.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """`celery -A ibok worker` in a child process, on its own queue, against the test database."""

    def __init__(self, queue: str, env: dict[str, str], *, beat_schedule: Path | None = None):
        self.queue = queue
        self.env = env
        self.beat_schedule = beat_schedule  # given: Celery beat runs inside the worker, keeping its state there
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        beat = ["--beat", "--schedule", str(self.beat_schedule)] if self.beat_schedule else []
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "ibok", "worker", "--pool", "solo", "--queues", self.queue,
                "--hostname", f"{self.queue}@%h", "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
                *beat,
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=bool(self.beat_schedule),  # a group of its own: stop() also ends the beat it started
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the Celery worker exited while starting")
            replies = celery_app.control.ping(destination=[f"{self.queue}@{os.uname().nodename}"], timeout=0.5)
            if replies:
                return self
        raise RuntimeError("the Celery worker did not answer within 60 s")

    def kill(self) -> None:
        """As a machine or an OOM killer would: no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process and self.beat_schedule:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # an embedded beat left behind


def wait_for(condition, *, seconds: float = 120, every: float = 0.05, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def sent_messages(mailbox: Path) -> list[Message]:
    """Every e-mail a worker wrote (the file backend puts one or more messages in a .log file per connection)."""
    messages = []
    for path in sorted(mailbox.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.strip() + b"\n"))
    return messages
