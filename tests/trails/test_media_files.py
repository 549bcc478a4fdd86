"""Taking in uploads: types by content, limits, variants, and nothing half-stored (trails/media.py)."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures.media import (
    audio_upload,
    bomb_png,
    image_bytes,
    image_upload,
    polyglot_png,
)
from trails import media
from trails.media import MediaRefused, add_asset, delete_asset, quota, replace_asset
from trails.models import Asset


@pytest.fixture
def in_a(workspace_a, media_root):
    with schema_context(workspace_a.schema_name):
        yield workspace_a


def stored(asset: Asset) -> list[str]:
    try:
        return sorted(default_storage.listdir(media.asset_prefix(asset.key))[1])
    except FileNotFoundError:
        return []


def opened(asset: Asset, file: str) -> Image.Image:
    with default_storage.open(media.asset_prefix(asset.key) + file) as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
        return image


def refused(upload, *, name=None) -> MediaRefused:
    with pytest.raises(MediaRefused) as caught:
        add_asset(name=name, upload=upload)
    return caught.value


# Pictures ---------------------------------------------------------------------------------------------------


def test_a_photo_gets_webp_and_jpeg_variants_at_two_widths_and_a_thumbnail(in_a):
    asset = add_asset(name=None, upload=image_upload("Heron at Dusk.JPG", width=2400, height=1600))

    assert asset.name == "heron-at-dusk.jpg"
    assert (asset.kind, asset.content_type, asset.width, asset.height) == ("image", "image/jpeg", 2400, 1600)
    display = [(v["type"], v["width"], v["height"]) for v in asset.variants if v["role"] == "display"]
    assert display == [
        ("image/jpeg", 480, 320),
        ("image/webp", 480, 320),
        ("image/jpeg", 960, 640),
        ("image/webp", 960, 640),
    ]
    thumbs = [v for v in asset.variants if v["role"] == "thumb"]
    assert len(thumbs) == 1 and max(thumbs[0]["width"], thumbs[0]["height"]) <= 320
    assert stored(asset) == sorted(["original.jpg", *(v["file"] for v in asset.variants)])
    for variant in asset.variants:
        image = opened(asset, variant["file"])
        assert image.size == (variant["width"], variant["height"])
        assert Image.MIME[image.format] == variant["type"]
    assert asset.bytes == sum(v["bytes"] for v in asset.variants) + default_storage.size(
        media.asset_prefix(asset.key) + "original.jpg"
    )
    assert asset.colour.startswith("#") and len(asset.colour) == 7


def test_a_small_picture_is_never_enlarged(in_a):
    asset = add_asset(name="small.png", upload=image_upload(format="PNG", width=300, height=200))

    assert {v["width"] for v in asset.variants if v["role"] == "display"} == {300}
    assert asset.content_type == "image/png"


def test_variants_carry_no_exif_or_gps_and_are_turned_upright(in_a):
    # Stored sideways, as phones do, with orientation 6: "turn 90° clockwise to show".
    upload = image_upload("sideways.jpg", width=1200, height=900, orientation=6, gps=True)

    asset = add_asset(name=None, upload=upload)

    assert (asset.width, asset.height) == (900, 1200)
    for variant in asset.variants:
        image = opened(asset, variant["file"])
        assert image.height > image.width
        assert not image.getexif()
        assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
    with default_storage.open(media.asset_prefix(asset.key) + "w480.jpg") as handle:
        assert b"PhoneMaker" not in handle.read()


def test_transparent_pictures_keep_their_transparency_in_webp_and_sit_on_white_in_jpeg(in_a):
    asset = add_asset(name="logo.png", upload=image_upload(format="PNG", mode="RGBA", width=600, height=400))

    assert opened(asset, "w480.webp").mode == "RGBA"
    assert opened(asset, "w480.jpg").mode == "RGB"


@pytest.mark.parametrize("format", ["WEBP", "HEIF"])
def test_webp_and_heic_photos_are_taken(in_a, format):
    asset = add_asset(name=None, upload=image_upload("photo.bin", format=format, width=1000, height=750))

    assert asset.content_type == {"WEBP": "image/webp", "HEIF": "image/heic"}[format]
    assert asset.name == {"WEBP": "photo.webp", "HEIF": "photo.heic"}[format]
    assert opened(asset, "w960.webp").size == (960, 720)


# Sound ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "content_type", "extension"),
    [("mp3", "audio/mpeg", "mp3"), ("m4a", "audio/mp4", "m4a"), ("opus", "audio/ogg", "opus")],
)
def test_sound_files_are_taken_with_their_duration(in_a, container, content_type, extension):
    asset = add_asset(name=None, upload=audio_upload("Guide 1.wav", container=container, seconds=2))

    assert (asset.kind, asset.content_type, asset.name) == ("audio", content_type, f"guide-1.{extension}")
    assert asset.duration == pytest.approx(2, abs=0.2)
    assert stored(asset) == [f"original.{extension}"]
    assert asset.variants == []


# Refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"%PDF-1.4\n",
        b"",
    ],
    ids=["html", "svg", "xml-svg", "gif", "pdf", "empty"],
)
def test_files_that_are_not_our_pictures_or_sounds_are_refused_whatever_their_name(in_a, content):
    error = refused(SimpleUploadedFile("heron.jpg", content, content_type="image/jpeg"))

    assert error.code in ("unsupported_type", "markup")
    assert not Asset.objects.exists()


def test_a_png_that_is_also_a_web_page_is_refused(in_a):
    error = refused(SimpleUploadedFile("heron.png", polyglot_png(), content_type="image/png"))

    assert error.code == "markup"


def test_a_sound_file_with_a_web_page_in_its_head_is_refused(in_a):
    upload = audio_upload()
    data = upload.read()
    # An ID3 comment holding a page: the file still parses as MP3.
    hostile = data[:10] + b"<html><script>alert(1)</script></html>" + data[10:]

    error = refused(SimpleUploadedFile("guide.mp3", hostile))

    assert error.code in ("markup", "unsupported_type")
    assert not Asset.objects.exists()


def test_a_decompression_bomb_is_refused_from_its_header(in_a):
    error = refused(SimpleUploadedFile("bomb.png", bomb_png(), content_type="image/png"))

    assert error.code == "too_many_pixels"
    assert "megapixels" in str(error)


def test_a_picture_over_the_pixel_limit_is_refused(in_a, settings):
    settings.MEDIA_MAX_IMAGE_PIXELS = 1000 * 1000

    assert refused(image_upload(width=1200, height=900)).code == "too_many_pixels"


def test_files_over_the_size_limit_are_refused_before_they_are_read(in_a, settings):
    settings.MEDIA_MAX_IMAGE_MB = 0
    settings.MEDIA_MAX_AUDIO_MB = 0

    picture = refused(image_upload())
    sound = refused(audio_upload())

    assert (picture.code, sound.code) == ("too_large", "too_large")
    assert "A picture may be at most" in str(picture)


def test_the_workspace_quota_counts_originals_and_variants(in_a, settings):
    first = add_asset(name="first.jpg", upload=image_upload())
    used, allowed = quota()
    assert used == first.bytes and allowed == settings.MEDIA_QUOTA_MB * 1024 * 1024

    settings.MEDIA_QUOTA_MB = 0
    error = refused(image_upload(), name="second.jpg")

    assert error.code == "quota_exceeded"
    assert list(Asset.objects.values_list("name", flat=True)) == ["first.jpg"]


def test_a_name_in_use_or_unusable_is_refused(in_a):
    add_asset(name="heron.jpg", upload=image_upload())

    assert refused(image_upload(), name="heron.jpg").code == "name_in_use"
    assert refused(image_upload(), name="../heron.jpg").code == "invalid_name"
    assert refused(image_upload(), name="heron at dusk.jpg").code == "invalid_name"


def test_a_damaged_picture_is_refused(in_a):
    data = image_bytes()

    error = refused(SimpleUploadedFile("cut.jpg", data[: len(data) // 3]))

    assert error.code == "unreadable"


def test_nothing_is_left_in_storage_when_the_row_cannot_be_written(in_a, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Asset, "save", fail)

    with pytest.raises(RuntimeError):
        add_asset(name="heron.jpg", upload=image_upload())

    assert default_storage.listdir(media.workspace_prefix() + "media/")[0] == []


def test_nothing_is_left_in_storage_when_a_file_cannot_be_written(in_a, monkeypatch):
    real_save = default_storage.save
    calls = []

    def save(name, content, **kwargs):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", save)

    with pytest.raises(OSError):
        add_asset(name="heron.jpg", upload=image_upload())

    assert len(calls) == 3
    assert default_storage.listdir(media.workspace_prefix() + "media/")[0] == []
    assert not Asset.objects.exists()


# Replacing and deleting -------------------------------------------------------------------------------------


def test_replacing_keeps_the_name_gives_a_new_key_and_deletes_the_old_files_after_commit(
    in_a, django_capture_on_commit_callbacks
):
    asset = add_asset(name="heron.jpg", upload=image_upload(width=800, height=600))
    old_key = asset.key

    with django_capture_on_commit_callbacks(execute=True):
        replace_asset(asset, upload=image_upload("new.png", format="PNG", width=1000, height=500))

    asset.refresh_from_db()
    assert (asset.name, asset.content_type, asset.width) == ("heron.jpg", "image/png", 1000)
    assert asset.key != old_key
    assert default_storage.listdir(media.workspace_prefix() + "media/")[0] == [asset.key]


def test_a_picture_is_replaced_only_by_a_picture(in_a):
    asset = add_asset(name="heron.jpg", upload=image_upload())

    with pytest.raises(MediaRefused) as caught:
        replace_asset(asset, upload=audio_upload())

    assert caught.value.code == "wrong_kind"
    assert stored(Asset.objects.get()) != []


def test_a_refused_replacement_leaves_the_asset_and_its_files_as_they_were(in_a):
    asset = add_asset(name="heron.jpg", upload=image_upload())
    before = (asset.key, stored(asset))

    with pytest.raises(MediaRefused):
        replace_asset(asset, upload=SimpleUploadedFile("x.jpg", b"<html></html>"))

    fresh = Asset.objects.get()
    assert (fresh.key, stored(fresh)) == before


def test_deleting_removes_the_row_and_then_the_files(in_a, django_capture_on_commit_callbacks):
    asset = add_asset(name="heron.jpg", upload=image_upload())

    with django_capture_on_commit_callbacks(execute=True):
        delete_asset(asset)

    assert not Asset.objects.exists()
    assert default_storage.listdir(media.workspace_prefix() + "media/")[0] == []


def test_files_live_under_the_workspace_schema_and_the_asset_key(in_a):
    asset = add_asset(name="heron.jpg", upload=image_upload())

    assert media.asset_prefix(asset.key) == f"workspaces/{connection.schema_name}/media/{asset.key}/"
    assert default_storage.exists(f"workspaces/{in_a.schema_name}/media/{asset.key}/w480.webp")


def test_local_storage_needs_no_media_origins(in_a):
    assert media.media_origins() == ()


def test_default_names_taken_already_get_a_number(in_a):
    # Phones' browsers call every photo "image.jpg".
    first = add_asset(name=None, upload=image_upload("image.jpg"))
    second = add_asset(name=None, upload=image_upload("image.jpg"))
    third = add_asset(name=None, upload=image_upload("image.jpeg"))

    assert [first.name, second.name, third.name] == ["image.jpg", "image-2.jpg", "image-3.jpg"]


XMP = (
    '<?xml version="1.0"?><?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.44N"/>'
    "</rdf:RDF></x:xmpmeta>"
)


def test_pictures_with_xmp_metadata_are_taken_and_lose_it(in_a):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP)
    png = SimpleUploadedFile("edited.png", image_bytes(format="PNG", width=600, height=400, pnginfo=info))
    jpeg = SimpleUploadedFile("edited.jpg", image_bytes(width=600, height=400, xmp=XMP.encode()))

    for upload in (png, jpeg):
        asset = add_asset(name=None, upload=upload)
        with default_storage.open(media.asset_prefix(asset.key) + "w480.webp") as handle:
            assert b"GPSLatitude" not in handle.read()


def test_a_replacement_that_fails_leaves_the_callers_asset_and_the_storage_as_they_were(in_a, monkeypatch):
    asset = add_asset(name="heron.jpg", upload=image_upload())
    before = (asset.key, asset.width, list(asset.variants))

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Asset, "save", fail)
    with pytest.raises(RuntimeError):
        replace_asset(asset, upload=image_upload(width=700, height=700))

    assert (asset.key, asset.width, asset.variants) == before
    assert default_storage.listdir(media.workspace_prefix() + "media/")[0] == [asset.key]
