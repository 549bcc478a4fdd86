"""How fast is the scanner page, next to a bare Django view, served as `make run` serves it?

    .venv/bin/python bench/scanner.py                 # the product as shipped (gunicorn)
    .venv/bin/python bench/scanner.py --steps         # also each step of the fast path, from naive up
    .venv/bin/python bench/scanner.py --server granian  # needs `pip install granian`

Needs wrk (Debian: apt-get install wrk). Uses DATABASE_URL, or the embedded PostgreSQL
under var/ when it is unset. For each configuration it starts the web server, drives
/ping (the bare view: "pong" through the same middleware) and /qr/<token> with wrk on
loopback, stops the server (which writes buffered scans), and counts the scans stored
against the scan requests wrk completed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

BENCH_SLUG = "bench"
HOST = ""  # the bench workspace's host, set in main()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (it shares the machine's cores)")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per endpoint; the median is reported")
    parser.add_argument("--steps", action="store_true", help="also measure each step of the fast path")
    parser.add_argument("--server", choices=["gunicorn", "granian"], default="gunicorn")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    from qrcards.run import prepare

    prepare()
    workspace = _bench_workspace()
    from django_tenants.utils import schema_context

    from scans.models import Scan
    from trails.models import Stop

    global HOST
    HOST = workspace.primary_host
    with schema_context(workspace.schema_name):
        token = Stop.objects.live().filter(trail__status="published").order_by("position").first().token

    def stored_scans() -> int:
        with schema_context(workspace.schema_name):
            return Scan.objects.count()

    steps = ["naive", "connections", "hosts", "pages", "full"] if args.steps else ["full"]
    workers = os.environ.get("WEB_CONCURRENCY", "default")
    print(
        f"server={args.server} workers={workers} connections={args.connections} "
        f"{args.runs}×{args.seconds}s per endpoint, median shown"
    )
    print(
        f"{'step':<12} {'bare rps':>9} {'bare p50':>9} {'bare p99':>9} {'scan rps':>9} {'scan p50':>9} {'scan p99':>9} "
        f"{'scan/bare':>9} {'sent':>7} {'stored':>7}"
    )
    results = {}
    for step in steps:
        before = stored_scans()
        server = _start_server(args.server, args.port, step)
        try:
            _wait_until_up(args.port)
            bare = _median_wrk(f"http://127.0.0.1:{args.port}/ping", args)
            scan = _median_wrk(f"http://127.0.0.1:{args.port}/qr/{token}", args)
        finally:
            _stop_server(server)
        stored = stored_scans() - before
        results[step] = (bare, scan)
        print(
            f"{step:<12} {bare['rps']:>9.0f} {bare['p50']:>8.1f}ms {bare['p99']:>8.1f}ms "
            f"{scan['rps']:>9.0f} {scan['p50']:>8.1f}ms {scan['p99']:>8.1f}ms "
            f"{scan['rps'] / bare['rps']:>9.2f} {scan['sent']:>7} {stored:>7}",
            flush=True,
        )
    if args.steps:
        naive = results["naive"][1]["rps"]
        print(
            "\nscan rps against the naive step: " + ", ".join(f"{s} {results[s][1]['rps'] / naive:.1f}×" for s in steps)
        )
    return 0


def _bench_workspace():
    """A workspace of its own (made once, kept), so the benchmark's scans stay out of the demo's analytics."""
    from django_tenants.utils import schema_context

    from accounts.models import Customer, User
    from accounts.workspaces import create_workspace
    from trails.demo import DEMO_TRAIL
    from trails.models import Trail

    workspace = Customer.objects.filter(schema_name=BENCH_SLUG).first()
    if workspace is None:
        owner, _ = User.objects.get_or_create(email="bench@qrcards.example")
        workspace = create_workspace(name="Benchmark", slug=BENCH_SLUG, owner=owner)
    with schema_context(BENCH_SLUG):
        if not Trail.objects.exists():
            Trail.create_from_markdown(DEMO_TRAIL.read_text(), status=Trail.Status.PUBLISHED)
    return workspace


def _start_server(kind: str, port: int, step: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "QRCARDS_BENCH_STEP": step,
        "BIND": f"127.0.0.1:{port}",
        "PYTHONPATH": str(BASE_DIR),
    }
    workers = os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() + 1))
    if kind == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "qrcards" / "gunicorn.conf.py")]
    else:
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            workers,
            "--log-level",
            "warning",
            "qrcards.wsgi:application",
        ]
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _wait_until_up(port: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ping", headers={"Host": HOST})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)  # graceful: workers write their buffered scans
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, args) -> dict:
    out = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.seconds}s",
            "--latency",
            "-H",
            f"Host: {HOST}",
            "-H",
            "User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 Safari/604.1",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * _UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "sent": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def _median_wrk(url: str, args) -> dict:
    runs = [_wrk(url, args) for _ in range(args.runs)]
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50": statistics.median(r["p50"] for r in runs),
        "p99": statistics.median(r["p99"] for r in runs),
        "sent": sum(r["sent"] for r in runs),
    }


if __name__ == "__main__":
    sys.exit(main())
