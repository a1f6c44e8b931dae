"""Staff grant and revoke a manager's access in the admin, from the manager's request; every change audited."""

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AccessRole, CustomerAccess, ManagerRequest, ManagerRequestStatus, User
from core.models import AuditLogEntry
from tests.managers.world import PDF_BYTES

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_request(world):
    return ManagerRequest.objects.create(
        created_at=timezone.now(),
        company_name="Zarządca Nieruchomości Przemyśl sp. z o.o.",
        nip="5260250274",
        contact_name="Anna Zarządzająca",
        email="Biuro@Zarzadca.example.pl",
        properties="ul. Słoneczna 5\n500200",
    )


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff)
    return client


def grant_url(manager_request) -> str:
    return reverse("admin:accounts_managerrequest_grant", args=[manager_request.pk])


def test_staff_grant_all_points_of_two_customers_and_the_new_manager_is_emailed_once(
    staff_client, world, manager_request, django_capture_on_commit_callbacks
):
    numbers = f"{world.a.customer.number}\n{world.b.customer.number}\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(grant_url(manager_request), {"customer_numbers": numbers, "scope": "all"})

    assert response.status_code == 302
    manager = User.objects.get(email="biuro@zarzadca.example.pl")
    accesses = CustomerAccess.objects.filter(user=manager).order_by("customer__number")
    assert [(a.customer, a.role, a.all_points) for a in accesses] == [
        (world.a.customer, AccessRole.MANAGER, True),
        (world.b.customer, AccessRole.MANAGER, True),
    ]
    manager_request.refresh_from_db()
    assert manager_request.status == ManagerRequestStatus.HANDLED
    assert manager_request.handled_by == world.staff
    assert manager_request.user == manager
    granted = AuditLogEntry.objects.filter(action="accounts.manager_access_granted", actor=world.staff)
    assert sorted(entry.details["customer_number"] for entry in granted) == ["500100", "500200"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["biuro@zarzadca.example.pl"]
    assert "500100" in message.body and "500200" in message.body
    assert "/account/password/reset/key/" in message.body  # a new account sets its own password
    assert not manager.has_usable_password()


def test_staff_grant_a_chosen_delivery_point_only(staff_client, world, manager_request):
    point = world.a.points[1]

    staff_client.post(
        grant_url(manager_request),
        {"customer_numbers": world.a.customer.number, "scope": "some", "point_codes": point.code},
    )

    access = CustomerAccess.objects.get(user__email="biuro@zarzadca.example.pl")
    assert not access.all_points
    assert list(access.points.all()) == [point]
    entry = AuditLogEntry.objects.get(action="accounts.manager_access_granted")
    assert entry.details["point_codes"] == [point.code]
    assert entry.details["all_points"] is False


def test_a_point_of_another_customer_is_refused_and_nothing_is_granted(staff_client, world, manager_request):
    response = staff_client.post(
        grant_url(manager_request),
        {"customer_numbers": world.a.customer.number, "scope": "some", "point_codes": world.b.points[0].code},
    )

    assert response.status_code == 200
    assert "nie należą do żadnego z odbiorców powyżej" in response.content.decode()
    assert not CustomerAccess.objects.filter(role=AccessRole.MANAGER, user__email__iexact=manager_request.email)
    assert not AuditLogEntry.objects.filter(action="accounts.manager_access_granted").exists()


def test_an_unknown_customer_number_is_refused(staff_client, world, manager_request):
    response = staff_client.post(grant_url(manager_request), {"customer_numbers": "999999", "scope": "all"})

    assert "Nieznane numery odbiorców: 999999" in response.content.decode()
    assert not User.objects.filter(email__iexact=manager_request.email).exists()


def test_the_customer_s_own_login_is_not_turned_into_a_manager(world):
    with pytest.raises(services.ManagerGrantRefused):
        services.manager_access_grant(
            manager=world.a.owner,
            customer=world.a.customer,
            all_points=False,
            points=[world.a.points[0]],
            actor=world.staff,
            now=timezone.now(),
        )

    access = CustomerAccess.objects.get(user=world.a.owner)
    assert access.role == AccessRole.OWNER
    assert access.all_points


def test_changing_a_scope_is_audited_with_the_previous_one(world):
    services.manager_access_grant(
        manager=world.partial_manager,
        customer=world.a.customer,
        all_points=True,
        actor=world.staff,
        now=timezone.now(),
    )

    entry = AuditLogEntry.objects.get(action="accounts.manager_access_granted")
    assert entry.details["previous"] == {"all_points": False, "point_codes": [world.a.points[0].code]}
    assert CustomerAccess.objects.get(user=world.partial_manager).all_points


def test_staff_revoke_an_access_and_it_is_audited(staff_client, world, manager_request):
    manager_request.user = world.partial_manager
    manager_request.save()
    access = CustomerAccess.objects.get(user=world.partial_manager)

    response = staff_client.post(reverse("admin:accounts_managerrequest_revoke", args=[manager_request.pk, access.pk]))

    assert response.status_code == 302
    assert not CustomerAccess.objects.filter(pk=access.pk).exists()
    entry = AuditLogEntry.objects.get(action="accounts.manager_access_revoked")
    assert entry.actor == world.staff
    assert entry.details["customer_number"] == world.a.customer.number
    assert entry.details["point_codes"] == [world.a.points[0].code]


def test_the_customer_s_own_access_cannot_be_revoked_as_a_manager_s(world):
    owner_access = CustomerAccess.objects.get(user=world.a.owner)

    with pytest.raises(services.ManagerGrantRefused):
        services.manager_access_revoke(access=owner_access, actor=world.staff, now=timezone.now())

    assert CustomerAccess.objects.filter(pk=owner_access.pk).exists()


def test_deleting_an_access_in_the_access_admin_is_audited_too(staff_client, world):
    access = CustomerAccess.objects.get(user=world.full_manager)

    staff_client.post(reverse("admin:accounts_customeraccess_delete", args=[access.pk]), {"post": "yes"})

    assert not CustomerAccess.objects.filter(pk=access.pk).exists()
    entry = AuditLogEntry.objects.get(action="accounts.access_revoked")
    assert entry.details["user"] == world.full_manager.username


def test_the_access_e_mail_goes_out_once_however_often_the_task_runs(world):
    services.manager_access_grant(
        manager=world.full_manager, customer=world.b.customer, all_points=True, actor=world.staff, now=timezone.now()
    )
    CustomerAccess.objects.filter(user=world.full_manager).update(manager_notified_at=None)
    mail.outbox.clear()

    first = services.manager_access_email_deliver(
        user_id=world.full_manager.pk, base_url="https://ebok", now=timezone.now()
    )
    second = services.manager_access_email_deliver(
        user_id=world.full_manager.pk, base_url="https://ebok", now=timezone.now()
    )

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1
    assert "/account/password/reset/key/" not in mail.outbox[0].body  # an account with a password signs in


def test_staff_reject_a_request_and_it_is_audited(staff_client, world, manager_request):
    staff_client.post(
        reverse("admin:accounts_managerrequest_changelist"),
        {"action": "reject", "_selected_action": [manager_request.pk]},
    )

    manager_request.refresh_from_db()
    assert manager_request.status == ManagerRequestStatus.REJECTED
    assert AuditLogEntry.objects.filter(action="accounts.manager_request_rejected").exists()


def test_the_grant_page_is_for_staff_only(client, world, manager_request):
    client.force_login(world.full_manager)

    response = client.get(grant_url(manager_request))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_grant_page_lists_the_manager_s_current_access(staff_client, world, manager_request):
    manager_request.user = world.partial_manager
    manager_request.save()

    response = staff_client.get(grant_url(manager_request))

    html = response.content.decode()
    assert response.status_code == 200
    assert world.a.customer.number in html
    assert world.a.points[0].code in html
    assert world.a.points[1].code not in html


def test_staff_open_a_request_in_the_admin_with_its_document(staff_client, manager_request):
    manager_request.document.save("upowaznienie.pdf", ContentFile(PDF_BYTES), save=True)

    change = staff_client.get(reverse("admin:accounts_managerrequest_change", args=[manager_request.pk]))
    document = staff_client.get(reverse("admin:accounts_managerrequest_document", args=[manager_request.pk]))

    assert change.status_code == 200
    assert reverse("admin:accounts_managerrequest_grant", args=[manager_request.pk]) in change.content.decode()
    assert document["Content-Type"] == "application/pdf"
    assert b"".join(document.streaming_content) == PDF_BYTES


def test_a_manager_cannot_open_the_request_s_document(client, world, manager_request):
    client.force_login(world.full_manager)

    response = client.get(reverse("admin:accounts_managerrequest_document", args=[manager_request.pk]))

    assert response.status_code == 302
