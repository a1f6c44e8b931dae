from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("ibok.pages.urls")),
    path("account/", include("allauth.urls")),
    path("", include("accounts.urls")),  # register/, terms/, settings/
    path("billing/", include("billing.urls")),
    path("meters/", include("meters.urls")),
    path("cases/", include("tickets.urls")),
    path("einvoice/", include("einvoice.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
