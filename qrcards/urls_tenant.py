"""URLs of a workspace host (<slug>.QRCARDS_DOMAIN or a custom domain)."""

from django.urls import include, path

from accounts.admin import workspace_site
from qrcards.views import ping

urlpatterns = [
    path("", include("trails.urls")),
    path("dashboard/analytics/", include("scans.urls")),
    path("dashboard/", include("accounts.urls")),
    path("admin/", workspace_site.urls),
    path("ping", ping, name="ping"),
]
