"""Reports without an account: /report/ and the private tracking link /report/<token>/."""

from django.urls import path

from tickets import views

app_name = "reports"

urlpatterns = [
    path("", views.report_create, name="create"),
    path("<str:token>/", views.report_detail, name="detail"),
    path(
        "<str:token>/attachments/<int:attachment_id>/",
        views.report_attachment_download,
        name="attachment-download",
    ),
]
