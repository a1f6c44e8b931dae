"""A Redis server of the test's own, on a port of its own, that a test stops and starts (the broker going away)."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`redis-server` in a child process: no persistence, so a restart comes back empty, as a lost broker does."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        assert not self.answers()


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """This process's Celery sends to the broker at `url` (not in-process) until the block ends."""
    from django.conf import settings

    from ibok.celery import app

    def forget_connections() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    saved = (app.conf.broker_url, app.conf.task_always_eager, settings.CELERY_TASK_ALWAYS_EAGER)
    forget_connections()
    app.conf.broker_url, app.conf.task_always_eager = url, False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield
    finally:
        forget_connections()
        app.conf.broker_url, app.conf.task_always_eager, settings.CELERY_TASK_ALWAYS_EAGER = saved
