"""The template schema new workspaces are copied from, and the copying.

Imports nothing else of ours, so the Customer model can use it to create its schema.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterable

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django_tenants.migration_executors import get_executor as django_tenants_executor
from django_tenants.migration_executors.base import MigrationExecutor, run_migrations
from django_tenants.migration_executors.multiproc import get_pool, run_migrations_percent
from django_tenants.utils import get_public_schema_name, quote_schema_name, schema_exists

# Underscores can't appear in a slug, so no workspace can ever be called this.
TEMPLATE_SCHEMA = "qrcards_template"


def refresh_template_schema(*, verbosity: int = 0) -> None:
    """Create the template schema if it is missing and bring it up to the latest migrations."""
    if not schema_exists(TEMPLATE_SCHEMA):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
    call_command("migrate_schemas", tenant=True, schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=verbosity)


def refresh_template_after_public_migration(sender, schema_name: str, **kwargs) -> None:
    """Every `migrate_schemas` migrates the public schema first; the template follows it."""
    if schema_name == get_public_schema_name():
        refresh_template_schema()


def clone_template_schema(schema_name: str) -> bool:
    """Make `schema_name` a copy of the template schema (created first if missing). False for the public schema."""
    if schema_name in (get_public_schema_name(), TEMPLATE_SCHEMA):
        return False
    if not schema_exists(TEMPLATE_SCHEMA):
        refresh_template_schema()
    connection.set_schema_to_public()
    copy_schema(TEMPLATE_SCHEMA, schema_name)
    # Not faked, unlike django-tenants' own cloning: a template that missed a migration
    # gets it applied here, rather than recorded as applied and silently missing.
    call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    return True


def copy_schema(source: str, target: str) -> None:
    """Create schema `target` with the tables, constraints, indexes and rows of `source`.

    django-tenants' own cloning (pg-clone-schema, a general PL/pgSQL copier) took
    2 to 3.5 s here, slower than running the migrations; Django makes nothing but
    tables, identity columns, constraints and indexes, so copying those by their
    catalog definitions, names kept for later migrations, is enough and quick.
    """
    src, dst = quote_schema_name(source), quote_schema_name(target)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' ORDER BY 1",
            [source],
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k"
            " JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = %s::regnamespace"
            " ORDER BY k.contype = 'f', c.relname, k.conname",
            [source],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " WHERE c.relnamespace = %s::regnamespace"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [source],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND is_identity = 'YES'",
            [source],
        )
        identities = cursor.fetchall()

        # Definitions name the source's tables qualified (it isn't on the search path);
        # pointing those at the target is the whole of the translation.
        def retarget(sql: str) -> str:
            return sql.replace(f"{source}.", f"{dst}.").replace(f"{src}.", f"{dst}.")

        cursor.execute(f"CREATE SCHEMA {dst}")
        for table in tables:
            name = quote_schema_name(table)
            cursor.execute(
                f"CREATE TABLE {dst}.{name} (LIKE {src}.{name} INCLUDING DEFAULTS INCLUDING IDENTITY"
                " INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
            )
            cursor.execute(f"INSERT INTO {dst}.{name} OVERRIDING SYSTEM VALUE SELECT * FROM {src}.{name}")  # noqa: S608
        for table, name, kind, definition in constraints:
            if kind == "n":  # NOT NULL, already copied with the columns
                continue
            cursor.execute(
                f"ALTER TABLE {dst}.{quote_schema_name(table)}"
                f" ADD CONSTRAINT {quote_schema_name(name)} {retarget(definition)}"
            )
        for definition in indexes:
            cursor.execute(retarget(definition))
        for table, column in identities:
            qualified = f"{dst}.{quote_schema_name(table)}"
            # Quoted identifiers read from the catalog, not user input.
            sql = f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({quote_schema_name(column)}), 0) + 1, false) FROM {qualified}"  # noqa: E501, S608
            cursor.execute(sql, [qualified, column])


# Deploy-time migrations -------------------------------------------------------------------------------------
#
# django-tenants runs Django's whole `migrate` command once per schema, system checks included, even where there
# is nothing to do: about 65 ms a schema, 11 minutes at 10,000 workspaces, on every deploy. Instead, one statement
# reads which schemas lack a migration, only those are migrated, and several at once.

# Run in the database, so one statement checks every schema: each is a small query planned and run on the server
# (a UNION over hundreds of schemas cost ten times as much, mostly in planning). Created per session, in pg_temp.
SCHEMAS_BEHIND_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.qrcards_schemas_behind(schemas text[], expected text[]) RETURNS SETOF text AS $$
DECLARE
    schema text;
    applied text[];
BEGIN
    FOREACH schema IN ARRAY schemas LOOP
        applied := NULL;
        IF to_regclass(format('%I.django_migrations', schema)) IS NOT NULL THEN
            EXECUTE format('SELECT array_agg(app || ''.'' || name) FROM %I.django_migrations', schema) INTO applied;
        END IF;
        IF applied IS NULL OR NOT expected <@ applied THEN
            RETURN NEXT schema;
        END IF;
    END LOOP;
END
$$ LANGUAGE plpgsql
"""


def expected_migrations() -> set[tuple[str, str]]:
    """Every migration on disk, as (app, name): a schema whose table records them all has nothing to apply.

    Tenant schemas record every app's migrations, the shared apps' too (the router skips their operations).
    """
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def schemas_behind(schemas: list[str], *, expected: set[tuple[str, str]] | None = None) -> list[str]:
    """Of `schemas`, in their order, those missing a migration on disk (or the table that records them).

    Rows of migrations since deleted from disk don't count against a schema.
    """
    expected = expected_migrations() if expected is None else expected
    if not schemas:
        return []
    with connection.cursor() as cursor:
        cursor.execute(SCHEMAS_BEHIND_FUNCTION)
        cursor.execute(
            "SELECT pg_temp.qrcards_schemas_behind(%s, %s)",
            [list(schemas), sorted(f"{app}.{name}" for app, name in expected)],
        )
        behind = {row[0] for row in cursor.fetchall()}
    return [schema for schema in schemas if schema in behind]


class SkippingExecutor(MigrationExecutor):
    """`migrate_schemas`' executor (settings.GET_EXECUTOR_FUNCTION): current schemas skipped, the rest in parallel.

    The public schema is migrated first, alone, as django-tenants does. Tenant schemas that record every migration
    on disk are skipped (one query per few hundred schemas); those behind are migrated by a pool of
    settings.TENANT_MULTIPROCESSING_MAX_PROCESSES forked processes (django-tenants' multiprocessing executor's
    pool), each running Django's migrate for its schema without the system checks, which the command ran once.
    Naming a migration or an app, or --prune, migrates every schema, as django-tenants would.
    """

    codename = "skipping"

    def run_migrations(self, tenants=None) -> None:
        tenants = list(tenants or [])
        if self.PUBLIC_SCHEMA_NAME in tenants:
            tenants.remove(self.PUBLIC_SCHEMA_NAME)
            run_migrations(self.args, self.options, self.codename, self.PUBLIC_SCHEMA_NAME)
        if not tenants:
            return
        everything = self.options.get("app_label") or self.options.get("migration_name") or self.options.get("prune")
        behind = tenants if everything else schemas_behind(tenants)
        if int(self.options.get("verbosity", 1)) >= 1 and len(tenants) > 1:
            sys.stdout.write(f"{len(behind)} of {len(tenants)} schemas have migrations to apply\n")
        options = {**self.options, "skip_checks": True}
        processes = getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 1)
        if len(behind) <= 1 or processes <= 1:
            for index, schema in enumerate(behind):
                run_migrations(self.args, options, self.codename, schema, idx=index, count=len(behind))
            return
        # Forked children must not share the parent's socket to the database.
        connections[self.TENANT_DB_ALIAS].close()
        migrate = functools.partial(run_migrations_percent, self.args, options, self.codename, len(behind))
        with get_pool() as pool:
            pool.map(migrate, enumerate(behind), chunksize=1)

    def run_multi_type_migrations(self, tenants):
        raise NotImplementedError("QRCards has one type of tenant")


def get_executor(codename: str | None = None) -> type[MigrationExecutor]:
    """SkippingExecutor, unless `--executor` names one of django-tenants' own."""
    if codename in (None, SkippingExecutor.codename):
        return SkippingExecutor
    return django_tenants_executor(codename)


# Connections that touch many schemas ------------------------------------------------------------------------
#
# A PostgreSQL backend keeps the catalog entries of every table it touches, in every schema, for its lifetime:
# about 0.09 MB a workspace (bench/scale.py: 12 MB after 100 workspaces, 90 MB after 1,000). A web worker serving
# any workspace's scanner pages, the scan writer and the hourly jobs each touch thousands, so each replaces its
# connection once it has touched settings.SCHEMAS_PER_CONNECTION schemas. Not much lower: a page whose schema the
# backend has not touched yet costs ~27 ms against ~7 ms (its catalog entries are read again).

_touched = threading.local()


def touched_schemas(schemas: Iterable[str]) -> bool:
    """Note that this thread's connection has touched `schemas`; close it (True) once they reach the budget.

    Outside a transaction only; the next query opens a fresh connection.
    """
    if getattr(_touched, "connection", None) is not connection.connection:
        _touched.connection, _touched.schemas = connection.connection, set()
    _touched.schemas.update(schemas)
    if len(_touched.schemas) < settings.SCHEMAS_PER_CONNECTION or connection.in_atomic_block:
        return False
    connection.close()
    _touched.connection, _touched.schemas = None, set()
    return True


def recycle_connection_after_request(sender, **kwargs) -> None:
    """request_finished: the schema the request was served in counts against its connection's budget."""
    if connection.connection is not None:
        touched_schemas([connection.schema_name])
