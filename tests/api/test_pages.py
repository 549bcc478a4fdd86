"""Cursor pages with `limit` on every list: each item once, in order, however the list changes between pages."""

from __future__ import annotations

import pytest

from qrcards.api_fields import _encode_cursor
from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Trail


def _walk(client, url: str, limit: int) -> tuple[list[dict], int]:
    """Every item of a list, following next_cursor while has_more; and how many pages it took."""
    items, cursor, pages = [], "", 0
    while True:
        page = client.get(url, {"limit": limit, "cursor": cursor} if cursor else {"limit": limit}).json()
        items += page["items"]
        pages += 1
        if not page["has_more"]:
            return items, pages
        cursor = page["next_cursor"]


@pytest.fixture
def five_trails(workspace_a) -> list[Trail]:
    # Two share a title: the cursor holds the id too, so neither is skipped nor listed twice.
    titles = ["Bridges", "Castles", "Castles", "Docks", "Abbeys"]
    return [make_trail(workspace=workspace_a, source=trail_markdown(title=title)) for title in titles]


def test_trails_come_a_page_at_a_time_by_title_each_once(reader, five_trails):
    items, pages = _walk(reader, "/api/v1/trails", limit=2)

    assert pages == 3
    assert [item["title"] for item in items] == ["Abbeys", "Bridges", "Castles", "Castles", "Docks"]
    assert sorted(item["id"] for item in items) == sorted(trail.pk for trail in five_trails)


def test_a_trail_added_before_the_cursor_is_not_listed_again_nor_skips_one_after_it(reader, workspace_a, five_trails):
    first = reader.get("/api/v1/trails", {"limit": 2}).json()
    make_trail(workspace=workspace_a, source=trail_markdown(title="Aardvarks"))

    rest = reader.get("/api/v1/trails", {"limit": 10, "cursor": first["next_cursor"]}).json()

    assert [item["title"] for item in rest["items"]] == ["Castles", "Castles", "Docks"]


def test_a_trails_stops_come_a_page_at_a_time_in_trail_order(reader, workspace_a):
    stops = [(f"s{n}", f"Stop {n}") for n in range(1, 8)]
    trail = make_trail(workspace=workspace_a, source=trail_markdown(stops=stops))

    items, pages = _walk(reader, f"/api/v1/trails/{trail.pk}/stops", limit=3)

    assert pages == 3
    assert [item["position"] for item in items] == [1, 2, 3, 4, 5, 6, 7]


def test_the_last_pages_cursor_is_kept_to_ask_again_later(reader, trail_a, workspace_a):
    last = reader.get("/api/v1/trails", {"limit": 10}).json()
    assert (last["has_more"], len(last["items"])) == (False, 1)
    make_trail(workspace=workspace_a, source=trail_markdown(title="Zoo Walk"))

    later = reader.get("/api/v1/trails", {"cursor": last["next_cursor"]}).json()

    assert [item["title"] for item in later["items"]] == ["Zoo Walk"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        _encode_cursor(["title"]),  # too few values
        _encode_cursor([1, 2]),  # a title that is a number
        _encode_cursor(["A\x00", 1]),  # NUL: PostgreSQL can't compare it
        _encode_cursor(["A", 2**64]),  # past a bigint
        _encode_cursor(["A", True]),
    ],
)
def test_a_cursor_the_api_did_not_give_is_a_422_naming_it(reader, trail_a, cursor):
    response = reader.get("/api/v1/trails", {"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("limit", [0, 1001, "many"])
def test_a_limit_out_of_range_is_a_422(reader, trail_a, limit):
    assert reader.get("/api/v1/trails", {"limit": limit}).status_code == 422
