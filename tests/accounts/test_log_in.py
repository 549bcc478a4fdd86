"""Logging in: members only on a workspace host, the public workspace finder, and rate limits."""

from __future__ import annotations

import re

from django.core import mail

from accounts.models import Customer
from tests.accounts.conftest import PASSWORD, host_client


def _log_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_a_member_logs_in_on_the_workspace_host_and_reaches_the_dashboard(verified_cast):
    client = host_client(verified_cast.workspace_a)
    response = _log_in(client, verified_cast.viewer.email)
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_someone_from_another_workspace_is_told_only_that_the_log_in_failed(verified_cast):
    client = host_client(verified_cast.workspace_a)
    outsider = _log_in(client, verified_cast.member_of_b.email)
    wrong_password = _log_in(host_client(verified_cast.workspace_a), verified_cast.viewer.email, "wrong")
    assert outsider.status_code == wrong_password.status_code == 200
    assert b"not correct" in outsider.content and b"not correct" in wrong_password.content
    assert client.get("/dashboard/").status_code == 302


def test_a_log_in_code_does_not_let_an_outsider_in(verified_cast):
    client = host_client(verified_cast.workspace_a)
    client.post("/accounts/login/code/", {"email": verified_cast.member_of_b.email})
    code = mail.outbox[-1].body.split("browser window.")[1].split()[0]
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 404
    assert client.get("/dashboard/").status_code == 302


def test_sign_up_is_closed_on_a_workspace_host_without_an_invitation(verified_cast):
    client = host_client(verified_cast.workspace_a)
    client.post("/accounts/signup/", {"email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert not type(verified_cast.owner).objects.filter(email="x@example.com").exists()


def test_failed_log_ins_are_rate_limited(verified_cast):
    client = host_client(verified_cast.workspace_a)
    for _ in range(5):
        assert b"not correct" in _log_in(client, verified_cast.viewer.email, "wrong").content
    response = _log_in(client, verified_cast.viewer.email)  # even the right password, now
    assert b"Too many failed login attempts" in response.content
    assert client.get("/dashboard/").status_code == 302


def test_failed_log_ins_of_one_address_are_counted_on_every_host_together(verified_cast):
    """Five tries in all, not five on the public host plus five on each of the address's workspaces."""
    viewer = verified_cast.viewer.email
    for host in (None, None, verified_cast.workspace_a, verified_cast.workspace_b, verified_cast.workspace_a):
        assert b"not correct" in _log_in(host_client(host), viewer, "wrong").content
    client = host_client(verified_cast.workspace_a)
    response = _log_in(client, viewer)  # even the right password, now
    assert b"Too many failed login attempts" in response.content
    assert client.get("/dashboard/").status_code == 302


def test_failed_log_ins_from_one_client_are_counted_on_every_host_together(verified_cast):
    """allauth's ten a minute per client, over every host: a new address per try gets no more."""
    hosts = [None, verified_cast.workspace_a, verified_cast.workspace_b]
    for attempt in range(10):
        response = _log_in(host_client(hosts[attempt % 3]), f"nobody{attempt}@example.com", "wrong")
        assert b"not correct" in response.content
    response = _log_in(host_client(verified_cast.workspace_a), verified_cast.viewer.email)
    assert b"Too many failed login attempts" in response.content
    # Another client (another /24) is not held back by this one.
    other = host_client(verified_cast.workspace_a)
    response = other.post(
        "/accounts/login/", {"login": verified_cast.viewer.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response["Location"] == "/dashboard/"


def test_failed_staff_admin_log_ins_are_counted_on_every_host_together(verified_cast):
    staff = verified_cast.staff.email
    for host in (None, verified_cast.workspace_a, verified_cast.workspace_b, None, verified_cast.workspace_a):
        response = host_client(host).post("/admin/login/", {"username": staff, "password": "wrong"})
        assert response.status_code == 200
    for host in (None, verified_cast.workspace_a):
        client = host_client(host)
        response = client.post("/admin/login/", {"username": staff, "password": PASSWORD})
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session


def test_a_staff_admin_log_in_still_works_below_the_limit(verified_cast):
    client = host_client(None)
    client.post("/admin/login/", {"username": verified_cast.staff.email, "password": "wrong"})
    response = client.post("/admin/login/", {"username": verified_cast.staff.email, "password": PASSWORD})
    assert response.status_code == 302


def test_the_public_log_in_mails_the_workspaces_and_answers_the_same_for_anyone(verified_cast):
    client = host_client(None)
    known = client.post("/login/", {"email": verified_cast.owner.email})
    unknown = client.post("/login/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200

    def page(response, email: str) -> bytes:
        # Everything but the address typed and the (per-response) CSRF token.
        return re.sub(rb'"X-CSRFToken": "[^"]+"', b"", response.content.replace(email.encode(), b"@"))

    assert page(known, verified_cast.owner.email) == page(unknown, "nobody@example.com")
    to_owner, to_nobody = mail.outbox[-2], mail.outbox[-1]
    assert "http://alpha.qrcards.localhost:8000/accounts/login/" in to_owner.body
    assert "Workspace B" not in to_owner.body
    assert "belongs to none" in to_nobody.body


def test_the_public_log_in_does_not_mail_the_same_address_without_end(verified_cast):
    client = host_client(None)
    for _ in range(5):
        client.post("/login/", {"email": verified_cast.owner.email})
    assert len(mail.outbox) == 3


def test_deleting_a_workspace_in_the_staff_admin_drops_it_and_its_hosts_answer_404(verified_cast):
    from django_tenants.utils import schema_exists

    from accounts.models import ApiKey
    from accounts.workspaces import create_workspace

    doomed = create_workspace(name="Doomed", slug="doomed", owner=verified_cast.owner)
    key, secret = ApiKey.objects.create_key(customer=doomed, name="K", scope="read")
    assert host_client(doomed).get("/accounts/login/").status_code == 200

    staff = host_client(None)
    staff.force_login(verified_cast.staff)
    confirm = staff.get(f"/admin/accounts/customer/{doomed.pk}/delete/")
    assert b"This can't be undone" in confirm.content
    staff.post(f"/admin/accounts/customer/{doomed.pk}/delete/", {"post": "yes", "confirm": "doomed"})

    assert not Customer.objects.filter(pk=doomed.pk).exists()
    assert not schema_exists("doomed")
    assert ApiKey.objects.authenticate(secret, customer=doomed) is None
    from django.test import Client

    assert Client(HTTP_HOST="doomed.qrcards.localhost").get("/accounts/login/").status_code == 404


def test_the_public_workspace_is_neither_listed_nor_deletable_in_the_admin(verified_cast):
    staff = host_client(None)
    staff.force_login(verified_cast.staff)
    public = Customer.objects.get(schema_name="public")

    listing = staff.get("/admin/accounts/customer/").content.decode()
    staff.post(f"/admin/accounts/customer/{public.pk}/delete/", {"post": "yes", "confirm": "public"})

    assert f"/admin/accounts/customer/{public.pk}/change/" not in listing and "Workspace A" in listing
    assert staff.get(f"/admin/accounts/customer/{public.pk}/change/").status_code == 302  # "doesn't exist"
    assert Customer.objects.filter(schema_name="public").exists()


def test_an_owner_deletes_their_workspace_after_typing_its_name_and_its_hosts_answer_404(verified_cast):
    from django.test import Client
    from django_tenants.utils import schema_exists

    from accounts.models import ApiKey
    from accounts.workspaces import create_workspace

    doomed = create_workspace(name="Doomed", slug="doomed", owner=verified_cast.owner)
    key, secret = ApiKey.objects.create_key(customer=doomed, name="K", scope="read")
    owner = host_client(doomed)
    owner.force_login(verified_cast.owner)

    refused = owner.post("/dashboard/settings/delete/", {"confirm": "Doomed"})
    assert refused.status_code == 400 and "nothing was deleted" in refused.content.decode()
    assert schema_exists("doomed")

    response = owner.post("/dashboard/settings/delete/", {"confirm": "doomed"})

    assert response.status_code == 302 and response["Location"] == "http://qrcards.localhost/workspaces/"
    assert not Customer.objects.filter(pk=doomed.pk).exists() and not schema_exists("doomed")
    assert ApiKey.objects.authenticate(secret, customer=doomed) is None
    assert Client(HTTP_HOST="doomed.qrcards.localhost").get("/qr/ABCDEFGH").status_code == 404


def test_an_admin_may_not_delete_the_workspace(verified_cast):
    from accounts.models import Membership

    admin = Membership.objects.filter(customer=verified_cast.workspace_a, role="admin").first().user
    client = host_client(verified_cast.workspace_a)
    client.force_login(admin)

    assert client.post("/dashboard/settings/delete/", {"confirm": "alpha"}).status_code == 403
    assert Customer.objects.filter(schema_name="alpha").exists()
