"""Trails over the API: created and updated from Markdown, previewed, listed, fetched and deleted."""

from __future__ import annotations

from django_tenants.utils import schema_context

from tests.api.conftest import api_client
from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Stop, Trail

DUPLICATE_IDS = '+++\ntitle = "Twice"\n+++\n## One {#same}\nA.\n\n## Two {#same}\nB.\n'


def _trails(workspace) -> list[Trail]:
    with schema_context(workspace.schema_name):
        return list(Trail.objects.all())


def test_a_trail_is_created_from_markdown_with_its_stops_and_the_assembly(writer, workspace_a):
    response = writer.post(
        "/api/v1/trails", {"source": trail_markdown(title="Harbour Walk"), "status": "published"}, "application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["trail"]["title"] == "Harbour Walk"
    assert body["trail"]["status"] == "published"
    assert [stop["key"] for stop in body["trail"]["stops"]] == ["fountain", "clock-tower", "bridge"]
    assert body["assembly"]["ok"] is True
    assert body["assembly"]["stops"][0]["html"] == "<p>About the fountain.</p>\n"
    (trail,) = _trails(workspace_a)
    assert (trail.title, trail.status, trail.version) == ("Harbour Walk", "published", 1)
    stop = body["trail"]["stops"][0]
    assert stop["url"] == f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{stop['token']}"
    assert stop["qr_svg"].endswith(f"/api/v1/trails/{trail.pk}/stops/{stop['id']}/qr.svg")


def test_an_invalid_document_is_a_422_carrying_the_diagnostics_and_nothing_is_saved(writer, workspace_a):
    response = writer.post("/api/v1/trails", {"source": DUPLICATE_IDS}, "application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_document"
    (diagnostic,) = error["details"]["diagnostics"]
    assert (diagnostic["line"], diagnostic["severity"], diagnostic["code"]) == (7, "error", "duplicate-id")
    assert _trails(workspace_a) == []


def test_an_update_keeps_the_tokens_of_surviving_stops_and_retires_the_others(writer, trail_a, workspace_a):
    with schema_context(workspace_a.schema_name):
        tokens = {stop.key: stop.token for stop in trail_a.live_stops()}
    source = trail_markdown(stops=[("bridge", "The Bridge"), ("fountain", "The Fountain"), ("gate", "City Gate")])
    response = writer.put(f"/api/v1/trails/{trail_a.pk}", {"source": source, "version": 1}, "application/json")
    assert response.status_code == 200
    stops = response.json()["trail"]["stops"]
    assert [(stop["key"], stop["position"]) for stop in stops] == [("bridge", 1), ("fountain", 2), ("gate", 3)]
    assert stops[0]["token"] == tokens["bridge"] and stops[1]["token"] == tokens["fountain"]
    assert response.json()["trail"]["version"] == 2
    with schema_context(workspace_a.schema_name):
        assert Stop.objects.get(token=tokens["clock-tower"]).is_retired


def test_an_update_from_a_stale_version_is_a_409_and_keeps_the_newer_text(writer, trail_a, workspace_a):
    writer.put(
        f"/api/v1/trails/{trail_a.pk}", {"source": trail_markdown(title="First"), "version": 1}, "application/json"
    )
    response = writer.put(
        f"/api/v1/trails/{trail_a.pk}", {"source": trail_markdown(title="Second"), "version": 1}, "application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"
    assert _trails(workspace_a)[0].title == "First"


def test_an_update_can_publish_archive_or_unpublish_the_trail(writer, workspace_a):
    trail = make_trail(workspace=workspace_a, published=False)
    for status in ("published", "archived", "draft"):
        body = {"source": trail.source, "status": status}
        assert writer.put(f"/api/v1/trails/{trail.pk}", body, "application/json").json()["trail"]["status"] == status
        assert _trails(workspace_a)[0].status == status


def test_an_invalid_update_is_a_422_and_the_trail_is_unchanged(writer, trail_a, workspace_a):
    response = writer.put(f"/api/v1/trails/{trail_a.pk}", {"source": DUPLICATE_IDS}, "application/json")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["diagnostics"][0]["code"] == "duplicate-id"
    assert _trails(workspace_a)[0].source == trail_a.source


def test_deleting_a_trail_retires_its_tokens_so_printed_cards_lead_somewhere(writer, trail_a, workspace_a):
    with schema_context(workspace_a.schema_name):
        token = trail_a.live_stops().first().token
    assert writer.delete(f"/api/v1/trails/{trail_a.pk}").status_code == 204
    assert writer.get(f"/api/v1/trails/{trail_a.pk}").status_code == 404
    assert writer.get("/api/v1/trails").json()["items"] == []
    with schema_context(workspace_a.schema_name):
        assert Stop.objects.get(token=token).is_retired
    assert api_client(workspace_a).get(f"/qr/{token}").status_code == 410


def test_a_preview_assembles_the_document_without_saving_it_errors_and_all(reader, workspace_a):
    response = reader.post("/api/v1/trails/preview", {"source": DUPLICATE_IDS}, "application/json")
    assert response.status_code == 200
    assembly = response.json()
    assert assembly["ok"] is False
    assert [stop["title"] for stop in assembly["stops"]] == ["One", "Two"]
    assert assembly["diagnostics"][0]["code"] == "duplicate-id"
    assert _trails(workspace_a) == []


def test_the_list_filters_by_status_and_searches_titles(reader, workspace_a):
    make_trail(workspace=workspace_a, source=trail_markdown(title="Old Town Walk"), published=True)
    make_trail(workspace=workspace_a, source=trail_markdown(title="Harbour Walk"), published=False)
    make_trail(workspace=workspace_a, source=trail_markdown(title="Museum Tour"), published=False)

    def titles(query: str) -> list[str]:
        return [trail["title"] for trail in reader.get(f"/api/v1/trails{query}").json()["items"]]

    assert titles("") == ["Harbour Walk", "Museum Tour", "Old Town Walk"]
    assert titles("?status=draft") == ["Harbour Walk", "Museum Tour"]
    assert titles("?q=walk") == ["Harbour Walk", "Old Town Walk"]
    assert titles("?status=published&q=walk") == ["Old Town Walk"]
    assert reader.get("/api/v1/trails?status=gone").status_code == 422


def test_a_trail_is_fetched_with_its_source_and_live_stops(reader, trail_a):
    body = reader.get(f"/api/v1/trails/{trail_a.pk}").json()
    assert body["source"] == trail_a.source
    assert body["stop_count"] == 3 and len(body["stops"]) == 3


def test_a_trail_of_another_workspace_is_not_found(workspace_b, keys, trail_a):
    client = api_client(workspace_b, keys.of_b)
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/v1/trails/{trail_a.pk}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_the_call_to_action_in_the_front_matter_comes_back_with_the_trail_and_its_assembly(writer, workspace_a):
    source = '+++\ntitle = "Bells"\ncall_to_action = "Scan to hear the bells"\n+++\n## One {#one}\nA.\n'

    body = writer.post("/api/v1/trails", {"source": source}, "application/json").json()

    assert body["trail"]["call_to_action"] == body["assembly"]["call_to_action"] == "Scan to hear the bells"
