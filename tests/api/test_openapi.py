"""The OpenAPI document as an integrator reads it: real examples, every error code an operation can answer
with an example, the headers it sends, links between operations, and no Python names."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

import dap


@pytest.fixture
def schema(workspace_a) -> dict:
    """As served, the way a client or a code generator gets it."""
    return Client(HTTP_HOST=workspace_a.primary_host).get("/api/v1/openapi.json").json()


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_creating_a_trail_has_a_sample_markdown_trail_that_assembles_cleanly(schema):
    body = schema["paths"]["/api/v1/trails"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    (example,) = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["examples"]

    assembly = dap.assemble(example["source"])
    assert assembly.ok and [stop.id for stop in assembly.stops] == ["fountain", "clock-tower", "bridge"]


def test_every_operation_lists_its_error_codes_each_with_an_example_in_the_error_shape(schema):
    for path, method, operation in _operations(schema):
        for status in ("401", "404", "422", "429"):
            answer = operation["responses"][status]
            examples = answer["content"]["application/json"]["examples"]
            assert examples, f"{method} {path} {status}"
            for code, example in examples.items():
                assert example["value"]["error"]["code"] == code
                assert f"`{code}`" in answer["description"]


def test_error_codes_are_listed_where_they_can_happen(schema):
    def codes(path: str, method: str, status: str) -> set[str]:
        return set(schema["paths"][path][method]["responses"][status]["content"]["application/json"]["examples"])

    assert "stale_version" in codes("/api/v1/trails/{trail_id}", "patch", "409")
    assert "idempotency_key_reused" in codes("/api/v1/trails", "post", "409")
    assert "invalid_document" in codes("/api/v1/trails", "post", "422")
    assert "invalid_document" not in codes("/api/v1/scans", "get", "422")
    assert "invalid_qr_options" in codes("/api/v1/trails/{trail_id}/qr.zip", "get", "422")
    assert "read_only" in codes("/api/v1/trails/{trail_id}", "delete", "403")
    assert "read_only" not in codes("/api/v1/trails/{trail_id}", "get", "403")


def test_reads_document_etag_and_304_writes_document_idempotency_and_all_the_rate_limit_headers(schema):
    for _, method, operation in _operations(schema):
        parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
        success = next(answer for status, answer in operation["responses"].items() if status.startswith("2"))
        assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(success["headers"])
        if method == "get":
            assert "304" in operation["responses"] and "If-None-Match" in parameters
        if method == "post":
            assert "Idempotency-Key" in parameters
    created = schema["paths"]["/api/v1/trails"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]


def test_a_created_trail_links_to_what_can_be_done_with_it(schema):
    links = schema["paths"]["/api/v1/trails"]["post"]["responses"]["201"]["links"]
    ids = {operation["operationId"] for _, _, operation in _operations(schema)}

    assert {link["operationId"] for link in links.values()} == {
        "getTrail",
        "patchTrail",
        "updateTrail",
        "listStops",
        "deleteTrail",
    }
    assert {link["operationId"] for link in links.values()} <= ids
    assert all(link["parameters"] == {"trail_id": "$response.body#/trail/id"} for link in links.values())


def test_no_python_names_leak(schema):
    text = json.dumps(schema)
    names = set(schema["components"]["schemas"])

    assert not re.search(r'"title": "[A-Z][a-z]+(?:[A-Z][a-z]+)+"', text)  # pydantic's class-name titles
    internal = ("Out", "Create", "Created", "Change", "Patch", "Update", "Query", "Filters")
    assert not any(name.endswith(internal) for name in names), names
    for _, _, operation in _operations(schema):
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation["operationId"]), operation["operationId"]
    assert "__" not in text and "trails.api" not in text and "scans_api" not in text


def test_the_api_keys_page_links_to_the_docs(cast, client_a):
    client_a.force_login(cast.owner)

    page = client_a.get("/dashboard/api-keys/").content.decode()

    assert 'href="/api/v1/docs"' in page
    assert client_a.get("/api/v1/docs").status_code == 200
