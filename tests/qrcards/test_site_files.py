"""What browsers and crawlers ask every host for: /favicon.ico, robots.txt, and a description on every page."""

from __future__ import annotations

import re
from urllib.robotparser import RobotFileParser

import pytest

from tests.fixtures.workspaces import host_client


def _robots(client) -> RobotFileParser:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    parser = RobotFileParser()
    parser.parse(response.content.decode().splitlines())
    return parser


@pytest.mark.parametrize("where", ["public", "workspace"])
def test_every_host_has_a_favicon(cast, db, where):
    client = host_client(None if where == "public" else cast.workspace_a)

    response = client.get("/favicon.ico")

    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_the_public_site_may_be_indexed_but_not_its_admin(cast, db):
    robots = _robots(host_client(None))

    for path in ("/", "/accounts/signup/", "/login/"):
        assert robots.can_fetch("Googlebot", f"https://qrcards.localhost{path}"), path
    assert not robots.can_fetch("Googlebot", "https://qrcards.localhost/admin/")


def test_a_workspace_host_keeps_crawlers_out_of_its_api_and_admin_but_not_its_scanner_pages(cast, db):
    robots = _robots(host_client(cast.workspace_a))

    for path in ("/api/v1/trails", "/admin/"):
        assert not robots.can_fetch("Googlebot", f"https://alpha.qrcards.localhost{path}"), path
    assert robots.can_fetch("Googlebot", "https://alpha.qrcards.localhost/qr/ABCD2345")


def test_a_crawler_asking_for_a_dashboard_is_sent_to_a_log_in_page_that_search_engines_must_not_list(cast, db):
    crawler = host_client(cast.workspace_a)

    for path in ("/dashboard/", "/dashboard/analytics/", "/dashboard/trails/"):
        response = crawler.get(path, follow=True)
        assert response.redirect_chain and response.request["PATH_INFO"] == "/accounts/login/", path
        assert '<meta name="robots" content="noindex">' in response.content.decode(), path


def test_pages_describe_themselves_and_link_their_icons(cast, db):
    client = host_client(cast.workspace_a)
    client.force_login(cast.owner)
    pages = [host_client(None).get("/"), host_client(None).get("/accounts/signup/"), client.get("/dashboard/")]

    for response in pages:
        page = response.content.decode()
        assert re.search(r'<meta name="description" content="[^"]{40,}">', page), response.request["PATH_INFO"]
        assert 'rel="icon"' in page and 'rel="apple-touch-icon"' in page


def test_the_scanner_page_lets_robots_txt_be_read_from_it_and_still_runs_no_script(cast, db, trail_factory):
    from django_tenants.utils import schema_context

    trail = trail_factory(workspace=cast.workspace_a)
    with schema_context(cast.workspace_a.schema_name):
        token = trail.live_stops().first().token

    policy = host_client(cast.workspace_a).get(f"/qr/{token}")["Content-Security-Policy"]

    assert "connect-src 'self'" in policy and "default-src 'none'" in policy and "script-src" not in policy
