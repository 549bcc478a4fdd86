from django.core.management.base import BaseCommand

from scans.demo import seed_history
from trails.demo import seed_demo


class Command(BaseCommand):
    help = "Create the public site, the demo workspace, its owner, its demo trail and 60 days of scans (once)."

    def handle(self, *args, **options) -> None:
        workspace = seed_demo()
        # The scan history is the scans app's (trails never writes scans); this command only runs both.
        stored = seed_history(workspace=workspace)
        self.stdout.write(f"Demo workspace ready: {workspace.primary_host} ({stored} new demo scans)")
