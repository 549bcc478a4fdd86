"""How fast is the scanner page, next to a bare one-view Django project, served as `make run` serves it?

    .venv/bin/python bench/scanner.py            # the product as shipped: gunicorn, the spool (or Redis) and a worker
    .venv/bin/python bench/scanner.py --steps    # also each step of the fast path, from naive up
    .venv/bin/python bench/scanner.py --multilingual   # a trail in four languages, visitors' Accept-Language mixed
    .venv/bin/python bench/scanner.py --stop market-hall   # another stop of the demo trail (default: its first)

The demo trail's first stop, the one scanned by default, has a picture from the media library (trails/demo_media/):
the page carries its <picture> markup, placeholder style and policy, as a visitor's does.

Needs wrk (Debian: apt-get install wrk). Uses DATABASE_URL, or the embedded PostgreSQL under var/ when
it is unset; with REDIS_URL set, scans go through Redis as in production.

The baseline is bench/bare.py: a Django project with one view, no middleware and no database, that
answers with the same bytes and headers as the scanner page, under the same gunicorn and worker count.
The two are measured in turns (bare, scanner, bare, scanner...), so a busy machine slows both alike;
the medians and their ratio are printed. Afterwards the scans stored are counted against the scan
requests wrk completed (a request in flight when wrk stops may be stored without being counted).
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
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

BENCH_SLUG = "bench"
BENCH_LANGS_SLUG = "benchlangs"
LANGUAGES = ("en", "fr", "de", "ja", "ar")
# Visitors of a multilingual trail: each request asks in the next of these (wrk's Lua script below).
ACCEPT_LANGUAGES = ("fr-FR,fr;q=0.9,en;q=0.8", "de-DE,de;q=0.9", "en-GB,en;q=0.9", "ja", "ar-EG,ar;q=0.9", "es-ES,es")
USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 Safari/604.1"
STEPS = ["naive", "connections", "hosts", "pages", "full"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (it shares the machine's cores)")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per server and step; the median is reported")
    parser.add_argument("--steps", action="store_true", help="also measure each step of the fast path")
    parser.add_argument("--port", type=int, default=18765, help="the bare server's; the product's is the next")
    parser.add_argument(
        "--stop", default="fountain", help="the id of the demo trail's stop to scan (default fountain: with a picture)"
    )
    parser.add_argument(
        "--multilingual",
        action="store_true",
        help="scan a trail with translations (fr, de, ja, ar), each request asking in one of several languages",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    from qrcards.run import prepare

    prepare()
    workspace = _bench_workspace(multilingual=args.multilingual)
    from django_tenants.utils import schema_context

    from scans.models import Scan
    from trails.models import Stop

    host = workspace.primary_host
    with schema_context(workspace.schema_name):
        token = Stop.objects.live().filter(trail__status="published", key=args.stop).get().token

    def stored_scans() -> int:
        with schema_context(workspace.schema_name):
            return Scan.objects.count()

    workers = os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() + 1))
    queue = "Redis" if os.environ.get("REDIS_URL") else "the spool"
    print(
        f"gunicorn workers={workers} connections={args.connections} {args.runs}×{args.seconds}s per server and step, "
        f"medians; the full step hands scans to {queue}"
    )
    print(
        f"{'step':<12} {'bare rps':>9} {'bare p99':>9} {'scan rps':>9} {'scan p50':>9} {'scan p99':>9} "
        f"{'scan/bare':>9} {'bytes':>6} {'sent':>7} {'stored':>7}"
    )
    bare_port, scan_port = args.port, args.port + 1
    bare = body_file = None
    results = {}
    try:
        for step in STEPS if args.steps else ["full"]:
            before = stored_scans()
            server = _start(_product_command(), scan_port, step)
            worker = _start(_worker_command(), scan_port, step) if step == "full" else None
            runs: dict[str, list[dict]] = {"bare": [], "scan": []}
            sent = 0
            try:
                _wait_until_up(scan_port, host, f"/qr/{token}")
                if bare is None:
                    body, csp = _fetch(scan_port, host, f"/qr/{token}")
                    pictures = body.count(b"<picture>")
                    print(f"stop {args.stop}: {len(body):,} bytes of HTML, {pictures} picture(s) from the library")
                    body_file = tempfile.NamedTemporaryFile(suffix=".html", delete=False)  # noqa: SIM115
                    body_file.write(body)
                    body_file.close()
                    bare = _start(_bare_command(workers), bare_port, step, BARE_BODY_FILE=body_file.name, BARE_CSP=csp)
                    _wait_until_up(bare_port, host, f"/qr/{token}")
                    if args.multilingual:
                        sizes = {tag: len(_fetch(scan_port, host, f"/qr/{token}?lang={tag}")[0]) for tag in LANGUAGES}
                        print("page bytes by language: " + ", ".join(f"{tag} {size}" for tag, size in sizes.items()))
                for _ in range(args.runs):
                    runs["bare"].append(_wrk(f"http://127.0.0.1:{bare_port}/qr/{token}", host, args))
                    runs["scan"].append(_wrk(f"http://127.0.0.1:{scan_port}/qr/{token}", host, args, mixed=True))
                sent = sum(run["sent"] for run in runs["scan"])
            finally:
                _stop(server)
                # The worker goes once the scans are written (at once if nothing was measured).
                stored = _wait_for_scans(stored_scans, before + sent) - before
                if worker is not None:
                    _stop(worker)
            bare_median, scan_median = _median(runs["bare"]), _median(runs["scan"])
            results[step] = scan_median["rps"]
            print(
                f"{step:<12} {bare_median['rps']:>9.0f} {bare_median['p99']:>8.1f}ms {scan_median['rps']:>9.0f} "
                f"{scan_median['p50']:>8.1f}ms {scan_median['p99']:>8.1f}ms "
                f"{scan_median['rps'] / bare_median['rps']:>9.2f} {os.path.getsize(body_file.name):>6} "
                f"{sent:>7} {stored:>7}",
                flush=True,
            )
    finally:
        if bare is not None:
            _stop(bare)
        if body_file is not None:
            os.unlink(body_file.name)
    if args.steps:
        naive = results["naive"]
        ratios = ", ".join(f"{s} {rps / naive:.1f}×" for s, rps in results.items())
        print(f"\nscan rps against the naive step: {ratios}")
    return 0


def _bench_workspace(*, multilingual: bool):
    """A workspace of its own (made once, kept), so the benchmark's scans stay out of the demo's analytics.

    The multilingual one has its own workspace: the demo trail with its French translation, and German,
    Japanese and Arabic ones (the main text under those languages' tags: their pages' own words are translated).
    """
    from django_tenants.utils import schema_context

    import dap
    from accounts.models import Customer, User
    from accounts.workspaces import create_workspace
    from trails.demo import DEMO_MEDIA, DEMO_MEDIA_FILES, DEMO_TRAIL, DEMO_TRANSLATIONS, add_media, add_translations
    from trails.models import Trail

    slug = BENCH_LANGS_SLUG if multilingual else BENCH_SLUG
    workspace = Customer.objects.filter(schema_name=slug).first()
    if workspace is None:
        owner, _ = User.objects.get_or_create(email="bench@qrcards.example")
        workspace = create_workspace(name="Benchmark", slug=slug, owner=owner)
    with schema_context(slug):
        add_media(DEMO_MEDIA, DEMO_MEDIA_FILES)
        trail = Trail.objects.first()
        if trail is None:
            trail = Trail.create_from_markdown(DEMO_TRAIL.read_text(), status=Trail.Status.PUBLISHED)
        elif trail.source != DEMO_TRAIL.read_text():  # a workspace made before the demo had pictures
            trail.set_source(DEMO_TRAIL.read_text())
        if multilingual:
            add_translations(trail, DEMO_TRANSLATIONS)
            for tag in ("de", "ja", "ar"):
                if not trail.translations.filter(language=tag).exists():
                    trail.translations.create(language=tag).set_source(dap.relanguage(DEMO_TRAIL.read_text(), tag))
    return workspace


def _product_command() -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "qrcards" / "gunicorn.conf.py")]


def _worker_command() -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), "run_worker", "--no-jobs"]


def _bare_command(workers: str) -> list[str]:
    # The same server, worker class, worker count and preloading as qrcards/gunicorn.conf.py.
    return [sys.executable, "-m", "gunicorn", "--workers", workers, "--preload", "--log-level", "warning", "bench.bare"]


def _start(command: list[str], port: int, step: str, **extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "QRCARDS_BENCH_STEP": step,
        "BIND": f"127.0.0.1:{port}",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
        "PYTHONPATH": str(BASE_DIR),
        **extra,
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and commands
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _fetch(port: int, host: str, path: str) -> tuple[bytes, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host, "User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
        return response.read(), response.headers.get("Content-Security-Policy", "")


def _wait_until_up(port: int, host: str, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _fetch(port, host, path)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not start")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def _wait_for_scans(count, at_least: int, *, timeout: float = 120) -> int:
    """The scans stored once the worker has caught up (or after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    stored = count()
    while stored < at_least and time.monotonic() < deadline:
        time.sleep(1)
        stored = count()
    return stored


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


_MIXED_LANGUAGES = """
local languages = {%s}
local i = 0
request = function()
  i = i + 1
  wrk.headers["Accept-Language"] = languages[i %% #languages + 1]
  return wrk.format(nil)
end
"""


def _wrk(url: str, host: str, args, *, mixed: bool = False) -> dict:
    script = []
    if mixed and args.multilingual:
        lua = Path(tempfile.gettempdir()) / "qrcards-bench-languages.lua"
        lua.write_text(_MIXED_LANGUAGES % ", ".join(f'"{value}"' for value in ACCEPT_LANGUAGES))
        script = ["-s", str(lua)]
    out = subprocess.run(
        [
            "wrk",
            *script,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.seconds}s",
            "--latency",
            "-H",
            f"Host: {host}",
            "-H",
            f"User-Agent: {USER_AGENT}",
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


def _median(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")}


if __name__ == "__main__":
    sys.exit(main())
