from django.urls import path

from meters import views

app_name = "meters"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:meter_id>/", views.meter_detail, name="meter"),
    path("<int:meter_id>/reading/", views.reading_create, name="reading-create"),
    path("readings/<int:reading_id>/photo/", views.reading_photo, name="reading-photo"),
    path("consumption/", views.consumption, name="consumption"),
    path("consumption.csv", views.consumption_csv, name="consumption-csv"),
    path("contract/", views.contract, name="contract"),
]
