from django.urls import path

from notices import views

app_name = "notices"

urlpatterns = [
    path("", views.settings_index, name="settings"),
    path("phone/code/", views.phone_code_send, name="phone-code-send"),
    path("phone/verify/", views.phone_verify, name="phone-verify"),
    path("sent/", views.notification_list, name="sent"),
    path("announcements/", views.announcement_list, name="announcements"),
    path("documents/", views.document_list, name="documents"),
    path("documents/<int:document_id>/", views.document_download, name="document-download"),
    path("sms/inbound/", views.sms_inbound, name="sms-inbound"),
]
