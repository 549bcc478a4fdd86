"""How long does a scan take to reach a webhook endpoint, step by step, and how many deliveries does a burst make?

    .venv/bin/python bench/webhooks.py                 # 20 single scans, then a burst of 5,000
    .venv/bin/python bench/webhooks.py --runs 50 --burst 20000

Uses DATABASE_URL, or the embedded PostgreSQL under var/ when it is unset (migrating the public
schema first if needed). Creates a throwaway workspace with one trail and an endpoint listening to
scan.created on a local HTTP receiver (tests/fixtures/webhooks.py), and runs the real worker
(scans.worker.run: the scan writer and the jobs thread) in this process. Loopback is let through
for this run only (WEBHOOKS_ALLOW_LOOPBACK_FOR_TESTS), as in the test suite. Per scan it times:
  answered   the scanner page's request (the scan handed to the spool) through the test Client
  written    from the answer until the worker's batch committed, the event with it (event.created_at)
  received   from that commit until the receiver had the signed POST (the jobs thread wakes every second)
  http       the POST itself as the attempt log recorded it
and, as a baseline in the same run, the same POST sent straight to the receiver (webhooks.deliver).
Medians and the 95th percentile. The workspace is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import threading
import time
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

from accounts import webhooks  # noqa: E402
from accounts.models import User, WebhookAttempt, WebhookEndpoint, WebhookEvent  # noqa: E402
from accounts.workspaces import create_workspace, ensure_public_workspace  # noqa: E402
from scans import queue, recording, worker  # noqa: E402
from scans.recording import PendingScan, new_uid  # noqa: E402
from tests.fixtures.trails import trail_markdown  # noqa: E402
from tests.fixtures.webhooks import Receiver  # noqa: E402
from trails.models import Trail  # noqa: E402

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"  {name:<10} median {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms   (n={len(values)})"


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the delivery never came")
        time.sleep(0.002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--burst", type=int, default=5000)
    args = parser.parse_args()

    # No collectstatic needed to render the scanner page.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate_schemas", shared=True, verbosity=0)
    call_command("createcachetable", verbosity=0)  # the worker's periodic jobs claim their periods in the cache
    ensure_public_workspace()
    spool_dir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    settings.SCANS_QUEUE = "spool"
    settings.SCAN_SPOOL_DIR = spool_dir
    settings.WEBHOOKS_ALLOW_LOOPBACK_FOR_TESTS = True  # this run's own receiver on 127.0.0.1, nothing else
    slug = f"bench-hooks-{os.getpid()}"
    owner = User.objects.create_user(f"{slug}@bench.example", None)
    workspace = create_workspace(name="Bench webhooks", slug=slug, owner=owner)
    receiver = Receiver()
    stopping = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stopping,), name="worker")
    try:
        with schema_context(slug):
            trail = Trail.create_from_markdown(trail_markdown(), status=Trail.Status.PUBLISHED)
            stop = trail.live_stops().first()
        endpoint = WebhookEndpoint.objects.create(customer=workspace, url=receiver.url, events=["scan.created"])
        connection.set_schema_to_public()
        runner.start()
        client = Client(HTTP_HOST=workspace.primary_host)

        answered, written, received, http, baseline = [], [], [], [], []
        for run in range(args.runs + 1):  # the first warms up
            before = len(receiver.requests)
            started = time.time()
            response = client.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
            done = time.time()
            assert response.status_code == 200
            wait_for(lambda before=before: len(receiver.requests) > before)
            arrived = time.time()
            event = WebhookEvent.objects.filter(customer=workspace).latest("pk")
            attempts = WebhookAttempt.objects.filter(delivery__event=event)
            wait_for(attempts.exists)  # recorded a moment after the receiver answered
            attempt = attempts.latest("pk")
            body = webhooks.event_body(event)
            direct = time.perf_counter()
            webhooks.deliver(url=endpoint.url, secret=endpoint.secret, msg_id=event.uid, body=body)
            direct = (time.perf_counter() - direct) * 1000
            if run:
                answered.append((done - started) * 1000)
                written.append((event.created_at.timestamp() - done) * 1000)
                received.append((arrived - event.created_at.timestamp()) * 1000)
                http.append(attempt.duration_ms)
                baseline.append(direct)
        print(f"One scan to its webhook, {args.runs} runs (the worker and PostgreSQL on this machine):")
        for name, values in [("answered", answered), ("written", written), ("received", received), ("http", http)]:
            print(summary(name, values))
        print(summary("baseline", baseline) + "   the same POST sent straight to the receiver")
        total = [a + w + r for a, w, r in zip(answered, written, received, strict=True)]
        print(summary("total", total))

        # A burst: scans queued faster than the worker writes them.
        before = len(receiver.requests)
        start_scans = sum(len(json.loads(r.body)["data"]["scans"]) for r in receiver.requests)
        writer = queue.SpoolWriter(spool_dir)
        burst_started = time.time()
        for _ in range(args.burst):
            at = datetime.datetime.now(datetime.UTC).isoformat()
            scan = PendingScan(new_uid(), slug, stop.pk, stop.trail_id, at, PHONE, "GET", "", "GB", "81.2.69.0", "v")
            writer.append(scan.to_line())
        writer.close()

        def all_delivered() -> bool:
            listed = sum(len(json.loads(r.body)["data"]["scans"]) for r in list(receiver.requests))
            return listed - start_scans >= args.burst

        wait_for(all_delivered, timeout=120)
        deliveries = len(receiver.requests) - before
        print(
            f"A burst of {args.burst} scans: {deliveries} deliveries, all received "
            f"{time.time() - burst_started:.2f} s after the first was queued."
        )
    finally:
        stopping.set()
        if runner.is_alive():
            runner.join(timeout=10)
        receiver.close()
        recording.shutdown()
        connection.set_schema_to_public()
        workspace.delete_workspace()
        owner.delete()


if __name__ == "__main__":
    main()
