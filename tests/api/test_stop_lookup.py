"""A stop found by the token on its card, and retired stops listed, so printed cards can be reconciled."""

from __future__ import annotations

from django_tenants.utils import schema_context

from tests.api.conftest import api_client
from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Stop


def _stop(trail, key: str) -> Stop:
    with schema_context("alpha"):
        return trail.stops.get(key=key)


def _retire_the_clock_tower(writer, trail) -> None:
    source = trail_markdown(stops=[("fountain", "The Fountain"), ("bridge", "The Bridge")])
    response = writer.put(f"/api/v1/trails/{trail.pk}", {"source": source}, "application/json")
    assert response.status_code == 200


def test_a_stop_is_found_by_its_token_in_any_case(reader, trail_a):
    fountain = _stop(trail_a, "fountain")

    for typed in (fountain.token, fountain.token.lower(), fountain.token.title()):
        response = reader.get(f"/api/v1/stops/{typed}")
        assert response.status_code == 200
        body = response.json()
        assert (body["id"], body["trail_id"], body["token"], body["retired_at"]) == (
            fountain.pk,
            trail_a.pk,
            fountain.token,
            None,
        )
        assert body["html"] == "<p>About the fountain.</p>\n"


def test_a_retired_stops_token_still_finds_it_and_says_since_when(writer, trail_a):
    clock_tower = _stop(trail_a, "clock-tower")
    _retire_the_clock_tower(writer, trail_a)

    body = writer.get(f"/api/v1/stops/{clock_tower.token}").json()

    assert body["id"] == clock_tower.pk and body["retired_at"] is not None
    assert (body["position"], body["qr_svg"], body["qr_png"]) == (None, None, None)


def test_the_token_of_a_deleted_trails_stop_still_finds_it(writer, trail_a):
    fountain = _stop(trail_a, "fountain")
    writer.delete(f"/api/v1/trails/{trail_a.pk}")

    body = writer.get(f"/api/v1/stops/{fountain.token}").json()

    assert (body["trail_id"], body["retired_at"] is not None) == (trail_a.pk, True)


def test_unknown_tokens_and_other_workspaces_tokens_are_a_404(reader, workspace_a, workspace_b, keys):
    of_b_trail = make_trail(workspace=workspace_b)
    with schema_context("bravo"):
        of_b = of_b_trail.live_stops().first().token
    for token in ("23456789", "0OIL1xyz", of_b, "x" * 64):
        response = reader.get(f"/api/v1/stops/{token}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # The same token is B's on B's host.
    assert api_client(workspace_b, keys.of_b).get(f"/api/v1/stops/{of_b}").status_code == 200


def test_retired_stops_are_listed_after_the_live_ones_only_when_asked_for(writer, trail_a):
    clock_tower = _stop(trail_a, "clock-tower")
    _retire_the_clock_tower(writer, trail_a)
    url = f"/api/v1/trails/{trail_a.pk}/stops"

    live = writer.get(url).json()["items"]
    every = writer.get(f"{url}?include=retired").json()["items"]

    assert [stop["key"] for stop in live] == ["fountain", "bridge"]
    assert [(stop["key"], stop["retired_at"] is not None) for stop in every] == [
        ("fountain", False),
        ("bridge", False),
        ("clock-tower", True),
    ]
    assert every[2]["token"] == clock_tower.token
    assert writer.get(f"{url}?include=everything").status_code == 422
