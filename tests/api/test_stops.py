"""Stops and their QR codes over the API, with the dashboard's QR options."""

from __future__ import annotations

import io

import zxingcpp
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures.trails import trail_markdown


def _stops(trail):
    with schema_context("alpha"):
        return list(trail.live_stops())


def _decode_png(content: bytes) -> list[str]:
    image = Image.open(io.BytesIO(content)).convert("RGB")
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_a_trails_stops_are_listed_in_order_with_their_tokens(reader, trail_a):
    stops = _stops(trail_a)
    body = reader.get(f"/api/v1/trails/{trail_a.pk}/stops").json()
    assert [(item["id"], item["token"], item["position"]) for item in body["items"]] == [
        (stop.pk, stop.token, stop.position) for stop in stops
    ]


def test_a_stop_is_fetched_with_its_html(reader, trail_a):
    stop = _stops(trail_a)[1]
    body = reader.get(f"/api/v1/trails/{trail_a.pk}/stops/{stop.pk}").json()
    assert (body["title"], body["html"]) == ("Clock Tower", "<p>About clock tower.</p>\n")


def test_a_retired_stop_says_so_and_has_no_qr_code_and_a_stop_of_another_trail_is_not_found(writer, trail_a):
    clock_tower = _stops(trail_a)[1]
    writer.put(f"/api/v1/trails/{trail_a.pk}", {"source": trail_markdown(stops=[("bridge", "B")])}, "application/json")
    retired = writer.get(f"/api/v1/trails/{trail_a.pk}/stops/{clock_tower.pk}").json()
    assert retired["retired_at"] is not None and retired["position"] is None and retired["qr_svg"] is None
    assert writer.get(f"/api/v1/trails/{trail_a.pk}/stops/{clock_tower.pk}/qr.svg").status_code == 404
    other = writer.post("/api/v1/trails", {"source": trail_markdown(title="Other")}, "application/json").json()
    bridge = _stops(trail_a)[0]
    assert writer.get(f"/api/v1/trails/{other['trail']['id']}/stops/{bridge.pk}").status_code == 404


def test_the_png_scans_to_the_stops_url_at_the_size_asked_for(reader, trail_a):
    stop = _stops(trail_a)[0]
    response = reader.get(f"/api/v1/trails/{trail_a.pk}/stops/{stop.pk}/qr.png?size_px=256&error_correction=H")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert f"{stop.token}.png" in response["Content-Disposition"]
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)
    assert _decode_png(response.content) == [f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{stop.token}"]


def test_the_svg_takes_the_print_size_and_colours(reader, trail_a):
    stop = _stops(trail_a)[0]
    query = "size_mm=25&foreground=%23112233&background=%23fafafa"
    response = reader.get(f"/api/v1/trails/{trail_a.pk}/stops/{stop.pk}/qr.svg?{query}")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert 'width="25mm"' in svg and 'fill="#112233"' in svg and 'fill="#fafafa"' in svg


def test_qr_options_the_dashboard_refuses_are_a_422_saying_why(reader, trail_a):
    stop = _stops(trail_a)[0]
    base = f"/api/v1/trails/{trail_a.pk}/stops/{stop.pk}"
    low_contrast = reader.get(f"{base}/qr.svg?foreground=%23777777&background=%23888888")
    assert low_contrast.status_code == 422
    assert "contrast" in low_contrast.json()["error"]["message"]
    assert low_contrast.json()["error"]["details"][0]["loc"] == ["query", "foreground"]
    out_of_range = reader.get(f"{base}/qr.png?size_px=99999")
    assert out_of_range.status_code == 422
    assert out_of_range.json()["error"]["details"][0]["loc"] == ["query", "size_px"]
    assert reader.get(f"{base}/qr.png?foreground=red").status_code == 422


def test_listing_stops_costs_the_same_queries_for_three_stops_as_for_twelve(reader, workspace_a, trail_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.fixtures.trails import make_trail

    long_trail = make_trail(
        workspace=workspace_a, source=trail_markdown(title="Long", stops=[(f"s{i}", f"Stop {i}") for i in range(12)])
    )
    reader.get(f"/api/v1/trails/{trail_a.pk}/stops")  # the key's first use of the minute records itself
    counts = []
    for trail in (trail_a, long_trail):
        with CaptureQueriesContext(connection) as queries:
            assert reader.get(f"/api/v1/trails/{trail.pk}/stops").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
