from django.urls import path

from scans import views

app_name = "scans"

urlpatterns = [
    path("", views.analytics, name="analytics"),
    path("scans.csv", views.scans_export, name="scans-export"),
    path("rollups.csv", views.rollups_export, name="rollups-export"),
]
