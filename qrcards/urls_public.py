"""URLs of the public host (QRCARDS_DOMAIN)."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from accounts import views
from accounts.admin import public_site
from qrcards.api import public_host_api
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
    # The API is on workspace hosts; a client that calls it here hears so in JSON, not an HTML page.
    re_path(r"^api/(?P<rest>.*)$", csrf_exempt(public_host_api), name="public-api"),
]
