from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from accounts.models import Customer
from trails.models import InvalidDocument, Trail


class Command(BaseCommand):
    help = "Create or update a trail from a Markdown file. A trail with the same title is updated, keeping its tokens."

    def add_arguments(self, parser) -> None:
        parser.add_argument("workspace", help="the workspace's slug, e.g. demo")
        parser.add_argument("file", type=Path, help="the trail as a Markdown file")
        parser.add_argument("--publish", action="store_true", help="publish the trail")

    def handle(self, *args, workspace: str, file: Path, publish: bool, **options) -> None:
        if not Customer.objects.exclude(schema_name="public").filter(schema_name=workspace).exists():
            raise CommandError(f"No workspace {workspace!r}.")
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Can't read {file}: {error}") from None
        with schema_context(workspace):
            try:
                trail, created = Trail.objects.import_markdown(source)
            except InvalidDocument as error:
                raise CommandError(f"{file} has errors, nothing was saved: {error}") from None
            if publish:
                trail.publish()
            stops = trail.live_stops()
            self.stdout.write(f"{'Created' if created else 'Updated'} {trail.title!r} with {stops.count()} stops:")
            for stop in stops:
                self.stdout.write(f"  {stop.position}. {stop.title}  /qr/{stop.token}")
