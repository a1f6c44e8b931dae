"""Komunikaty: area targeting, the dashboard and the login page, and the push to affected customers, once."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessRole
from core.models import AuditLogEntry
from notices import services
from notices.models import Announcement, AnnouncementKind, AnnouncementTarget, Kind, Notification
from tests import factories
from tests.notices.conftest import login_user_for, switch_on

pytestmark = pytest.mark.django_db


def household(number: str, street: str, city: str = "Przemyśl", building: str = "1"):
    """A customer with one delivery point at the address, and their login, opted in to outage e-mails."""
    point = factories.DeliveryPointFactory(
        customer__number=number, customer__street=street, customer__city=city, customer__building=building
    )
    user = login_user_for(point.customer, username=number)
    switch_on(user, Kind.OUTAGE)
    return point, user


def announcement(**fields) -> Announcement:
    now = timezone.now()
    values = {
        "kind": AnnouncementKind.OUTAGE,
        "title": "Awaria sieci wodociągowej",
        "body": "Brak wody do godziny 18:00. Beczkowóz przy ul. Słowackiego 10.",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(hours=8),
        "published": True,
        "created_at": now,
        **fields,
    }
    points = values.pop("points", [])
    item = Announcement.objects.create(**values)
    item.points.set(points)
    return item


@pytest.fixture
def street_map(db):
    """Two streets under works, their neighbours, and the same street name in another town."""
    return {
        "slowackiego": household("200001", "ul. Słowackiego", building="12"),
        "slowackiego_2": household("200002", "Słowackiego", building="3"),
        "mickiewicza": household("200003", "ul. Mickiewicza"),
        "kosciuszki": household("200004", "ul. Kościuszki"),
        "elsewhere": household("200005", "ul. Słowackiego", city="Jarosław"),
    }


def test_a_notice_for_two_streets_reaches_exactly_the_customers_there(street_map, django_capture_on_commit_callbacks):
    item = announcement(city="Przemyśl", streets="Słowackiego\nul. MICKIEWICZA\n")

    with django_capture_on_commit_callbacks(execute=True):
        reached = services.announcement_publish(announcement=item, now=timezone.now(), actor=None)

    expected = {street_map[key][0].pk for key in ("slowackiego", "slowackiego_2", "mickiewicza")}
    assert reached == 3
    assert set(AnnouncementTarget.objects.values_list("delivery_point_id", flat=True)) == expected
    told = {message.to[0] for message in mail.outbox}
    assert told == {street_map[key][1].email for key in ("slowackiego", "slowackiego_2", "mickiewicza")}
    assert all(message.subject == "Awaria: Awaria sieci wodociągowej" for message in mail.outbox)


def test_a_city_alone_reaches_the_whole_city_and_chosen_points_are_added(street_map):
    extra = street_map["elsewhere"][0]
    item = announcement(city="przemyśl", points=[extra])

    reached = services.announcement_targets_resolve(announcement=item)

    assert reached == 5


def test_publishing_again_tells_nobody_twice_and_reaches_newly_added_streets(
    street_map, django_capture_on_commit_callbacks
):
    item = announcement(city="Przemyśl", streets="Słowackiego")
    with django_capture_on_commit_callbacks(execute=True):
        services.announcement_publish(announcement=item, now=timezone.now(), actor=None)
    item.streets = "Słowackiego\nKościuszki"
    item.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.announcement_publish(announcement=item, now=timezone.now(), actor=None)

    assert len(mail.outbox) == 3
    assert Notification.objects.filter(kind=Kind.OUTAGE).count() == 3


def test_information_notices_are_shown_but_not_pushed(street_map, django_capture_on_commit_callbacks):
    item = announcement(kind=AnnouncementKind.INFORMATION, title="Nowy cennik", city="Przemyśl")

    with django_capture_on_commit_callbacks(execute=True):
        services.announcement_publish(announcement=item, now=timezone.now(), actor=None)

    assert mail.outbox == []


def test_a_customer_who_did_not_opt_in_is_not_told(db, django_capture_on_commit_callbacks):
    point = factories.DeliveryPointFactory(customer__street="ul. Słowackiego", customer__city="Przemyśl")
    login_user_for(point.customer)
    item = announcement(city="Przemyśl", streets="Słowackiego")

    with django_capture_on_commit_callbacks(execute=True):
        services.announcement_publish(announcement=item, now=timezone.now(), actor=None)

    assert mail.outbox == []


def test_the_affected_customer_sees_the_outage_marked_on_the_dashboard_and_others_see_it_plainly(client, street_map):
    item = announcement(city="Przemyśl", streets="Słowackiego")
    services.announcement_targets_resolve(announcement=item)

    client.force_login(street_map["slowackiego"][1])
    mine = client.get(reverse("pages:dashboard"))
    client.force_login(street_map["kosciuszki"][1])
    theirs = client.get(reverse("pages:dashboard"))

    assert mine.context["announcements"][0].affects_me is True
    assert "Dotyczy Twojego punktu odbioru" in mine.content.decode()
    assert "Awaria sieci wodociągowej" in theirs.content.decode()
    assert theirs.context["announcements"][0].affects_me is False
    assert "Dotyczy Twojego punktu odbioru" not in theirs.content.decode()


def test_a_manager_sees_the_mark_only_for_points_they_manage(client, street_map):
    customer_point, _ = street_map["slowackiego"]
    other_point = factories.DeliveryPointFactory(customer=customer_point.customer, street="ul. Kościuszki")
    manager = login_user_for(customer_point.customer, username="zarzadca", role=AccessRole.MANAGER, all_points=False)
    manager.customer_accesses.get().points.add(other_point)
    item = announcement(city="Przemyśl", streets="Słowackiego")
    services.announcement_targets_resolve(announcement=item)
    client.force_login(manager)

    response = client.get(reverse("pages:dashboard"))

    assert response.context["announcements"][0].affects_me is False


def test_the_login_page_shows_current_announcements_only(client, db):
    announcement(title="Awaria ciepłociągu na os. Kmiecie")
    announcement(
        title="Stara awaria", starts_at=timezone.now() - timedelta(days=3), ends_at=timezone.now() - timedelta(days=2)
    )
    announcement(title="Szkic komunikatu", published=False)
    announcement(title="Prace w przyszłym tygodniu", starts_at=timezone.now() + timedelta(days=5), ends_at=None)

    html = client.get(reverse("account_login")).content.decode()

    assert "Awaria ciepłociągu na os. Kmiecie" in html
    assert "Stara awaria" not in html
    assert "Szkic komunikatu" not in html
    assert "Prace w przyszłym tygodniu" not in html


def test_the_announcement_list_is_public(client, db):
    announcement(title="Płukanie sieci", kind=AnnouncementKind.PLANNED_WORKS, city="Przemyśl", streets="Grunwaldzka")

    response = client.get(reverse("notices:announcements"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Płukanie sieci" in html
    assert "Przemyśl: Grunwaldzka" in html


@pytest.mark.parametrize("count", [1, 6])
def test_the_dashboard_reads_announcements_in_two_queries_however_many(
    client, customer_user, count, django_assert_num_queries
):
    from tests.pages.test_dashboard import DASHBOARD_QUERIES

    for n in range(count):
        announcement(title=f"Komunikat {n}", city="Przemyśl")
    client.force_login(customer_user)

    # The customer has nothing to pay, so the dashboard skips its "invoices to pay" query; the announcements' areas
    # are one query more.
    with django_assert_num_queries(DASHBOARD_QUERIES - 1 + 1):
        response = client.get(reverse("pages:dashboard"))

    assert len(response.context["announcements"]) == count


def test_staff_publish_an_outage_in_the_admin_and_the_street_is_told(
    client, street_map, django_capture_on_commit_callbacks
):
    staff = factories.UserFactory(username="dyspozytor", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(staff)
    now = timezone.localtime()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notices_announcement_add"),
            {
                "kind": AnnouncementKind.OUTAGE,
                "title": "Awaria magistrali",
                "body": "Brak wody.",
                "starts_at_0": now.strftime("%Y-%m-%d"),
                "starts_at_1": (now - timedelta(minutes=5)).strftime("%H:%M:%S"),
                "ends_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
                "ends_at_1": "18:00:00",
                "city": "Przemyśl",
                "streets": "Kościuszki",
                "published": "on",
            },
            follow=True,
        )

    assert response.status_code == 200
    item = Announcement.objects.get()
    assert item.published_at is not None and item.created_by == staff
    assert [message.to for message in mail.outbox] == [[street_map["kosciuszki"][1].email]]
    assert AuditLogEntry.objects.filter(action="notices.announcement_publish", actor=staff).exists()


def test_the_admin_refuses_streets_without_a_city(client, db):
    staff = factories.UserFactory(username="dyspozytor", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(staff)

    response = client.post(
        reverse("admin:notices_announcement_add"),
        {
            "kind": AnnouncementKind.OUTAGE,
            "title": "Awaria",
            "body": "Brak wody.",
            "starts_at_0": "2026-11-21",
            "starts_at_1": "08:00:00",
            "streets": "Kościuszki",
        },
    )

    assert response.status_code == 200
    assert "Podaj miejscowość, w której leżą te ulice." in response.content.decode()
    assert not Announcement.objects.exists()


@pytest.mark.parametrize("count", [1, 20])
def test_the_admin_list_shows_how_many_points_each_announcement_reaches_in_fixed_queries(
    client, street_map, count, django_assert_max_num_queries
):
    staff = factories.UserFactory(username="dyspozytor", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    for n in range(count):
        services.announcement_targets_resolve(
            announcement=announcement(title=f"Awaria {n}", city="Przemyśl", streets="Słowackiego")
        )
    client.force_login(staff)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:notices_announcement_changelist"))

    assert response.status_code == 200
    assert [row.reached_count for row in response.context["cl"].result_list] == [2] * count
