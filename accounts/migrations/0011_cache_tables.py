"""The database cache's tables (the default cache and the shared one when REDIS_URL is unset), made by every
deploy's migrate like any table, not only by `make run`: createcachetable makes those missing and leaves the rest."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_single_sign_on")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=True)]
