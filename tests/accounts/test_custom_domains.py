"""Custom domains: added on the settings page, proved through DNS (a real DNS server on loopback), served once
verified, printed on cards by choice, kept while cards carry them, and never a way into another workspace."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import pypdfium2
import pytest
import resvg_py
import zxingcpp
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from accounts.domains import check_domains, look_up
from accounts.models import ApiKey, Customer, Domain, PrintedCard
from scans.worker import JOBS
from tests.accounts.conftest import PASSWORD, host_client
from tests.fixtures.trails import make_trail

MUSEUM = "trails.museum.test"


# Helpers --------------------------------------------------------------------------------------------------------


def logged_in(user, workspace: Customer | None, host: str | None = None) -> Client:
    client = Client(HTTP_HOST=host) if host else host_client(workspace)
    client.force_login(user)
    return client


def add(client: Client, name: str):
    return client.post("/dashboard/settings/domains/", {"domain": name})


def domain_of(workspace: Customer, name: str = MUSEUM) -> Domain:
    return Domain.objects.get(tenant=workspace, domain=name)


def prove(dns, domain: Domain, *, cname: bool = True) -> None:
    """Create the two records the settings page asks for, in the test's DNS server."""
    dns.add(domain.challenge_name, "TXT", domain.challenge_value)
    if cname:
        dns.add(domain.domain, "CNAME", domain.tenant.own_host)


def verified(workspace: Customer, name: str = MUSEUM) -> Domain:
    """A domain of `workspace` that proved itself a moment ago (the settings page's steps, without DNS)."""
    from accounts.domains import add_domain

    domain = add_domain(customer=workspace, name=name)
    Domain.objects.filter(pk=domain.pk).update(verified_at=timezone.now())
    domain.refresh_from_db()
    return domain


def messages_of(response) -> str:
    region = re.search(r'<div class="messages" role="status">(.*?)</div>', response.content.decode(), re.S)
    return (
        " ".join(unescape(m) for m in re.findall(r'<p class="[^"]*">(.*?)</p>', region.group(1), re.S))
        if region
        else ""
    )


@pytest.fixture(autouse=True)
def _forget_card_domains(cast):
    """The cast's workspaces live for the session: what a test made their card domain must not outlive it."""
    yield
    for workspace in (cast.workspace_a, cast.workspace_b):
        workspace.__dict__.pop("card_domain", None)


@pytest.fixture
def owner_a(verified_cast):
    return logged_in(verified_cast.owner, None, host="alpha.qrcards.localhost")


@pytest.fixture
def stop_a(workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        return trail, trail.live_stops().first()


# Adding a domain: what is typed ---------------------------------------------------------------------------------


def test_an_owner_adds_a_domain_and_the_page_shows_the_records_to_create(owner_a, workspace_a):
    response = add(owner_a, "  Trails.Museum.TEST ")

    domain = domain_of(workspace_a)
    assert response.status_code == 302 and response["Location"] == f"/dashboard/settings/#domain-{domain.pk}"
    assert domain.is_custom and not domain.is_primary and domain.verified_at is None
    assert len(domain.verification_token) >= 32
    page = unescape(owner_a.get("/dashboard/settings/").content.decode())
    assert "Waiting for its DNS records" in page
    assert re.search(rf"<td>CNAME</td><td><code>{MUSEUM}</code></td><td><code>alpha.qrcards.localhost</code>", page)
    assert (
        f"<code>_qrcards-challenge.{MUSEUM}</code></td><td><code>qrcards-verification={domain.verification_token}<"
        in (page)
    )


def test_each_domain_gets_its_own_random_token(owner_a, workspace_a):
    add(owner_a, MUSEUM)
    add(owner_a, "shop.museum.test")

    tokens = set(Domain.objects.filter(tenant=workspace_a, is_custom=True).values_list("verification_token", flat=True))
    assert len(tokens) == 2


def test_an_international_name_is_stored_as_dns_writes_it_and_shown_as_people_do(owner_a, workspace_a):
    add(owner_a, "Pfad.MÜNCHEN.test.")

    assert Domain.objects.filter(tenant=workspace_a, domain="pfad.xn--mnchen-3ya.test").exists()
    page = owner_a.get("/dashboard/settings/").content.decode()
    assert "pfad.münchen.test" in page and "_qrcards-challenge.pfad.xn--mnchen-3ya.test" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("https://trails.museum.test/walk", "no https://, no path"),
        ("trails.museum.test:8443", "without a port"),
        ("192.0.2.10", "That is an IP address"),
        ("[2001:db8::1]", "That is an IP address"),
        ("10.1", "looks like an IP address"),
        ("museum", "the whole domain"),
        ("tr_ails.museum.test", "can’t contain “_”"),
        ("trails..museum.test", "nothing between two dots"),
        ("-trails.museum.test", "can’t start or end with a hyphen"),
        ("qrcards.localhost", "under qrcards.localhost are ours"),
        ("bravo.qrcards.localhost", "under qrcards.localhost are ours"),
        ("new.alpha.QRCards.localhost", "under qrcards.localhost are ours"),
        ("", "Type the domain"),
    ],
)
def test_a_name_we_cant_use_gets_a_clear_error_and_the_form_keeps_what_was_typed(owner_a, workspace_a, typed, message):
    response = add(owner_a, typed)

    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert message in page.replace("'", "’")
    assert f'value="{typed}"' in page or not typed
    assert not Domain.objects.filter(tenant=workspace_a, is_custom=True).exists()


def test_a_domain_another_workspace_has_is_refused_without_saying_whose(owner_a, workspace_a, workspace_b):
    verified(workspace_b, "bravo.museum.test")
    from accounts.domains import add_domain

    add_domain(customer=workspace_b, name="pending.museum.test")

    for typed in ("Bravo.Museum.test", "pending.museum.test"):
        response = add(owner_a, typed)
        page = response.content.decode()
        assert response.status_code == 400 and "already in use with QRCards" in page
        assert "Workspace B" not in page and "bravo.qrcards" not in page and "member@b" not in page
    assert not Domain.objects.filter(tenant=workspace_a, is_custom=True).exists()


def test_a_domain_the_workspace_has_already_is_not_added_twice(owner_a, workspace_a):
    add(owner_a, MUSEUM)

    response = add(owner_a, MUSEUM.upper())

    assert response.status_code == 400 and "This workspace has that domain already" in response.content.decode()


def test_a_workspace_has_at_most_ten_domains_of_its_own(owner_a, workspace_a):
    for number in range(10):
        assert add(owner_a, f"d{number}.museum.test").status_code == 302

    response = add(owner_a, "d10.museum.test")

    assert response.status_code == 400 and "10 domains of its own" in response.content.decode()


def test_only_owners_and_admins_manage_domains_and_outsiders_learn_nothing(verified_cast, admin_of_a, workspace_a):
    domain = verified(workspace_a)
    urls = [
        "/dashboard/settings/domains/",
        f"/dashboard/settings/domains/{domain.pk}/verify/",
        f"/dashboard/settings/domains/{domain.pk}/primary/",
        f"/dashboard/settings/domains/{domain.pk}/remove/",
        f"/dashboard/settings/domains/{domain.pk}/open/",
    ]
    admin = logged_in(admin_of_a, workspace_a)
    assert add(admin, "admin.museum.test").status_code == 302
    for user, status in [(verified_cast.editor, 403), (verified_cast.viewer, 403), (verified_cast.member_of_b, 404)]:
        client = logged_in(user, workspace_a)
        assert [client.post(url, {"domain": "x.museum.test"}).status_code for url in urls] == [status] * len(urls)
    anonymous = host_client(workspace_a)
    assert all(anonymous.post(url).status_code == 302 for url in urls)
    # B's owner, on B's own host, can't reach A's domain by its number either.
    of_b = logged_in(verified_cast.member_of_b, verified_cast.workspace_b)
    assert of_b.post(f"/dashboard/settings/domains/{domain.pk}/remove/").status_code == 404
    assert Domain.objects.filter(tenant=workspace_a, is_custom=True).count() == 2


# Verifying through DNS -------------------------------------------------------------------------------------------


def test_verify_finds_the_txt_record_and_the_domain_starts_serving_the_workspace(owner_a, workspace_a, stop_a, dns):
    _, stop = stop_a
    add(owner_a, MUSEUM)
    domain = domain_of(workspace_a)
    visitor = Client(HTTP_HOST=MUSEUM)
    assert visitor.get(f"/qr/{stop.token}").status_code == 404

    prove(dns, domain)
    response = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/verify/", follow=True)

    assert f"{MUSEUM} is verified: it serves this workspace's pages." in messages_of(response)
    assert (f"_qrcards-challenge.{MUSEUM}", "TXT", "udp") in dns.questions
    domain.refresh_from_db()
    assert domain.verified_at is not None and domain.check_note == ""
    page = visitor.get(f"/qr/{stop.token}")
    assert page.status_code == 200 and stop.title in page.content.decode()


def test_verify_asks_dns_ten_times_a_minute_at_most_then_says_so(owner_a, workspace_a, dns):
    add(owner_a, MUSEUM)
    domain = domain_of(workspace_a)
    verify_url = f"/dashboard/settings/domains/{domain.pk}/verify/"

    for _ in range(10):
        owner_a.post(verify_url)
    asked = len(dns.questions)
    refused = owner_a.post(verify_url, follow=True)

    assert asked >= 10 and len(dns.questions) == asked  # the eleventh asked DNS nothing
    assert "verify many times" in messages_of(refused)


def test_a_wrong_or_missing_proof_leaves_the_domain_unserved_and_says_what_dns_has(owner_a, workspace_a, dns):
    add(owner_a, MUSEUM)
    domain = domain_of(workspace_a)
    dns.add(domain.domain, "CNAME", "elsewhere.example")

    missing = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/verify/", follow=True)
    dns.add(domain.challenge_name, "TXT", "qrcards-verification=someone-elses-token")
    wrong = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/verify/", follow=True)

    assert f"No TXT record at _qrcards-challenge.{MUSEUM}." in messages_of(missing)
    assert "is a CNAME to elsewhere.example, not to alpha.qrcards.localhost" in messages_of(missing)
    assert "doesn't hold qrcards-verification=" in messages_of(wrong)
    domain.refresh_from_db()
    assert domain.verified_at is None
    assert Client(HTTP_HOST=MUSEUM).get("/accounts/login/").status_code == 404


def test_an_apex_domain_with_the_workspace_hosts_addresses_leads_here_without_a_cname(workspace_a, dns):
    from accounts.domains import add_domain

    domain = add_domain(customer=workspace_a, name="museum.test")
    dns.add(domain.challenge_name, "TXT", domain.challenge_value)
    dns.add("alpha.qrcards.localhost", "A", "192.0.2.7")
    dns.add("museum.test", "A", "192.0.2.7")

    findings = look_up(Domain.objects.select_related("tenant").get(pk=domain.pk))

    assert findings.points_here is True and findings.notes == []


def test_an_unverified_domain_is_a_404_exactly_like_an_unknown_host(workspace_a):
    from accounts.domains import add_domain

    add_domain(customer=workspace_a, name=MUSEUM)
    make_trail(workspace=workspace_a)

    for path in ("/", "/accounts/login/", "/api/v1/trails", "/branding/logo", "/dashboard/"):
        unverified = Client(HTTP_HOST=MUSEUM).get(path)
        unknown = Client(HTTP_HOST="nobody.museum.test").get(path)
        assert unverified.status_code == unknown.status_code == 404
        assert unverified.content == unknown.content
        assert dict(unverified.headers) == dict(unknown.headers)


def test_when_dns_does_not_answer_nothing_changes(owner_a, workspace_a, dns):
    domain = verified(workspace_a)
    dns.failing.add(domain.challenge_name)

    response = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/verify/", follow=True)
    check_domains()

    assert f"DNS didn't answer about {MUSEUM}; nothing changed." in messages_of(response)
    domain.refresh_from_db()
    assert domain.verified_at is not None and domain.proof_missing_since is None
    assert "its name servers failed" in domain.check_note
    assert Client(HTTP_HOST=MUSEUM).get("/accounts/login/").status_code == 200


def test_lookups_go_to_the_configured_resolver_over_tcp_too_when_the_answer_is_too_big_for_udp(workspace_a, dns):
    from accounts.domains import add_domain

    domain = add_domain(customer=workspace_a, name=MUSEUM)
    for number in range(40):  # about 2.4 KB of TXT records: more than a plain UDP answer carries
        dns.add(domain.challenge_name, "TXT", f"filler-{number}-" + "x" * 50)
    dns.add(domain.challenge_name, "TXT", domain.challenge_value)

    findings = look_up(Domain.objects.select_related("tenant").get(pk=domain.pk))

    assert findings.proof.value == "found"
    assert (domain.challenge_name, "TXT", "tcp") in dns.questions


# The hourly check -------------------------------------------------------------------------------------------------


def test_the_worker_checks_domains_every_hour(workspace_a, dns):
    (job,) = [job for job in JOBS if job.name == "check_domains"]
    from accounts.domains import add_domain

    domain = add_domain(customer=workspace_a, name=MUSEUM)
    prove(dns, domain)

    job.run()

    assert job.every_seconds == 3600
    domain.refresh_from_db()
    assert domain.verified_at is not None


def test_the_check_verifies_waiting_domains_and_drops_those_never_verified_within_a_week(workspace_a, dns):
    from accounts.domains import add_domain

    late = add_domain(customer=workspace_a, name="late.museum.test")
    never = add_domain(customer=workspace_a, name="never.museum.test")
    prove(dns, late)

    counts = check_domains(now=timezone.now() + timedelta(days=6))
    assert counts["verified"] == 1 and counts["dropped"] == 0
    counts = check_domains(now=timezone.now() + timedelta(days=7, minutes=1))

    assert counts["dropped"] == 1
    assert list(Domain.objects.filter(tenant=workspace_a, is_custom=True).values_list("domain", flat=True)) == [
        "late.museum.test"
    ]
    assert never.domain not in Domain.objects.values_list("domain", flat=True)


def test_a_verified_domain_whose_proof_is_gone_serves_a_week_then_stops_and_its_owners_are_told(
    verified_cast, admin_of_a, workspace_a, stop_a, dns
):
    domain = verified(workspace_a)
    domain.make_primary()
    trail, stop = stop_a
    owner_a = logged_in(verified_cast.owner, None, host="alpha.qrcards.localhost")
    owner_a.get(f"/dashboard/trails/{trail.pk}/cards/")  # its cards are printed with the domain
    start = timezone.now()

    assert check_domains(now=start)["proof-missing"] == 1
    (warning,) = mail.outbox
    assert warning.to == [verified_cast.owner.email]  # owners only: not the admin, editor or viewer
    assert f"{MUSEUM} stops working on" in warning.subject
    assert "3 cards printed with it will lead nowhere" in warning.body.replace("\n", " ")
    assert domain.challenge_value in warning.body

    check_domains(now=start + timedelta(days=6, hours=23))
    assert Client(HTTP_HOST=MUSEUM).get(f"/qr/{stop.token}").status_code == 200
    assert len(mail.outbox) == 1

    assert check_domains(now=start + timedelta(days=7))["lapsed"] == 1
    assert Client(HTTP_HOST=MUSEUM).get(f"/qr/{stop.token}").status_code == 404
    assert mail.outbox[1].subject.endswith(f"{MUSEUM} no longer serves Workspace A")
    assert mail.outbox[1].to == [verified_cast.owner.email]
    domain.refresh_from_db()
    assert domain.status == "lapsed" and not domain.is_primary
    assert Customer.objects.get(pk=workspace_a.pk).primary_host == "alpha.qrcards.localhost"

    # The record is back: the next check serves it again.
    prove(dns, domain)
    assert check_domains(now=start + timedelta(days=8))["verified"] == 1
    assert Client(HTTP_HOST=MUSEUM).get(f"/qr/{stop.token}").status_code == 200


def test_a_proof_back_within_the_week_keeps_the_domain_without_a_break(workspace_a, dns):
    domain = verified(workspace_a)
    start = timezone.now()
    check_domains(now=start)

    prove(dns, domain)
    counts = check_domains(now=start + timedelta(days=3))
    check_domains(now=start + timedelta(days=8))

    assert counts["restored"] == 1
    domain.refresh_from_db()
    assert domain.status == "verified" and domain.proof_missing_since is None


# Caddy's question: may it have a certificate for this name? --------------------------------------------------------


@pytest.fixture
def proxy(settings) -> Client:
    """Caddy, asking from a trusted proxy's address."""
    from ipaddress import ip_network

    settings.TRUSTED_PROXIES_NETWORKS = [ip_network("10.0.0.0/8")]
    return Client(HTTP_HOST="web:8000", REMOTE_ADDR="10.0.0.5")


def test_the_tls_ask_approves_only_the_hosts_we_serve(proxy, workspace_a, workspace_b):
    from accounts.domains import add_domain

    verified(workspace_a)
    add_domain(customer=workspace_b, name="pending.museum.test")

    def ask(name: str) -> int:
        return proxy.get("/internal/tls-ask", {"domain": name}).status_code

    assert ask(MUSEUM) == ask(MUSEUM.upper() + ".") == 200
    assert ask("alpha.qrcards.localhost") == ask("bravo.qrcards.localhost") == ask("qrcards.localhost") == 200
    assert ask("www.qrcards.localhost") == 200  # served as the public host
    assert ask("pending.museum.test") == ask("nobody.museum.test") == ask("charlie.qrcards.localhost") == 404
    assert proxy.get("/internal/tls-ask").status_code == 400


def test_the_tls_ask_answers_nobody_but_the_proxy(proxy, workspace_a, settings):
    verified(workspace_a)
    from_outside = Client(HTTP_HOST="web:8000", REMOTE_ADDR="203.0.113.9")
    forwarded = Client(HTTP_HOST="web:8000", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    on_a_workspace_host = Client(HTTP_HOST="alpha.qrcards.localhost", REMOTE_ADDR="203.0.113.9")

    for client in (from_outside, forwarded, on_a_workspace_host):
        response = client.get("/internal/tls-ask", {"domain": MUSEUM})
        assert response.status_code == 404 and b"ok" not in response.content
    assert proxy.get("/internal/tls-ask", {"domain": MUSEUM}).status_code == 200
    settings.TRUSTED_PROXIES_NETWORKS = []
    assert proxy.get("/internal/tls-ask", {"domain": MUSEUM}).status_code == 404


# Which domain cards print ------------------------------------------------------------------------------------------


def qr_codes(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_a_workspace_prints_its_cards_with_the_domain_it_chose_everywhere_and_each_print_is_recorded(
    owner_a, workspace_a, stop_a
):
    trail, stop = stop_a
    domain = verified(workspace_a)
    with schema_context("alpha"):
        tokens = {s.token for s in trail.live_stops()}
    _, key = ApiKey.objects.create_key(customer=workspace_a, name="printer", scope="read")

    response = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/primary/", follow=True)

    assert f"Cards print with {MUSEUM} from now on." in messages_of(response)
    expected = {f"HTTP://{MUSEUM.upper()}/QR/{token}" for token in tokens}
    cards_page = unescape(owner_a.get(f"/dashboard/trails/{trail.pk}/cards/").content.decode())
    assert set(re.findall(r">(http://[^<]+/qr/\w+)<", cards_page, re.IGNORECASE)) == expected
    png = owner_a.get(f"/dashboard/trails/{trail.pk}/stops/{stop.pk}/qr.png?size_px=256")
    assert qr_codes(Image.open(io.BytesIO(png.content)).convert("RGB")) == [f"HTTP://{MUSEUM.upper()}/QR/{stop.token}"]
    print_view = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/print").content.decode()
    first_svg = re.search(r"<svg.*?</svg>", print_view, re.S).group(0)
    rendered = bytes(resvg_py.svg_to_bytes(svg_string=first_svg, dpi=300))
    assert qr_codes(Image.open(io.BytesIO(rendered)).convert("RGB"))[0] in expected
    pdf = owner_a.get(f"/dashboard/trails/{trail.pk}/cards.pdf")
    page = pypdfium2.PdfDocument(pdf.content)[0].render(scale=2).to_pil().convert("RGB")
    assert set(qr_codes(page)) == expected
    api = Client(HTTP_HOST=MUSEUM, HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/api/v1/trails/{trail.pk}/stops")
    assert {item["url"] for item in api.json()["items"]} == expected
    printed = PrintedCard.objects.filter(domain=domain)
    assert set(printed.values_list("token", flat=True)) == tokens
    assert not PrintedCard.objects.filter(domain__domain="alpha.qrcards.localhost", token__in=tokens).exists()


def test_cards_printed_before_the_switch_keep_the_domain_they_were_printed_with(owner_a, workspace_a, stop_a):
    trail, stop = stop_a
    owner_a.get(f"/dashboard/trails/{trail.pk}/stops/{stop.pk}/qr.svg")
    domain = verified(workspace_a)
    domain.make_primary()

    owner_a.get(f"/dashboard/trails/{trail.pk}/stops/{stop.pk}/qr.svg")

    on = set(PrintedCard.objects.filter(token=stop.token).values_list("domain__domain", flat=True))
    assert on == {"alpha.qrcards.localhost", MUSEUM}
    for host in on:
        assert Client(HTTP_HOST=host).get(f"/QR/{stop.token}").status_code == 200


def test_a_domain_not_verified_can_not_print_cards(owner_a, workspace_a):
    add(owner_a, MUSEUM)
    domain = domain_of(workspace_a)

    response = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/primary/", follow=True)

    assert "Verify this domain before printing cards with it." in messages_of(response)
    assert Customer.objects.get(pk=workspace_a.pk).primary_host == "alpha.qrcards.localhost"


# Removing a domain -------------------------------------------------------------------------------------------------


def test_removing_a_domain_that_printed_cards_says_how_many_and_needs_its_name_typed(owner_a, workspace_a, stop_a):
    trail, _ = stop_a
    domain = verified(workspace_a)
    domain.make_primary()
    owner_a.get(f"/dashboard/trails/{trail.pk}/cards/print")
    owner_a.post(f"/dashboard/settings/domains/{domain.pk}/primary/")  # back: a domain that printed cards
    Domain.objects.get(tenant=workspace_a, is_custom=False).make_primary()

    page = owner_a.get(f"/dashboard/settings/domains/{domain.pk}/remove/")
    refused = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/remove/", {"confirm": "trails.museum"})
    no_answer = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/remove/")

    assert "3 cards</strong> were printed or downloaded with" in page.content.decode()
    assert refused.status_code == no_answer.status_code == 400
    assert "nothing was removed" in refused.content.decode() and 'value="trails.museum"' in refused.content.decode()
    assert Domain.objects.filter(pk=domain.pk).exists()

    removed = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/remove/", {"confirm": MUSEUM}, follow=True)

    assert f"Removed {MUSEUM}. The 3 cards printed with it no longer lead anywhere." in messages_of(removed)
    assert not Domain.objects.filter(pk=domain.pk).exists()
    assert Client(HTTP_HOST=MUSEUM).get("/accounts/login/").status_code == 404


def test_a_domain_that_printed_no_card_is_removed_at_once(owner_a, workspace_a):
    add(owner_a, MUSEUM)
    domain = domain_of(workspace_a)

    response = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/remove/", follow=True)

    assert f"Removed {MUSEUM}." in messages_of(response)
    assert not Domain.objects.filter(pk=domain.pk).exists()


def test_the_workspaces_own_host_and_its_card_domain_stay(owner_a, workspace_a):
    own = Domain.objects.get(tenant=workspace_a, is_custom=False)
    domain = verified(workspace_a)
    domain.make_primary()

    for target in (own, domain):
        response = owner_a.post(f"/dashboard/settings/domains/{target.pk}/remove/", {"confirm": target.domain})
        assert response.status_code == 302
    messages = messages_of(owner_a.get("/dashboard/settings/"))

    assert "The workspace's own address always works; it can't be removed." in messages
    assert "Cards print with this domain: choose another domain for them first." in messages
    assert Domain.objects.filter(pk__in=[own.pk, domain.pk]).count() == 2


@pytest.fixture
def staff(verified_cast):
    client = host_client(None)
    client.force_login(verified_cast.staff)
    return client


def test_the_staff_admin_can_not_delete_the_public_host_a_workspace_host_or_a_card_domain(staff, workspace_a):
    public = Domain.objects.get(domain="qrcards.localhost")
    own = Domain.objects.get(tenant=workspace_a, is_custom=False)
    card_domain = verified(workspace_a)
    card_domain.make_primary()
    kept = [public, own, card_domain]

    for domain in kept:
        page = staff.get(f"/admin/accounts/domain/{domain.pk}/delete/")
        assert (
            "Yes, I’m sure" not in page.content.decode()
            and "can't be removed" in unescape(page.content.decode())
            or ("choose another domain" in unescape(page.content.decode()))
        )
        staff.post(f"/admin/accounts/domain/{domain.pk}/delete/", {"post": "yes"})
    staff.post(
        "/admin/accounts/domain/",
        {"action": "delete_selected", "_selected_action": [d.pk for d in kept], "post": "yes"},
    )

    assert Domain.objects.filter(pk__in=[d.pk for d in kept]).count() == 3
    assert staff.get("/admin/accounts/domain/add/").status_code == 403


def test_the_staff_admin_removes_a_custom_domain_listing_the_cards_printed_with_it(staff, owner_a, workspace_a, stop_a):
    trail, stop = stop_a
    domain = verified(workspace_a)
    domain.make_primary()
    owner_a.get(f"/dashboard/trails/{trail.pk}/stops/{stop.pk}/qr.svg")
    Domain.objects.get(tenant=workspace_a, is_custom=False).make_primary()

    page = staff.get(f"/admin/accounts/domain/{domain.pk}/delete/")
    staff.post(f"/admin/accounts/domain/{domain.pk}/delete/", {"post": "yes"})

    assert f"{stop.token} on {MUSEUM}" in page.content.decode()
    assert not Domain.objects.filter(pk=domain.pk).exists()


def test_the_staff_admin_shows_a_workspaces_domains_without_letting_them_be_edited(staff, workspace_a):
    own = Domain.objects.get(tenant=workspace_a, is_custom=False)

    page = staff.get(f"/admin/accounts/domain/{own.pk}/change/").content.decode()
    staff.post(f"/admin/accounts/domain/{own.pk}/change/", {"domain": "hijacked.example", "tenant": own.tenant_id})

    assert 'name="domain"' not in page
    own.refresh_from_db()
    assert own.domain == "alpha.qrcards.localhost"


# Isolation on custom domains ----------------------------------------------------------------------------------------


def test_a_log_in_on_the_workspace_host_is_no_log_in_on_its_custom_domain(verified_cast, workspace_a):
    verified(workspace_a)
    original = host_client(workspace_a)
    assert (
        original.post("/accounts/login/", {"login": verified_cast.owner.email, "password": PASSWORD}).status_code == 302
    )

    copy = Client(HTTP_HOST=MUSEUM)
    copy.cookies["sessionid"] = original.cookies["sessionid"].value

    assert copy.get("/dashboard/").status_code == 302
    assert copy.get("/api/v1/trails").status_code == 401
    assert original.get("/dashboard/").status_code == 200


def test_the_public_workspace_list_opens_a_workspace_on_its_custom_domain_by_the_hand_over(verified_cast, workspace_a):
    verified(workspace_a)
    from accounts.domains import add_domain

    add_domain(customer=workspace_a, name="pending.museum.test")
    public = logged_in(verified_cast.owner, None, host="qrcards.localhost")

    listing = public.get("/workspaces/")
    opened = public.post("/workspaces/alpha/open/", {"host": MUSEUM})

    page = listing.content.decode()
    assert f'name="host" value="{MUSEUM}"' in page and "pending.museum.test" not in page
    assert f"http://{MUSEUM}" in listing["Content-Security-Policy"].split("form-action")[1].split(";")[0]
    assert opened.status_code == 302 and opened["Location"].startswith(f"http://{MUSEUM}/accounts/handoff/")
    there = Client(HTTP_HOST=MUSEUM)
    assert there.get(opened["Location"].split(MUSEUM, 1)[1]).status_code == 302
    dashboard = there.get("/dashboard/")
    assert dashboard.status_code == 200 and "Workspace A" in dashboard.content.decode()


def test_open_goes_to_no_host_that_is_not_one_the_workspace_serves(verified_cast, workspace_a, workspace_b):
    verified(workspace_b, "bravo.museum.test")
    from accounts.domains import add_domain

    add_domain(customer=workspace_a, name="pending.museum.test")
    public = logged_in(verified_cast.owner, None, host="qrcards.localhost")

    for host in ("bravo.museum.test", "pending.museum.test", "bravo.qrcards.localhost", "evil.example"):
        assert public.post("/workspaces/alpha/open/", {"host": host}).status_code == 404


def test_the_settings_page_hands_a_member_over_to_a_verified_domain(owner_a, workspace_a):
    domain = verified(workspace_a)

    settings_page = owner_a.get("/dashboard/settings/")
    opened = owner_a.post(f"/dashboard/settings/domains/{domain.pk}/open/")

    assert f"http://{MUSEUM}" in settings_page["Content-Security-Policy"]
    assert opened.status_code == 302 and opened["Location"].startswith(f"http://{MUSEUM}/accounts/handoff/")
    there = Client(HTTP_HOST=MUSEUM)
    there.get(opened["Location"].split(MUSEUM, 1)[1])
    assert there.get("/dashboard/").status_code == 200


def test_an_api_key_works_only_on_its_own_workspaces_domains(workspace_a, workspace_b):
    verified(workspace_a)
    verified(workspace_b, "bravo.museum.test")
    _, key_a = ApiKey.objects.create_key(customer=workspace_a, name="A", scope="read")
    _, key_b = ApiKey.objects.create_key(customer=workspace_b, name="B", scope="read")

    def trails(host: str, key: str) -> int:
        return Client(HTTP_HOST=host, HTTP_X_API_KEY=key).get("/api/v1/trails").status_code

    assert trails(MUSEUM, key_a) == trails("bravo.museum.test", key_b) == 200
    assert trails(MUSEUM, key_b) == trails("bravo.museum.test", key_a) == 401


def test_a_logo_is_served_only_on_its_own_workspaces_domains(owner_a, workspace_a, workspace_b, settings, tmp_path):
    from tests.accounts.test_branding import png, settings_form

    settings.MEDIA_ROOT = tmp_path
    verified(workspace_a)
    verified(workspace_b, "bravo.museum.test")
    owner_a.post("/dashboard/settings/", settings_form(logo=png()))
    logo_url = Customer.objects.get(pk=workspace_a.pk).logo_url

    on_a = Client(HTTP_HOST=MUSEUM).get(logo_url)
    on_b = Client(HTTP_HOST="bravo.museum.test").get(logo_url)

    assert on_a.status_code == 200 and on_a["Content-Type"] == "image/png"
    assert on_b.status_code == 404


def test_a_www_domain_is_a_domain_like_any_other_and_our_own_www_is_the_public_host(workspace_a):
    verified(workspace_a, "www.museum.test")

    assert Client(HTTP_HOST="www.museum.test").get("/accounts/login/").status_code == 200
    assert Client(HTTP_HOST="museum.test").get("/accounts/login/").status_code == 404
    assert Client(HTTP_HOST="www.qrcards.localhost").get("/").status_code == 200


# Settings ------------------------------------------------------------------------------------------------------------


def test_dns_resolvers_are_read_with_their_ports_and_a_bad_one_stops_the_process():
    from django.core.exceptions import ImproperlyConfigured

    from qrcards.settings import _dns_servers

    assert _dns_servers(["127.0.0.1:5353", "[::1]:53", "192.0.2.1", "2001:db8::1"]) == [
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("192.0.2.1", 53),
        ("2001:db8::1", 53),
    ]
    for bad in ("dns.example", "127.0.0.1:0", "127.0.0.1:dns"):
        with pytest.raises(ImproperlyConfigured, match="DNS_RESOLVERS"):
            _dns_servers([bad])
