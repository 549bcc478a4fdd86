"""The scanner page's baseline: a bare one-view Django project, no middleware, no database, no templates.

It answers /qr/<token> with the bytes of a real scanner page (the file named by BARE_BODY_FILE) and
the same headers, so the only difference bench/scanner.py measures is everything QRCards does.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes()
HEADERS = {
    "Cache-Control": "no-cache, private",
    "Content-Security-Policy": os.environ.get("BARE_CSP", "default-src 'none'"),
}

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-baseline",  # noqa: S106 - serves one static page, signs nothing
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_TZ=True,
)


def page(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(BODY, content_type="text/html; charset=utf-8", headers=HEADERS)


urlpatterns = [path("qr/<str:token>", page)]
application = get_wsgi_application()
