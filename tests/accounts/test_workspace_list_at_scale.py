"""The staff admin's workspace list, with many workspaces: a page at a time, found by search, in the same queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.admin import CustomerAdmin
from accounts.models import Customer, Domain, Membership, User
from tests.accounts.test_staff_admin import staff  # noqa: F401 (a fixture)
from tests.fixtures.workspaces import host_client


def _add_workspaces(first: int, last: int) -> None:
    """Rows only (bulk_create skips save(), so no schemas): the list reads nothing else of them."""
    customers = Customer.objects.bulk_create(
        Customer(schema_name=f"many{n:04d}", name=f"Many {n:04d}") for n in range(first, last)
    )
    Domain.objects.bulk_create(
        Domain(domain=f"many{n:04d}.qrcards.localhost", tenant=customer, is_primary=True)
        for n, customer in zip(range(first, last), customers, strict=True)
    )


def _queries_for(staff_client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.mark.django_db
def test_the_workspace_list_shows_a_page_at_a_time_in_the_same_queries_however_many_there_are(staff):  # noqa: F811
    _add_workspaces(0, CustomerAdmin.list_per_page + 10)
    staff.get("/admin/accounts/customer/")  # the session and content types, read once per process
    page, fewer = _queries_for(staff, "/admin/accounts/customer/")
    assert page.count("Many 0") == CustomerAdmin.list_per_page
    assert "?p=2" in page

    _add_workspaces(CustomerAdmin.list_per_page + 10, 4 * CustomerAdmin.list_per_page)
    page, more = _queries_for(staff, "/admin/accounts/customer/")
    assert page.count("Many 0") == CustomerAdmin.list_per_page
    assert more == fewer


@pytest.mark.django_db
def test_a_workspace_among_many_is_found_by_its_host(staff):  # noqa: F811
    _add_workspaces(0, 3 * CustomerAdmin.list_per_page)
    page, _ = _queries_for(staff, "/admin/accounts/customer/?q=many0123.qrcards.localhost")
    assert "Many 0123" in page
    assert page.count("Many 0") == 1


def _join_workspaces(user: User, first: int, last: int) -> None:
    _add_workspaces(first, last)
    Membership.objects.bulk_create(
        Membership(user=user, customer=customer, role=Membership.Role.EDITOR)
        for customer in Customer.objects.filter(schema_name__startswith="many").exclude(memberships__user=user)
    )


@pytest.mark.django_db
def test_someone_in_many_workspaces_gets_their_list_in_the_same_queries_as_someone_in_few(verified_cast):
    busy = verified_cast.viewer
    client = host_client(None)
    client.force_login(busy)
    _join_workspaces(busy, 0, 3)
    client.get("/workspaces/")
    few = _queries_for(client, "/workspaces/")
    _join_workspaces(busy, 3, 30)
    many = _queries_for(client, "/workspaces/")
    assert "many0029.qrcards.localhost" in many[0]
    assert many[1] == few[1]


@pytest.mark.django_db
def test_the_workspace_finder_mails_many_workspaces_in_the_same_queries_as_few(verified_cast, public_client):
    from django.core.cache import cache

    busy = verified_cast.viewer

    def find() -> int:
        cache.clear()  # its rate limits
        with CaptureQueriesContext(connection) as queries:
            assert public_client.post("/login/", {"email": busy.email}).status_code == 200
        return len(queries)

    _join_workspaces(busy, 0, 3)
    find()
    few = find()
    _join_workspaces(busy, 3, 30)
    assert find() == few
