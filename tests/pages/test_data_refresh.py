"""The customer's "refresh data" button queues a sync of their customers, at most every few minutes."""

import pytest
from django.urls import reverse

from billing.models import SyncRun
from tests.billing.test_importer import base_batch, write_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def drop_with_a_batch(settings, tmp_path):
    settings.IBOK_BILLING_SOURCE = "files"
    settings.IBOK_BILLING_DROP_DIR = tmp_path
    write_batch(tmp_path / "b1", base_batch())


def test_refreshing_syncs_the_customer_and_a_second_click_is_throttled(
    client, customer_user, drop_with_a_batch, django_capture_on_commit_callbacks
):
    client.force_login(customer_user)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("pages:data-refresh"), follow=True)
        second = client.post(reverse("pages:data-refresh"), follow=True)

    assert SyncRun.objects.count() == 1  # tasks run eagerly in tests: the first click loaded the batch
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    assert [m.level_tag for m in second.context["messages"]] == ["info"]


def test_refreshing_needs_a_login_and_a_post(client):
    assert client.post(reverse("pages:data-refresh"))["Location"].startswith(reverse("account_login"))
    assert client.get(reverse("pages:data-refresh")).status_code in (302, 405)
