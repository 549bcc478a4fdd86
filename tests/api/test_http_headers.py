"""What every answer carries: ETag and 304 on reads, Location on 201, and the caller's rate-limit headers."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import Customer
from tests.api.conftest import api_client
from tests.fixtures.trails import trail_markdown

pytestmark = pytest.mark.usefixtures("one_clock_minute")


@pytest.mark.parametrize(
    "path", ["/api/v1/trails", "/api/v1/trails/{trail}", "/api/v1/trails/{trail}/stops", "/api/v1/stats"]
)
def test_a_read_sent_again_with_its_etag_is_a_304_without_a_body(reader, trail_a, path):
    url = path.format(trail=trail_a.pk)
    first = reader.get(url)
    etag = first["ETag"]

    again = reader.get(url, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    assert again["RateLimit-Remaining"]


def test_the_etag_changes_when_the_trail_does(reader, writer, trail_a):
    url = f"/api/v1/trails/{trail_a.pk}"
    etag = reader.get(url)["ETag"]
    writer.patch(url, json.dumps({"status": "archived"}), content_type="application/json")

    changed = reader.get(url, HTTP_IF_NONE_MATCH=etag)

    assert changed.status_code == 200 and changed.json()["status"] == "archived"
    assert changed["ETag"] != etag


def test_a_qr_image_has_an_etag_too(reader, trail_a):
    from django_tenants.utils import schema_context

    with schema_context("alpha"):
        stop = trail_a.live_stops().first()
    url = f"/api/v1/trails/{trail_a.pk}/stops/{stop.pk}/qr.svg"
    assert reader.get(url, HTTP_IF_NONE_MATCH=reader.get(url)["ETag"]).status_code == 304


def test_a_created_trail_is_answered_with_its_location(writer, trail_a):
    response = writer.post("/api/v1/trails", {"source": trail_markdown(title="Harbour")}, "application/json")

    assert response.status_code == 201
    location = response["Location"]
    assert location == f"/api/v1/trails/{response.json()['trail']['id']}"
    assert writer.get(location).json()["title"] == "Harbour"


def _rate_headers(response) -> tuple[int, int, int]:
    return (int(response["RateLimit-Limit"]), int(response["RateLimit-Remaining"]), int(response["RateLimit-Reset"]))


def test_every_answer_after_authentication_says_where_the_caller_stands(workspace_a, keys, trail_a):
    Customer.objects.filter(pk=workspace_a.pk).update(api_requests_per_minute=5)
    client = api_client(workspace_a, keys.read)
    answers = [
        client.get("/api/v1/trails"),  # 200
        client.get("/api/v1/trails/999999"),  # 404
        client.get("/api/v1/trails?limit=0"),  # 422
        client.post("/api/v1/trails", {"source": "x"}, "application/json"),  # 403: a read key
        client.get("/api/v1/trails"),  # 200, the fifth
        client.get("/api/v1/trails"),  # 429
    ]

    assert [answer.status_code for answer in answers] == [200, 404, 422, 403, 200, 429]
    limits = [_rate_headers(answer) for answer in answers]
    assert [(limit, remaining) for limit, remaining, _ in limits] == [(5, 4), (5, 3), (5, 2), (5, 1), (5, 0), (5, 0)]
    assert all(1 <= reset <= 60 for _, _, reset in limits)


def test_the_session_of_a_member_has_its_own_count(cast, workspace_a):
    client = Client(HTTP_HOST=workspace_a.primary_host)
    client.force_login(cast.viewer)

    response = client.get("/api/v1/trails")

    assert _rate_headers(response)[:2] == (workspace_a.api_requests_per_minute, workspace_a.api_requests_per_minute - 1)


def test_an_unauthenticated_request_is_not_counted_against_anyone(workspace_a):
    response = api_client(workspace_a).get("/api/v1/trails")

    assert response.status_code == 401 and "RateLimit-Remaining" not in response
