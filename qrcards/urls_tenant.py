"""URLs of a workspace host (<slug>.QRCARDS_DOMAIN or a custom domain)."""

from django.urls import include, path

from accounts import views as accounts_views
from accounts.admin import workspace_site
from qrcards.api import api
from qrcards.views import favicon, ping, robots_txt, styleguide

urlpatterns = [
    path("", include("trails.urls")),
    path("dashboard/", include("scans.urls")),
    path("dashboard/styleguide/", styleguide, name="styleguide"),
    path("dashboard/", include("accounts.urls")),
    path("admin/", workspace_site.urls),
    path("accounts/handoff/<str:token>/", accounts_views.handoff, name="handoff"),
    path("accounts/invitations/<str:token>/", accounts_views.invitation_accept, name="invitation-accept"),
    # A workspace's own provider: allauth's views, rate-limited and stricter about ID tokens (accounts/sso.py).
    path("accounts/oidc/<str:provider_id>/login/", accounts_views.sso_login, name="openid_connect_login"),
    path(
        "accounts/oidc/<str:provider_id>/login/callback/",
        accounts_views.sso_callback,
        name="openid_connect_callback",
    ),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("ping", ping, name="ping"),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("favicon.ico", favicon, name="favicon"),
    path("branding/logo", accounts_views.workspace_logo, name="workspace-logo"),
]
