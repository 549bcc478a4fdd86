"""How fast is the media library's page with many long trails, next to the trails list and to parsing every document?

    .venv/bin/python bench/media_library.py                  # 20 trails of ~150 KB, 200 assets, 7 runs
    .venv/bin/python bench/media_library.py --trails 50 --runs 5

Uses DATABASE_URL, or the embedded PostgreSQL under var/ when it is unset (migrating the public schema first if
needed). Creates a throwaway workspace with `--trails` trails of 400 stops (each stop a picture and ~300 characters,
~150 KB a document) and `--assets` Asset rows (rows only: the page shows their thumbnails' URLs, no file is read),
then times, as medians:
  library    GET /dashboard/media/ as the logged-in owner, through the test Client (what a viewer can ask for)
  trails     GET /dashboard/trails/, the same way: the dashboard page it sits beside
  usage      Asset.objects.usage() alone: where each asset is used, read from the stops' saved HTML
  reparse    the same answer by parsing every document with dap.media_references (the way it is not done)
The target: the library's page under a second (a request a viewer can make never holds a worker longer).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qrcards.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

import dap  # noqa: E402
from accounts.models import User  # noqa: E402
from accounts.workspaces import create_workspace, ensure_public_workspace  # noqa: E402
from trails.models import Asset, Trail  # noqa: E402

STOPS = 400
TARGET_MS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trails", type=int, default=20)
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate_schemas", shared=True, verbosity=0)
    ensure_public_workspace()
    slug = f"benchmedia{os.getpid()}"
    owner = User.objects.create_user(f"owner@{slug}.example", None)
    workspace = create_workspace(name="Media benchmark", slug=slug, owner=owner)
    try:
        with schema_context(slug):
            run(workspace, owner, args)
    finally:
        connection.set_schema_to_public()
        workspace.delete(force_drop=True)
        owner.delete()
        print(f"dropped workspace {slug}")


def _markdown(number: int, *, assets: int) -> str:
    stops = "".join(
        f"## Stop {stop} {{#s{stop}}}\n![A picture of stop {stop}](picture-{(number * STOPS + stop) % assets}.jpg)\n\n"
        + "Words about what is here, long enough to read on a phone while standing. " * 4
        + "\n\n"
        for stop in range(1, STOPS + 1)
    )
    return f'+++\ntitle = "Trail {number}"\n+++\nWelcome.\n\n{stops}'


def run(workspace, owner, args) -> None:
    for number in range(args.assets):
        Asset.objects.create(
            name=f"picture-{number}.jpg",
            kind="image",
            original="original.jpg",
            content_type="image/jpeg",
            bytes=200_000,
            width=1200,
            height=900,
            variants=[{"file": "thumb.webp", "role": "thumb", "type": "image/webp", "width": 320, "height": 240}],
        )
    started = time.perf_counter()
    sources = [_markdown(number, assets=args.assets) for number in range(1, args.trails + 1)]
    for source in sources:
        Trail.create_from_markdown(source)
    size = sum(len(source) for source in sources) / len(sources)
    print(
        f"{args.trails} trails of {STOPS} stops, {size / 1024:.0f} KB each, {args.assets} assets: "
        f"seeded in {time.perf_counter() - started:.1f} s"
    )
    client = Client(HTTP_HOST=workspace.primary_host)
    client.force_login(owner)

    def reparse() -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for trail in Trail.objects.live().only("pk", "source"):
            for reference in dap.media_references(trail.source):
                found.setdefault(reference.name, set()).add(trail.pk)
        return found

    usage = Asset.objects.usage()
    assert {name: {doc.pk for doc in docs} for name, docs in usage.items()} == reparse(), "usage differs"
    results = {
        "library": _median(lambda: _get(client, "/dashboard/media/"), args.runs),
        "trails": _median(lambda: _get(client, "/dashboard/trails/"), args.runs),
        "usage": _median(Asset.objects.usage, args.runs),
        "reparse": _median(reparse, args.runs),
    }
    for name, ms in results.items():
        print(f"{name:8} {ms:8.1f} ms")
    print(f"library / trails list     {results['library'] / results['trails']:6.2f}×")
    print(f"reparse / usage           {results['reparse'] / results['usage']:6.1f}×")
    verdict = "met" if results["library"] < TARGET_MS else "MISSED"
    print(f"target: the library's page under {TARGET_MS} ms: {verdict}")


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def _median(action: Callable[[], object], runs: int) -> float:
    action()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
