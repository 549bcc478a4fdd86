from django.urls import path

from trails import views

app_name = "trails"

urlpatterns = [
    path("qr/<str:token>", views.stop_page, name="stop-page"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/trails/", views.trail_list, name="trail-list"),
]
