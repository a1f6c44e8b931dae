"""Staff see the sync's health in the admin and can queue a sync."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from billing.models import SyncRun, SyncStatus
from core.models import AuditLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = factories.UserFactory(username="bok-admin", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(staff)
    return client


def test_a_failed_sync_shows_an_alarm_on_the_admin_index(staff_client):
    now = timezone.now()
    SyncRun.objects.create(
        started_at=now, finished_at=now, source="http", status=SyncStatus.FAILED, errors=[{"error": "HTTP 500"}]
    )

    response = staff_client.get(reverse("admin:index"))

    assert "HTTP 500" in response.content.decode()


def test_a_recent_successful_sync_shows_no_alarm(staff_client):
    now = timezone.now()
    SyncRun.objects.create(
        started_at=now - timedelta(minutes=5), finished_at=now, source="http", status=SyncStatus.SUCCEEDED
    )

    response = staff_client.get(reverse("admin:billing_syncrun_changelist"))

    assert response.status_code == 200
    assert 'class="error"' not in response.content.decode()


def test_staff_queue_a_sync_of_one_customer_and_it_is_audited(staff_client, customer, settings, tmp_path):
    settings.IBOK_BILLING_SOURCE = "files"
    settings.IBOK_BILLING_DROP_DIR = tmp_path  # empty: the sync runs (eagerly here) and finds nothing new

    response = staff_client.post(reverse("admin:billing_syncrun_sync"), {"customer_number": customer.number})

    assert response.status_code == 302
    assert AuditLogEntry.objects.get().action == "billing.customer_sync_requested"


def test_an_unknown_customer_number_is_refused_with_a_message(staff_client):
    response = staff_client.post(reverse("admin:billing_syncrun_sync"), {"customer_number": "0000000"}, follow=True)

    assert "0000000" in response.content.decode()
    assert not AuditLogEntry.objects.exists()


def test_customers_cannot_queue_a_sync(client, customer_user):
    client.force_login(customer_user)

    response = client.post(reverse("admin:billing_syncrun_sync"), {"customer_number": ""})

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"] or "login" in response["Location"]
    assert not AuditLogEntry.objects.exists()
