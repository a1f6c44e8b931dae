from django.urls import path

from portal import installable, views

app_name = "pages"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("refresh/", views.data_refresh, name="data-refresh"),
    path("health/", views.health, name="health"),
    path("metrics", views.metrics, name="metrics"),
    path("manifest.webmanifest", installable.manifest, name="manifest"),
    path("sw.js", installable.service_worker, name="service-worker"),
    path("offline/", installable.offline, name="offline"),
    path("properties/", views.manager_overview, name="manager-overview"),
    path("properties/export.csv", views.manager_overview_csv, name="manager-overview-csv"),
    path("properties/pay/", views.manager_pay, name="manager-pay"),
    path("properties/pay/started/", views.manager_pay_batch, name="manager-pay-batch"),
]
