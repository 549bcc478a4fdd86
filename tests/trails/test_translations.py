"""Authoring translations in the dashboard: a language picker beside the editor, one document per language."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.fixtures.trails import make_trail, make_translation
from tests.trails.test_scanner_languages import ARABIC, FRENCH
from trails.models import StaleVersion, StopTranslation, TrailTranslation


@pytest.fixture
def owner_a(cast, client_a):
    client_a.force_login(cast.owner)
    return client_a


@pytest.fixture
def viewer_a(cast, client_a):
    client_a.force_login(cast.viewer)
    return client_a


def test_the_editor_offers_languages_in_their_own_names(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)

    page = owner_a.get(f"/dashboard/trails/{trail.pk}/").content.decode()

    assert f'action="/dashboard/trails/{trail.pk}/languages/new"' in page
    assert "Deutsch (German)" in page and "日本語 (Japanese)" in page and "العربية (Arabic)" in page
    assert '<option value="en">' not in page  # the main language is not offered again


def test_picking_a_language_opens_its_editor_with_a_copy_of_the_main_document(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)

    response = owner_a.get(f"/dashboard/trails/{trail.pk}/languages/new", {"language": "fr"})
    assert response["Location"] == f"/dashboard/trails/{trail.pk}/languages/fr/"
    page = owner_a.get(response["Location"]).content.decode()

    assert "language = &quot;fr&quot;" in page
    assert "{#clock-tower}" in page
    assert 'lang="fr" dir="ltr"' in page
    with schema_context("alpha"):
        assert not TrailTranslation.objects.exists()  # nothing saved until Save


def test_saving_a_translation_stores_its_stops_by_id_and_says_how_complete_it_is(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/languages/fr/", {"source": FRENCH}, follow=True)

    page = response.content.decode()
    assert "French: 2 of 3 stops" in page
    with schema_context("alpha"):
        translation = TrailTranslation.objects.get(trail=trail)
        assert translation.language == "fr"
        assert sorted(StopTranslation.objects.values_list("key", "title")) == [
            ("clock-tower", "La tour de l'horloge"),
            ("fountain", "La fontaine"),
        ]
    tabs = owner_a.get(f"/dashboard/trails/{trail.pk}/").content.decode()
    assert "Français" in tabs and "2 of 3 stops" in tabs


def test_the_translation_editor_reports_missing_stops_and_keeps_what_was_typed(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    typed = FRENCH + "\n## Sans titre {#BAD ID}\n"

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/languages/fr/", {"source": typed})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Not saved." in page and "not a valid id" in page
    assert "Sans titre {#BAD ID}" in page
    assert "The Bridge" in page and "is not translated" in page  # the comparison, beside the editor


def test_the_preview_compares_as_you_type(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    typed = FRENCH + "\n## Le marché {#market}\nLe samedi.\n"

    page = owner_a.post(
        f"/dashboard/trails/{trail.pk}/languages/fr/preview", {"source": typed}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "French: 2 of 3 stops" in page
    assert "no stop {#market}" in page
    assert "Étape 1 sur 3" in page  # the preview's page speaks French


def test_a_right_to_left_translation_is_written_and_previewed_right_to_left(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="ar", source=ARABIC)

    page = owner_a.get(f"/dashboard/trails/{trail.pk}/languages/ar/").content.decode()

    assert 'lang="ar" dir="rtl"' in page  # the text area
    assert "&lt;html lang=&quot;ar&quot; dir=&quot;rtl&quot;&gt;" in page  # the preview's page


def test_a_stale_translation_save_is_refused_with_the_text_kept(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)
    with schema_context("alpha"):
        trail.translations.get().set_source(FRENCH.replace("Bienvenue", "Salut"))  # version 2

    response = owner_a.post(
        f"/dashboard/trails/{trail.pk}/languages/fr/", {"source": FRENCH + "\nMon ajout.", "version": 1}
    )

    assert "Someone else saved" in response.content.decode()
    assert "Mon ajout." in response.content.decode()


def test_removing_a_translation_leaves_the_main_language(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/languages/fr/delete")

    assert response.status_code == 302
    with schema_context("alpha"):
        assert trail.languages() == ("en",)
        assert not StopTranslation.objects.exists()


def test_a_viewer_reads_a_translation_but_can_not_change_it(viewer_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)

    page = viewer_a.get(f"/dashboard/trails/{trail.pk}/languages/fr/").content.decode()
    assert "readonly" in page and "La fontaine" in page
    assert viewer_a.post(f"/dashboard/trails/{trail.pk}/languages/fr/", {"source": "## X {#x}\ny"}).status_code == 403
    assert viewer_a.post(f"/dashboard/trails/{trail.pk}/languages/fr/delete").status_code == 403
    with schema_context("alpha"):
        assert trail.translations.get().title == "Promenade de la vieille ville"


@pytest.mark.parametrize("language", ["xx", "en", "x" * 5000, "de-XX"])
def test_a_language_we_do_not_offer_or_the_main_one_is_a_404(owner_a, workspace_a, language):
    trail = make_trail(workspace=workspace_a)

    assert owner_a.get(f"/dashboard/trails/{trail.pk}/languages/{language}/").status_code == 404
    assert owner_a.post(f"/dashboard/trails/{trail.pk}/languages/{language}/", {"source": FRENCH}).status_code == 404


def test_workspace_bs_member_and_anonymous_visitors_get_nothing_of_as_translations(
    cast, client_a, workspace_a, workspace_b
):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)
    base = f"/dashboard/trails/{trail.pk}/languages"
    requests = [
        ("get", f"{base}/fr/", {}),
        ("post", f"{base}/fr/", {"source": FRENCH.replace("fontaine", "piratée")}),
        ("post", f"{base}/fr/preview", {"source": FRENCH}),
        ("post", f"{base}/fr/delete", {}),
        ("get", f"{base}/new", {"language": "de"}),
    ]

    for method, path, data in requests:
        anonymous = getattr(client_a, method)(path, data)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/"), path
    client_a.force_login(cast.member_of_b)
    for method, path, data in requests:
        response = getattr(client_a, method)(path, data)
        assert response.status_code == 404, path
        assert "fontaine" not in response.content.decode()
    with schema_context("alpha"):
        assert trail.translations.get().stops.get(key="fountain").title == "La fontaine"


def test_the_demo_trails_french_translation_covers_every_stop():
    import dap
    from trails.demo import DEMO_TRAIL, DEMO_TRANSLATIONS

    report = dap.compare(
        dap.assemble(DEMO_TRAIL.read_text()), dap.assemble(DEMO_TRANSLATIONS["fr"].read_text()), tag="fr"
    )

    assert report.summary == "French: 7 of 7 stops"
    assert report.diagnostics == ()


def test_a_stop_changed_in_the_main_document_after_translation_may_be_out_of_date(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)
    with schema_context("alpha"):
        trail.set_source(trail.source.replace("About the fountain.", "About the fountain, restored in 2024."))

    page = owner_a.get(f"/dashboard/trails/{trail.pk}/languages/fr/").content.decode()

    assert page.count("may be out of date") == 1
    assert "The Fountain" in page.split("may be out of date")[0].rsplit("<li", 1)[1]


def test_adding_a_language_someone_else_just_added_is_refused_as_stale(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)
    with schema_context("alpha"):
        late = TrailTranslation(trail=trail, language="fr")
        with pytest.raises(StaleVersion):
            late.set_source(FRENCH.replace("fontaine", "vasque"))
        assert trail.translations.get().stops.get(key="fountain").title == "La fontaine"


def test_a_translation_in_the_main_documents_new_language_is_said_never_to_show(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)
    assert "never shown" not in owner_a.get(f"/dashboard/trails/{trail.pk}/").content.decode()
    with schema_context("alpha"):
        trail.set_source(trail.source.replace("+++\ntitle", '+++\nlanguage = "fr"\ntitle'))

    page = owner_a.get(f"/dashboard/trails/{trail.pk}/").content.decode()

    assert "never shown: the main document is in this language too" in page
