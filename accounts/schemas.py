"""The template schema new workspaces are copied from, and the copying.

Imports nothing else of ours, so the Customer model can use it to create its schema.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
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
