"""PgBouncer in transaction mode, a real one from Debian's packages on a port of the test's own: with
DATABASE_POOLER=transaction the portal's queries and cursors work through it; without, they break (so the
test can fail)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pgbouncer():
    assert Path(PGBOUNCER).exists(), "PgBouncer is missing: scripts/test installs Debian's pgbouncer package"
    database = connection.settings_dict
    port = free_port()
    # Not under pytest's tmp_path, which only root may enter: PgBouncer reads its files as the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="ibok-pgbouncer-"))
    folder.chmod(0o755)
    (folder / "users.txt").write_text(f'"{database["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={database['HOST']} port={database['PORT']}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 50\n"
        # psycopg sends these at connection time; PgBouncer passes only the parameters it knows.
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    for path in [folder, *folder.iterdir()]:
        os.chown(path, *_postgres_ids())
    log = (folder / "pgbouncer.log").open("w")
    # PgBouncer will not run as root: -u switches to the postgres user, as Debian's service does.
    process = subprocess.Popen([PGBOUNCER, "-u", "postgres", str(folder / "pgbouncer.ini")], stderr=log, stdout=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("PgBouncer did not start: " + (folder / "pgbouncer.log").read_text(errors="replace"))
    yield f"postgres://{database['USER']}@127.0.0.1:{port}/{database['NAME']}"
    process.terminate()
    process.wait(timeout=10)
    log.close()
    shutil.rmtree(folder, ignore_errors=True)


def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


def probe(database_url: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "core" / "pooler_probe.py")],
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    return (result.stdout + result.stderr).strip().splitlines()[-1]


def test_through_a_transaction_pooler_with_the_setting_queries_and_cursors_work(pgbouncer):
    assert probe(pgbouncer, DATABASE_POOLER="transaction") == "ok"


def test_through_a_transaction_pooler_without_the_setting_they_break(pgbouncer):
    outcome = probe(pgbouncer, DATABASE_POOLER="")

    assert outcome.startswith("failed:")
    assert "does not exist" in outcome  # a prepared statement or a cursor left on another server connection


def test_the_sync_refuses_to_run_through_a_transaction_pooler(settings):
    from django.core.exceptions import ImproperlyConfigured

    from billing.sync.lock import sync_lock

    settings.DATABASE_POOLER = "transaction"
    with pytest.raises(ImproperlyConfigured, match="direct"), sync_lock():
        pass
