"""The media library on a real S3 API (moto's server, tests/fixtures/s3.py) through django-storages: no mocks."""

from __future__ import annotations

import httpx
import pytest
from django_tenants.utils import schema_context

from tests.fixtures.media import audio_upload, image_upload
from trails import media
from trails.media import MediaRefused, add_asset, delete_asset, replace_asset
from trails.models import Asset


@pytest.fixture
def in_a(workspace_a, s3_media):
    with schema_context(workspace_a.schema_name):
        yield workspace_a


def fetch(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


def test_an_upload_lands_in_the_bucket_with_its_variants_types_and_cache_headers(in_a, s3_media):
    asset = add_asset(name="heron.jpg", upload=image_upload(width=1200, height=900, gps=True))

    prefix = f"workspaces/{in_a.schema_name}/media/{asset.key}/"
    assert s3_media.keys(prefix) == sorted(
        prefix + name for name in ["original.jpg", *(v["file"] for v in asset.variants)]
    )
    webp = s3_media.head(prefix + "w960.webp")
    assert webp["ContentType"] == "image/webp"
    assert webp["CacheControl"] == "public, max-age=31536000, immutable"
    assert webp["ContentLength"] == next(v["bytes"] for v in asset.variants if v["file"] == "w960.webp")
    # The original's type is the one its bytes have, never the browser's.
    assert s3_media.head(prefix + "original.jpg")["ContentType"] == "image/jpeg"


def test_the_bucket_is_private_and_the_app_redirects_to_a_short_lived_signed_url(in_a, s3_media, client_a):
    asset = add_asset(name="heron.jpg", upload=image_upload())
    key = f"workspaces/{in_a.schema_name}/media/{asset.key}/w480.webp"

    unsigned = fetch(f"{s3_media.endpoint}/{s3_media.bucket}/{key}")
    response = client_a.get(asset.url("w480.webp"))

    assert unsigned.status_code == 403
    assert response.status_code == 302
    location = response["Location"]
    assert (
        location.startswith(s3_media.endpoint) and "X-Amz-Signature=" in location and "X-Amz-Expires=3600" in location
    )
    assert response["Cache-Control"] == "private, max-age=1800"
    signed = fetch(location)
    assert (signed.status_code, signed.headers["Content-Type"], signed.content[:4]) == (200, "image/webp", b"RIFF")


def test_audio_from_the_bucket_answers_ranges_itself(in_a, s3_media, client_a):
    asset = add_asset(name="guide.mp3", upload=audio_upload(seconds=2))
    location = client_a.get(asset.url())["Location"]

    answer = fetch(location, Range="bytes=0-9")

    assert (answer.status_code, answer.headers["Content-Range"], len(answer.content)) == (
        206,
        f"bytes 0-9/{asset.bytes}",
        10,
    )


def test_the_csp_names_the_buckets_origin(in_a, s3_media):
    assert media.media_origins() == (s3_media.endpoint,)


def test_a_cdn_base_url_is_the_only_origin_and_redirects_are_kept(in_a, s3_media, settings, client_a):
    asset = add_asset(name="heron.jpg", upload=image_upload())
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.example.com"
    settings.STORAGES["default"]["OPTIONS"].update(
        querystring_auth=False, custom_domain="media.example.com", url_protocol="https:"
    )
    settings.STORAGES = dict(settings.STORAGES)  # tell Django the storages changed

    response = client_a.get(asset.url("w480.webp"))

    assert media.media_origins() == ("https://media.example.com",)
    assert response["Location"] == (
        f"https://media.example.com/workspaces/{in_a.schema_name}/media/{asset.key}/w480.webp"
    )
    assert response["Cache-Control"] == "private, max-age=31536000"


def test_replacing_writes_a_new_key_and_removes_the_old_files_from_the_bucket(
    in_a, s3_media, django_capture_on_commit_callbacks
):
    asset = add_asset(name="heron.jpg", upload=image_upload())
    old = f"workspaces/{in_a.schema_name}/media/{asset.key}/"

    with django_capture_on_commit_callbacks(execute=True):
        replace_asset(asset, upload=image_upload(format="PNG", width=700, height=700))

    assert s3_media.keys(old) == []
    new = f"workspaces/{in_a.schema_name}/media/{asset.key}/"
    assert new + "original.png" in s3_media.keys(new)
    assert s3_media.keys(f"workspaces/{in_a.schema_name}/media/") == s3_media.keys(new)


def test_a_refused_upload_leaves_nothing_in_the_bucket(in_a, s3_media, settings):
    add_asset(name="heron.jpg", upload=image_upload())
    before = s3_media.keys()
    settings.MEDIA_QUOTA_MB = 0

    with pytest.raises(MediaRefused):
        add_asset(name="other.jpg", upload=image_upload())

    assert s3_media.keys() == before
    assert Asset.objects.count() == 1


def test_deleting_removes_every_file_from_the_bucket(in_a, s3_media, django_capture_on_commit_callbacks):
    picture = add_asset(name="heron.jpg", upload=image_upload())
    sound = add_asset(name="guide.mp3", upload=audio_upload())

    with django_capture_on_commit_callbacks(execute=True):
        delete_asset(picture)
        delete_asset(sound)

    assert s3_media.keys() == []
