from __future__ import annotations

from django.core.management.base import BaseCommand

from scans.rollups import purge_scans, workspaces


class Command(BaseCommand):
    help = "Delete raw scans older than each workspace keeps them (its roll-ups stay)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--schema", help="Only this workspace.")

    def handle(self, *args, schema: str | None = None, **options) -> None:
        for workspace in workspaces(schema):
            deleted = purge_scans(workspace=workspace)
            self.stdout.write(f"{workspace.schema_name}: {deleted} scan{'s' if deleted != 1 else ''} deleted")
