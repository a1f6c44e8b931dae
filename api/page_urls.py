"""The personal access tokens page, under the settings (ibok/urls.py includes it at the root)."""

from django.urls import path

from api import views

app_name = "api-tokens"

urlpatterns = [
    path("settings/tokens/", views.token_list, name="list"),
    path("settings/tokens/new/", views.token_create, name="create"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="revoke"),
]
