"""The virus scan through a real ClamAV daemon (Debian's clamav-daemon), started here on its own socket.

This machine has no network, so freshclam cannot fetch ClamAV's signatures: the daemon loads a database of one
signature made here, the EICAR test file's own bytes (an .ndb body signature, matched anywhere in any file).
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import uploads
from core.models import SecurityEvent, SecurityEventKind
from core.security import identifier_hash
from tests.tickets.conftest import make_pdf
from tickets.models import Attachment, Case

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

pytestmark = pytest.mark.skipif(not Path(CLAMD).exists(), reason="clamav-daemon is not installed")


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory):
    """A real clamd on a socket of its own, with the EICAR signature; stopped (by its own process) afterwards."""
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    (folder / "db" / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
    sock = folder / "clamd.sock"
    (folder / "clamd.conf").write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {folder / 'db'}\nForeground yes\nLogFile {folder / 'clamd.log'}\n"
    )
    process = subprocess.Popen([CLAMD, "-c", str(folder / "clamd.conf")], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(str(sock))
                    probe.sendall(b"zPING\0")
                    if probe.recv(16).startswith(b"PONG"):
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("clamd did not start: " + (folder / "clamd.log").read_text(errors="replace"))
        yield str(sock)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def scanning(settings, clamd_socket):
    settings.IBOK_CLAMAV_ENABLED = True
    settings.IBOK_CLAMAV_SOCKET = clamd_socket
    return settings


def infected_pdf() -> bytes:
    """A valid one-page PDF that carries the EICAR string in a comment: its content passes, the scan does not."""
    content = make_pdf(size=600)
    start = content.index(b"x" * len(EICAR))
    return content[:start] + EICAR + content[start + len(EICAR) :]


def test_the_eicar_file_is_found_by_the_real_scanner(scanning):
    with pytest.raises(uploads.VirusFound, match="Eicar-Test-Signature"):
        uploads.virus_scan(SimpleUploadedFile("eicar.com", EICAR))


def test_a_clean_file_passes_the_real_scanner(scanning):
    uploads.virus_scan(SimpleUploadedFile("skan.pdf", make_pdf()))  # raises nothing


@pytest.mark.django_db
def test_an_infected_attachment_is_refused_with_a_clear_message_and_logged(scanning, client, customer_user):
    client.force_login(customer_user)

    response = client.post(
        reverse("tickets:case-create"),
        {
            "case_type": "BILLING",
            "subject": "Faktura",
            "description": "W załączniku skan.",
            "attachments": [SimpleUploadedFile("skan.pdf", infected_pdf(), content_type="application/pdf")],
        },
        REMOTE_ADDR="198.51.100.7",
    )

    assert response.status_code == 200
    assert "zawiera wirusa (Eicar-Test-Signature" in response.content.decode()
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()
    event = SecurityEvent.objects.get()
    assert (event.kind, event.ip_address) == (SecurityEventKind.UPLOAD_REFUSED, "198.51.100.7")
    assert event.identifier_hash == identifier_hash(customer_user.username)


@pytest.mark.django_db
def test_a_scanner_that_does_not_answer_refuses_every_upload(settings, tmp_path, client, customer_user):
    dead = tmp_path / "clamd.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead))
    listener.close()  # the socket file is there; nobody listens on it
    settings.IBOK_CLAMAV_ENABLED = True
    settings.IBOK_CLAMAV_SOCKET = str(dead)
    client.force_login(customer_user)

    with pytest.raises(uploads.ScannerUnavailable):
        uploads.virus_scan(SimpleUploadedFile("skan.pdf", make_pdf()))
    response = client.post(
        reverse("tickets:case-create"),
        {
            "case_type": "BILLING",
            "subject": "Faktura",
            "description": "W załączniku skan.",
            "attachments": [SimpleUploadedFile("skan.pdf", make_pdf(), content_type="application/pdf")],
        },
    )

    assert "Nie można teraz sprawdzić plików na obecność wirusów" in response.content.decode()
    assert not Attachment.objects.exists()


def test_with_the_scan_off_nothing_is_sent_to_a_scanner(settings):
    settings.IBOK_CLAMAV_ENABLED = False
    settings.IBOK_CLAMAV_SOCKET = "/nonexistent/clamd.sock"

    uploads.virus_scan(SimpleUploadedFile("skan.pdf", infected_pdf()))  # raises nothing


@pytest.mark.django_db
def test_an_infected_meter_photo_is_refused_with_the_reading_and_logged(scanning, client, customer_user, tmp_path):
    import io
    from datetime import date

    import time_machine
    from PIL import Image

    from meters.models import Reading
    from tests import factories

    scanning.IBOK_READING_WINDOW_DAYS = "1-31"
    scanning.MEDIA_ROOT = tmp_path / "media"
    meter = factories.MeterFactory(delivery_point=customer_user.customer_accesses.get().customer.delivery_points.get())
    factories.ReadingFactory(meter=meter, read_date=date(2026, 10, 31), value=180)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="JPEG", comment=EICAR)  # a real picture carrying EICAR
    client.force_login(customer_user)

    with time_machine.travel("2026-11-25 10:00:00+01:00"):
        response = client.post(
            reverse("meters:reading-create", args=[meter.pk]),
            {"value": "185", "photo": SimpleUploadedFile("licznik.jpg", buffer.getvalue(), content_type="image/jpeg")},
            REMOTE_ADDR="198.51.100.8",
        )

    assert response.status_code == 200
    assert "zawiera wirusa (Eicar-Test-Signature" in response.content.decode()
    assert not Reading.objects.filter(meter=meter, external_id__isnull=True).exists()
    event = SecurityEvent.objects.get()
    assert (event.kind, event.ip_address) == (SecurityEventKind.UPLOAD_REFUSED, "198.51.100.8")
