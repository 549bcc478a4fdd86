from __future__ import annotations

from django.core.management.base import BaseCommand

from scans.rollups import build_rollups, workspaces


class Command(BaseCommand):
    help = "Build the roll-ups of closed days that are missing or have late scans, in every workspace. Safe to repeat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--schema", help="Only this workspace.")
        parser.add_argument("--rebuild", action="store_true", help="Count every day whose raw scans are kept again.")

    def handle(self, *args, schema: str | None = None, rebuild: bool = False, **options) -> None:
        for workspace in workspaces(schema):
            days = build_rollups(workspace=workspace, rebuild=rebuild)
            self.stdout.write(f"{workspace.schema_name}: {days} day{'s' if days != 1 else ''} built")
