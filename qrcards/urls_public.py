"""URLs of the public host (QRCARDS_DOMAIN)."""

from django.urls import path

from accounts import views
from accounts.admin import public_site

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", public_site.urls),
]
