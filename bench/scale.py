"""How each cost grows with the number of workspaces, and the scans of one workspace at 10 million.

    .venv/bin/python bench/scale.py                        # 100, 1,000, 3,000, 10,000 workspaces, then 10M scans
    .venv/bin/python bench/scale.py --max 1000 --scans 3000000   # what fits a small machine; the rest extrapolated

Builds a database of its own (qrcards_scale_bench, or --database) on the server of DATABASE_URL (the embedded one
when unset), grows it step by step, and prints at each step, side by side:
  provisioning   create_workspace (schema copied from the template, host, owner): median and p95 of the last 50
  migrate        `manage.py migrate_schemas` as a deploy runs it (a process of its own, start-up included) with
                 nothing to do; django-tenants' own executor for comparison (up to --standard-max workspaces);
                 and with one new migration (a column on Stop, made by the bench and taken away after)
  scanner        requests per second and p99 of /qr/<token> with the traffic spread at random over every
                 workspace's host (host and page caches churning), against the bare Django baseline
                 (bench/bare.py) in the same run; and the unique memory (USS) of each web worker afterwards;
                 with --warm, each host's page is asked for once first (steady traffic keeps the shared cache so)
  backend        the memory of a PostgreSQL connection (pg_backend_memory_contexts) after it has touched 1, 100,
                 200 and 1,000 workspaces' scans and stops, as the scan writer does (connections are
                 replaced after SCHEMAS_PER_CONNECTION, default 1,000)
  sign-in        the workspace finder (the public "Log in"), the staff admin's workspace list and its search,
                 and the workspace list of a person who belongs to 50 workspaces
Steps past --max are extrapolated from the last two measured (linear; flat where they show no growth; per schema
for the migrations measured once), marked "~", and said so (throughput is not extrapolated).
Then, in one workspace: --scans scans over 400 days made with generate_series (in SQL, a million at a time), the
roll-ups built, the analytics page for 30 and 365 days, the raw scans export of 30 days, and the retention purge
of the oldest month. The database is dropped at the end (--keep keeps it).

Every workspace is copied from the template schema, which holds one published trail for the bench's length (so
each workspace has a scanner page, with the same token in each); the trail is taken out of the template after.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

STEPS = [100, 1000, 3000, 10000]
SAMPLE = 50  # provisionings timed at each step
MANY = 50  # workspaces the "busy person" belongs to
NEW_MIGRATION = "9999_bench_stop_column"
TRAIL = '+++\ntitle = "Harbour Walk"\n+++\nA walk.\n\n## The Quay {#quay}\nAbout the quay.\n'


def _bench_database_url(name: str) -> str:
    """DATABASE_URL (or the embedded server's) with the database name replaced, the database created."""
    from qrcards.embedded_db import embedded_database_url, ensure_database_exists

    url = os.environ.get("DATABASE_URL") or embedded_database_url(BASE_DIR / "var")
    url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    ensure_database_exists(url)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="workspace counts (default %(default)s)")
    parser.add_argument("--max", type=int, default=STEPS[-1], help="measure up to this many; extrapolate the rest")
    parser.add_argument("--migrate-max", type=int, default=1000, help="run the new migration up to this many")
    parser.add_argument(
        "--migrate-steps",
        default="",
        help="run the new migration at these steps only (default: each up to --migrate-max)",
    )
    parser.add_argument("--standard-max", type=int, default=300, help="django-tenants' executor up to this many")
    parser.add_argument(
        "--stubs-from",
        type=int,
        default=0,
        help="workspaces past this many are stubs: their public rows (workspace, host, owner) and a schema holding"
        " only its django_migrations (all the no-op migrate reads); measure with --no-scanner",
    )
    parser.add_argument("--scans", type=int, default=10_000_000, help="scans in one workspace (0: skip)")
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--runs", type=int, default=2, help="wrk runs per server and step (median)")
    parser.add_argument("--warm", action="store_true", help="ask for each host's page once before the scanner runs")
    parser.add_argument("--no-scanner", action="store_true", help="skip the scanner (needs wrk)")
    parser.add_argument("--database", default="qrcards_scale_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _bench_database_url(args.database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qrcards.settings")
    os.environ.setdefault("SCAN_SPOOL_DIR", tempfile.mkdtemp(prefix="scale-spool-"))
    os.environ.setdefault("LAST_GOOD_DIR", tempfile.mkdtemp(prefix="scale-last-good-"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if not args.no_scanner:
        call_command("collectstatic", interactive=False, verbosity=0)  # the web servers' manifest
    # The in-process test Client renders pages without one.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    steps = sorted(int(step) for step in args.steps.split(","))
    measured = [step for step in steps if step <= args.max]
    try:
        bench = Bench(args)
        rows = []
        for count in measured:
            rows.append(bench.step(count))
            print_table(rows, steps)
        if len(measured) < len(steps):
            print_table(rows, steps, extrapolate=True)
        bench.forget_template_trail()
        if args.scans:
            scans_at_scale(args.scans)
    finally:
        if not args.keep:
            _drop_database(args.database)
    return 0


class Bench:
    def __init__(self, args) -> None:
        from django.core.management import call_command
        from django_tenants.utils import schema_context

        from accounts.models import Customer, User
        from accounts.schemas import TEMPLATE_SCHEMA, refresh_template_schema
        from accounts.workspaces import ensure_public_workspace
        from trails.models import Trail

        self.args = args
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        ensure_public_workspace()
        refresh_template_schema()
        with schema_context(TEMPLATE_SCHEMA):
            if not Trail.objects.exists():
                Trail.create_from_markdown(TRAIL, status=Trail.Status.PUBLISHED)
            self.token = Trail.objects.get().live_stops().get().token
        self.owner, _ = User.objects.get_or_create(email="owner@scale.example")
        self.busy, _ = User.objects.get_or_create(email="busy@scale.example")
        self.staff = User.objects.filter(email="staff@scale.example").first() or User.objects.create_superuser(
            "staff@scale.example", None
        )
        # A database kept from an earlier run (--keep) grows on from where it is.
        self.timings: list[float] = []
        self.count = Customer.objects.filter(schema_name__regex=r"^w[0-9]{5}$").count()

    def forget_template_trail(self) -> None:
        from django_tenants.utils import schema_context

        from accounts.schemas import TEMPLATE_SCHEMA
        from scans.models import Scan
        from trails.models import Stop, Trail

        with schema_context(TEMPLATE_SCHEMA):
            Scan.objects.all().delete()
            Stop.objects.all().delete()
            Trail.objects.all().delete()

    def _stubs(self, first: int, last: int) -> None:
        """Workspaces `first` to `last` as sign-in and the no-op migrate see them, without the ~60 relations of a
        real one: rows in the public schema, and a schema holding only a copy of the template's django_migrations."""
        from django.db import connection, transaction

        from accounts.models import Customer, Domain, Membership
        from accounts.schemas import TEMPLATE_SCHEMA
        from accounts.workspaces import workspace_host

        numbers = range(first, last + 1)
        with transaction.atomic():
            # bulk_create, not save(): save() would make each whole schema.
            customers = Customer.objects.bulk_create(
                [Customer(schema_name=f"w{n:05d}", name=f"Workspace {n}") for n in numbers]
            )
            Domain.objects.bulk_create(
                [Domain(domain=workspace_host(c.schema_name), tenant=c, is_primary=True) for c in customers]
            )
            Membership.objects.bulk_create(
                [Membership(user=self.owner, customer=c, role=Membership.Role.OWNER) for c in customers]
                + [
                    Membership(user=self.busy, customer=c, role=Membership.Role.EDITOR)
                    for n, c in zip(numbers, customers, strict=True)
                    if n <= MANY
                ]
            )
            with connection.cursor() as cursor:
                for customer in customers:  # names of our own making: w00001...
                    schema = customer.schema_name
                    cursor.execute(
                        f'CREATE SCHEMA "{schema}"; CREATE TABLE "{schema}".django_migrations'
                        f' AS TABLE "{TEMPLATE_SCHEMA}".django_migrations'
                    )
        self.count = last

    def _migrates_at(self, count: int) -> bool:
        if self.args.migrate_steps:
            return count in {int(step) for step in self.args.migrate_steps.split(",")}
        return count <= self.args.migrate_max

    def step(self, count: int) -> dict:
        from accounts.models import Membership
        from accounts.workspaces import create_workspace

        print(f"\n== {count:,} workspaces", flush=True)
        started = time.perf_counter()
        timings = self.timings
        while self.count < count:
            if self.args.stubs_from and self.count >= self.args.stubs_from:
                self._stubs(self.count + 1, min(count, self.count + 500))
                continue
            self.count += 1
            slug = f"w{self.count:05d}"
            began = time.perf_counter()
            workspace = create_workspace(name=f"Workspace {self.count}", slug=slug, owner=self.owner)
            timings.append(time.perf_counter() - began)
            if self.count <= MANY:
                Membership.objects.create(user=self.busy, customer=workspace, role=Membership.Role.EDITOR)
        print(f"   grown in {time.perf_counter() - started:.0f} s", flush=True)
        last = sorted(timings[-SAMPLE:])
        row = {
            "count": count,
            "provision_ms": statistics.median(last) * 1000 if last else None,  # none made in this run
            "provision_p95_ms": last[int(0.95 * (len(last) - 1))] * 1000 if last else None,
        }
        row["noop_s"] = _migrate()
        row["noop_standard_s"] = _migrate("--executor=standard") if count <= self.args.standard_max else None
        row["new_migration_s"] = _new_migration() if self._migrates_at(count) else None
        if not self.args.no_scanner:
            row |= scanner(self.token, count, self.args)
        row |= backend_memory(count)
        row |= sign_in(self.staff, self.busy)
        for key, value in row.items():
            print(f"   {key:<20} {value if value is not None else '-'}", flush=True)
        return row


# Deploy-time migrations ---------------------------------------------------------------------------------------


def _migrate(*extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, str(BASE_DIR / "manage.py"), "migrate_schemas", "--noinput", "-v0", *extra],
        check=True,
        env=os.environ,
    )
    return time.perf_counter() - started


def _new_migration() -> float:
    """`migrate_schemas` with one new migration (a column on Stop), then the column and its record taken away."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    (last,) = [name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "trails"]
    path = BASE_DIR / "trails" / "migrations" / f"{NEW_MIGRATION}.py"
    path.write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('trails', '{last}')]\n"
        "    operations = [migrations.AddField('stop', 'bench_note', models.TextField(null=True, blank=True))]\n"
    )
    try:
        seconds = _migrate()
    finally:
        path.unlink()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n.nspname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relname = 'trails_stop' AND a.attname = 'bench_note'"
            )
            for (schema,) in cursor.fetchall():
                cursor.execute(f'ALTER TABLE "{schema}".trails_stop DROP COLUMN bench_note')
            cursor.execute(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relname = 'django_migrations' AND c.relkind = 'r'"
            )
            for (schema,) in cursor.fetchall():
                cursor.execute(
                    f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608
                    ["trails", NEW_MIGRATION],
                )
    return seconds


# The scanner page -------------------------------------------------------------------------------------------

WRK_SCRIPT = """
local hosts = {}
function init(args)
  for line in io.lines(args[1]) do hosts[#hosts + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format("GET", nil, {["Host"] = hosts[math.random(#hosts)], ["User-Agent"] = "%s"})
end
"""


def scanner(token: str, count: int, args) -> dict:
    """Both servers under wrk in turns, each request to a workspace host picked at random."""
    import psutil

    from accounts.models import Domain
    from bench.scanner import (
        USER_AGENT,
        _bare_command,
        _fetch,
        _product_command,
        _start,
        _stop,
        _wait_until_up,
        _worker_command,
    )

    hosts = list(Domain.objects.exclude(tenant__schema_name="public").values_list("domain", flat=True))
    workdir = Path(tempfile.mkdtemp(prefix="scale-wrk-"))
    (workdir / "hosts").write_text("\n".join(hosts) + "\n")
    (workdir / "spread.lua").write_text(WRK_SCRIPT % USER_AGENT)
    workers = os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() + 1))
    bare_port, scan_port = 18865, 18866
    path = f"/qr/{token}"
    product = _start(_product_command(), scan_port, "full")
    worker = _start(_worker_command(), scan_port, "full")
    bare = None
    try:
        _wait_until_up(scan_port, hosts[0], path)
        body, csp = _fetch(scan_port, hosts[0], path)
        (workdir / "body.html").write_bytes(body)
        bare = _start(
            _bare_command(workers), bare_port, "full", BARE_BODY_FILE=str(workdir / "body.html"), BARE_CSP=csp
        )
        _wait_until_up(bare_port, hosts[0], path)
        if args.warm:
            _warm(scan_port, hosts, path)
        runs: dict[str, list[dict]] = {"bare": [], "scan": []}
        for _ in range(args.runs):
            runs["bare"].append(_wrk_spread(f"http://127.0.0.1:{bare_port}{path}", workdir, args.seconds))
            runs["scan"].append(_wrk_spread(f"http://127.0.0.1:{scan_port}{path}", workdir, args.seconds))
        uss = [child.memory_full_info().uss / 2**20 for child in psutil.Process(product.pid).children()]
    finally:
        for process in (product, worker, bare):
            if process is not None:
                _stop(process)
    bare_rps = statistics.median(run["rps"] for run in runs["bare"])
    scan_rps = statistics.median(run["rps"] for run in runs["scan"])
    return {
        "bare_rps": round(bare_rps),
        "scan_rps": round(scan_rps),
        "scan_vs_bare": round(scan_rps / bare_rps, 2),
        "scan_p99_ms": round(statistics.median(run["p99"] for run in runs["scan"]), 1),
        "bare_p99_ms": round(statistics.median(run["p99"] for run in runs["bare"]), 1),
        "worker_uss_mb": round(statistics.median(uss), 1) if uss else None,
    }


def _warm(port: int, hosts: list[str], path: str) -> None:
    """Every host's page asked for once, as steady traffic would have: what the shared cache then holds."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.scanner import _fetch

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda host: _fetch(port, host, path), hosts))
    print(f"   {len(hosts):,} hosts warmed in {time.perf_counter() - started:.1f} s", flush=True)


def _wrk_spread(url: str, workdir: Path, seconds: int) -> dict:
    import re

    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s", str(workdir / "spread.lua"), url, "--"]
        + [str(workdir / "hosts")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    if errors := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p99": float(value) * units[unit]}


# A connection's memory --------------------------------------------------------------------------------------

TOUCH = (
    "SELECT count(*) FROM {s}.scans_scan WHERE stop_id = 1;"
    " SELECT st.token FROM {s}.trails_stop st JOIN {s}.trails_trail t ON t.id = st.trail_id LIMIT 1;"
    " INSERT INTO {s}.scans_scan (stop_id, trail_id, scanned_at, device, browser, os, user_agent, referrer,"
    " country, visitor, is_bot) SELECT 1, 1, now(), '', '', '', '', '', '', '', false WHERE false"
)


def backend_memory(count: int) -> dict:
    """A fresh connection's memory after touching 1, 100, 200 and 1,000 schemas as the scan writer does."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(  # real workspaces only (not --stubs-from's)
            "SELECT schema_name FROM accounts_customer WHERE schema_name <> 'public'"
            " AND to_regclass(quote_ident(schema_name) || '.scans_scan') IS NOT NULL ORDER BY 1"
        )
        schemas = [row[0] for row in cursor.fetchall()][:1000]
    marks = {1, 100, 200, 1000}
    found = {}
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        for done, schema in enumerate(schemas, start=1):
            conn.execute(TOUCH.format(s=f'"{schema}"'))
            if done in marks:
                total = conn.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts").fetchone()[0]
                found[f"backend_mb_{done}"] = round(total / 2**20, 1)
    return found


# Signing in -------------------------------------------------------------------------------------------------


def sign_in(staff, busy) -> dict:
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from accounts.models import Customer

    public = settings.QRCARDS_DOMAIN
    last = Customer.objects.exclude(schema_name="public").order_by("-schema_name").values_list("schema_name", flat=True)
    target = last.first()

    def finder() -> None:
        cache.clear()  # the finder's rate limits
        response = Client(HTTP_HOST=public).post("/login/", {"email": busy.email})
        assert response.status_code == 200, response.status_code  # noqa: S101

    admin = Client(HTTP_HOST=public)
    admin.force_login(staff)
    person = Client(HTTP_HOST=public)
    person.force_login(busy)

    def get(client: Client, url: str) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)  # noqa: S101

        return fetch

    return {
        "finder_ms": _median_ms(finder),
        "admin_list_ms": _median_ms(get(admin, "/admin/accounts/customer/")),
        "admin_search_ms": _median_ms(get(admin, f"/admin/accounts/customer/?q={target}")),
        "busy_list_ms": _median_ms(get(person, "/workspaces/")),
    }


def _median_ms(action: Callable[[], object], runs: int = 7) -> float:
    action()  # warm
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 1)


# The table --------------------------------------------------------------------------------------------------

COLUMNS = [
    ("count", "workspaces", "{:,.0f}"),
    ("provision_ms", "prov ms", "{:.0f}"),
    ("provision_p95_ms", "p95", "{:.0f}"),
    ("noop_s", "noop s", "{:.1f}"),
    ("noop_standard_s", "dt s", "{:.1f}"),
    ("new_migration_s", "new mig s", "{:.1f}"),
    ("bare_rps", "bare rps", "{:.0f}"),
    ("scan_rps", "scan rps", "{:.0f}"),
    ("scan_vs_bare", "ratio", "{:.2f}"),
    ("scan_p99_ms", "p99 ms", "{:.0f}"),
    ("worker_uss_mb", "wrk MB", "{:.0f}"),
    ("backend_mb_100", "be@100", "{:.1f}"),
    ("backend_mb_1000", "be@1k", "{:.1f}"),
    ("finder_ms", "finder", "{:.0f}"),
    ("admin_list_ms", "admin", "{:.0f}"),
    ("admin_search_ms", "search", "{:.0f}"),
    ("busy_list_ms", "50 ws", "{:.0f}"),
]


def print_table(rows: list[dict], steps: list[int], *, extrapolate: bool = False) -> None:
    shown = list(rows)
    if extrapolate and len(rows) >= 1:
        for count in steps:
            if count > rows[-1]["count"]:
                shown.append(_extrapolated(rows, count))
    print()
    if extrapolate:
        print(
            f"Rows past {rows[-1]['count']:,} workspaces are extrapolated (~) from the last two measured, linearly"
            " (flat where they show no growth); throughput is not extrapolated."
        )
    print(
        "prov: provisioning median/p95 of the last 50; noop: migrate_schemas with nothing to do (dt: django-tenants'"
        " own executor); new mig: one new migration; bare/scan: requests/s spread over every workspace; wrk MB: USS per"
        " web worker; be@N: a connection's backend MB after touching N schemas; finder/admin/search/50 ws: ms"
    )
    print(" ".join(f"{title:>10}" for _, title, _ in COLUMNS))
    for row in shown:
        cells = []
        for key, _, fmt in COLUMNS:
            value = row.get(key)
            cell = "-" if value is None else fmt.format(value)
            cells.append(
                f"{('~' if row.get('extrapolated') and key != 'count' and value is not None else '') + cell:>10}"
            )
        print(" ".join(cells), flush=True)


# Throughput isn't a straight line in the number of workspaces: only measured, never guessed.
NOT_EXTRAPOLATED = {"bare_rps", "scan_rps", "scan_vs_bare", "scan_p99_ms"}


# Paid once per schema (Django's migrate in each): with one point, proportional to the number of workspaces.
PER_SCHEMA = {"noop_standard_s", "new_migration_s"}


def _extrapolated(rows: list[dict], count: int) -> dict:
    """Linear through the last two measured points; flat where they show no growth (noise), or with one point."""
    row = {"count": count, "extrapolated": True}
    for key, _, _ in COLUMNS[1:]:
        points = [(r["count"], r[key]) for r in rows if r.get(key) is not None]
        if not points or key in NOT_EXTRAPOLATED:
            continue
        (x2, y2) = points[-1]
        if len(points) == 1:
            row[key] = y2 * count / x2 if key in PER_SCHEMA else y2
            continue
        (x1, y1) = points[-2]
        row[key] = y2 + max(0.0, (y2 - y1) / (x2 - x1)) * (count - x2)
    return row


# Scans at scale ---------------------------------------------------------------------------------------------

SEED_SQL = """
INSERT INTO scans_scan (stop_id, trail_id, scanned_at, device, browser, os, user_agent, referrer, country, ip,
                        visitor, is_bot, language, uid)
SELECT stops.id[1 + mod(n, 10)], stops.trail, %(start)s + (n * %(step)s) * interval '1 second',
       (ARRAY['mobile', 'mobile', 'tablet', 'desktop'])[1 + mod(n, 4)],
       (ARRAY['Mobile Safari', 'Chrome Mobile', 'Firefox'])[1 + mod(n, 3)],
       (ARRAY['iOS', 'Android', 'Windows'])[1 + mod(n, 3)], 'bench',
       (ARRAY['', '', 'https://www.google.com/'])[1 + mod(n, 3)],
       (ARRAY['GB', 'FR', 'DE', 'US', 'NL'])[1 + mod(n, 5)], '198.51.100.0',
       lpad(to_hex(n / 3), 16, '0'), mod(n, 12) = 0, (ARRAY['', 'fr'])[1 + mod(n, 2)], gen_random_uuid()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
JOIN (SELECT trail_id AS trail, array_agg(id ORDER BY position) AS id FROM trails_stop GROUP BY trail_id) stops
  ON stops.trail = (SELECT array_agg(id ORDER BY id) FROM trails_trail)[1 + mod(n / 7, 5)]
"""


def scans_at_scale(total: int) -> None:
    """One workspace with `total` scans over 400 days: the analytics page, the export and the purge."""
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from accounts.models import User
    from accounts.workspaces import create_workspace
    from scans import rollups
    from trails.models import Trail

    days = 400
    print(f"\n== {total:,} scans in one workspace, over {days} days")
    owner, _ = User.objects.get_or_create(email="analyst@scale.example")
    workspace = create_workspace(name="Ten million", slug="tenmillion", owner=owner)
    with schema_context(workspace.schema_name):
        for number in range(1, 6):
            stops = "\n".join(f"## Stop {s} {{#s{s}}}\nAbout stop {s}.\n" for s in range(1, 11))
            Trail.create_from_markdown(f'+++\ntitle = "Trail {number}"\n+++\nTrail.\n\n{stops}', status="published")
        now = datetime.datetime.now(datetime.UTC)
        start = now - datetime.timedelta(days=days)
        step = days * 86400 / total
        started = time.perf_counter()
        chunk = 1_000_000
        for first in range(0, total, chunk):
            with connection.cursor() as cursor:
                cursor.execute(
                    SEED_SQL, {"start": start, "step": step, "first": first, "last": min(first + chunk, total) - 1}
                )
            print(f"   {min(first + chunk, total):>11,} scans   {time.perf_counter() - started:6.0f} s", flush=True)
        connection.cursor().execute("ANALYZE scans_scan")
        print(f"   made with generate_series in {time.perf_counter() - started:.0f} s")
        built = _timed(lambda: rollups.build_rollups(workspace=workspace))
        print(f"   roll-ups built in {built:.0f} s")
        connection.cursor().execute("ANALYZE")
        client = Client(HTTP_HOST=workspace.primary_host)
        client.force_login(owner)
        today = workspace.today()
        for span in (30, 365):
            url = f"/dashboard/analytics/?range=custom&start={today - datetime.timedelta(days=span - 1)}&end={today}"
            client.get(url)
            page = statistics.median(_timed(lambda url=url: client.get(url)) for _ in range(5))
            print(f"   analytics page, {span} days: {page * 1000:.0f} ms (target 200 / 400 ms)")
        url = f"/dashboard/analytics/scans.csv?range=custom&start={today - datetime.timedelta(days=29)}&end={today}"
        export_rows = []

        def export() -> None:
            response = client.get(url)
            export_rows.append(sum(chunk.count(b"\n") for chunk in response.streaming_content))

        seconds = _timed(export)
        print(f"   export of 30 days: {export_rows[0]:,} lines in {seconds:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('scans_scan'))")
            print(f"   scans table with its indexes: {cursor.fetchone()[0]}")
        # Keep all but the oldest month: the daily purge's work on the day a month falls out of retention.
        oldest = today - datetime.timedelta(days=days)
        workspace.scan_retention_days = (today - oldest).days - 30
        workspace.save()
        deleted = []
        seconds = _timed(lambda: deleted.append(rollups.purge_scans(workspace=workspace)))
        print(f"   purge of the oldest month: {deleted[0]:,} scans in {seconds:.1f} s (batched DELETE)")


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"\ndropped database {name}")


if __name__ == "__main__":
    sys.exit(main())
