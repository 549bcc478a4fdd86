"""Who gets what: every endpoint against no key, a revoked key, another workspace's key, a read key,
a read-write key, and the dashboard's session of each role."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from qrcards.api import api
from tests.api.conftest import api_client
from tests.fixtures.trails import make_translation, trail_markdown
from trails.models import Trail

NEW_TRAIL = {"source": trail_markdown(title="Harbour Walk")}
EDITED_TRAIL = {"source": trail_markdown(title="Old Town Walk, revised")}
TRANSLATION = "## La fontaine {#fountain}\nEau.\n"
EDITED_TRANSLATION = {"source": "## La fontaine {#fountain}\nDe l'eau.\n"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: (
        str  # {trail}, {stop} and {language} are filled in with a trail of workspace A, its first stop, its translation
    )
    body: dict | None = None
    writes: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/api/v1/trails"),
    Endpoint("POST", "/api/v1/trails", NEW_TRAIL, writes=True),
    Endpoint("POST", "/api/v1/trails/preview", NEW_TRAIL),
    Endpoint("GET", "/api/v1/trails/{trail}"),
    Endpoint("PUT", "/api/v1/trails/{trail}", EDITED_TRAIL, writes=True),
    Endpoint("PATCH", "/api/v1/trails/{trail}", {"title": "Old Town Walk, renamed"}, writes=True),
    Endpoint("DELETE", "/api/v1/trails/{trail}", writes=True),
    Endpoint("GET", "/api/v1/trails/{trail}/stops"),
    Endpoint("GET", "/api/v1/trails/{trail}/stops/{stop}"),
    Endpoint("GET", "/api/v1/trails/{trail}/stops/{stop}/qr.svg"),
    Endpoint("GET", "/api/v1/trails/{trail}/stops/{stop}/qr.png"),
    Endpoint("GET", "/api/v1/trails/{trail}/cards.pdf"),
    Endpoint("GET", "/api/v1/trails/{trail}/qr.zip"),
    Endpoint("GET", "/api/v1/stops/{token}"),
    Endpoint("GET", "/api/v1/trails/{trail}/translations"),
    Endpoint("GET", "/api/v1/trails/{trail}/translations/{language}"),
    Endpoint("PUT", "/api/v1/trails/{trail}/translations/{language}", EDITED_TRANSLATION, writes=True),
    Endpoint("DELETE", "/api/v1/trails/{trail}/translations/{language}", writes=True),
    Endpoint("GET", "/api/v1/scans"),
    Endpoint("GET", "/api/v1/scans/export.csv"),
    Endpoint("GET", "/api/v1/stats"),
]


SCHEMA_A = "alpha"


def call(client: Client, endpoint: Endpoint, trail: Trail, **extra):
    with schema_context(SCHEMA_A):
        stop = trail.live_stops().first()
    path = endpoint.path.format(trail=trail.pk, stop=stop.pk, token=stop.token.lower(), language="fr")
    if endpoint.body is None:
        return client.generic(endpoint.method, path, **extra)
    return client.generic(endpoint.method, path, json.dumps(endpoint.body), content_type="application/json", **extra)


@pytest.fixture(autouse=True)
def _translated(trail_a, workspace_a):
    """Trail A has a French translation, for the endpoints that read, replace or delete one."""
    make_translation(workspace=workspace_a, trail=trail_a, language="fr", source=TRANSLATION)


def _trail_state(trail: Trail) -> tuple:
    """What a refused write must leave as it was: the trail's document, its deletion, the number of trails,
    and its translations."""
    with schema_context(SCHEMA_A):
        fresh = Trail.objects.get(pk=trail.pk)
        translations = list(fresh.translations.values_list("language", "source"))
        return fresh.source, fresh.deleted_at, Trail.objects.count(), translations


def test_the_table_lists_every_operation_of_the_api():
    documented = {
        f"{method.upper()} {path}"
        for path, methods in api.get_openapi_schema(path_prefix="/api/v1/")["paths"].items()
        for method in methods
        # Webhooks are owners' and admins' only (tests/api/test_webhooks.py); media takes files, not JSON
        # (tests/api/test_media.py tries every media call with every kind of caller).
        if not path.startswith(("/api/v1/webhooks", "/api/v1/media"))
    }
    listed = {str(endpoint).replace("{trail}", "{trail_id}").replace("{stop}", "{stop_id}") for endpoint in ENDPOINTS}
    assert listed == documented


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("who", ["no key", "revoked key", "another workspace's key", "garbage"])
def test_a_caller_without_a_valid_key_of_this_workspace_gets_401_and_changes_nothing(
    endpoint, who, workspace_a, keys, trail_a
):
    secret = {"no key": None, "revoked key": keys.revoked, "another workspace's key": keys.of_b}.get(who, "qrc_nope")
    before = _trail_state(trail_a)
    response = call(api_client(workspace_a, secret), endpoint, trail_a)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] in {"not_authenticated", "invalid_api_key"}
    assert _trail_state(trail_a) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_read_key_reads_but_every_write_is_refused_with_403(endpoint, reader, trail_a):
    before = _trail_state(trail_a)
    response = call(reader, endpoint, trail_a)
    if endpoint.writes:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "read_only"
        assert _trail_state(trail_a) == before
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_read_write_key_may_use_every_endpoint(endpoint, writer, trail_a):
    response = call(writer, endpoint, trail_a)
    assert response.status_code in {200, 201, 204}


def test_a_key_of_workspace_b_works_on_workspace_b_but_sees_none_of_a(workspace_b, keys, trail_a):
    response = api_client(workspace_b, keys.of_b).get("/api/v1/trails")
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert api_client(workspace_b, keys.of_b).get(f"/api/v1/trails/{trail_a.pk}").status_code == 404


# The dashboard's own session ------------------------------------------------------------------------------


def _session(user, workspace, *, enforce_csrf: bool = False) -> Client:
    client = Client(HTTP_HOST=workspace.primary_host, enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_viewer_logged_in_to_the_dashboard_reads_but_cannot_write(endpoint, cast, trail_a):
    before = _trail_state(trail_a)
    response = call(_session(cast.viewer, cast.workspace_a), endpoint, trail_a)
    if endpoint.writes:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "read_only"
        assert _trail_state(trail_a) == before
    else:
        assert response.status_code == 200


def test_an_editor_logged_in_to_the_dashboard_writes_with_the_csrf_token(cast, trail_a):
    client = _session(cast.editor, cast.workspace_a, enforce_csrf=True)
    client.get("/dashboard/")  # sets the CSRF cookie, as it does for the dashboard's own scripts
    token = client.cookies["csrftoken"].value
    response = call(client, ENDPOINTS[4], trail_a, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert _trail_state(trail_a)[0] == EDITED_TRAIL["source"]


def test_a_session_write_without_the_csrf_token_is_refused(cast, trail_a):
    before = _trail_state(trail_a)
    response = call(_session(cast.editor, cast.workspace_a, enforce_csrf=True), ENDPOINTS[4], trail_a)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert _trail_state(trail_a) == before


def test_a_member_of_another_workspace_logged_in_here_gets_401(cast, trail_a):
    response = _session(cast.member_of_b, cast.workspace_a).get(f"/api/v1/trails/{trail_a.pk}")
    assert response.status_code == 401


# X-API-Key, as clients written to the original plan send the key ------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_key_sent_as_x_api_key_works_as_the_bearer_token_does(endpoint, workspace_a, keys, trail_a):
    before = _trail_state(trail_a)
    read = call(api_client(workspace_a, HTTP_X_API_KEY=keys.read), endpoint, trail_a)
    if endpoint.writes:
        assert read.status_code == 403 and read.json()["error"]["code"] == "read_only"
        assert _trail_state(trail_a) == before
    else:
        assert read.status_code == 200
    assert call(api_client(workspace_a, HTTP_X_API_KEY=keys.read_write), endpoint, trail_a).status_code in {
        200,
        201,
        204,
    }


@pytest.mark.parametrize("who", ["revoked key", "another workspace's key", "garbage"])
def test_a_wrong_x_api_key_gets_401(who, workspace_a, keys, trail_a):
    secret = {"revoked key": keys.revoked, "another workspace's key": keys.of_b}.get(who, "qrc_nope")
    response = api_client(workspace_a, HTTP_X_API_KEY=secret).get("/api/v1/trails")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_the_schema_documents_both_ways_of_sending_a_key(workspace_a):
    schema = Client(HTTP_HOST=workspace_a.primary_host).get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["ApiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    operation = schema["paths"]["/api/v1/trails"]["get"]
    assert {"ApiKeyHeader": []} in operation["security"] and {"ApiKeyAuth": []} in operation["security"]
