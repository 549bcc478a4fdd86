"""The demo workspace's scan history: about 60 days of plausible visits, so Home and Analytics open full.

Visits are made up (a seeded random walk: more on weekends and afternoons, a slow upward trend,
phones more than tablets and desktops, visitors from a handful of countries, a few link previews
from bots, some arriving from a search or a social post) and then stored exactly as real scans
are: as `PendingScan`s written by the worker's `write_scans` (COPY, user agents parsed there),
then counted by `build_rollups`, the worker's hourly job.

Idempotent: each scan's uid is derived from its day and its number that day, so running the seed
again stores nothing twice (`write_scans` skips uids it already holds); on a later day it adds only
the days since. Visitor hashes use a made-up key per day, never stored: the real daily keys
(`VisitorSalt`) are for real visitors.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Sequence

from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Customer
from lib.networks import network_of_address, parse_ip
from scans.models import Scan
from scans.recording import PendingScan, write_scans
from scans.rollups import build_rollups
from scans.visitors import visitor_hash
from trails.models import Trail

HISTORY_DAYS = 60
UID_NAMESPACE = uuid.UUID("5f1c2a4e-9a57-4a7b-8f8e-3d2b7c1e0a11")  # demo scans' uids: uuid5 of "day:number"
# Visitors a day before the trend: quiet weekdays, busy weekends.
WEEKDAY_VISITORS = (9, 7, 8, 9, 12, 26, 22)  # Monday to Sunday
GROWTH = 0.6  # the last day has 60% more visitors than the first
STAY = 0.84  # the chance a visitor walks on to the next stop
PHONE_UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.6478.122 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
)
CLIENTS = (  # (user agent, weight)
    (PHONE_UAS[0], 40),
    (PHONE_UAS[1], 28),
    (PHONE_UAS[2], 12),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/17.5 Mobile/15E148 Safari/604.1",
        8,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/126.0.0.0 Safari/537.36",
        7,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/17.5 Safari/605.1.15",
        5,
    ),
)
BOTS = (
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
COUNTRIES = (("GB", 34), ("FR", 14), ("DE", 13), ("US", 11), ("NL", 8), ("ES", 7), ("IT", 6), ("JP", 4), ("", 3))
REFERRERS = (  # where a visitor who didn't scan the first card came from
    ("", 78),
    ("https://www.google.com/", 9),
    ("https://www.instagram.com/", 5),
    ("https://l.facebook.com/", 4),
    ("https://www.tripadvisor.co.uk/", 4),
)
HOURS = (9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17, 18, 19)


def uid_for(day: datetime.date, number: int) -> str:
    return str(uuid.uuid5(UID_NAMESPACE, f"{day.isoformat()}:{number}"))


def seed_history(*, workspace: Customer, days: int = HISTORY_DAYS, now: datetime.datetime | None = None) -> int:
    """Store `days` days of demo scans (up to `now`) in `workspace` and roll them up; returns how many were new."""
    now = now or timezone.now()
    with schema_context(workspace.schema_name):
        trail = Trail.objects.filter(status=Trail.Status.PUBLISHED).order_by("pk").first()
        if trail is None:
            return 0
        stops = list(trail.live_stops().values_list("pk", "token"))
        today = now.astimezone(workspace.zone).date()
        first = today - datetime.timedelta(days=days - 1)
        until = now.astimezone(datetime.UTC).isoformat()
        scans = [
            scan
            for offset in range(days)
            for scan in day_of_scans(
                workspace=workspace,
                trail_id=trail.pk,
                stops=stops,
                day=first + datetime.timedelta(days=offset),
                growth=1 + GROWTH * offset / max(days - 1, 1),
            )
            if scan.scanned_at <= until  # both UTC ISO strings: they compare as times do
        ]
        # Seeded before: only what is new (today's later visits, days since) is written and rolled up, so a
        # second `make run` is not slowed by parsing thousands of user agents again.
        stored_uids = {
            str(uid)
            for uid in Scan.objects.filter(scanned_at__gte=workspace.midnight(first)).values_list("uid", flat=True)
        }
        scans = [scan for scan in scans if scan.uid not in stored_uids]
        if not scans:
            return 0
        stored = write_scans(scans)
        build_rollups(workspace=workspace)
    return stored


def day_of_scans(
    *,
    workspace: Customer,
    trail_id: int,
    stops: Sequence[tuple[int, str]],
    day: datetime.date,
    growth: float,
) -> list[PendingScan]:
    """One day's visits: each visitor scans the first stop and walks on, fewer at every stop."""
    rng = random.Random(day.toordinal())  # the same day always gives the same visits
    salt = rng.randbytes(32)
    midnight = workspace.midnight(day)
    host = f"https://{workspace.primary_host}"
    visitors = round(WEEKDAY_VISITORS[day.weekday()] * growth * rng.uniform(0.75, 1.25))
    scans: list[PendingScan] = []

    def add(stop_index: int, when: datetime.datetime, user_agent: str, ip: str, country: str, referrer: str) -> None:
        stop_id, _ = stops[stop_index]
        scans.append(
            PendingScan(
                uid=uid_for(day, len(scans)),
                schema=workspace.schema_name,
                stop_id=stop_id,
                trail_id=trail_id,
                scanned_at=when.astimezone(datetime.UTC).isoformat(),
                user_agent=user_agent,
                method="GET",
                referrer=referrer,
                country=country,
                ip=network_of_address(parse_ip(ip)),
                visitor=visitor_hash(ip=ip, user_agent=user_agent, salt=salt),
            )
        )

    for _ in range(visitors):
        user_agent = _pick(rng, CLIENTS)
        ip = f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        country = _pick(rng, COUNTRIES)
        when = midnight + datetime.timedelta(hours=rng.choice(HOURS), minutes=rng.randrange(60))
        # Most walk in at the first card; a few find a later one first and scan only that.
        if rng.random() < 0.12 and len(stops) > 1:
            add(rng.randrange(1, len(stops)), when, user_agent, ip, country, _pick(rng, REFERRERS))
            continue
        add(0, when, user_agent, ip, country, "")
        for index in range(1, len(stops)):
            if rng.random() > STAY:
                break
            when += datetime.timedelta(minutes=rng.randrange(3, 15))
            add(index, when, user_agent, ip, country, f"{host}/qr/{stops[index - 1][1]}")
    if rng.random() < 0.3:  # a link to a stop shared in a chat: the app's preview bot fetches it
        add(0, midnight + datetime.timedelta(hours=rng.choice(HOURS)), rng.choice(BOTS), "203.0.113.9", "US", "")
    return scans


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]
