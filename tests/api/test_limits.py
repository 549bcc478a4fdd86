"""The API's guard rails: rate limits, body size, and bad input answered in the error shape, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Customer
from qrcards.api import MAX_BODY_BYTES
from tests.api.conftest import api_client
from tests.fixtures.trails import trail_markdown
from trails.models import Trail

pytestmark = pytest.mark.usefixtures("one_clock_minute")


def _set_limit(workspace: Customer, per_minute: int) -> None:
    Customer.objects.filter(pk=workspace.pk).update(api_requests_per_minute=per_minute)


def test_a_key_over_its_workspaces_rate_limit_gets_429_with_retry_after(workspace_a, keys):
    _set_limit(workspace_a, 3)
    client = api_client(workspace_a, keys.read)
    assert [client.get("/api/v1/trails").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/trails")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["details"]["limit"] == 3


def test_each_key_has_its_own_count(workspace_a, keys):
    _set_limit(workspace_a, 1)
    assert api_client(workspace_a, keys.read).get("/api/v1/trails").status_code == 200
    assert api_client(workspace_a, keys.read).get("/api/v1/trails").status_code == 429
    assert api_client(workspace_a, keys.read_write).get("/api/v1/trails").status_code == 200


def test_a_refused_write_still_counts_against_the_limit(workspace_a, keys):
    _set_limit(workspace_a, 1)
    client = api_client(workspace_a, keys.read)
    assert client.delete("/api/v1/trails/1").status_code == 403
    assert client.get("/api/v1/trails").status_code == 429


class ExplodingStream:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize("django_limit", [None, MAX_BODY_BYTES], ids=["api's own check", "and Django's"])
@pytest.mark.parametrize("path", ["/api/v1/trails", "/api/v1/trails/preview", "/api/v1/trails/1"])
def test_a_body_over_the_limit_is_refused_with_413_without_being_read(workspace_a, keys, settings, path, django_limit):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = django_limit
    client = api_client(workspace_a, keys.read_write)
    method = "PUT" if path.endswith("/1") else "POST"
    response = client.generic(
        method,
        path,
        content_type="application/json",
        **{"wsgi.input": ExplodingStream(), "CONTENT_LENGTH": str(MAX_BODY_BYTES + 1)},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_real_oversized_document_is_refused_with_413_and_not_saved(workspace_a, keys):
    source = trail_markdown() + "x" * MAX_BODY_BYTES
    response = api_client(workspace_a, keys.read_write).post("/api/v1/trails", {"source": source}, "application/json")
    assert response.status_code == 413
    with schema_context(workspace_a.schema_name):
        assert not Trail.objects.exists()


def test_a_document_at_the_size_limit_fits_in_a_body_however_it_is_escaped(workspace_a, keys):
    # 200 KB of 2-byte characters: JSON escapes each as "\\u00e9", three times the document's size.
    # In lines of 1,000 characters, within dap.MAX_LINE_CHARS.
    text = "é" * (100 * 1024 - len(trail_markdown()))
    source = trail_markdown() + "\n".join(text[i : i + 1000] for i in range(0, len(text), 1000))
    assert len(source.encode()) <= 200 * 1024
    body = json.dumps({"source": source})
    assert len(body) > 2 * 200 * 1024
    response = api_client(workspace_a, keys.read_write).post("/api/v1/trails", body, "application/json")
    assert response.status_code == 201


def test_a_bad_content_length_is_a_400(workspace_a, keys):
    client = api_client(workspace_a, keys.read_write)
    response = client.generic(
        "POST", "/api/v1/trails/preview", "{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        (b"\xff\xfe", 400),
        ("[]", 422),
        ("null", 422),
        ('"source"', 422),
        ('{"source": 12}', 422),
        ('{"source": ["a"]}', 422),
        ('{"source": "## A\\u0000"}', 422),
        ('{"source": "## A\\ud800"}', 422),
        ('{"source": "## A", "status": "deleted"}', 422),
        ("{}", 422),
    ],
)
def test_malformed_or_mistyped_bodies_are_refused_in_the_error_shape(writer, workspace_a, body, status):
    response = writer.generic("POST", "/api/v1/trails", body, content_type="application/json")
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "details"}
    with schema_context(workspace_a.schema_name):
        assert not Trail.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/trails/99999",
        "/api/v1/trails/99999/stops",
        "/api/v1/trails/99999/stops/1/qr.png",
    ],
)
def test_unknown_ids_are_a_404(reader, path):
    response = reader.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/v1/trails/0", "/api/v1/trails/-5", "/api/v1/trails/abc", "/api/v1/trails/" + "9" * 40]
)
def test_ids_that_cannot_be_ids_are_a_422(reader, path):
    response = reader.get(path)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["path", "trail_id"]


def test_a_stale_version_too_large_to_be_one_is_a_422(writer, trail_a):
    body = {"source": trail_a.source, "version": 10**30}
    assert writer.put(f"/api/v1/trails/{trail_a.pk}", body, "application/json").status_code == 422


def test_an_unknown_api_path_is_a_json_404(reader):
    response = reader.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_schema_and_the_interactive_docs_are_served_without_a_key(workspace_a):
    client = Client(HTTP_HOST=workspace_a.primary_host)
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/trails/{trail_id}/stops/{stop_id}/qr.png" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/static/ninja/swagger-ui-bundle.js" in docs.content


def test_the_api_is_not_served_on_the_public_host(cast, keys):
    from tests.fixtures.workspaces import host_client

    assert host_client(None).get("/api/v1/trails", HTTP_AUTHORIZATION=f"Bearer {keys.read}").status_code == 404


def test_a_method_a_path_does_not_take_is_a_json_405_that_says_which_it_does(writer):
    response = writer.patch("/api/v1/trails")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


# Wrong keys ------------------------------------------------------------------------------------------------


@pytest.fixture
def one_minute():
    """Every request of the test falls in the same clock minute of the limits' windows."""
    from unittest import mock

    with mock.patch("qrcards.api.time.time", return_value=(time.time() // 60) * 60 + 1):
        yield


def _guess(workspace: Customer, address: str, secret: str = "qrc_" + "x" * 43, header: str = "bearer"):
    extra = {"REMOTE_ADDR": address}
    if header == "bearer":
        extra["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    else:
        extra["HTTP_X_API_KEY"] = secret
    return Client(HTTP_HOST=workspace.primary_host).get("/api/v1/trails", **extra)


def test_wrong_api_keys_are_limited_per_client_network_on_every_workspace_together(cast, keys, one_minute):
    a, b = cast.workspace_a, cast.workspace_b
    statuses = [
        _guess((a, b)[i % 2], "203.0.113.7", header=("bearer", "x-api-key")[i % 2]).status_code for i in range(20)
    ]

    refused = _guess(a, "203.0.113.7", keys.read)  # the right key too, now: the answer tells a guesser nothing
    neighbour = _guess(b, "203.0.113.200", keys.of_b)  # the same /24

    assert statuses == [401] * 20
    for response in (refused, neighbour):
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        error = response.json()["error"]
        assert error["code"] == "rate_limited" and "wrong API keys" in error["message"]
        assert error["details"]["limit"] == 20
    assert _guess(a, "198.51.100.7", keys.read).status_code == 200  # another network is not held back


def test_wrong_api_keys_from_ipv6_are_counted_per_48_bit_network(cast, keys, one_minute):
    for i in range(20):
        assert _guess(cast.workspace_a, f"2001:db8:1:{i}::1").status_code == 401

    assert _guess(cast.workspace_a, "2001:db8:1:ffff::2", keys.read).status_code == 429
    assert _guess(cast.workspace_a, "2001:db8:2::1", keys.read).status_code == 200


def test_right_keys_and_requests_without_a_key_do_not_count_as_wrong_ones(cast, keys, one_minute):
    for _ in range(25):
        assert _guess(cast.workspace_a, "203.0.113.7", keys.read).status_code == 200
        assert Client(HTTP_HOST=cast.workspace_a.primary_host).get("/api/v1/trails").status_code == 401
    for _ in range(19):
        assert _guess(cast.workspace_a, "203.0.113.7").status_code == 401

    assert _guess(cast.workspace_a, "203.0.113.7", keys.read).status_code == 200


PREVIEWS_A_MINUTE = 60


def test_an_api_key_gets_60_previews_a_minute_then_a_json_429_another_key_does_not(workspace_a, keys):
    reader, writer = api_client(workspace_a, keys.read), api_client(workspace_a, keys.read_write)

    def preview(client):
        return client.post("/api/v1/trails/preview", {"source": trail_markdown()}, "application/json")

    statuses = [preview(reader).status_code for _ in range(PREVIEWS_A_MINUTE)]
    refused = preview(reader)

    assert statuses == [200] * PREVIEWS_A_MINUTE
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert preview(writer).status_code == 200
