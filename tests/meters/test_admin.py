"""Staff reject a pending self-reading in the admin; the customer may then send another."""

from datetime import date

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from core.models import AuditLogEntry
from meters.models import Reading, ReadingStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_staff_reject_pending_self_readings_and_leave_confirmed_ones(client, meter):
    staff = factories.UserFactory(username="bok", is_staff=True, is_superuser=True)
    # Staff reach the admin only with a second factor set up.
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    pending = factories.ReadingFactory(
        meter=meter,
        external_id=None,
        portal_reference="SR-1",
        status=ReadingStatus.PENDING,
        read_date=date(2026, 11, 25),
    )
    confirmed = factories.ReadingFactory(meter=meter)
    client.force_login(staff)

    response = client.post(
        reverse("admin:meters_reading_changelist"),
        {"action": "reject_pending", "_selected_action": [pending.pk, confirmed.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert Reading.objects.get(pk=pending.pk).status == ReadingStatus.REJECTED
    assert Reading.objects.get(pk=confirmed.pk).status == ReadingStatus.CONFIRMED
    assert AuditLogEntry.objects.filter(action="meters.self_reading_rejected", actor=staff).count() == 1
