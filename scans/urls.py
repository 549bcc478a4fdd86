from django.urls import path

from scans import views

app_name = "scans"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("live", views.live_counts, name="live-counts"),
    path("analytics/", views.analytics, name="analytics"),
    path("analytics/scans.csv", views.scans_export, name="scans-export"),
    path("analytics/rollups.csv", views.rollups_export, name="rollups-export"),
]
