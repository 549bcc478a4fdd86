from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from scans import worker


class Command(BaseCommand):
    help = (
        "Write queued scans to the database and run the periodic jobs (roll-ups, retention purges) until "
        "stopped with SIGTERM or Ctrl-C. Run one or more, on any machine; one per machine that spools scans."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-jobs", action="store_true", help="Only write scans; leave the periodic jobs to others."
        )

    def handle(self, *args, no_jobs: bool = False, **options) -> None:
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        worker.run(stopping, jobs=not no_jobs)
