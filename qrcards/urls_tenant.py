"""URLs of a workspace host (<slug>.QRCARDS_DOMAIN or a custom domain)."""

from django.urls import include, path

from accounts import views as accounts_views
from accounts.admin import workspace_site
from qrcards.api import READ_AUTH, api, not_found_router
from qrcards.views import ping
from scans import api as scans_api
from trails import api as trails_api

# The API's endpoints live beside their models. The preview first: "/trails/preview" is no trail id;
# the catch-all last.
api.add_router("/trails", trails_api.preview_router, auth=READ_AUTH, tags=["trails"])
api.add_router("/trails", trails_api.router, tags=["trails"])
api.add_router("", scans_api.router, tags=["scans"])
api.add_router("", not_found_router)

urlpatterns = [
    path("", include("trails.urls")),
    path("dashboard/", include("scans.urls")),
    path("dashboard/", include("accounts.urls")),
    path("admin/", workspace_site.urls),
    path("accounts/handoff/<str:token>/", accounts_views.handoff, name="handoff"),
    path("accounts/invitations/<str:token>/", accounts_views.invitation_accept, name="invitation-accept"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("ping", ping, name="ping"),
    path("branding/logo", accounts_views.workspace_logo, name="workspace-logo"),
]
