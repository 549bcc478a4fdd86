"""The media library through /api/v1/media: upload, list, get, rename, delete, and every refusal's answer."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from tests.api.conftest import api_client
from tests.fixtures.media import audio_bytes, bomb_png, image_bytes, polyglot_png
from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Asset, Trail


def jpeg(name: str = "heron.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(width=1000, height=750, **kwargs), content_type="image/jpeg")


def upload(client, *files, **fields):
    return client.post("/api/v1/media", {"file": list(files), **fields})


def names(workspace) -> list[str]:
    with schema_context(workspace.schema_name):
        return list(Asset.objects.values_list("name", flat=True))


@pytest.fixture(autouse=True)
def _own_media_root(media_root):
    pass


def test_an_upload_answers_201_with_the_item_its_variants_and_its_address(writer, workspace_a):
    response = upload(writer, jpeg("Heron at Dusk.jpg"))

    assert response.status_code == 201
    (item,) = response.json()["items"]
    assert (item["name"], item["kind"], item["content_type"]) == ("heron-at-dusk.jpg", "image", "image/jpeg")
    assert (item["width"], item["height"], item["duration"]) == (1000, 750, None)
    assert item["url"].startswith(f"http://{workspace_a.primary_host}/media/") and item["url"].endswith("/w960.webp")
    assert {(v["role"], v["type"], v["width"]) for v in item["variants"]} >= {
        ("display", "image/webp", 480),
        ("display", "image/jpeg", 960),
        ("thumb", "image/webp", 320),
    }
    assert response["Location"] == f"/api/v1/media/{item['id']}"
    assert writer.get(item["variants"][0]["url"]).status_code == 200


def test_several_files_at_once_and_a_name_for_a_single_one(writer, workspace_a):
    many = upload(writer, jpeg("a.jpg"), SimpleUploadedFile("b.mp3", audio_bytes(seconds=2)))
    named = upload(writer, jpeg(), name="tower.jpg")

    assert many.status_code == named.status_code == 201
    assert [item["name"] for item in many.json()["items"]] == ["a.jpg", "b.mp3"]
    assert many.json()["items"][1]["duration"] == pytest.approx(2, abs=0.2)
    assert "Location" not in many
    assert named.json()["items"][0]["name"] == "tower.jpg"
    assert sorted(names(workspace_a)) == ["a.jpg", "b.mp3", "tower.jpg"]


def test_a_name_with_several_files_is_refused(writer, workspace_a):
    response = upload(writer, jpeg("a.jpg"), jpeg("b.jpg"), name="one.jpg")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "name"]
    assert names(workspace_a) == []


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"<html><body><script>alert(1)</script></body></html>", 415, "markup"),
        (b"just some text, named like a picture", 415, "unsupported_type"),
        (polyglot_png(), 415, "markup"),
        (bomb_png(), 413, "too_many_pixels"),
        (image_bytes()[:2000], 422, "unreadable"),
    ],
    ids=["html", "text", "polyglot", "bomb", "cut"],
)
def test_refusals_answer_in_the_error_shape_naming_the_file(writer, workspace_a, content, status, code):
    response = upload(writer, SimpleUploadedFile("heron.jpg", content, content_type="image/jpeg"))

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert error["details"] == {"file": "heron.jpg", "index": 0}
    assert names(workspace_a) == []


def test_one_refused_file_keeps_none_of_the_request(writer, workspace_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(writer, jpeg("a.jpg"), jpeg("b.jpg"), SimpleUploadedFile("c.jpg", b"<svg></svg>"))

    assert response.status_code == 415
    assert response.json()["error"]["details"]["index"] == 2
    assert names(workspace_a) == []


def test_too_large_too_many_and_over_quota_are_413(writer, workspace_a, settings):
    settings.MEDIA_MAX_FILES_PER_UPLOAD = 2
    too_many = upload(writer, jpeg("a.jpg"), jpeg("b.jpg"), jpeg("c.jpg"))
    settings.MEDIA_MAX_IMAGE_MB = 0
    too_large = upload(writer, jpeg())
    settings.MEDIA_MAX_IMAGE_MB = 20
    settings.MEDIA_QUOTA_MB = 0
    over_quota = upload(writer, jpeg())

    assert [r.status_code for r in (too_many, too_large, over_quota)] == [413, 413, 413]
    assert [r.json()["error"]["code"] for r in (too_many, too_large, over_quota)] == [
        "too_many_files",
        "too_large",
        "quota_exceeded",
    ]
    assert over_quota.json()["error"]["details"]["allowed_bytes"] == 0
    assert names(workspace_a) == []


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(writer, settings):
    settings.MEDIA_MAX_IMAGE_MB = settings.MEDIA_MAX_AUDIO_MB = 0  # a request may then carry 1 MB

    response = upload(writer, SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + bytes(1024 * 1024)))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert response.json()["error"]["details"] == {"limit_bytes": 1024 * 1024}


def test_a_name_in_use_is_409(writer):
    upload(writer, jpeg(), name="heron.jpg")

    response = upload(writer, jpeg(), name="heron.jpg")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "name_in_use"


def test_a_retry_with_the_same_idempotency_key_stores_nothing_twice(writer, workspace_a):
    key = str(uuid.uuid4())
    data = image_bytes(width=800, height=600)

    first = writer.post("/api/v1/media", {"file": SimpleUploadedFile("heron.jpg", data)}, HTTP_IDEMPOTENCY_KEY=key)
    again = writer.post("/api/v1/media", {"file": SimpleUploadedFile("heron.jpg", data)}, HTTP_IDEMPOTENCY_KEY=key)
    other = writer.post(
        "/api/v1/media", {"file": SimpleUploadedFile("heron.jpg", data[:-1] + b"\0")}, HTTP_IDEMPOTENCY_KEY=key
    )

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 409)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert names(workspace_a) == ["heron.jpg"]


def test_the_list_pages_by_name_and_filters(writer, reader):
    for name in ("c.jpg", "a.jpg", "b.jpg"):
        upload(writer, jpeg(), name=name)
    upload(writer, SimpleUploadedFile("guide.mp3", audio_bytes()))

    first = reader.get("/api/v1/media?limit=2").json()
    second = reader.get(f"/api/v1/media?limit=2&cursor={first['next_cursor']}").json()
    sounds = reader.get("/api/v1/media?kind=audio").json()
    found = reader.get("/api/v1/media?q=B.").json()

    assert [i["name"] for i in first["items"]] == ["a.jpg", "b.jpg"] and first["has_more"]
    assert [i["name"] for i in second["items"]] == ["c.jpg", "guide.mp3"] and not second["has_more"]
    assert [i["name"] for i in sounds["items"]] == ["guide.mp3"]
    assert [i["name"] for i in found["items"]] == ["b.jpg"]


def test_get_says_which_trails_use_it(writer, reader, workspace_a):
    item = upload(writer, jpeg(), name="heron.jpg").json()["items"][0]
    trail = make_trail(workspace=workspace_a, source=trail_markdown() + "\n![A heron](heron.jpg)\n")

    response = reader.get(f"/api/v1/media/{item['id']}")

    assert response.status_code == 200
    assert response.json()["used_by"] == [{"trail_id": trail.pk, "title": "Old Town Walk", "language": None}]
    assert reader.get("/api/v1/media/999999").status_code == 404


def test_renaming_rewrites_the_trails_that_use_it(writer, workspace_a):
    item = upload(writer, jpeg(), name="heron.jpg").json()["items"][0]
    trail = make_trail(workspace=workspace_a, source=trail_markdown() + "\n![A heron](heron.jpg)\n")

    response = writer.patch(f"/api/v1/media/{item['id']}", {"name": "grey-heron.jpg"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["name"] == "grey-heron.jpg"
    with schema_context(workspace_a.schema_name):
        assert "![A heron](grey-heron.jpg)" in Trail.objects.get(pk=trail.pk).source


def test_renaming_to_a_name_in_use_or_an_unusable_one_is_refused(writer, workspace_a):
    item = upload(writer, jpeg(), name="heron.jpg").json()["items"][0]
    upload(writer, jpeg(), name="tower.jpg")

    taken = writer.patch(f"/api/v1/media/{item['id']}", {"name": "tower.jpg"}, content_type="application/json")
    odd = writer.patch(f"/api/v1/media/{item['id']}", {"name": "../x"}, content_type="application/json")

    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "name_in_use")
    assert odd.status_code == 422
    assert sorted(names(workspace_a)) == ["heron.jpg", "tower.jpg"]


def test_deleting_is_204_and_refused_with_409_while_a_trail_uses_it(writer, workspace_a):
    used = upload(writer, jpeg(), name="heron.jpg").json()["items"][0]
    unused = upload(writer, jpeg(), name="tower.jpg").json()["items"][0]
    make_trail(workspace=workspace_a, source=trail_markdown() + "\n![A heron](heron.jpg)\n")

    refused = writer.delete(f"/api/v1/media/{used['id']}")
    deleted = writer.delete(f"/api/v1/media/{unused['id']}")

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "media_in_use")
    assert refused.json()["error"]["details"]["used_by"][0]["title"] == "Old Town Walk"
    assert deleted.status_code == 204
    assert names(workspace_a) == ["heron.jpg"]
    assert writer.get(unused["url"]).status_code == 404


def test_a_read_key_lists_and_gets_but_cannot_change(writer, reader, workspace_a):
    item = upload(writer, jpeg(), name="heron.jpg").json()["items"][0]

    assert reader.get("/api/v1/media").status_code == 200
    assert reader.get(f"/api/v1/media/{item['id']}").status_code == 200
    for response in (
        upload(reader, jpeg("x.jpg")),
        reader.patch(f"/api/v1/media/{item['id']}", {"name": "x.jpg"}, content_type="application/json"),
        reader.delete(f"/api/v1/media/{item['id']}"),
    ):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "read_only")
    assert names(workspace_a) == ["heron.jpg"]


def test_workspace_bs_key_and_anonymous_callers_get_nothing_of_as_media(writer, workspace_a, workspace_b, keys):
    item = upload(writer, jpeg(), name="heron.jpg").json()["items"][0]
    b_on_b = api_client(workspace_b, keys.of_b)
    b_on_a = api_client(workspace_a, keys.of_b)
    anonymous = api_client(workspace_a)

    assert b_on_b.get("/api/v1/media").json()["items"] == []
    for client in (b_on_b, b_on_a, anonymous):
        expected = 404 if client is b_on_b else 401
        assert client.get(f"/api/v1/media/{item['id']}").status_code == expected
        assert (
            client.patch(f"/api/v1/media/{item['id']}", {"name": "x.jpg"}, content_type="application/json").status_code
            == expected
        )
        assert client.delete(f"/api/v1/media/{item['id']}").status_code == expected
    assert b_on_a.get("/api/v1/media").status_code == anonymous.get("/api/v1/media").status_code == 401
    assert upload(b_on_a, jpeg("x.jpg")).status_code == upload(anonymous, jpeg("y.jpg")).status_code == 401
    assert upload(b_on_b, jpeg("z.jpg")).status_code == 201
    assert names(workspace_a) == ["heron.jpg"]
    # and B's upload went to B
    assert names(workspace_b) == ["z.jpg"]


def test_a_dashboard_session_uploads_as_its_role_allows(cast, workspace_a):
    from django.test import Client

    viewer = Client(HTTP_HOST=workspace_a.primary_host)
    viewer.force_login(cast.viewer)
    editor = Client(HTTP_HOST=workspace_a.primary_host)
    editor.force_login(cast.editor)
    member_of_b = Client(HTTP_HOST=workspace_a.primary_host)
    member_of_b.force_login(cast.member_of_b)

    assert upload(viewer, jpeg("v.jpg")).status_code == 403
    assert upload(member_of_b, jpeg("b.jpg")).status_code == 401
    assert upload(editor, jpeg("e.jpg")).status_code == 201
    assert names(workspace_a) == ["e.jpg"]
