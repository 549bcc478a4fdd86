"""Account pages as a person sees them: our wording, the workspace named on its log-in, errors that look like errors."""

from __future__ import annotations

import re

from django.contrib.messages import constants

from tests.accounts.conftest import host_client


def test_the_workspace_log_in_page_names_the_workspace_and_says_log_in(cast, db):
    page = host_client(cast.workspace_a).get("/accounts/login/").content.decode()

    assert "<h1>Log in to Workspace A</h1>" in page
    assert re.search(r'<button class="primary"[^>]*type="submit">Log in</button>', page)
    # Labels sit above their inputs, not in place of them.
    assert re.search(r'<label for="id_login">', page)


def test_no_account_page_says_sign_in_sign_up_or_sign_out(cast, db):
    public, workspace = host_client(None), host_client(cast.workspace_a)
    workspace.force_login(cast.owner)
    pages = {
        "sign-up": public.get("/accounts/signup/"),
        "log-in": host_client(cast.workspace_a).get("/accounts/login/"),
        "log-in code": host_client(cast.workspace_a).get("/accounts/login/code/"),
        "log-out": workspace.get("/accounts/logout/"),
        "password reset": public.get("/accounts/password/reset/"),
    }
    for name, response in pages.items():
        page = response.content.decode()
        assert response.status_code == 200, name
        assert not re.search(r"sign[ -]?(in|up|out)", re.sub(r"<[^>]+>", " ", page).replace("Sign up", ""), re.I), name


def test_a_member_without_the_ability_gets_a_page_of_the_product_not_a_bare_403(cast, db):
    client = host_client(cast.workspace_a)
    client.force_login(cast.viewer)

    response = client.get("/dashboard/team/")

    page = response.content.decode()
    assert response.status_code == 403
    assert 'href="/static/css/app.css"' in page or "app." in page
    assert "Your role can't open this page" in page and 'href="/dashboard/"' in page


def test_flash_messages_are_a_live_region_of_paragraphs_not_a_list(cast, db):
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.test import RequestFactory

    client = host_client(cast.workspace_a)
    client.force_login(cast.owner)
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, "Saved. 7 stops, version 3.")
    client.cookies["messages"] = storage._encode(storage._loaded_messages + storage._queued_messages)

    page = client.get("/dashboard/").content.decode()

    assert '<div class="messages" role="status"><p class="success">Saved. 7 stops, version 3.</p></div>' in page
    assert '<ul class="messages"' not in page


def test_the_style_guide_shows_each_component_to_members(cast, db):
    client = host_client(cast.workspace_a)
    client.force_login(cast.viewer)

    page = client.get("/dashboard/styleguide/").content.decode()

    for component in (
        'class="primary"',
        'class="tabs"',
        'class="form',
        "errorlist",
        'class="badge',
        "empty",
        "sparkline",
    ):
        assert component in page, component
