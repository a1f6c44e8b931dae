"""The portal's URLs plus /bench/bare/: a Django view doing nothing, the yardstick for the pages' cost."""

from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("ibok.urls")),
]
