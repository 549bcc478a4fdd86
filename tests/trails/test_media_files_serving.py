"""GET /media/<key>/<file>: served on its own workspace's hosts only, cached for good, ranges for audio."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.fixtures.media import audio_upload, image_upload
from tests.fixtures.workspaces import host_client
from trails.media import add_asset, delete_asset


@pytest.fixture
def picture(workspace_a, media_root):
    with schema_context(workspace_a.schema_name):
        return add_asset(name="heron.jpg", upload=image_upload(width=1200, height=900))


@pytest.fixture
def sound(workspace_a, media_root):
    with schema_context(workspace_a.schema_name):
        return add_asset(name="guide.mp3", upload=audio_upload(seconds=3))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_picture_variant_is_served_to_anyone_on_its_workspace_host_with_its_type_and_for_good(picture, client_a):
    response = client_a.get(picture.url("w480.webp"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    data = body(response)
    assert data[:4] == b"RIFF" and len(data) == picture.variants[1]["bytes"]
    assert "Set-Cookie" not in response


def test_every_variant_is_served_with_the_type_its_bytes_have(picture, client_a):
    for variant in picture.variants:
        response = client_a.get(picture.url(variant["file"]))
        assert response.status_code == 200
        assert response["Content-Type"] == variant["type"]


def test_a_pictures_original_is_never_served(picture, client_a):
    # Its bytes are the uploader's, read only by Pillow: a polyglot or a GPS position would travel with them.
    assert client_a.get(picture.url()).status_code == 404
    assert client_a.get(picture.url("original.jpg")).status_code == 404


def test_a_sound_is_served_whole_with_its_type(sound, client_a):
    response = client_a.get(sound.url())

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == sound.bytes == len(body(response))


def test_a_sound_is_served_by_ranges_as_phones_seek(sound, client_a):
    whole = body(client_a.get(sound.url()))

    first = client_a.get(sound.url(), HTTP_RANGE="bytes=0-99")
    middle = client_a.get(sound.url(), HTTP_RANGE="bytes=100-")
    last = client_a.get(sound.url(), HTTP_RANGE="bytes=-50")

    assert (first.status_code, first["Content-Range"], body(first)) == (206, f"bytes 0-99/{len(whole)}", whole[:100])
    assert first["Content-Length"] == "100"
    assert body(middle) == whole[100:] and middle["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert body(last) == whole[-50:]
    assert last["Content-Type"] == "audio/mpeg"


def test_a_range_past_the_end_is_answered_416_and_a_malformed_one_with_the_whole_file(sound, client_a):
    past = client_a.get(sound.url(), HTTP_RANGE=f"bytes={sound.bytes}-")
    several = client_a.get(sound.url(), HTTP_RANGE="bytes=0-1,5-9")
    nonsense = client_a.get(sound.url(), HTTP_RANGE="lines=1-2")

    assert (past.status_code, past["Content-Range"]) == (416, f"bytes */{sound.bytes}")
    assert several.status_code == nonsense.status_code == 200
    assert len(body(several)) == sound.bytes


def test_head_answers_like_get_without_the_body(picture, client_a):
    response = client_a.head(picture.url("w960.jpg"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_unknown_keys_files_and_odd_names_are_404(picture, client_a):
    for path in (
        "/media/AAAAAAAAAAAAAAAAAAAAAA/w480.webp",
        f"/media/{picture.key}/w9999.webp",
        f"/media/{picture.key}/..%2Foriginal.jpg",
        f"/media/{picture.key}/W480.WEBP",
        f"/media/{picture.key}%00/w480.webp",
        f"/media/{'x' * 40}/w480.webp",
    ):
        assert client_a.get(path).status_code in (400, 404), path


def test_post_is_refused(picture, client_a):
    assert client_a.post(picture.url("w480.webp")).status_code == 405


# Isolation --------------------------------------------------------------------------------------------------


def test_a_file_of_workspace_a_is_404_on_workspace_bs_host_for_anyone(cast, picture, sound):
    for user in (None, cast.member_of_b, cast.owner):
        client = host_client(cast.workspace_b)
        if user is not None:
            client.force_login(user)
        for path in (picture.url("w480.webp"), picture.url("thumb.webp"), sound.url()):
            assert client.get(path).status_code == 404, (user, path)


def test_a_file_of_workspace_a_is_404_on_the_public_host(picture, sound, public_client):
    assert public_client.get(picture.url("w480.webp")).status_code == 404
    assert public_client.get(sound.url()).status_code == 404


def test_workspace_a_members_and_anonymous_phones_get_the_file_on_as_host(cast, picture):
    for user in (None, cast.owner, cast.editor, cast.viewer):
        client = host_client(cast.workspace_a)
        if user is not None:
            client.force_login(user)
        assert client.get(picture.url("w480.webp")).status_code == 200


def test_a_deleted_assets_files_are_gone(workspace_a, picture, client_a, django_capture_on_commit_callbacks):
    url = picture.url("w480.webp")
    with schema_context(workspace_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        delete_asset(picture)

    assert client_a.get(url).status_code == 404
