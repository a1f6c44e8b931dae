"""Reports without an account: /report/ with CAPTCHA and throttling, the private tracking link, the office's
answer in the same case admin, the reporter's reply through the link, and the report joining the reporter's case
list once they sign up with the same e-mail."""

import re
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Registration, RegistrationStatus
from accounts.services import registration_token
from notices.models import LocalSms
from tests import factories
from tests.accounts.conftest import invoiced_customer, registration_form, terms  # noqa: F401 - fixtures
from tests.tickets.conftest import make_pdf, upload, with_second_factor
from tickets import services
from tickets.models import Attachment, Case, CaseStatus, CaseType, Message, Sender

pytestmark = pytest.mark.django_db

STRONG = "Rzeka-Bystra-2026"


def report_form(**changes) -> dict:
    return {
        "case_type": CaseType.FAILURE,
        "location": "ul. Lipowa 12, Przemyśl",
        "description": "Woda wypływa z ulicy przy hydrancie.",
        "email": "jan.zglaszajacy@example.pl",
        "phone": "",
        **changes,
    }


def send_report(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("reports:create"), report_form(**changes))


def tracking_path(text: str) -> str:
    return re.search(r"/report/[A-Za-z0-9_-]{40,}/", text).group(0)


def test_the_report_page_is_public_and_asks_for_kind_place_description_photo_and_contact(client):
    page = client.get(reverse("reports:create"))

    html = page.content.decode()
    assert page.status_code == 200
    for label in (
        "Zgłoszenie awarii",
        "Jakość wody",
        'name="location"',
        'name="description"',
        'name="photo"',
        'name="email"',
    ):
        assert label in html


def test_a_report_by_email_makes_a_case_without_a_customer_and_mails_the_private_link(
    client, django_capture_on_commit_callbacks
):
    response = send_report(client, django_capture_on_commit_callbacks)

    case = Case.objects.get()
    assert (case.customer, case.case_type, case.status, case.reporter_email) == (
        None, CaseType.FAILURE, CaseStatus.NEW, "jan.zglaszajacy@example.pl"
    )  # fmt: skip
    assert case.messages.get().body == "Woda wypływa z ulicy przy hydrancie."
    [message] = mail.outbox
    assert message.to == ["jan.zglaszajacy@example.pl"]
    assert f"nr {case.pk}" in message.subject
    link = tracking_path(message.body)
    assert response["Location"] == link
    token = link.strip("/").split("/")[-1]
    assert token not in case.tracking_token_hash  # only the hash is kept
    page = client.get(link)
    assert page.status_code == 200
    assert "Woda wypływa z ulicy przy hydrancie." in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"


def test_a_report_with_only_a_phone_sends_the_link_by_sms(client, django_capture_on_commit_callbacks):
    send_report(client, django_capture_on_commit_callbacks, email="", phone="600 100 200")

    case = Case.objects.get()
    [sms] = LocalSms.objects.all()
    assert sms.phone == "+48600100200"
    assert f"nr {case.pk}" in sms.text
    assert client.get(tracking_path(sms.text)).status_code == 200
    assert mail.outbox == []


def test_a_report_without_any_contact_is_refused_and_records_nothing(client, django_capture_on_commit_callbacks):
    response = send_report(client, django_capture_on_commit_callbacks, email="", phone="")

    assert response.status_code == 400
    assert "Podaj adres e-mail lub numer telefonu" in response.content.decode()
    assert not Case.objects.exists()
    assert mail.outbox == []


def test_only_a_failure_or_water_quality_can_be_reported_without_an_account(client, django_capture_on_commit_callbacks):
    response = send_report(client, django_capture_on_commit_callbacks, case_type=CaseType.BILLING)

    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_photo_is_kept_with_the_report_and_a_pdf_or_a_disguised_file_is_refused(
    client, png_upload, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(
            reverse("reports:create"), {**report_form(), "photo": upload("zdjecie.pdf", make_pdf(), "application/pdf")}
        )
        disguised = client.post(
            reverse("reports:create"), {**report_form(), "photo": upload("zdjecie.jpg", make_pdf(), "image/jpeg")}
        )
        kept = client.post(reverse("reports:create"), {**report_form(), "photo": png_upload})

    assert refused.status_code == disguised.status_code == 400
    assert "Zdjęcie musi być obrazem JPG lub PNG." in refused.content.decode()
    assert kept.status_code == 302
    assert Case.objects.count() == 1
    assert Attachment.objects.get().content_type == "image/png"


def test_the_reporter_downloads_the_thread_files_behind_the_token_and_nobody_else_does(
    client, png_upload, jpg_upload, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:create"), {**report_form(), "photo": png_upload})
        client.post(reverse("reports:create"), {**report_form(email="ktos.inny@example.pl"), "photo": jpg_upload})
    link = tracking_path(mail.outbox[0].body)
    mine, theirs = Attachment.objects.order_by("id")
    page = client.get(link).content.decode()

    download = f"{link}attachments/{mine.pk}/"
    assert f'href="{download}"' in page
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == mine.file.open("rb").read()
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.get(f"{link}attachments/{theirs.pk}/").status_code == 404  # another report's file
    assert client.get(f"{link[:-3]}xx/attachments/{mine.pk}/").status_code == 404  # a wrong token
    assert client.post(download).status_code == 405


def test_a_wrong_token_is_not_found(client, django_capture_on_commit_callbacks):
    send_report(client, django_capture_on_commit_callbacks)
    link = tracking_path(mail.outbox[0].body)

    assert client.get(link[:-3] + "xx/").status_code == 404
    assert client.get(reverse("reports:detail", kwargs={"token": "guess"})).status_code == 404
    assert client.post(reverse("reports:detail", kwargs={"token": "guess"}), {"body": "Hej"}).status_code == 404


def test_a_reply_through_the_link_lands_in_the_thread(client, django_capture_on_commit_callbacks):
    send_report(client, django_capture_on_commit_callbacks)
    link = tracking_path(mail.outbox[0].body)

    response = client.post(link, {"body": "Woda nadal leci, teraz mocniej."})

    assert response.status_code == 302
    case = Case.objects.get()
    assert list(case.messages.order_by("id").values_list("sender", "body"))[-1] == (
        Sender.CUSTOMER, "Woda nadal leci, teraz mocniej."
    )  # fmt: skip
    assert "Woda nadal leci, teraz mocniej." in client.get(link).content.decode()


def test_an_empty_reply_is_a_clear_error_and_changes_nothing(client, django_capture_on_commit_callbacks):
    send_report(client, django_capture_on_commit_callbacks)

    response = client.post(tracking_path(mail.outbox[0].body), {"body": "  "})

    assert response.status_code == 400
    assert Message.objects.count() == 1


def test_the_office_answers_in_the_case_admin_and_the_reporter_is_told_and_reads_it(
    client, django_capture_on_commit_callbacks
):
    send_report(client, django_capture_on_commit_callbacks)
    link = tracking_path(mail.outbox[0].body)
    mail.outbox.clear()
    case = Case.objects.get()
    clerk = with_second_factor(factories.UserFactory(username="urzednik", is_staff=True, is_superuser=True))
    staff_client = type(client)()
    staff_client.force_login(clerk)
    assert (
        case.reporter_email in staff_client.get(reverse("admin:tickets_case_change", args=[case.pk])).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        answer = staff_client.post(
            reverse("admin:tickets_case_change", args=[case.pk]),
            {"status": CaseStatus.IN_PROGRESS, "assigned_to": "", "reply": "Ekipa jest w drodze.", "internal_note": ""},
        )

    assert answer.status_code == 302
    [message] = mail.outbox
    assert message.to == ["jan.zglaszajacy@example.pl"]
    assert f"nr {case.pk}" in message.subject
    assert "Ekipa jest w drodze." not in message.body  # the thread is read through the private link only
    assert "Ekipa jest w drodze." in client.get(link).content.decode()
    assert Message.objects.get(sender=Sender.STAFF).read_at is not None


def test_reports_are_throttled_per_address(client, django_capture_on_commit_callbacks):
    for _ in range(5):
        assert send_report(client, django_capture_on_commit_callbacks).status_code == 302

    response = send_report(client, django_capture_on_commit_callbacks)

    assert response.status_code == 429
    assert Case.objects.count() == 5


def test_replies_through_a_link_are_throttled(client, django_capture_on_commit_callbacks):
    send_report(client, django_capture_on_commit_callbacks)
    link = tracking_path(mail.outbox[0].body)
    for number in range(10):
        assert client.post(link, {"body": f"Wiadomość {number}"}).status_code == 302

    response = client.post(link, {"body": "Jeszcze jedna"})

    assert response.status_code == 429
    assert Message.objects.count() == 11


def test_the_captcha_when_enabled_is_required(client, settings, django_capture_on_commit_callbacks):
    settings.IBOK_RECAPTCHA_ENABLED = True
    failed = mock.Mock(is_valid=False, error_codes=["invalid-input-response"], extra_data={})
    passed = mock.Mock(is_valid=True, error_codes=[], extra_data={})

    with mock.patch("django_recaptcha.fields.client.submit", return_value=failed):
        refused = send_report(client, django_capture_on_commit_callbacks, **{"g-recaptcha-response": "x"})
    with mock.patch("django_recaptcha.fields.client.submit", return_value=passed):
        accepted = send_report(client, django_capture_on_commit_callbacks, **{"g-recaptcha-response": "ok"})

    assert refused.status_code == 400
    assert "captcha" in refused.context["form"].errors
    assert accepted.status_code == 302
    assert Case.objects.count() == 1
    assert "https://www.google.com/recaptcha/" in refused["Content-Security-Policy"]


def test_the_report_joins_the_case_list_after_sign_up_with_that_email(
    client,
    invoiced_customer,  # noqa: F811
    registration_form,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    send_report(client, django_capture_on_commit_callbacks, email="Anna.Nowa@example.pl")
    case = Case.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:register"), registration_form)  # anna.nowa@example.pl
    registration = Registration.objects.get(status=RegistrationStatus.PENDING)
    confirm = reverse("accounts:register-confirm", kwargs={"token": registration_token(registration=registration)})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm, {"password1": STRONG, "password2": STRONG})
    assert case.subject not in client.get(reverse("tickets:index")).content.decode()  # not signed in yet

    client.post(reverse("account_login"), {"login": "204518", "password": STRONG})

    case_list = client.get(reverse("tickets:index")).content.decode()
    assert case.subject in case_list
    assert client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk})).status_code == 200


def test_an_unverified_or_different_email_claims_nothing(customer_user, django_capture_on_commit_callbacks):
    case, _token = services.report_open(
        now=timezone.now(), case_type=CaseType.WATER_QUALITY, location="ul. Wodna 1", description="Brązowa woda.",
        email="ktos.inny@example.pl", phone="", photo=None, language="pl",
    )  # fmt: skip

    claimed = services.reports_claim(user=customer_user, emails=["jan@example.pl"], now=timezone.now())

    assert claimed == 0
    case.refresh_from_db()
    assert case.opened_by is None


def test_a_customers_case_list_never_shows_someone_elses_report(
    client, customer_user, django_capture_on_commit_callbacks
):
    send_report(client, django_capture_on_commit_callbacks)
    case = Case.objects.get()
    client.force_login(customer_user)

    assert case.subject not in client.get(reverse("tickets:index")).content.decode()
    assert client.get(reverse("tickets:case-detail", kwargs={"case_id": case.pk})).status_code == 404


@pytest.mark.parametrize("sql_twin", [True, False])
def test_the_office_reply_to_a_claimed_report_counts_in_the_unread_badge(
    customer_user, monkeypatch, sql_twin, django_capture_on_commit_callbacks
):
    from accounts.permissions import Scope, scope_for
    from core import db
    from tickets import selectors

    case, _token = services.report_open(
        now=timezone.now(), case_type=CaseType.FAILURE, location="ul. Wodna 1", description="Wyciek.",
        email=customer_user.email, phone="", photo=None, language="pl",
    )  # fmt: skip
    services.reports_claim(user=customer_user, emails=[customer_user.email.upper()], now=timezone.now())
    clerk = factories.UserFactory(username="urzednik", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_staff_update(
            now=timezone.now(), case=case, actor=clerk, status=CaseStatus.IN_PROGRESS, assigned_to=None,
            reply="Już jedziemy.",
        )  # fmt: skip
    monkeypatch.setattr(db, "sql_twins_enabled", lambda: sql_twin)
    stranger = factories.UserFactory(username="obcy")

    assert selectors.unread_total(user=customer_user, scope=scope_for(user=customer_user)) == 1
    assert selectors.unread_total(user=customer_user, scope=Scope.unread(customer_user)) == 1
    assert selectors.unread_total(user=stranger, scope=scope_for(user=stranger)) == 0


def test_the_link_goes_out_in_the_language_of_the_page(client, settings, django_capture_on_commit_callbacks):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    send_report(client, django_capture_on_commit_callbacks)

    case = Case.objects.get()
    assert mail.outbox[0].subject == f"Your report no. {case.pk}"
    assert "We have registered your report" in mail.outbox[0].body
