from __future__ import annotations

import base64
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from accounts.models import Customer
from tests.fixtures.trails import make_trail


def png(size: tuple[int, int] = (64, 32)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, "PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def settings_form(**changes) -> dict:
    return {
        "name": "Workspace A",
        "accent_colour": "",
        "time_zone": "UTC",
        "scan_retention_days": 400,
        "record_country": "on",
        "record_referrer": "on",
        "api_requests_per_minute": 600,
        **changes,
    }


@pytest.fixture
def owner_a(cast, client_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client_a.force_login(cast.owner)
    yield client_a
    cast.workspace_a.refresh_from_db()


def test_an_owner_sets_an_accent_colour_and_logo_that_scanner_pages_show(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        stop_token = trail.live_stops().first().token

    response = owner_a.post("/dashboard/settings/", settings_form(accent_colour="#7A1F5C", logo=png()))
    assert response.status_code == 302
    workspace_a.refresh_from_db()

    page = owner_a.get(f"/qr/{stop_token}")
    html = page.content.decode()
    assert "<style>:root{--accent:#7a1f5c}</style>" in html
    digest = base64.b64encode(hashlib.sha256(b":root{--accent:#7a1f5c}").digest()).decode()
    assert f"'sha256-{digest}'" in page["Content-Security-Policy"]
    assert f'<img src="{workspace_a.logo_url}"' in html
    logo = owner_a.get(workspace_a.logo_url)
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert "immutable" in logo["Cache-Control"]


def test_an_accent_too_light_to_read_is_refused_and_the_form_keeps_what_was_typed(owner_a, workspace_a):
    response = owner_a.post("/dashboard/settings/", settings_form(name="Renamed", accent_colour="#ffee00"))

    page = response.content.decode()
    assert response.status_code == 400
    assert "too light to read" in page and 'value="Renamed"' in page and 'value="#ffee00"' in page
    assert Customer.objects.get(pk=workspace_a.pk).name == "Workspace A"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), "image"),
        (SimpleUploadedFile("logo.png", b"not really a png"), "image"),
        (png(size=(2400, 100)), "2000 pixels"),
    ],
)
def test_a_logo_that_is_not_a_sane_image_is_refused(owner_a, workspace_a, upload, message):
    response = owner_a.post("/dashboard/settings/", settings_form(logo=upload))

    assert response.status_code == 400 and message in response.content.decode()
    assert not Customer.objects.get(pk=workspace_a.pk).logo


def test_a_workspaces_logo_is_served_only_on_its_own_host(owner_a, client_b, workspace_a, workspace_b):
    owner_a.post("/dashboard/settings/", settings_form(logo=png()))
    workspace_a.refresh_from_db()

    assert owner_a.get(workspace_a.logo_url).status_code == 200
    assert client_b.get(workspace_a.logo_url).status_code == 404


def test_a_logo_is_served_as_what_it_holds_not_as_what_it_was_called(owner_a, workspace_a):
    upload = png()
    upload.name = "poly.pdf"

    assert owner_a.post("/dashboard/settings/", settings_form(logo=upload)).status_code == 302
    workspace_a.refresh_from_db()

    assert workspace_a.logo.name.endswith(".png")
    response = owner_a.get(workspace_a.logo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


@pytest.mark.parametrize(("content", "served_as"), [(png().read(), "image/png"), (b"%PDF-1.4 not an image", None)])
def test_a_stored_logo_named_otherwise_is_served_by_its_content(owner_a, workspace_a, content, served_as):
    """Logos uploaded before names followed content keep their old name: the name still decides nothing."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("workspaces/alpha/logo-0123456789abcdef.pdf", ContentFile(content))
    Customer.objects.filter(pk=workspace_a.pk).update(logo=name)
    workspace = Customer.objects.get(pk=workspace_a.pk)

    response = owner_a.get(workspace.logo_url)

    if served_as:
        assert response.status_code == 200 and response["Content-Type"] == served_as
    else:
        assert response.status_code == 404


def test_the_website_an_owner_sets_is_offered_at_the_end_of_every_trail(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        *_, last = trail.live_stops()

    response = owner_a.post("/dashboard/settings/", settings_form(website="https://museum.example/visit"))
    assert response.status_code == 302

    page = owner_a.get(f"/qr/{last.token}").content.decode()
    assert '<a class="button" href="https://museum.example/visit">More from Workspace A</a>' in page


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://museum.example/", "museum", "https://" + "a" * 300])
def test_a_website_that_is_not_an_http_address_is_refused_and_kept_in_the_form(owner_a, workspace_a, website):
    response = owner_a.post("/dashboard/settings/", settings_form(website=website))

    assert response.status_code == 400
    assert "Enter a valid URL" in response.content.decode() or "at most 200" in response.content.decode()
    assert Customer.objects.get(pk=workspace_a.pk).website == ""
