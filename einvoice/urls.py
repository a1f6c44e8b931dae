from django.urls import path

from einvoice import views

app_name = "einvoice"

urlpatterns = [
    path("", views.index, name="index"),
    path("terms/", views.terms, name="terms"),
    path("forms/<slug:kind>.pdf", views.paper_form, name="paper-form"),
    path("confirm/done/", views.verified, name="verified"),
    path("confirm/<str:token>/", views.verify, name="verify"),
    path("<int:customer_id>/", views.detail, name="detail"),
    path("<int:customer_id>/request/", views.consent_request, name="request"),
    path("<int:customer_id>/address/", views.address_change, name="address-change"),
    path("<int:customer_id>/resign/", views.resignation, name="resignation"),
    path("<int:customer_id>/link/", views.verification_renew, name="verification-renew"),
]
