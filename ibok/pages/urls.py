from django.urls import path

from ibok.pages import views

app_name = "pages"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("refresh/", views.data_refresh, name="data-refresh"),
    path("health/", views.health, name="health"),
]
