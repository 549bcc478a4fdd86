"""The dashboard's media library: the page, uploading, renaming, replacing and deleting, for the fixed cast."""

from __future__ import annotations

import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures.media import audio_upload, bomb_png, polyglot_png
from tests.fixtures.trails import make_trail, make_translation, trail_markdown
from trails.models import Asset, Trail, TrailTranslation


def in_a(callable_, *args, **kwargs):
    with schema_context("alpha"):
        return callable_(*args, **kwargs)


def in_b(callable_, *args, **kwargs):
    with schema_context("bravo"):
        return callable_(*args, **kwargs)


def picture(name: str = "heron.jpg", *, size: tuple[int, int] = (64, 48), fmt: str = "JPEG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 90)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def make_asset(*, name: str = "heron.jpg", kind: str = "image") -> Asset:
    """A row as the library lists it (its files are media-core's business, tested with the storage)."""
    return Asset.objects.create(
        name=name,
        kind=kind,
        original="original.jpg" if kind == "image" else "original.mp3",
        content_type="image/jpeg" if kind == "image" else "audio/mpeg",
        bytes=123_456,
        width=1200 if kind == "image" else None,
        height=800 if kind == "image" else None,
        duration=None if kind == "image" else 65.4,
        variants=[{"file": "thumb.webp", "role": "thumb", "width": 160, "height": 107}] if kind == "image" else [],
    )


def with_picture(name: str, *, title: str = "Old Town Walk") -> str:
    """A trail whose first stop shows the picture `name`."""
    source = trail_markdown(title=title)
    return source.replace("About the fountain.", f"About the fountain.\n\n![The fountain at noon]({name})")


@pytest.fixture(autouse=True)
def _own_media_root(media_root):
    """Each test's files in its own directory."""


@pytest.fixture
def heron(workspace_a):
    return in_a(make_asset)


@pytest.fixture
def as_owner(cast, client_a):
    client_a.force_login(cast.owner)
    return client_a


@pytest.fixture
def as_editor(cast, client_a):
    client_a.force_login(cast.editor)
    return client_a


@pytest.fixture
def as_viewer(cast, client_a):
    client_a.force_login(cast.viewer)
    return client_a


# The page ---------------------------------------------------------------------------------------------------


def test_the_library_lists_each_file_with_its_thumbnail_size_and_the_trails_that_use_it(as_editor, workspace_a):
    heron = in_a(make_asset)
    in_a(make_asset, name="guide.mp3", kind="audio")
    trail = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Harbour Walk"))

    page = as_editor.get("/dashboard/media/").content.decode()

    assert f'src="/media/{heron.key}/thumb.webp"' in page
    assert "heron.jpg" in page and "1200 × 800" in page and "120.6\xa0KB" in page
    assert "guide.mp3" in page and "Sound, 1:05" in page
    assert f'href="/dashboard/trails/{trail.pk}/">Harbour Walk</a>' in page
    assert "Not used in any trail" in page  # the sound
    assert 'action="/dashboard/media/upload"' in page


def test_the_library_names_three_uses_of_a_file_and_counts_the_others(as_editor, workspace_a, heron):
    for number in range(5):
        make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title=f"Walk {number}"))

    library = as_editor.get("/dashboard/media/").content.decode()
    detail = as_editor.get(f"/dashboard/media/{heron.pk}/").content.decode()

    assert "Walk 2</a> and 2 more" in library and "Walk 3" not in library
    assert all(f"Walk {number}</a>" in detail for number in range(5))


def test_the_library_comes_a_page_at_a_time(as_editor, workspace_a, monkeypatch):
    monkeypatch.setattr("trails.views.ASSETS_PER_PAGE", 2)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        in_a(make_asset, name=name)
    make_trail(workspace=workspace_a, source=with_picture("c.jpg", title="Harbour Walk"))

    first = as_editor.get("/dashboard/media/").content.decode()
    second = as_editor.get("/dashboard/media/?page=2").content.decode()

    assert "a.jpg" in first and "b.jpg" in first and "c.jpg" not in first and "Files 1–2 of 3" in first
    assert "c.jpg" in second and "Harbour Walk</a>" in second and "a.jpg" not in second


def test_the_library_shows_the_quota_used_of_allowed(as_editor, workspace_a):
    in_a(make_asset)

    page = as_editor.get("/dashboard/media/").content.decode()

    used, allowed = in_a(lambda: __import__("trails.media", fromlist=["quota"]).quota())
    assert used >= 123_456
    assert f'<meter min="0" max="{allowed}" value="{used}"' in page
    assert "Storage: <strong>" in page


def test_the_dashboard_nav_leads_to_the_media_library(as_viewer, workspace_a):
    page = as_viewer.get("/dashboard/trails/").content.decode()

    assert '<a href="/dashboard/media/">Media</a>' in page


def test_a_viewer_sees_the_library_but_no_upload_form_and_no_change_buttons(as_viewer, heron):
    library = as_viewer.get("/dashboard/media/").content.decode()
    detail = as_viewer.get(f"/dashboard/media/{heron.pk}/").content.decode()

    assert "heron.jpg" in library and "/dashboard/media/upload" not in library
    assert "heron.jpg" in detail
    assert "/rename" not in detail and "/replace" not in detail and "/delete" not in detail


def test_the_upload_script_gets_the_list_alone_as_a_fragment(as_editor, heron):
    response = as_editor.get("/dashboard/media/", headers={"HX-Request": "true", "HX-Target": "media-library"})

    page = response.content.decode()
    assert "heron.jpg" in page and "<meter" in page and "<html" not in page


# Uploading --------------------------------------------------------------------------------------------------


def test_an_editor_uploads_several_pictures_at_once_and_each_is_named_on_the_page(as_editor, workspace_a):
    response = as_editor.post(
        "/dashboard/media/upload", {"files": [picture("heron.jpg"), picture("Bridge at dusk.png", fmt="PNG")]}
    )

    assert response.status_code == 302 and response["Location"] == "/dashboard/media/"
    names = in_a(lambda: sorted(Asset.objects.values_list("name", flat=True)))
    assert len(names) == 2 and names[1] == "heron.jpg"
    page = as_editor.get("/dashboard/media/").content.decode()
    assert "Uploaded “" in page and all(name in page for name in names)


def test_a_bad_file_is_named_with_its_reason_stores_nothing_and_the_good_ones_are_kept(as_editor, workspace_a):
    fake = SimpleUploadedFile("holiday.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")

    response = as_editor.post("/dashboard/media/upload", {"files": [fake, picture("heron.jpg")]}, follow=True)

    page = response.content.decode()
    assert "“holiday.jpg” was not uploaded:" in page
    assert in_a(lambda: list(Asset.objects.values_list("name", flat=True))) == ["heron.jpg"]


def test_sound_is_uploaded_with_its_duration_and_written_in_as_an_audio_guide(as_editor, workspace_a):
    response = as_editor.post(
        "/dashboard/media/upload",
        {"files": audio_upload("Heron call.mp3", seconds=2)},
        headers={"Accept": "application/json"},
    )

    asset = response.json()["assets"][0]
    assert asset["name"] == "heron-call.mp3" and asset["kind"] == "audio"
    assert asset["reference"].startswith("![Audio guide: what it is](heron-call.mp3)\n\n> ")
    page = as_editor.get("/dashboard/media/").content.decode()
    assert "heron-call.mp3" in page and "Sound, 0:02" in page


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("polyglot.png", polyglot_png(), "markup"),
        ("bomb.png", bomb_png(), "pixels"),
        ("empty.mp3", b"", "empty"),
    ],
)
def test_a_hostile_file_is_refused_by_name_with_what_is_wrong_and_nothing_is_stored(
    as_editor, media_root, name, data, words
):
    upload = SimpleUploadedFile(name, data, content_type="image/png")

    response = as_editor.post("/dashboard/media/upload", {"files": [upload]}, follow=True)

    page = response.content.decode()
    assert f"“{name}” was not uploaded:" in page
    assert not in_a(Asset.objects.exists)
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_the_upload_script_gets_each_file_answered_in_json(as_editor, workspace_a):
    stored = as_editor.post(
        "/dashboard/media/upload", {"files": picture("heron.jpg")}, headers={"Accept": "application/json"}
    )
    fake = SimpleUploadedFile("fake.jpg", b"GIF89a nothing of the sort", content_type="image/jpeg")
    refused = as_editor.post("/dashboard/media/upload", {"files": fake}, headers={"Accept": "application/json"})

    assert stored.status_code == 201
    asset = stored.json()["assets"][0]
    assert asset["name"] == "heron.jpg" and asset["kind"] == "image"
    assert asset["reference"] == "![alt text here](heron.jpg)" and asset["placeholder"] == "alt text here"
    assert 400 <= refused.status_code < 500
    error = refused.json()["error"]
    assert error["details"] == {"file": "fake.jpg"} and error["message"] and error["code"]
    assert in_a(Asset.objects.count) == 1


def test_too_many_files_at_once_are_refused_politely_and_none_is_stored(as_editor, workspace_a, settings):
    settings.MEDIA_MAX_FILES_PER_UPLOAD = 3
    files = [picture(f"p{i}.jpg") for i in range(4)]

    response = as_editor.post("/dashboard/media/upload", {"files": files}, follow=True)

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "That's 4 files: upload at most 3 at once. Nothing was uploaded." in page
    assert in_a(Asset.objects.count) == 0


def test_more_files_than_django_reads_are_refused_politely_too(as_editor, workspace_a, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [picture(f"p{i}.jpg") for i in range(4)]

    response = as_editor.post("/dashboard/media/upload", {"files": files}, headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert "Nothing was uploaded." in response.json()["error"]["message"]
    assert in_a(Asset.objects.count) == 0


def test_an_upload_with_no_file_says_to_choose_one(as_editor, workspace_a):
    response = as_editor.post("/dashboard/media/upload", {}, follow=True)

    assert "Choose at least one picture or sound file." in response.content.decode()


# Renaming ---------------------------------------------------------------------------------------------------


def test_renaming_rewrites_every_trail_and_translation_that_uses_it_as_a_new_version(as_editor, workspace_a, heron):
    trail = make_trail(workspace=workspace_a, source=with_picture("heron.jpg"))
    other = make_trail(workspace=workspace_a, source=trail_markdown(title="Park Walk"))
    french = make_translation(
        workspace=workspace_a, trail=trail, language="fr", source=with_picture("heron.jpg", title="Promenade")
    )

    response = as_editor.post(f"/dashboard/media/{heron.pk}/rename", {"name": "grey-heron.jpg"}, follow=True)

    assert "Renamed “heron.jpg” to “grey-heron.jpg”, and rewrote the 2 documents that use it." in (
        response.content.decode()
    )
    trail, other, french = (
        in_a(Trail.objects.get, pk=trail.pk),
        in_a(Trail.objects.get, pk=other.pk),
        in_a(TrailTranslation.objects.get, pk=french.pk),
    )
    assert "![The fountain at noon](grey-heron.jpg)" in trail.source and trail.version == 2
    assert "![The fountain at noon](grey-heron.jpg)" in french.source and french.version == 2
    assert other.version == 1
    assert in_a(lambda: Asset.objects.get(pk=heron.pk).name) == "grey-heron.jpg"
    assert in_a(lambda: [doc.pk for doc in Asset.objects.get(pk=heron.pk).used_by()]) == [trail.pk, french.pk]


def test_a_rename_to_a_taken_or_bad_name_is_refused_and_keeps_what_was_typed(as_editor, workspace_a, heron):
    in_a(make_asset, name="bridge.jpg")

    taken = as_editor.post(f"/dashboard/media/{heron.pk}/rename", {"name": "bridge.jpg"})
    spaced = as_editor.post(f"/dashboard/media/{heron.pk}/rename", {"name": "my heron (1).jpg"})

    assert taken.status_code == 400 and spaced.status_code == 400
    assert "The name “bridge.jpg” is in use" in taken.content.decode()
    assert 'value="bridge.jpg"' in taken.content.decode()
    assert (
        "letters, digits, dots, dashes or underscores" in spaced.content.decode()
        and 'value="my heron (1).jpg"' in spaced.content.decode()
    )
    assert in_a(lambda: Asset.objects.get(pk=heron.pk).name) == "heron.jpg"


def test_a_rename_that_cant_rewrite_a_trail_changes_nothing(as_editor, workspace_a, heron, monkeypatch):
    trail = make_trail(workspace=workspace_a, source=with_picture("heron.jpg"))
    second = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Second Walk"))
    saves = []

    def fail_on_the_second(self, source, **kwargs):
        saves.append(self.pk)
        if len(saves) == 2:
            from trails.models import StaleVersion

            raise StaleVersion
        return original(self, source, **kwargs)

    original = Trail.set_source
    monkeypatch.setattr(Trail, "set_source", fail_on_the_second)

    response = as_editor.post(f"/dashboard/media/{heron.pk}/rename", {"name": "grey-heron.jpg"})

    assert response.status_code == 400 and "Not renamed" in response.content.decode()
    assert in_a(lambda: Asset.objects.get(pk=heron.pk).name) == "heron.jpg"
    for one in (trail, second):
        assert in_a(Trail.objects.get, pk=one.pk).version == 1


# Replacing and deleting -------------------------------------------------------------------------------------


def test_replacing_keeps_the_name_so_pages_follow(as_editor, workspace_a):
    as_editor.post("/dashboard/media/upload", {"files": picture("heron.jpg", size=(64, 48))})
    asset = in_a(Asset.objects.get)

    response = as_editor.post(f"/dashboard/media/{asset.pk}/replace", {"file": picture("new.jpg", size=(96, 64))})

    assert response.status_code == 302
    replaced = in_a(Asset.objects.get)
    assert replaced.pk == asset.pk and replaced.name == "heron.jpg"
    assert replaced.bytes != asset.bytes


def test_a_bad_replacement_is_refused_with_the_files_name_and_the_old_file_stays(as_editor, workspace_a, heron):
    fake = SimpleUploadedFile("evil.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")

    response = as_editor.post(f"/dashboard/media/{heron.pk}/replace", {"file": fake})

    assert response.status_code == 400 and "“evil.jpg”:" in response.content.decode()
    assert in_a(Asset.objects.get, pk=heron.pk).bytes == 123_456


def test_deleting_a_file_no_trail_uses_asks_first_then_deletes_it(as_editor, workspace_a, heron):
    asked = as_editor.get(f"/dashboard/media/{heron.pk}/delete")
    deleted = as_editor.post(f"/dashboard/media/{heron.pk}/delete")

    assert "Delete “heron.jpg”?" in asked.content.decode()
    assert deleted.status_code == 302 and not in_a(Asset.objects.exists)


def test_a_file_a_trail_uses_cant_be_deleted_and_the_page_says_where_it_is_used(as_editor, workspace_a, heron):
    trail = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Harbour Walk"))

    response = as_editor.post(f"/dashboard/media/{heron.pk}/delete")

    page = response.content.decode()
    assert response.status_code == 409
    assert "can't be deleted while a trail shows it" in page
    assert f'href="/dashboard/trails/{trail.pk}/">Harbour Walk</a>' in page
    assert in_a(Asset.objects.filter(pk=heron.pk).exists)
    # A deleted trail uses nothing.
    in_a(lambda: Trail.objects.get(pk=trail.pk).delete_softly())
    assert as_editor.post(f"/dashboard/media/{heron.pk}/delete").status_code == 302


# The editor's drop zone -------------------------------------------------------------------------------------


def test_the_editors_offer_the_drop_zone_to_editors_only(cast, client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=trail_markdown(title="Promenade"))
    for user, offered in ((cast.editor, True), (cast.viewer, False)):
        client_a.force_login(user)
        for path in (f"/dashboard/trails/{trail.pk}/", f"/dashboard/trails/{trail.pk}/languages/fr/"):
            page = client_a.get(path).content.decode()
            assert ('data-media-drop="/dashboard/media/upload"' in page) is offered, (user, path)
            assert "js/media-upload.js" in page


# Who may do what --------------------------------------------------------------------------------------------

CHANGES = [
    ("post", "/dashboard/media/upload", lambda: {"files": picture("other.jpg")}),
    ("post", "/dashboard/media/{pk}/rename", lambda: {"name": "renamed.jpg"}),
    ("post", "/dashboard/media/{pk}/replace", lambda: {"file": picture("other.jpg")}),
    ("get", "/dashboard/media/{pk}/delete", dict),
    ("post", "/dashboard/media/{pk}/delete", dict),
]
EVERY_VIEW = [("get", "/dashboard/media/", dict), ("get", "/dashboard/media/{pk}/", dict), *CHANGES]


def _state() -> list:
    return list(Asset.objects.values_list("pk", "name", "bytes", "key"))


@pytest.mark.parametrize(("method", "path", "data"), CHANGES, ids=[f"{m} {p}" for m, p, _ in CHANGES])
def test_a_viewer_can_change_nothing(as_viewer, heron, method, path, data):
    before = in_a(_state)

    response = getattr(as_viewer, method)(path.format(pk=heron.pk), data())

    assert response.status_code == 403
    assert in_a(_state) == before


@pytest.mark.parametrize(("method", "path", "data"), EVERY_VIEW, ids=[f"{m} {p}" for m, p, _ in EVERY_VIEW])
def test_anonymous_visitors_and_bs_member_get_nothing_of_as_media(cast, client_a, client_b, heron, method, path, data):
    before = in_a(_state)
    url = path.format(pk=heron.pk)

    anonymous = getattr(client_a, method)(url, data())
    client_a.force_login(cast.member_of_b)
    outsider = getattr(client_a, method)(url, data())
    # And from B's own host, where B's member is at home: A's asset is not there, not even by its number.
    client_b.force_login(cast.member_of_b)
    at_home = getattr(client_b, method)(url, data())

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert outsider.status_code == 404
    assert at_home.status_code == 404 or (url.endswith(("/media/", "/upload")) and at_home.status_code < 400)
    for response in (anonymous, outsider, at_home):
        assert b"heron.jpg" not in response.content and heron.key.encode() not in response.content
    assert in_a(_state) == before


def test_b_can_use_a_name_a_has_taken_without_learning_it_exists(cast, client_b, heron, workspace_b):
    client_b.force_login(cast.member_of_b)

    response = client_b.post("/dashboard/media/upload", {"files": picture("heron.jpg")}, follow=True)

    assert "Uploaded “heron.jpg”." in response.content.decode()
    assert in_b(lambda: list(Asset.objects.values_list("name", flat=True))) == ["heron.jpg"]
    assert in_a(Asset.objects.get, pk=heron.pk).key != in_b(Asset.objects.get).key


def test_only_a_picture_on_a_live_stop_counts_as_a_use_not_the_name_in_a_sentence_or_code(workspace_a, heron):
    mentions = trail_markdown(title="Mentions").replace(
        "About the fountain.", "About the fountain: see heron.jpg, or write `![x](heron.jpg)`."
    )
    make_trail(workspace=workspace_a, source=mentions)
    shown = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Shown"))
    intro = make_trail(
        workspace=workspace_a,
        source=trail_markdown(title="Intro").replace("Welcome to Intro.", "![A heron on the sign](heron.jpg)"),
    )
    gone = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Gone"))
    in_a(lambda: Trail.objects.get(pk=gone.pk).delete_softly())
    # A stop taken out of the document no longer shows it.
    retired = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Retired"))
    in_a(lambda: Trail.objects.get(pk=retired.pk).set_source(trail_markdown(title="Retired", stops=[("bridge", "B")])))

    used_by = in_a(lambda: [doc.title for doc in Asset.objects.get(pk=heron.pk).used_by()])

    assert used_by == [intro.title, shown.title]


def test_trails_saved_before_uses_were_remembered_learn_theirs_from_the_migration(workspace_a, heron):
    from importlib import import_module

    from django.apps import apps

    remember_media = import_module("trails.migrations.0006_media_in_use").remember_media
    trail = make_trail(workspace=workspace_a, source=with_picture("heron.jpg", title="Older"))
    translation = make_translation(
        workspace=workspace_a, trail=trail, language="fr", source="## La fontaine {#fountain}\n![Un héron](heron.jpg)\n"
    )
    with schema_context("alpha"):
        Trail.objects.filter(pk=trail.pk).update(media=[])
        TrailTranslation.objects.filter(pk=translation.pk).update(media=[])
        before = Asset.objects.get(pk=heron.pk).used_by()

        remember_media(apps, None)

        after = [(type(doc).__name__, doc.pk) for doc in Asset.objects.get(pk=heron.pk).used_by()]
    assert before == []
    assert after == [("Trail", trail.pk), ("TrailTranslation", translation.pk)]
