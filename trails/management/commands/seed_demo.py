from django.core.management.base import BaseCommand

from trails.demo import seed_demo


class Command(BaseCommand):
    help = "Create the public site, the demo workspace, its owner and its demo trail (once)."

    def handle(self, *args, **options) -> None:
        workspace = seed_demo()
        self.stdout.write(f"Demo workspace ready: {workspace.primary_host}")
