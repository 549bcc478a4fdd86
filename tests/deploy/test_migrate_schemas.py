"""Deploy-time migrations: schemas with every migration are skipped, those behind are migrated, several at once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.signals import schema_migrated
from django_tenants.utils import quote_schema_name

from accounts.models import User
from accounts.schemas import TEMPLATE_SCHEMA, SkippingExecutor, copy_schema, schemas_behind
from accounts.workspaces import create_workspace


def _put_behind(schema: str) -> None:
    """Undo the scans app's last migration in `schema`, as if the schema were made before it existed."""
    name = quote_schema_name(schema)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {name}.scans_scan DROP COLUMN language")
        cursor.execute(f"DELETE FROM {name}.django_migrations WHERE app = 'scans' AND name = '0004_scan_language'")  # noqa: S608


def _has_language_column(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'scans_scan' AND column_name = 'language'",
            [schema],
        )
        return cursor.fetchone() is not None


def _command_options(*argv: str) -> dict:
    """The options `manage.py migrate_schemas <argv>` hands its executor."""
    from django.core.management import load_command_class

    command = load_command_class("django_tenants", "migrate_schemas")
    return vars(command.create_parser("manage.py", "migrate_schemas").parse_args(argv))


@pytest.fixture
def migrated_schemas():
    """The schemas Django's migrate ran in, in this process."""
    seen: list[str] = []

    def note(sender, schema_name, **kwargs):
        seen.append(schema_name)

    schema_migrated.connect(note, dispatch_uid="test_migrated_schemas")
    yield seen
    schema_migrated.disconnect(dispatch_uid="test_migrated_schemas")


def test_a_deploy_migrates_the_schema_behind_and_skips_the_current_one(db, settings, migrated_schemas):
    settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = 1
    founder = User.objects.create_user("founder@example.com", "irrelevant")
    create_workspace(name="Current", slug="current", owner=founder)
    create_workspace(name="Behind", slug="behind", owner=founder)
    _put_behind("behind")
    connection.set_schema_to_public()
    assert schemas_behind(["current", "behind"]) == ["behind"]

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)

    connection.set_schema_to_public()
    assert _has_language_column("behind")
    assert "behind" in migrated_schemas
    assert "current" not in migrated_schemas
    assert schemas_behind(["current", "behind"]) == []


def test_a_schema_without_its_migrations_table_is_behind(db):
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "bare"')
    assert schemas_behind(["bare", TEMPLATE_SCHEMA]) == ["bare"]


def test_naming_a_migration_migrates_every_schema(db, settings, migrated_schemas):
    settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = 1
    call_command(
        "migrate_schemas", "scans", "0004_scan_language", schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=0
    )
    assert TEMPLATE_SCHEMA in migrated_schemas


def test_schemas_behind_are_migrated_by_parallel_processes(django_db_setup, django_db_blocker, settings):
    """Forked processes see only committed schemas, so this one builds its own outside the test's transaction."""
    settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = 2
    names = ["parallel_a", "parallel_b", "parallel_c"]
    with django_db_blocker.unblock():
        try:
            for name in names:
                copy_schema(TEMPLATE_SCHEMA, name)
            _put_behind("parallel_a")
            _put_behind("parallel_b")

            SkippingExecutor((), _command_options("--noinput", "--verbosity", "0")).run_migrations(list(names))

            assert [_has_language_column(name) for name in names] == [True, True, True]
            assert schemas_behind(names) == []
        finally:
            with connection.cursor() as cursor:
                for name in names:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(name)} CASCADE")
