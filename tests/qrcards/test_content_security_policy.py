"""A Content-Security-Policy on every page: scripts and styles from our own files only."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.test import Client

BASE_DIR = Path(__file__).resolve().parents[2]
POLICY = (
    "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; "
    "form-action 'self' http://qrcards.localhost http://*.qrcards.localhost; frame-ancestors 'none'; style-src 'self'"
)


def directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize(
    "path", ["/", "/login/", "/accounts/login/", "/accounts/signup/", "/admin/login/", "/no-such-page/"]
)
def test_every_page_of_the_public_host_has_the_policy(public_client, path):
    assert public_client.get(path)["Content-Security-Policy"] == POLICY


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/dashboard/trails/", "/dashboard/analytics/", "/accounts/email/", "/api/v1/docs"]
)
def test_every_page_of_a_workspace_host_has_the_policy(client_a, cast, path):
    client_a.force_login(cast.owner)

    response = client_a.get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY


def test_the_workspace_admin_has_the_policy(client_a, cast):
    client_a.force_login(cast.staff)

    response = client_a.get("/admin/trails/trail/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY


def test_an_unknown_host_gets_the_policy_on_its_404(cast, db):
    response = Client(HTTP_HOST="attacker.example").get("/")

    assert response.status_code == 404 and "script-src" not in response["Content-Security-Policy"]
    assert directives(response["Content-Security-Policy"])["default-src"] == ["'self'"]


def test_forms_may_lead_to_the_public_and_workspace_hosts_on_the_requests_scheme_and_port(cast, db):
    response = Client(HTTP_HOST="qrcards.localhost:8443").get("/", secure=True)

    assert directives(response["Content-Security-Policy"])["form-action"] == [
        "'self'",
        "https://qrcards.localhost:8443",
        "https://*.qrcards.localhost:8443",
    ]


def test_the_workspaces_accent_colour_is_allowed_by_its_hash_for_the_editors_preview(client_a, cast, workspace_a):
    workspace_a.accent_colour = "#aa3300"
    workspace_a.save()
    digest = base64.b64encode(hashlib.sha256(workspace_a.accent_css.encode()).digest()).decode()
    client_a.force_login(cast.owner)

    policy = directives(client_a.get("/dashboard/")["Content-Security-Policy"])

    assert policy["style-src"] == ["'self'", f"'sha256-{digest}'"]


def test_the_scanner_page_keeps_its_own_stricter_policy(client_a, workspace_a, trail_factory):
    trail = trail_factory(workspace=workspace_a)
    from django_tenants.utils import schema_context

    with schema_context(workspace_a.schema_name):
        token = trail.live_stops().first().token

    policy = directives(client_a.get(f"/qr/{token}")["Content-Security-Policy"])

    assert policy["default-src"] == ["'none'"] and "script-src" not in policy


# Where a template could carry script or style the policy would block: inline <script> (a src or a JSON
# data block is fine), <style> elements, style="" and on…="" attributes.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE
)
# The scanner page inlines the workspace's accent colour, allowed by its hash in its own policy (trails/views.py);
# so does the cards' print view, allowed by its hash in every workspace page's policy (qrcards/middleware.py).
ALLOWED = {("trails/scanner_base.html", "<style"), ("trails/trail_print.html", "<style")}


def test_no_template_has_inline_script_or_style():
    found = [
        (str(path.relative_to(BASE_DIR / "templates")), match.group(0).strip())
        for path in sorted((BASE_DIR / "templates").rglob("*"))
        if path.is_file()
        for match in INLINE.finditer(path.read_text())
    ]

    assert [hit for hit in found if hit not in ALLOWED] == []
