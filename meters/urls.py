from django.urls import path
from django.utils.translation import gettext_lazy as _

from ibok.core.views import area_not_ready

app_name = "meters"

urlpatterns = [
    path("", area_not_ready, {"title": _("Meters and readings")}, name="index"),
    path("contract/", area_not_ready, {"title": _("Contract and delivery points")}, name="contract"),
]
