from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/sent/", views.register_sent, name="register-sent"),
    path("register/confirm/<str:token>/", views.register_confirm, name="register-confirm"),
    path("terms/", views.terms, name="terms"),
    path("terms/accept/", views.terms_accept, name="terms-accept"),
    path("terms/<str:version>.pdf", views.terms_pdf, name="terms-pdf"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/contact/", views.contact_update, name="contact-update"),
    path("settings/language/", views.language_update, name="language-update"),
    path("settings/customers/add/", views.customer_add, name="customer-add"),
    path("settings/export/", views.data_export, name="data-export"),
    path("settings/delete/", views.deletion_request, name="deletion-request"),
    path("settings/passkey-offer/dismiss/", views.passkey_prompt_dismiss, name="passkey-prompt-dismiss"),
    path("managers/request/", views.manager_request, name="manager-request"),
    path("managers/request/sent/", views.manager_request_sent, name="manager-request-sent"),
    path("customers/switch/", views.customer_switch, name="customer-switch"),
]
