"""A customer gives a reading with a photo of the meter taken days ago: the reading is sent, and the page says
politely that the office will look at the photo; axe (WCAG 2.1 AA) finds nothing, the CSP is never violated."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from meters.models import PhotoCheck, Reading, ReadingStatus
from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login, screenshot
from tests.browser.test_meters import household  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def photo_taken(days_ago: int) -> bytes:
    exif = Image.Exif()
    taken = timezone.localtime() - timedelta(days=days_ago)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = f"{taken:%Y:%m:%d %H:%M:%S}"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_customer_sends_a_reading_with_an_old_photo_and_is_told_the_office_will_check(
    page,
    live_server,
    household,  # noqa: F811
):
    login(page, live_server, "204518", factories.PASSWORD)
    page.goto(live_server.url + reverse("meters:reading-create", args=[household.meter.pk]))
    assert "zrobione dzisiaj" in page.locator("main").inner_text()
    assert_no_axe_violations(page)

    page.get_by_label("Stan licznika").fill(f"{household.last_value + Decimal('2.5')}".replace(".", ","))
    page.get_by_label(re.compile("Zdjęcie licznika")).set_input_files(
        {"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": photo_taken(days_ago=9)}
    )
    page.get_by_role("button", name="Wyślij odczyt").click()

    page.wait_for_url(live_server.url + reverse("meters:meter", args=[household.meter.pk]))
    main = page.locator("main").inner_text()
    assert "oczekuje na potwierdzenie" in main
    assert "Wygląda na to, że zdjęcie zrobiono" in main
    assert "pracownik biura obejrzy je" in main
    reading = Reading.objects.get(status=ReadingStatus.PENDING)
    assert reading.photo_check == PhotoCheck.TOO_OLD
    screenshot(page, "reading-photo-flagged")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
