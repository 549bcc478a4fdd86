"""Webhooks: events written to an outbox with the change that caused them, signed and sent by the worker.

- `emit(event, *payloads)` is all the trails and scans apps call: it writes one WebhookEvent per payload
  and a WebhookDelivery per listening endpoint, in the caller's transaction, so an event of a change that
  rolled back is never sent, and one that committed always is. No request ever waits on an endpoint.
- `send_due_webhooks()` is the worker's job (scans/worker.py, every second, like the e-mail outbox):
  it claims due deliveries, sends each endpoint's in the order they were emitted (endpoints side by side,
  a few threads), and records every attempt in the endpoint's delivery log.
- Signatures follow Standard Webhooks: `webhook-id`, `webhook-timestamp`, and `webhook-signature`,
  "v1," + base64(HMAC-SHA256(secret, "id.timestamp.body")), the secret being the bytes after "whsec_".
- A failed delivery is tried again after 1, 2, 4 ... minutes (at most 6 hours apart) for a day, the last
  try a day after the first. An endpoint whose every delivery has failed for a day is disabled, and the
  workspace's owners get an e-mail.
- Outbound safety: a URL is checked when it is registered and again at every delivery, after resolving
  its name; the connection goes to the address that was checked (a DNS answer that changes in between
  can't lead us elsewhere), never to a loopback, private, link-local, multicast or reserved one. 5 s in
  all to connect and answer, at most 64 KB of the answer read, redirects not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import (
    Customer,
    Membership,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from accounts.workspaces import email_url

logger = logging.getLogger(__name__)

EVENTS = tuple(WebhookEndpoint.Event.values)
TEST_EVENT = "webhook.test"
TIMEOUT_SECONDS = 5.0  # to resolve, connect, send and read the answer, in all
MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT_CHARS = 500
RETRY_FOR = timedelta(days=1)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
BATCH = 50  # deliveries claimed at a time
PER_ENDPOINT_SECONDS = 3.0  # an endpoint's share of one round: slow ones wait for the next
LEASE = timedelta(minutes=2)  # a claimed delivery is due again after this if its worker died
THREADS = 4
USER_AGENT = "QRCards-Webhooks/1"
KEEP_LOG_FOR = timedelta(days=30)


# Emitting ---------------------------------------------------------------------------------------------------


def emit(event: str, *payloads: dict[str, Any], customer: Customer | None = None, schema: str | None = None) -> int:
    """Queue `event` once per payload for the endpoints that listen to it in the workspace `customer` (or the one
    whose schema is `schema`; by default the current schema's); returns how many events were written (0 when
    nobody listens, which costs one query).

    Call it inside the transaction that makes the change. Each payload becomes an event's `data`.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    if not payloads:
        return 0
    endpoints = WebhookEndpoint.objects.listening(event=event)
    if customer is not None:
        endpoints = endpoints.filter(customer_id=customer.pk)
    else:
        endpoints = endpoints.filter(customer__schema_name=schema or _current_schema())
    listening = list(endpoints.values_list("pk", "customer_id"))
    if not listening:
        return 0
    _queue(listening[0][1], event, payloads, [pk for pk, _ in listening])
    return len(payloads)


def _current_schema() -> str:
    return getattr(connection, "schema_name", "")


def _queue(customer_id: int, event: str, payloads: tuple[dict[str, Any], ...], endpoint_ids: list[int]) -> None:
    now = timezone.now()
    with transaction.atomic():
        events = WebhookEvent.objects.bulk_create(
            [
                WebhookEvent(customer_id=customer_id, uid=new_message_id(), type=event, data=data, created_at=now)
                for data in payloads
            ]
        )
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(endpoint_id=endpoint_id, event=row, next_attempt_at=now, created_at=now)
                for row in events
                for endpoint_id in endpoint_ids
            ]
        )


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` event for this endpoint alone, whatever it listens to."""
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            customer_id=endpoint.customer_id,
            uid=new_message_id(),
            type=TEST_EVENT,
            data={"endpoint": endpoint.pk, "message": "A test event, sent from the dashboard or the API."},
        )
        return WebhookDelivery.objects.create(endpoint=endpoint, event=event)


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again, with the same webhook-id (so a receiver can tell it has it already)."""
    return WebhookDelivery.objects.create(endpoint=delivery.endpoint, event=delivery.event)


# Signing ----------------------------------------------------------------------------------------------------


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for one delivery."""
    key = base64.b64decode(secret.removeprefix(WebhookEndpoint.SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def event_body(event: WebhookEvent) -> bytes:
    """The JSON a receiver gets: {"type", "timestamp", "data"}, as Standard Webhooks lays it out."""
    document = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


# Where we may send ------------------------------------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValidationError):
    """A URL we won't send to: not http(s), no host, or a host on a network that isn't the public internet."""

    def __init__(self, message: str, code: str = "unsafe_url") -> None:
        super().__init__(message, code=code)


def is_public(address: Address) -> bool:
    """Whether `address` is on the public internet, an IPv4 address hidden inside an IPv6 one included."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_loopback or address.is_link_local
        or address.is_reserved or address.is_unspecified
    )  # fmt: skip


def _allowed(address: Address) -> bool:
    if is_public(address):
        return True
    # The test suite's receiver listens on loopback; nothing else is ever let through.
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK_FOR_TESTS", False)) and address.is_loopback


def _literal_address(host: str) -> Address | None:
    """The address a host names by itself: 127.0.0.1, [::1], and the odd forms 2130706433 or 127.1 too."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and all(char in "0123456789abcdefx." for char in host.lower()) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def check_url(url: str) -> Target:
    """Refuse (UnsafeUrl) what we'd never send to, without asking DNS: registration time, and delivery's first step."""
    if len(url) > 2000:
        raise UnsafeUrl("The URL is longer than 2000 characters.", code="too_long")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise UnsafeUrl("The URL can't contain spaces or control characters.", code="invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        raise UnsafeUrl("That is not a URL we can read.", code="invalid_url") from None
    allow_http = getattr(settings, "WEBHOOKS_ALLOW_HTTP", False)
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise UnsafeUrl("Use an https:// URL." if not allow_http else "Use an http:// or https:// URL.", code="scheme")
    if not host:
        raise UnsafeUrl("The URL needs a host name.", code="no_host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Leave the user name and password out of the URL: deliveries are signed.", code="userinfo")
    if parts.fragment:
        raise UnsafeUrl("The URL can't have a #fragment.", code="fragment")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise UnsafeUrl("The host name is not one DNS can hold.", code="invalid_host") from None
    address = _literal_address(host)
    if address is not None:
        if not _allowed(address):
            raise UnsafeUrl("That address is not on the public internet; we only send to public hosts.")
    elif host.rstrip(".") == "localhost" or host.rstrip(".").endswith(LOCAL_NAMES) or "." not in host.strip("."):
        raise UnsafeUrl("That host is not on the public internet; we only send to public hosts.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


# getaddrinfo takes no timeout (the system resolver may retry for half a minute): lookups run here, and a
# delivery waits for one only as long as its own time allows.
_lookups = ThreadPoolExecutor(max_workers=THREADS * 2, thread_name_prefix="webhook-dns")


def resolve(target: Target, *, timeout: float = TIMEOUT_SECONDS) -> Address:
    """The address to connect to: every address DNS gives must be one we may send to (a name with one private
    address among public ones is refused whole), and the first is the one connected to."""
    lookup = _lookups.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except TimeoutError:
        raise UnsafeUrl(f"DNS didn't answer for {target.host} within {timeout:.0f} s.", code="unresolved") from None
    except (OSError, UnicodeError) as error:
        raise UnsafeUrl(f"The host name doesn't resolve ({error}).", code="unresolved") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeUrl("The host name doesn't resolve.", code="unresolved")
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not _allowed(address):
            raise UnsafeUrl(f"{target.host} resolves to {address}, which is not on the public internet.")
    return addresses[0]


# Sending ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address we checked, whatever DNS says by now; Host is still the URL's."""

    def __init__(self, host: str, port: int, *, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same, over TLS: the certificate must be the URL's host's (SNI and verification by name)."""

    def __init__(self, host: str, port: int, *, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url` within TIMEOUT_SECONDS, refusing unsafe destinations; never raises."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
        address = resolve(target, timeout=TIMEOUT_SECONDS)
    except UnsafeUrl as error:
        return Outcome(None, elapsed_ms(), error=f"refused: {error.message}"[:300])
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    remaining = max(0.1, TIMEOUT_SECONDS - (time.monotonic() - started))
    conn = connection_class(target.host, target.port, address=address, timeout=remaining)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        sock = conn.sock  # the response takes it over (conn.sock is None after a "Connection: close")
        response = conn.getresponse()
        received = b""
        while len(received) < MAX_RESPONSE_BYTES:
            left = TIMEOUT_SECONDS - (time.monotonic() - started)
            if left <= 0:
                break  # a slow trickle of an answer: what came is enough for the log
            sock.settimeout(left)
            chunk = response.read1(min(8192, MAX_RESPONSE_BYTES - len(received)))
            if not chunk:
                break
            received += chunk
        excerpt = received.decode("utf-8", "replace").replace("\x00", "")[:EXCERPT_CHARS]
        return Outcome(response.status, elapsed_ms(), excerpt=excerpt)
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Outcome(None, elapsed_ms(), error=f"{type(error).__name__}: {error}"[:300])
    finally:
        conn.close()


def deliver(*, url: str, secret: str, msg_id: str, body: bytes) -> Outcome:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }
    return post(url, body=body, headers=headers)


# The worker's job -------------------------------------------------------------------------------------------


def retry_at(delivery: WebhookDelivery, *, now) -> Any:
    """When to try a failed delivery again, or None when its day is over: 1, 2, 4 ... minutes after each
    try, at most LONGEST_WAIT apart, the last try RETRY_FOR after the delivery was made."""
    last_try = delivery.created_at + RETRY_FOR
    if now >= last_try:
        return None
    wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_WAIT)
    return min(now + wait, last_try)


def send_due_webhooks(*, limit: int = BATCH) -> int:
    """Send the deliveries that are due; returns how many were tried. Several workers may run it at once."""
    claimed = _claim(limit)
    if not claimed:
        return 0
    by_endpoint: dict[int, list[WebhookDelivery]] = {}
    for delivery in claimed:
        by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery)
    with ThreadPoolExecutor(max_workers=min(THREADS, len(by_endpoint))) as pool:
        results = list(pool.map(_send_in_order, by_endpoint.values()))
    tried = 0
    for outcomes in results:
        for delivery, outcome in outcomes:
            _record(delivery, outcome)
            tried += 1
    return tried


def _claim(limit: int) -> list[WebhookDelivery]:
    """Take due deliveries for this worker: each is due again only after LEASE, should the worker die."""
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.due()
            .select_related("endpoint", "event")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "pk")[:limit]
        )
        if rows:
            WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(
                next_attempt_at=timezone.now() + LEASE
            )
    # In the order they were made, per endpoint: an endpoint gets its events in the order they happened.
    return sorted(rows, key=lambda row: (row.event.created_at, row.event_id, row.pk))


def _send_in_order(deliveries: list[WebhookDelivery]) -> list[tuple[WebhookDelivery, Outcome | None]]:
    """One endpoint's deliveries, one after another (no database here: this runs in a pool thread).

    An endpoint that has used its share of the round leaves the rest for the next (Outcome None).
    """
    started = time.monotonic()
    results: list[tuple[WebhookDelivery, Outcome | None]] = []
    for delivery in deliveries:
        if time.monotonic() - started > PER_ENDPOINT_SECONDS:
            results.append((delivery, None))
            continue
        endpoint = delivery.endpoint
        outcome = deliver(
            url=endpoint.url, secret=endpoint.secret, msg_id=delivery.event.uid, body=event_body(delivery.event)
        )
        results.append((delivery, outcome))
    return results


def _record(delivery: WebhookDelivery, outcome: Outcome | None) -> None:
    now = timezone.now()
    if outcome is None:  # not tried this round
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now)
        return
    with transaction.atomic():
        if not WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).exists():
            return  # its endpoint was removed while it was on its way: nothing left to log
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
        delivery.attempts += 1
        delivery.last_attempt_at = now
        if outcome.succeeded:
            delivery.state = WebhookDelivery.State.SUCCEEDED
        else:
            next_try = retry_at(delivery, now=now)
            if next_try is None:
                delivery.state = WebhookDelivery.State.FAILED
            else:
                delivery.next_attempt_at = next_try
        delivery.save(update_fields=["attempts", "last_attempt_at", "state", "next_attempt_at"])
        _note_health(delivery.endpoint_id, succeeded=outcome.succeeded, now=now)


def _note_health(endpoint_id: int, *, succeeded: bool, now) -> None:
    """Track how long an endpoint has been failing; a day of nothing but failures disables it."""
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        return
    if succeeded:
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    elif endpoint.disabled_at is None and now - endpoint.failing_since >= WebhookEndpoint.FAILING_FOR:
        endpoint.disable(f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC.")
        _tell_owners(endpoint)
        logger.info("disabled webhook endpoint %s of workspace %s", endpoint.pk, endpoint.customer_id)


def _tell_owners(endpoint: WebhookEndpoint) -> None:
    """E-mail the workspace's owners that an endpoint was disabled (through the e-mail outbox)."""
    workspace = endpoint.customer
    owners = Membership.objects.filter(customer=workspace, role=Membership.Role.OWNER, user__is_active=True)
    context = {
        "endpoint": endpoint,
        "workspace": workspace,
        "url": email_url(workspace.own_host, f"/dashboard/settings/webhooks/{endpoint.pk}/"),
    }
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(
        render_to_string("accounts/email/webhook_disabled_subject.txt", context).split()
    )
    body = render_to_string("accounts/email/webhook_disabled_message.txt", context)
    for email in owners.values_list("user__email", flat=True):
        EmailMessage(subject, body, to=[email]).send()


def purge_old_events(*, older_than: timedelta = KEEP_LOG_FOR) -> int:
    """Forget events (their deliveries and attempts with them) made longer ago than `older_than`, once none of
    their deliveries waits any more; returns how many. The delivery log shows the last KEEP_LOG_FOR."""
    old = WebhookEvent.objects.filter(created_at__lt=timezone.now() - older_than).exclude(
        deliveries__state=WebhookDelivery.State.PENDING
    )
    _, deleted = WebhookEvent.objects.filter(pk__in=old.values("pk")).delete()
    return deleted.get(WebhookEvent._meta.label, 0)


# Registering ------------------------------------------------------------------------------------------------


def clean_events(events: list[str]) -> list[str]:
    """The events as stored: known ones only, each once, in the order of EVENTS."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(unknown)}.", code="unknown_event")
    if not events:
        raise ValidationError("Choose at least one event.", code="no_events")
    return [event for event in EVENTS if event in events]


def check_room(customer: Customer) -> None:
    if WebhookEndpoint.objects.filter(customer=customer).count() >= WebhookEndpoint.MAX_PER_WORKSPACE:
        raise ValidationError(
            f"A workspace has at most {WebhookEndpoint.MAX_PER_WORKSPACE} endpoints; remove one first.",
            code="too_many",
        )


def deliveries_for(endpoint: WebhookEndpoint, *, limit: int = 50) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, each with its attempts (two queries)."""
    from django.db.models import Prefetch

    return list(
        endpoint.deliveries.select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-at", "-pk")))
        .order_by("-created_at", "-pk")[:limit]
    )
