"""`make run`: the database, migrations, the demo workspace, then the web server until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    workspace = prepare()
    from django.conf import settings

    from trails.demo import DEMO_OWNER_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL

    _print_welcome(settings.QRCARDS_DOMAIN, workspace, DEMO_OWNER_EMAIL, DEMO_STAFF_EMAIL, DEMO_PASSWORD)
    # The web server hands scans to the spool (or Redis); the worker writes them and runs the periodic jobs.
    processes = [
        subprocess.Popen(command, cwd=BASE_DIR)  # noqa: S603 - our own interpreter and config
        for command in (
            [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "qrcards" / "gunicorn.conf.py")],
            [sys.executable, str(BASE_DIR / "manage.py"), "run_worker"],
        )
    ]
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        return next(process.returncode for process in processes if process.returncode is not None)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        # A terminal's Ctrl-C reached them too; SIGTERM again does no harm and covers a plain kill of this process.
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


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

    from scans.demo import seed_history
    from trails.demo import seed_demo

    workspace = seed_demo()
    seed_history(workspace=workspace)
    return workspace


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
