"""Translations over the API: written, read, listed and deleted; matched to the trail's stops by id."""

from __future__ import annotations

from django_tenants.utils import schema_context

from tests.api.conftest import api_client
from tests.trails.test_scanner_languages import ARABIC, FRENCH
from trails.models import TrailTranslation


def test_a_translation_is_created_then_replaced_with_its_version(writer, trail_a):
    url = f"/api/v1/trails/{trail_a.pk}/translations/fr"

    created = writer.put(url, {"source": FRENCH}, "application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["language"], body["name"], body["direction"], body["version"]) == ("fr", "Français", "ltr", 1)
    assert (body["translated"], body["total"]) == (2, 3)
    assert [(stop["key"], stop["title"]) for stop in body["stops"]] == [
        ("clock-tower", "La tour de l'horloge"),
        ("fountain", "La fontaine"),
    ]
    assert [d["code"] for d in body["diagnostics"]] == ["missing-stop"]

    replaced = writer.put(url, {"source": FRENCH.replace("fontaine", "vasque"), "version": 1}, "application/json")
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    stale = writer.put(url, {"source": FRENCH, "version": 1}, "application/json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"


def test_translations_are_listed_and_read_with_a_read_key(writer, reader, trail_a):
    writer.put(f"/api/v1/trails/{trail_a.pk}/translations/ar", {"source": ARABIC}, "application/json")

    listed = reader.get(f"/api/v1/trails/{trail_a.pk}/translations").json()
    detail = reader.get(f"/api/v1/trails/{trail_a.pk}/translations/AR").json()

    assert listed["main_language"] == "en"
    assert [(item["language"], item["name"], item["direction"]) for item in listed["items"]] == [
        ("ar", "العربية", "rtl")
    ]
    assert detail["source"] == ARABIC
    assert (
        reader.put(f"/api/v1/trails/{trail_a.pk}/translations/fr", {"source": FRENCH}, "application/json").status_code
        == 403
    )


def test_an_invalid_translation_or_language_is_a_422_and_nothing_is_saved(writer, trail_a, workspace_a):
    base = f"/api/v1/trails/{trail_a.pk}/translations"

    bad_document = writer.put(f"{base}/fr", {"source": "## A {#Not An Id}\nx"}, "application/json")
    unknown = writer.put(f"{base}/xx", {"source": FRENCH}, "application/json")
    main = writer.put(f"{base}/en", {"source": FRENCH}, "application/json")

    assert bad_document.status_code == 422 and bad_document.json()["error"]["code"] == "invalid_document"
    assert unknown.status_code == 422 and "not a language we offer" in unknown.json()["error"]["message"]
    assert main.status_code == 422 and "main language" in main.json()["error"]["message"]
    with schema_context(workspace_a.schema_name):
        assert not TrailTranslation.objects.exists()


def test_a_deleted_translation_is_gone(writer, trail_a):
    url = f"/api/v1/trails/{trail_a.pk}/translations/fr"
    writer.put(url, {"source": FRENCH}, "application/json")

    assert writer.delete(url).status_code == 204
    assert writer.get(url).status_code == 404
    assert writer.delete(url).status_code == 404


def test_workspace_bs_key_gets_nothing_of_as_translations(writer, trail_a, workspace_a, keys):
    url = f"/api/v1/trails/{trail_a.pk}/translations/fr"
    writer.put(url, {"source": FRENCH}, "application/json")
    b_on_a = api_client(workspace_a, keys.of_b)

    assert b_on_a.get(url).status_code == 401
    assert b_on_a.put(url, {"source": FRENCH.replace("fontaine", "x")}, "application/json").status_code == 401
    assert b_on_a.delete(url).status_code == 401
    assert writer.get(url).json()["stops"][1]["title"] == "La fontaine"


def test_scans_carry_the_language_their_page_was_served_in(writer, reader, trail_a, workspace_a):
    writer.put(f"/api/v1/trails/{trail_a.pk}/translations/fr", {"source": FRENCH}, "application/json")
    with schema_context(workspace_a.schema_name):
        token = trail_a.live_stops().first().token
    phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 Safari/604.1"
    api_client(workspace_a).get(f"/qr/{token}", HTTP_ACCEPT_LANGUAGE="fr-BE, fr;q=0.9", HTTP_USER_AGENT=phone)

    (scan,) = reader.get("/api/v1/scans").json()["items"]

    assert scan["language"] == "fr"
