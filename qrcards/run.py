"""`make run`: the database, migrations, the demo workspace, then the web server until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    workspace = prepare()
    from django.conf import settings

    from trails.demo import DEMO_OWNER_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL

    _print_welcome(settings.QRCARDS_DOMAIN, workspace, DEMO_OWNER_EMAIL, DEMO_STAFF_EMAIL, DEMO_PASSWORD)
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and config
        [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "qrcards" / "gunicorn.conf.py")],
        cwd=BASE_DIR,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return server.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to gunicorn too; give it time to write buffered scans.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        print("\nStopped.")
        return 0


def prepare():
    """Database, migrations, static files and the demo workspace; returns the demo workspace.

    Sets DATABASE_URL for child processes, so a web server started after this uses
    the same database (with the embedded one, this process keeps it running).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qrcards.settings")
    if not os.environ.get("DATABASE_URL"):
        from qrcards.embedded_db import embedded_database_url

        # This process holds the embedded server for the web server's lifetime; it stops when we exit.
        os.environ["DATABASE_URL"] = embedded_database_url(BASE_DIR / "var")
    else:
        from qrcards.embedded_db import ensure_database_exists

        ensure_database_exists(os.environ["DATABASE_URL"])

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)

    from trails.demo import seed_demo

    return seed_demo()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _print_welcome(domain: str, workspace, owner: str, staff: str, password: str) -> None:
    from django_tenants.utils import schema_context

    from trails.models import Stop

    with schema_context(workspace.schema_name):
        stop = Stop.objects.live().filter(trail__status="published").order_by("trail", "position").first()
    port = os.environ.get("BIND", "127.0.0.1:8000").rsplit(":", 1)[-1]
    host = f"http://{workspace.primary_host}:{port}"
    print(
        f"""
QRCards is running. Open:

  Public site      http://{domain}:{port}/
  Demo workspace   {host}/admin/   log in as {staff} / {password}
  A scanner page   {host}{stop.get_absolute_url() if stop else "/qr/…"}

  The demo owner (for the dashboard) is {owner} / {password}.
  Press Ctrl-C to stop.
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
