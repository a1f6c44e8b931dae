"""The portal's URLs plus two yardsticks for the pages' cost.

/bench/bare/: a Django view doing nothing (bench/pages.py). /bench/admin-bare/: an admin view rendering the
admin's base template and nothing else (bench/admin.py): what every admin page costs before its own work.
"""

from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import include, path


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


def admin_bare(request):
    return TemplateResponse(request, "admin/base_site.html", {**admin.site.each_context(request), "title": "bench"})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/admin-bare/", admin.site.admin_view(admin_bare)),
    path("", include("ibok.urls")),
]
