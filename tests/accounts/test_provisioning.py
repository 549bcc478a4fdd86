"""Creating a workspace: quick, complete, and all-or-nothing."""

from __future__ import annotations

import statistics
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_exists

from accounts import schemas
from accounts.models import Customer, Domain, Membership, User
from accounts.schemas import TEMPLATE_SCHEMA
from accounts.workspaces import create_workspace


def _shape(schema: str) -> tuple:
    """Columns, constraints and indexes of `schema`, with the schema's own name taken out."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable, is_identity, column_default"
            " FROM information_schema.columns WHERE table_schema = %s",
            [schema],
        )
        columns = set(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, k.conname, replace(pg_get_constraintdef(k.oid), %s, '') FROM pg_constraint k"
            " JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = %s::regnamespace",
            [f"{schema}.", schema],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT replace(pg_get_indexdef(i.indexrelid), %s, '') FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = %s::regnamespace",
            [f"{schema}.", schema],
        )
        indexes = set(cursor.fetchall())
    return columns, constraints, indexes


@pytest.fixture
def founder(db) -> User:
    return User.objects.create_user("founder@example.com", "irrelevant")


def test_a_workspace_is_provisioned_in_under_two_seconds(founder, capsys):
    timings = []
    for n in range(5):
        started = time.perf_counter()
        create_workspace(name=f"Timed {n}", slug=f"timed-{n}", owner=founder)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    with capsys.disabled():
        print(
            f"\nprovisioning: median {median * 1000:.0f} ms of 5 ({', '.join(f'{t * 1000:.0f}' for t in timings)} ms)"
        )
    assert median < 2.0


def test_a_new_workspace_has_its_schema_host_and_owner(founder):
    customer = create_workspace(name="Harbour Walks", slug="harbour", owner=founder)
    assert schema_exists("harbour")
    assert Domain.objects.get(tenant=customer).domain == "harbour.qrcards.localhost"
    assert Membership.objects.get(customer=customer).user == founder
    assert Membership.objects.get(customer=customer).role == "owner"


def test_a_copied_schema_matches_one_built_by_migrations(founder):
    create_workspace(name="Copied", slug="copied", owner=founder)
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "migrated"')
    call_command("migrate_schemas", tenant=True, schema_name="migrated", interactive=False, verbosity=0)
    connection.set_schema_to_public()
    copied, migrated = _shape("copied"), _shape("migrated")
    assert copied[0] == migrated[0]
    assert copied[1] == migrated[1]
    assert copied[2] == migrated[2]


def test_a_new_workspace_is_copied_from_the_template_not_migrated(founder, monkeypatch):
    assert schema_exists(TEMPLATE_SCHEMA)
    copies = []
    monkeypatch.setattr(schemas, "copy_schema", lambda source, target: copies.append((source, target)) or None)
    monkeypatch.setattr(schemas, "call_command", lambda *args, **kwargs: None)
    Customer(schema_name="fast", name="Fast").save(verbosity=0)
    assert copies == [(TEMPLATE_SCHEMA, "fast")]


def test_rows_added_to_a_copied_workspace_get_fresh_ids(founder):
    """The copy brings the template's rows (content types, migrations); its id sequences must start after them."""
    from django.contrib.contenttypes.models import ContentType
    from django_tenants.utils import schema_context

    create_workspace(name="Ids", slug="ids", owner=founder)
    with schema_context("ids"):
        copied = ContentType.objects.count()
        assert copied > 0
        ContentType.objects.create(app_label="extra", model="thing")
        assert ContentType.objects.count() == copied + 1


@pytest.mark.parametrize("failing_step", ["schema", "membership"])
def test_a_failure_half_way_leaves_no_workspace_behind(founder, monkeypatch, failing_step):
    def fail(*args, **kwargs):
        raise RuntimeError("forced failure")

    if failing_step == "schema":
        monkeypatch.setattr(schemas, "call_command", fail)  # after the tables are copied
    else:
        monkeypatch.setattr(Membership.objects, "create", fail)
    with pytest.raises(RuntimeError):
        create_workspace(name="Half", slug="half-made", owner=founder)
    connection.set_schema_to_public()
    assert not Customer.objects.filter(schema_name="half-made").exists()
    assert not Domain.objects.filter(domain__startswith="half-made.").exists()
    assert not schema_exists("half-made")
