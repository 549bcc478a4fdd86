"""API keys: created by owners and admins, shown once, stored as a hash, bound to one workspace."""

from __future__ import annotations

import re

from accounts.models import ApiKey
from tests.accounts.conftest import host_client


def _create(cast, user, name="Kiosk", scope="read"):
    client = host_client(cast.workspace_a)
    client.force_login(user)
    return client, client.post("/dashboard/api-keys/new/", {"name": name, "scope": scope})


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(verified_cast):
    client, response = _create(verified_cast, verified_cast.owner)
    secret = re.search(rb"qrc_[A-Za-z0-9_-]+", response.content).group(0).decode()
    key = ApiKey.objects.get(name="Kiosk")
    assert key.hashed_secret == ApiKey.hash(secret) and secret not in (key.hashed_secret, key.prefix)
    assert secret.startswith(key.prefix)
    assert response["Cache-Control"] == "no-store"
    listing = client.get("/dashboard/api-keys/")
    assert secret.encode() not in listing.content
    assert key.prefix.encode() in listing.content


def test_a_key_has_the_scope_it_was_given(verified_cast, admin_of_a):
    _create(verified_cast, admin_of_a, name="Reader", scope="read")
    _create(verified_cast, admin_of_a, name="Writer", scope="read-write")
    assert not ApiKey.objects.get(name="Reader").can_write
    assert ApiKey.objects.get(name="Writer").can_write


def test_a_key_works_for_its_workspace_only_and_records_its_use(verified_cast):
    key, secret = ApiKey.objects.create_key(customer=verified_cast.workspace_a, name="K", scope="read")
    assert ApiKey.objects.authenticate(secret, customer=verified_cast.workspace_b) is None
    assert ApiKey.objects.authenticate(secret, customer=verified_cast.workspace_a) == key
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_revoked_key_works_no_more(verified_cast):
    key, secret = ApiKey.objects.create_key(customer=verified_cast.workspace_a, name="K", scope="read")
    client = host_client(verified_cast.workspace_a)
    client.force_login(verified_cast.owner)
    client.post(f"/dashboard/api-keys/{key.pk}/revoke/")
    assert ApiKey.objects.authenticate(secret, customer=verified_cast.workspace_a) is None


def test_a_key_of_another_workspace_can_not_be_revoked_from_this_one(verified_cast):
    key, _ = ApiKey.objects.create_key(customer=verified_cast.workspace_b, name="B's", scope="read")
    client = host_client(verified_cast.workspace_a)
    client.force_login(verified_cast.owner)
    assert client.post(f"/dashboard/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_key_without_a_name_is_refused_and_the_form_keeps_the_scope(verified_cast):
    _, response = _create(verified_cast, verified_cast.owner, name="   ", scope="read-write")
    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert b'value="read-write" selected' in response.content
    assert not ApiKey.objects.exists()
