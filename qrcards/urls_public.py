"""URLs of the public host (QRCARDS_DOMAIN)."""

from django.urls import include, path

from accounts import views
from accounts.admin import public_site
from qrcards.views import favicon, healthz, robots_txt

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", public_site.urls),
    path("login/", views.workspace_finder, name="workspace-finder"),
    path("workspaces/", views.workspace_list, name="workspace-list"),
    path("workspaces/new/", views.workspace_create, name="workspace-create"),
    path("workspaces/<str:slug>/open/", views.workspace_open, name="workspace-open"),
    path("accounts/", include("allauth.urls")),
]
