from django.urls import path
from django.utils.translation import gettext_lazy as _

from ibok.core.views import area_not_ready

app_name = "tickets"

urlpatterns = [
    path("", area_not_ready, {"title": _("Cases")}, name="index"),
]
