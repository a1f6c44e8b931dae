from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def area_not_ready(request: HttpRequest, *, title: str) -> HttpResponse:
    """An area of the portal that is not built yet says so plainly."""
    return render(request, "components/not_ready.html", {"title": title})
