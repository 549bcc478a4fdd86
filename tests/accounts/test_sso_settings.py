"""The owner's single sign-on page: the provider, its secret (never shown back), who may join and as what."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, transaction

from accounts.models import SingleSignOn
from tests.accounts.conftest import host_client

SECRET = "s3cr3t-from-the-provider-0123456789"


def sso_form(**changes) -> dict:
    return {
        "name": "Museum staff",
        "issuer_url": "https://login.museum.example/realms/staff",
        "client_id": "qrcards",
        "client_secret": SECRET,
        "allowed_domains": "museum.example, @Shop.Museum.Example",
        "join_role": "editor",
        **changes,
    }


@pytest.fixture
def owner(verified_cast):
    client = host_client(verified_cast.workspace_a)
    client.force_login(verified_cast.owner)
    return client


def test_an_owner_configures_the_workspace_provider(owner, verified_cast):
    response = owner.post("/dashboard/settings/sso/", sso_form(required="on"))
    assert response.status_code == 302
    sso = SingleSignOn.objects.get(customer=verified_cast.workspace_a)
    assert (sso.issuer_url, sso.client_id, sso.client_secret) == (
        "https://login.museum.example/realms/staff",
        "qrcards",
        SECRET,
    )
    assert sso.domains == ["museum.example", "shop.museum.example"] and sso.join_role == "editor" and sso.required
    page = owner.get("/dashboard/settings/sso/")
    assert f"http://alpha.qrcards.localhost/accounts/oidc/{sso.provider_id}/login/callback/".encode() in page.content


def test_the_client_secret_is_never_shown_back_and_is_kept_when_left_empty(owner, verified_cast):
    owner.post("/dashboard/settings/sso/", sso_form())
    page = owner.get("/dashboard/settings/sso/").content.decode()
    assert SECRET not in page and SECRET[:-4] not in page
    assert "…6789" in page
    owner.post("/dashboard/settings/sso/", sso_form(client_secret="", name="Renamed"))
    sso = SingleSignOn.objects.get(customer=verified_cast.workspace_a)
    assert sso.name == "Renamed" and sso.client_secret == SECRET


def test_a_first_configuration_needs_a_secret(owner, verified_cast):
    response = owner.post("/dashboard/settings/sso/", sso_form(client_secret=""))
    assert response.status_code == 400 and b"Type the client secret" in response.content
    assert b"Museum staff" in response.content  # what was typed is kept
    assert not SingleSignOn.objects.exists()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_single_sign_on_never_gives_power_over_the_workspace(owner, verified_cast, role):
    response = owner.post("/dashboard/settings/sso/", sso_form(join_role=role))
    assert response.status_code == 400
    assert not SingleSignOn.objects.exists()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_the_database_refuses_a_join_role_with_power_too(verified_cast, role):
    with pytest.raises(IntegrityError), transaction.atomic():
        SingleSignOn.objects.create(
            customer=verified_cast.workspace_a, issuer_url="https://x.example", client_id="c", client_secret="s",
            join_role=role,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer_url": "http://login.museum.example"}, b"must start with https://"),
        ({"issuer_url": "https://login.museum.example/?next=x"}, b"without ?, #"),
        ({"allowed_domains": "museum.example not_a_domain!"}, b"not_a_domain!"),
        ({"allowed_domains": " ".join(f"d{i}.example" for i in range(21))}, b"At most 20 domains"),
        ({"allowed_domains": "x" * 100_000}, b"at most 1000 characters"),
        ({"client_secret": "x" * 100_000}, b"at most 1000 characters"),
    ],
)
def test_odd_or_oversized_input_is_a_form_error(owner, changes, message):
    response = owner.post("/dashboard/settings/sso/", sso_form(**changes))
    assert response.status_code == 400 and message in response.content
    assert not SingleSignOn.objects.exists()


@pytest.mark.parametrize("user", ["admin", "editor", "member_of_b"])
def test_only_owners_reach_the_page(verified_cast, admin_of_a, user):
    person = admin_of_a if user == "admin" else getattr(verified_cast, user)
    client = host_client(verified_cast.workspace_a)
    client.force_login(person)
    response = client.post("/dashboard/settings/sso/", sso_form())
    assert response.status_code == (404 if user == "member_of_b" else 403)
    assert not SingleSignOn.objects.exists()
    owner_page = host_client(verified_cast.workspace_a)
    owner_page.force_login(person)
    assert b"/dashboard/settings/sso/" not in owner_page.get("/dashboard/settings/").content


def test_the_settings_page_links_to_it_for_owners(owner):
    assert b'href="/dashboard/settings/sso/"' in owner.get("/dashboard/settings/").content


def test_another_issuer_forgets_the_accounts_linked_through_the_old_one(owner, verified_cast):
    """`sub` is unique within one issuer only: a link kept would log in whoever the new one calls the same."""
    owner.post("/dashboard/settings/sso/", sso_form())
    sso = SingleSignOn.objects.get()
    SocialAccount.objects.create(user=verified_cast.editor, provider=sso.provider_id, uid="1")
    owner.post("/dashboard/settings/sso/", sso_form(client_secret="", name="Renamed"))
    assert SocialAccount.objects.filter(provider=sso.provider_id).exists()
    owner.post("/dashboard/settings/sso/", sso_form(client_secret="", issuer_url="https://idp.other.example"))
    assert not SocialAccount.objects.filter(provider=sso.provider_id).exists()


def test_removing_it_forgets_the_provider_and_its_links(owner, verified_cast):
    owner.post("/dashboard/settings/sso/", sso_form())
    sso = SingleSignOn.objects.get()
    SocialAccount.objects.create(user=verified_cast.editor, provider=sso.provider_id, uid="1")
    assert owner.post("/dashboard/settings/sso/remove/").status_code == 302
    assert not SingleSignOn.objects.exists() and not SocialAccount.objects.exists()
