"""Webhook deliveries for real: an HTTP receiver on loopback, signatures checked by the `standardwebhooks`
package (not our code), retries, order, a burst of scans, a day of failures, and where we refuse to connect."""

from __future__ import annotations

import datetime
import json
import random
import socket

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from accounts import webhooks
from accounts.models import WebhookDelivery, WebhookEndpoint
from scans import queue, recording, worker
from scans.recording import PendingScan, new_uid
from tests.fixtures.trails import make_trail
from tests.fixtures.webhooks import Answer
from tests.scans.test_recording import PHONE, first_stop


def make_endpoint(workspace, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    """Straight to the table: delivery must hold the line by itself, whatever registration let through."""
    return WebhookEndpoint.objects.create(customer=workspace, url=url, events=events or list(webhooks.EVENTS))


def deliver_all() -> int:
    sent = 0
    while tried := webhooks.send_due_webhooks():
        sent += tried
    return sent


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime.datetime:
        return self.now

    def move(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Time moved by the test, not waited for."""
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def verify(endpoint: WebhookEndpoint, request) -> dict:
    return Webhook(endpoint.secret).verify(request.body, request.headers)


# Signing -------------------------------------------------------------------------------------------------


def test_a_delivery_is_signed_so_that_the_standard_webhooks_library_verifies_it(
    loopback_allowed, receiver, workspace_a
):
    endpoint = make_endpoint(workspace_a, receiver.url)
    webhooks.emit("trail.published", {"trail": {"id": 7, "title": "Old Town Walk"}}, customer=workspace_a)

    assert deliver_all() == 1

    [request] = receiver.requests
    payload = verify(endpoint, request)
    assert payload["type"] == "trail.published"
    assert payload["data"] == {"trail": {"id": 7, "title": "Old Town Walk"}}
    assert request.path == "/hooks/qrcards" and request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):  # another endpoint's secret doesn't verify it
        Webhook(WebhookEndpoint.new_secret()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):  # nor does a body changed on the way
        Webhook(endpoint.secret).verify(request.body.replace(b"Old", b"New"), request.headers)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    [attempt] = delivery.attempt_log.all()
    assert delivery.state == "succeeded" and attempt.status_code == 200 and attempt.response_excerpt == "ok"


# Retries and order ----------------------------------------------------------------------------------------


def test_a_failed_delivery_is_tried_again_a_minute_later_with_the_same_webhook_id(
    loopback_allowed, receiver, workspace_a, clock
):
    endpoint = make_endpoint(workspace_a, receiver.url)
    receiver.answer(Answer(500, b"busy, try later"), Answer(200, b"thanks"))
    webhooks.emit("trail.updated", {"trail": {"id": 1}}, customer=workspace_a)

    assert deliver_all() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.next_attempt_at == clock.now + datetime.timedelta(minutes=1)
    assert WebhookEndpoint.objects.get().failing_since == clock.now
    clock.move(seconds=59)
    assert deliver_all() == 0  # not due yet
    clock.move(seconds=1)
    assert deliver_all() == 1

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verify(endpoint, second)["data"] == {"trail": {"id": 1}}
    delivery.refresh_from_db()
    log = [(attempt.status_code, attempt.response_excerpt) for attempt in delivery.attempt_log.all()]
    assert delivery.state == "succeeded" and log == [(200, "thanks"), (500, "busy, try later")]
    assert WebhookEndpoint.objects.get().failing_since is None  # one success ends a failing spell


def test_events_reach_an_endpoint_in_the_order_they_happened(loopback_allowed, receiver, workspace_a):
    make_endpoint(workspace_a, receiver.url)
    for version in range(1, 6):
        webhooks.emit("trail.updated", {"trail": {"id": 1, "version": version}}, customer=workspace_a)
    webhooks.emit("stop.retired", *({"stop": {"id": n}} for n in (10, 11, 12)), customer=workspace_a)

    deliver_all()

    bodies = [json.loads(request.body)["data"] for request in receiver.requests]
    assert bodies == [{"trail": {"id": 1, "version": v}} for v in range(1, 6)] + [
        {"stop": {"id": n}} for n in (10, 11, 12)
    ]


def test_the_retry_schedule_spans_a_day_then_the_endpoint_is_disabled_and_its_owners_are_emailed(
    loopback_allowed, receiver, workspace_a, clock, cast
):
    endpoint = make_endpoint(workspace_a, receiver.url)
    receiver.answer(*[Answer(503, b"down")] * 20)
    webhooks.emit("trail.updated", {"trail": {"id": 1}}, customer=workspace_a)
    start = clock.now
    tried_at = []

    delivery = WebhookDelivery.objects.get()
    while delivery.state == "pending":
        clock.now = max(clock.now, delivery.next_attempt_at)
        assert deliver_all() == 1
        tried_at.append(round((clock.now - start).total_seconds() / 60))
        delivery.refresh_from_db()

    # 1, 2, 4 ... minutes apart, at most 6 hours, the last a day after the first.
    assert tried_at == [0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 871, 1231, 1440]
    assert delivery.state == "failed" and len(receiver.requests) == 13
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "failed" in endpoint.disabled_reason
    [email] = mail.outbox
    assert email.to == [cast.owner.email] and "disabled" in email.subject
    assert endpoint.url in email.body and f"/dashboard/settings/webhooks/{endpoint.pk}/" in email.body
    # Disabled: nothing new is queued for it, nothing is sent to it.
    assert webhooks.emit("trail.updated", {"trail": {"id": 2}}, customer=workspace_a) == 0
    webhooks.send_test_event(endpoint)
    clock.move(days=1)
    assert deliver_all() == 0 and len(receiver.requests) == 13


def test_a_burst_of_scans_is_a_few_deliveries_each_listing_its_scans_in_the_order_they_were_made(
    loopback_allowed, receiver, workspace_a, settings, tmp_path, monkeypatch
):
    settings.SCANS_QUEUE = "spool"
    settings.SCAN_SPOOL_DIR = tmp_path / "spool"
    monkeypatch.setattr(recording, "_spool", None)
    endpoint = make_endpoint(workspace_a, receiver.url, events=["scan.created"])
    stop = first_stop(workspace_a)
    start = datetime.datetime(2026, 11, 30, 10, tzinfo=datetime.UTC)
    scans = [
        PendingScan(new_uid(), "alpha", stop.pk, stop.trail_id, (start + datetime.timedelta(seconds=n)).isoformat(),
                    PHONE, "GET", "", "GB", "81.2.69.0", "v")
        for n in range(2500)
    ]  # fmt: skip
    random.Random(14).shuffle(scans)  # they reach the queue out of order, as concurrent requests make them
    spool = queue.SpoolWriter(settings.SCAN_SPOOL_DIR)
    for scan in scans:
        spool.append(scan.to_line())
    spool.close()
    writer = worker.ScanWriter(consumer="test")
    while writer.step(wait=False):
        pass
    writer.close()

    assert deliver_all() == 3  # 2,500 scans, written 1,000 a batch: three deliveries, not 2,500

    payloads = [verify(endpoint, request) for request in receiver.requests]
    assert {payload["type"] for payload in payloads} == {"scan.created"}
    assert [payload["data"]["count"] for payload in payloads] == [1000, 1000, 500]
    listed = [scan for payload in payloads for scan in payload["data"]["scans"]]
    assert sorted(scan["uid"] for scan in listed) == sorted(scan.uid for scan in scans)
    for payload in payloads:
        times = [scan["scanned_at"] for scan in payload["data"]["scans"]]
        assert times == sorted(times)
    assert set(listed[0]) == {
        "uid",
        "stop_id",
        "trail_id",
        "scanned_at",
        "device",
        "browser",
        "os",
        "country",
        "is_bot",
    }
    assert listed[0]["stop_id"] == stop.pk and listed[0]["device"] == "mobile"


def test_a_batch_written_again_after_a_crash_announces_only_the_scans_it_added(loopback_allowed, workspace_a):
    make_endpoint(workspace_a, "http://127.0.0.1:9/never-called", events=["scan.created"])
    stop = first_stop(workspace_a)
    scan = PendingScan(new_uid(), "alpha", stop.pk, stop.trail_id, timezone.now().isoformat(), PHONE, "GET", "", "",
                       "", "v")  # fmt: skip
    recording.write_scans([scan])
    other = PendingScan(new_uid(), "alpha", stop.pk, stop.trail_id, timezone.now().isoformat(), PHONE, "GET", "", "",
                        "", "v")  # fmt: skip

    recording.write_scans([scan, other])  # the first is stored already: a replay

    events = [json.loads(webhooks.event_body(d.event))["data"] for d in WebhookDelivery.objects.order_by("pk")]
    assert [[s["uid"] for s in event["scans"]] for event in events] == [[scan.uid], [other.uid]]


# The worker, the test event, redelivery ---------------------------------------------------------------------


def test_the_workers_job_sends_a_test_event_and_a_redelivery_with_the_same_webhook_id(
    loopback_allowed, receiver, workspace_a
):
    endpoint = make_endpoint(workspace_a, receiver.url, events=["member.joined"])
    delivery = webhooks.send_test_event(endpoint)
    jobs = tuple(job for job in worker.JOBS if job.name == "send_webhooks")

    assert worker.run_due_jobs(jobs) == ["send_webhooks"]
    webhooks.redeliver(delivery)
    worker.run_due_jobs(jobs)

    first, again = (verify(endpoint, request) for request in receiver.requests)
    assert first["type"] == again["type"] == "webhook.test"
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert WebhookDelivery.objects.filter(endpoint=endpoint, state="succeeded").count() == 2


# Outbound safety --------------------------------------------------------------------------------------------


def test_without_the_test_setting_the_receiver_on_loopback_is_refused_like_any_private_address(receiver, workspace_a):
    make_endpoint(workspace_a, receiver.url)
    webhooks.emit("trail.updated", {"trail": {"id": 1}}, customer=workspace_a)

    deliver_all()

    assert receiver.requests == []
    attempt = WebhookDelivery.objects.get().attempt_log.get()
    assert attempt.status_code is None and "not on the public internet" in attempt.error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",  # noqa: S104
        "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fd00::1", "fe80::1", "ff02::1",
        "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "192.0.2.10",
    ],
)  # fmt: skip
def test_no_address_outside_the_public_internet_is_allowed(address):
    import ipaddress

    assert not webhooks.is_public(ipaddress.ip_address(address))


def test_public_addresses_are_allowed():
    import ipaddress

    assert webhooks.is_public(ipaddress.ip_address("93.184.216.34"))
    assert webhooks.is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


@pytest.fixture
def fake_dns(monkeypatch):
    """Names of our choosing resolve as the test says (each lookup counted); addresses resolve as themselves."""
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "192.168.0.10", "fd12::1"])
def test_a_name_that_resolves_to_a_private_address_is_refused_without_connecting(
    loopback_allowed, fake_dns, workspace_a, address
):
    answers, _ = fake_dns
    answers["hooks.example.com"] = [address]

    outcome = webhooks.post("https://hooks.example.com/in", body=b"{}", headers={})

    assert outcome.status_code is None and f"resolves to {address}" in outcome.error
    assert outcome.duration_ms < 100  # refused at once: no connection was tried


def test_a_dns_answer_that_changes_after_the_check_doesnt_change_where_we_connect(loopback_allowed, fake_dns, receiver):
    answers, lookups = fake_dns
    # The rebinding trick: a safe answer for the check, a private one for whoever asks next.
    answers["hooks.example.com"] = ["127.0.0.1", "10.0.0.1"]
    port = receiver.server.server_address[1]

    outcome = webhooks.post(f"http://hooks.example.com:{port}/in", body=b"{}", headers={})

    assert outcome.status_code == 200 and lookups == ["hooks.example.com"]
    assert receiver.requests[0].headers["Host"] == f"hooks.example.com:{port}"


def test_an_answer_is_read_to_64_kb_at_most_and_a_redirect_is_not_followed(loopback_allowed, receiver):
    receiver.answer(Answer(302, b"moved", headers=(("Location", receiver.url + "/elsewhere"),)))
    receiver.answer(Answer(200, b"y" * 100, endless=True))

    redirected = webhooks.post(receiver.url, body=b"{}", headers={})
    endless = webhooks.post(receiver.url, body=b"{}", headers={})

    assert redirected.status_code == 302 and not redirected.succeeded and len(receiver.requests) == 2
    assert endless.status_code == 200 and endless.duration_ms < 2000  # capped, not read until the timeout
    assert len(endless.excerpt) == webhooks.EXCERPT_CHARS


def test_an_endpoint_that_answers_too_slowly_is_cut_off(loopback_allowed, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)
    receiver.answer(Answer(200, b"late", delay=1.5))

    outcome = webhooks.post(receiver.url, body=b"{}", headers={})

    assert outcome.status_code is None and "timed out" in outcome.error and outcome.duration_ms < 1000


# Tenant isolation -----------------------------------------------------------------------------------------


def test_events_of_workspace_a_never_reach_workspace_bs_endpoints(loopback_allowed, receiver, workspace_a, workspace_b):
    make_endpoint(workspace_a, receiver.url + "/a")
    make_endpoint(workspace_b, receiver.url + "/b")
    trail = make_trail(workspace=workspace_a, published=False)
    stop = first_stop(workspace_a)
    with schema_context(workspace_a.schema_name):
        trail.publish()  # trails emit with the current schema's workspace
    recording.write_scans(
        [PendingScan(new_uid(), "alpha", stop.pk, stop.trail_id, timezone.now().isoformat(), PHONE, "GET", "", "",
                     "", "v")]
    )  # fmt: skip

    deliver_all()

    assert {request.path for request in receiver.requests} == {"/hooks/qrcards/a"}
    assert {json.loads(request.body)["type"] for request in receiver.requests} == {"trail.published", "scan.created"}


def test_an_endpoint_removed_while_its_delivery_was_on_its_way_is_no_trouble(workspace_a):
    make_endpoint(workspace_a, "https://hooks.example.com/in")
    webhooks.emit("trail.updated", {"trail": {"id": 1}}, customer=workspace_a)
    [delivery] = webhooks._claim(10)

    WebhookEndpoint.objects.all().delete()
    webhooks._record(delivery, webhooks.Outcome(200, 12, "ok"))

    assert not WebhookDelivery.objects.exists()


def test_the_log_forgets_events_after_thirty_days_but_never_one_still_waiting(workspace_a, clock):
    make_endpoint(workspace_a, "https://hooks.example.com/in")
    webhooks.emit("trail.updated", {"trail": {"id": 1}}, {"trail": {"id": 2}}, customer=workspace_a)
    done, waiting = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.filter(pk=done.pk).update(state="succeeded")
    clock.move(days=29)
    assert webhooks.purge_old_events() == 0

    clock.move(days=2)
    assert webhooks.purge_old_events() == 1
    jobs = tuple(job for job in worker.JOBS if job.name == "purge_webhook_events")
    assert worker.run_due_jobs(jobs) == ["purge_webhook_events"]  # the worker runs it daily

    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_a_dns_lookup_that_hangs_costs_a_delivery_its_timeout_and_no_more(monkeypatch):
    import threading

    release = threading.Event()
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: release.wait(5) and [])

    outcome = webhooks.post("https://slow-dns.example.com/in", body=b"{}", headers={})
    release.set()

    assert outcome.status_code is None and "DNS didn't answer" in outcome.error and outcome.duration_ms < 1000
