from django.urls import path
from django.utils.translation import gettext_lazy as _

from ibok.core.views import area_not_ready
from ibok.pages import views

app_name = "pages"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("documents/", area_not_ready, {"title": _("Documents")}, name="documents"),
    path("refresh/", views.data_refresh, name="data-refresh"),
    path("health/", views.health, name="health"),
]
