from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.case_list, name="index"),
    path("new/", views.case_create, name="case-create"),
    path("<int:case_id>/", views.case_detail, name="case-detail"),
    path("<int:case_id>/reply/", views.case_reply, name="case-reply"),
    path("<int:case_id>/reopen/", views.case_reopen, name="case-reopen"),
    path("messages/", views.message_list, name="message-list"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/<slug:kind>/", views.request_create, name="request-create"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment-download"),
]
