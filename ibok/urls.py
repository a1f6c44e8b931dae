from django.contrib import admin
from django.urls import include, path

admin.site.index_template = "admin/ibok_index.html"  # the billing sync alarm above the app list

urlpatterns = [
    path("", include("portal.urls")),
    path("account/", include("allauth.urls")),
    path("", include("accounts.urls")),  # register/, terms/, settings/
    path("billing/", include("billing.urls")),
    path("meters/", include("meters.urls")),
    path("cases/", include("tickets.urls")),
    path("report/", include("tickets.report_urls")),  # reports without an account
    path("einvoice/", include("einvoice.urls")),
    path("notices/", include("notices.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("api.page_urls")),  # settings/tokens/: personal access tokens
    path("_allauth/", include("accounts.headless")),  # the mobile app's sign-in (/_allauth/app/v1/)
]
