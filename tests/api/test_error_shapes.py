"""One error shape for every 4xx: the same `details` for the same mistake on any endpoint, unknown body
fields refused by name, and JSON (not an HTML page) for /api/ on the public host."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.workspaces import host_client


def _error(response) -> dict:
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def _shape(details: list[dict]) -> list[tuple]:
    return [(tuple(detail), detail["loc"], detail["type"]) for detail in details]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("start=2026-03-10&end=2026-03-01", ["query"]),  # the first day after the last
        ("start=not-a-day", ["query", "start"]),
        ("start=1999-12-31", ["query", "start"]),
    ],
)
def test_scans_and_stats_describe_the_same_mistake_the_same_way(reader, query, loc):
    scans = _error(reader.get(f"/api/v1/scans?{query}"))
    stats = _error(reader.get(f"/api/v1/stats?{query}"))

    assert scans["code"] == stats["code"] == "invalid_request"
    assert [detail["loc"] for detail in scans["details"]] == [detail["loc"] for detail in stats["details"]] == [loc]
    for detail in scans["details"] + stats["details"]:
        assert set(detail) == {"loc", "message", "type"} and detail["message"]


def test_a_check_of_the_dashboards_form_names_the_field_like_any_other(reader):
    error = _error(reader.get("/api/v1/stats?trail=999999"))  # no such trail: the analytics form says so

    assert [(detail["loc"], set(detail)) for detail in error["details"]] == [
        (["query", "trail"], {"loc", "message", "type"})
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/trails", {"source": "## A\nb\n", "colour": "red"}),
        ("put", "/api/v1/trails/{trail}", {"source": "## A\nb\n", "colour": "red"}),
        ("patch", "/api/v1/trails/{trail}", {"colour": "red"}),
        ("post", "/api/v1/trails/preview", {"source": "## A\nb\n", "colour": "red"}),
    ],
)
def test_an_unknown_body_field_is_a_422_naming_it_and_nothing_is_saved(writer, trail_a, method, path, body):
    response = getattr(writer, method)(path.format(trail=trail_a.pk), json.dumps(body), content_type="application/json")

    error = _error(response)
    assert response.status_code == 422
    assert [(detail["loc"], detail["type"]) for detail in error["details"]] == [(["body", "colour"], "extra_forbidden")]
    assert writer.get("/api/v1/trails").json()["items"][0]["version"] == trail_a.version


def test_a_missing_body_field_is_named_without_the_views_parameter_name(writer):
    error = _error(writer.post("/api/v1/trails", "{}", content_type="application/json"))

    assert [detail["loc"] for detail in error["details"]] == [["body", "source"]]


@pytest.mark.parametrize("path", ["/api/v1/trails", "/api/v1/", "/api/v1/docs", "/api/anything"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_api_on_the_public_host_answers_a_json_404_that_says_where_it_is(cast, path, method):
    response = getattr(host_client(None), method)(path)

    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "not_found" and "workspace" in error["message"]
