"""The README's first command: the demo on the embedded SQLite default, with tasks in-process."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_loads_into_sqlite_without_rejects_and_prints_a_login(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_DEBUG": "1",
        "IBOK_VAR_DIR": str(tmp_path),
        "IBOK_RECAPTCHA_ENABLED": "0",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )

    migrate = manage("migrate", "--no-input", "-v0")
    first = manage("demo_setup", "--customers", "25")
    second = manage("demo_setup", "--customers", "25")

    assert migrate.returncode == 0, migrate.stderr
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "ibok.sqlite3").exists()
    assert ", 0 rejected." in first.stdout
    assert "Demo login: customer number" in first.stdout
    assert "Imported: 0 created, 0 rejected." in second.stdout  # loading the same demo again changes nothing
