"""Every dashboard URL of a workspace host, found from the URL configuration, against the whole cast."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.roles import ABILITIES, can
from tests.accounts.conftest import host_client

SAMPLE_ARGS = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _concrete(route: str) -> str:
    """A path for `route` with sample values in its parameters."""
    import re

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m.group(1) or "str"], route)


def tenant_routes() -> list[tuple[str, object]]:
    return list(_walk(get_resolver("qrcards.urls_tenant").url_patterns))


DASHBOARD = [(route, view) for route, view in tenant_routes() if route.startswith("dashboard/")]
ACCOUNTS = [(route, view) for route, view in tenant_routes() if route.startswith("accounts/") and "<" not in route]


def test_the_url_walk_finds_the_dashboard_and_account_pages():
    routes = {route for route, _ in tenant_routes()}
    assert {"dashboard/", "dashboard/team/", "dashboard/api-keys/", "dashboard/settings/"} <= routes
    assert "accounts/login/" in routes


@pytest.mark.parametrize(("route", "view"), DASHBOARD, ids=[r for r, _ in DASHBOARD])
def test_every_dashboard_url_has_a_role_rule(route, view):
    assert getattr(view, "required_ability", None) in ABILITIES, f"/{route} has no member_required rule"


@pytest.mark.parametrize(("route", "view"), DASHBOARD, ids=[r for r, _ in DASHBOARD])
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_cast_gets_what_their_role_allows_on_every_dashboard_url(verified_cast, admin_of_a, route, view, method):
    cast = verified_cast
    path = _concrete(route)
    ability = view.required_ability

    def status_for(user) -> tuple[int, str]:
        client = host_client(cast.workspace_a)
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(path)
        return response.status_code, response.get("Location", "")

    # A method the view doesn't take is refused alike on every host, which tells nobody anything.
    allowed = status_for(cast.owner)[0] != 405

    status, location = status_for(None)
    if allowed or status != 405:
        assert status == 302 and location.startswith("/accounts/login/"), f"anonymous {method} {path}: {status}"
    for outsider in (cast.member_of_b, cast.staff):
        status, _ = status_for(outsider)
        assert status == 404 or (not allowed and status == 405), f"{outsider} {method} {path}: {status}"
    roles = [(cast.owner, "owner"), (admin_of_a, "admin"), (cast.editor, "editor"), (cast.viewer, "viewer")]
    for user, role in roles:
        status, _ = status_for(user)
        if not allowed:
            assert status in (403, 405), f"{role} {method} {path}: {status}"
        elif can(role, ability):
            # Sample ids name no real object, so a page about one may say so.
            refused = (403, 405) if "<" in route else (403, 404, 405)
            assert status not in refused and status < 500, f"{role} {method} {path}: {status}"
        else:
            assert status == 403, f"{role} {method} {path}: {status}"


@pytest.mark.parametrize(("route", "view"), ACCOUNTS, ids=[r for r, _ in ACCOUNTS])
def test_account_pages_give_an_outsider_nothing_of_the_workspace(verified_cast, route, view):
    """The workspace's name is public (its scanner pages show it); its people and dashboard are not."""
    cast = verified_cast
    path = _concrete(route)
    for user in (None, cast.member_of_b):
        client = host_client(cast.workspace_a)
        if user:
            client.force_login(user)
        response = client.get(path)
        assert response.status_code < 500, path
        for secret in (cast.owner.email, cast.editor.email, cast.viewer.email, "/dashboard/"):
            assert secret.encode() not in response.content, (path, secret)
