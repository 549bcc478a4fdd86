"""Custom domains: reading the name someone typed, and proving through DNS that their workspace controls it.

A workspace adds a domain (say trails.museum.org) and creates two DNS records: a CNAME to its own host
(<slug>.QRCARDS_DOMAIN), which brings the domain's visitors to us, and a TXT record holding the domain's
token at _qrcards-challenge.trails.museum.org, which proves the workspace controls the domain's DNS. Only
the proof decides whether we serve the domain; the CNAME is reported (an apex domain can't have one, and
its provider's ALIAS record shows up as the same addresses as the workspace host's).

Lookups go to settings.DNS_RESOLVERS (the system's resolvers when empty), without a cache: the answer
must be what the domain's DNS says now. A resolver that fails to answer proves nothing either way: it
never starts the grace period of a verified domain, and never ends one.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Customer, Domain, Membership
from accounts.workspaces import email_url

logger = logging.getLogger(__name__)

# A workspace's custom domains, at most: each costs DNS lookups every hour and a certificate.
MAX_CUSTOM_DOMAINS = 10
LOOKUP_SECONDS = 5.0
# The Verify button's lookups run in a web request, which must not wait long on a slow name server.
INTERACTIVE_LOOKUP_SECONDS = 1.0
# Lookups of the hourly check run this many at a time (they wait on the network, not the CPU).
PARALLEL_LOOKUPS = 8
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# Reading the name ---------------------------------------------------------------------------------------------


def normalise_domain(text: str) -> str:
    """The domain name in `text` as DNS and TLS carry it: lower case, ASCII (xn-- for international names).

    Raises ValidationError, saying what's wrong in words, for a URL, a port, an IP address, a name
    that isn't one, or a host of ours. Whether another workspace has it is the form's question.
    """
    value = text.strip()
    if not value:
        raise ValidationError("Type the domain, e.g. trails.museum.org.", code="required")
    if "://" in value or any(mark in value for mark in "/?#@\\"):
        raise ValidationError(
            "Type the domain name only, e.g. trails.museum.org: no https://, no path.", code="not_a_name"
        )
    bare = value.strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        pass
    else:
        raise ValidationError("That is an IP address: type a domain name, e.g. trails.museum.org.", code="ip_address")
    if ":" in value:
        raise ValidationError("Type the domain name without a port: cards use the standard HTTPS port.", code="port")
    value = value.removesuffix(".")  # the DNS root, which some people write
    try:
        name = idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValidationError(_idna_problem(error), code="invalid") from None
    labels = name.split(".")
    if len(labels) < 2:
        raise ValidationError("Type the whole domain, with its ending, e.g. trails.museum.org.", code="incomplete")
    if len(name) > 253 or not all(LABEL.match(label) for label in labels):
        raise ValidationError(
            "That isn't a domain name: use letters, digits and hyphens between the dots.", code="invalid"
        )
    if labels[-1].isdigit():
        raise ValidationError("That looks like an IP address: type a domain name.", code="ip_address")
    own = settings.QRCARDS_DOMAIN
    if name == own or name.endswith("." + own):
        raise ValidationError(f"Addresses under {own} are ours to give: add a domain of your own.", code="ours")
    return name


def _idna_problem(error: idna.IDNAError) -> str:
    message = str(error)
    if "Empty Label" in message:
        return "That isn't a domain name: there is nothing between two dots."
    if "too long" in message:
        return "That isn't a domain name: each part between dots is at most 63 characters."
    if "hyphen" in message:
        return "That isn't a domain name: a part between dots can't start or end with a hyphen."
    if match := re.search(r"Codepoint (U\+[0-9A-F]+)", message):
        character = chr(int(match.group(1)[2:], 16))
        shown = "a space" if character.isspace() else f"“{character}”"
        return f"A domain name can't contain {shown}: use letters, digits and hyphens."
    return "That isn't a domain name we can use."


# Asking DNS -----------------------------------------------------------------------------------------------------


class Proof(enum.Enum):
    FOUND = "found"
    MISSING = "missing"  # DNS answered, and the record is not there
    UNKNOWN = "unknown"  # DNS didn't answer: nothing is concluded


@dataclass(frozen=True)
class Findings:
    """What DNS said about a domain: the ownership proof, whether it leads here, in words for the settings page."""

    proof: Proof
    points_here: bool | None  # None: DNS didn't say
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return " ".join(self.notes)


def resolver(*, lifetime: float = LOOKUP_SECONDS) -> dns.resolver.Resolver:
    """A resolver asking settings.DNS_RESOLVERS ((address, port) pairs), or the system's; no cache.

    `lifetime` bounds each lookup, retries included.
    """
    servers = settings.DNS_RESOLVERS
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(address, port) for address, port in servers]
    resolver.cache = None
    resolver.lifetime = lifetime
    resolver.timeout = lifetime / 2
    return resolver


class _NoAnswer(Exception):
    """DNS answered: there is no such record."""


def _records(resolver: dns.resolver.Resolver, name: str, kind: str) -> list:
    try:
        return list(resolver.resolve(dns.name.from_text(name), kind, search=False))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        raise _NoAnswer from None


def look_up(domain: Domain, *, lifetime: float = LOOKUP_SECONDS) -> Findings:
    """Ask DNS for `domain`'s proof (its TXT record) and where it leads (its CNAME). Never raises for DNS trouble."""
    resolver_ = resolver(lifetime=lifetime)
    notes = []
    try:
        values = [
            "".join(part.decode("utf-8", "replace") for part in record.strings)
            for record in _records(resolver_, domain.challenge_name, "TXT")
        ]
    except _NoAnswer:
        proof = Proof.MISSING
        notes.append(f"No TXT record at {domain.challenge_name}.")
    except dns.exception.DNSException as error:
        proof = Proof.UNKNOWN
        notes.append(f"DNS didn't answer for {domain.challenge_name} ({_dns_problem(error)}); nothing was changed.")
    else:
        proof = Proof.FOUND if domain.challenge_value in values else Proof.MISSING
        if proof is Proof.MISSING:
            notes.append(f"The TXT record at {domain.challenge_name} doesn't hold {domain.challenge_value}.")
    points_here = _points_here(resolver_, domain, notes)
    return Findings(proof=proof, points_here=points_here, notes=notes)


def _points_here(resolver_: dns.resolver.Resolver, domain: Domain, notes: list[str]) -> bool | None:
    target = domain.tenant.own_host
    try:
        cnames = [
            record.target.to_text(omit_final_dot=True).lower() for record in _records(resolver_, domain.domain, "CNAME")
        ]
    except _NoAnswer:
        cnames = []
    except dns.exception.DNSException as error:
        notes.append(f"DNS didn't answer for {domain.domain} ({_dns_problem(error)}).")
        return None
    if target in cnames:
        return True
    if cnames:
        notes.append(f"{domain.domain} is a CNAME to {cnames[0]}, not to {target}.")
        return False
    # No CNAME (an apex domain, say): its provider's ALIAS or flattening shows as the workspace host's addresses.
    try:
        ours = {record.address for record in _records(resolver_, target, "A")}
        theirs = {record.address for record in _records(resolver_, domain.domain, "A")}
    except (_NoAnswer, dns.exception.DNSException):
        ours, theirs = set(), set()
    if ours and ours & theirs:
        return True
    notes.append(f"{domain.domain} doesn't lead here yet: add a CNAME record pointing to {target}.")
    return False


def _dns_problem(error: dns.exception.DNSException) -> str:
    if isinstance(error, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return "no answer in time"
    if isinstance(error, dns.resolver.NoNameservers):
        return "its name servers failed"
    return type(error).__name__


# Acting on what DNS said ---------------------------------------------------------------------------------------


class Event(enum.Enum):
    VERIFIED = "verified"
    PROOF_MISSING = "proof-missing"  # a verified domain's proof is gone: the grace period starts
    RESTORED = "restored"  # ... and is back within it
    LAPSED = "lapsed"  # ... and stayed away: the domain is no longer served


def apply(domain: Domain, findings: Findings, *, now: datetime | None = None) -> Event | None:
    """Record `findings` on `domain` and change what it serves accordingly; returns what changed, if anything.

    Verified on the first proof found. A verified domain whose proof DNS says is gone keeps being served
    for Domain.PROOF_GRACE, then stops; its cards then print with the workspace's own host. When DNS
    doesn't answer, nothing changes but the note.
    """
    now = now or timezone.now()
    event = None
    with transaction.atomic():
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
        domain.last_checked_at = now
        domain.check_note = findings.note[:1000]
        if findings.proof is Proof.FOUND:
            if domain.verified_at is None:
                domain.verified_at, domain.lapsed_at, event = now, None, Event.VERIFIED
            elif domain.proof_missing_since is not None:
                event = Event.RESTORED
            domain.proof_missing_since = None
        elif findings.proof is Proof.MISSING and domain.verified_at is not None:
            if domain.proof_missing_since is None:
                domain.proof_missing_since, event = now, Event.PROOF_MISSING
            elif now >= domain.proof_missing_since + Domain.PROOF_GRACE:
                domain.verified_at, domain.proof_missing_since, domain.lapsed_at = None, None, now
                event = Event.LAPSED
                if domain.is_primary:
                    domain.is_primary = False
                    own = Domain.objects.filter(tenant_id=domain.tenant_id, is_custom=False).first()
                    if own is not None:
                        own.make_primary()
        domain.save()
    if event is not None:
        logger.info("domain %s of %s: %s", domain.domain, domain.tenant.schema_name, event.value)
    if event in (Event.PROOF_MISSING, Event.LAPSED):
        _tell_owners(domain, event)
    return event


def verify(domain: Domain) -> tuple[Findings, Event | None]:
    """Check `domain` now (the settings page's Verify button): each lookup waits INTERACTIVE_LOOKUP_SECONDS at most."""
    findings = look_up(domain, lifetime=INTERACTIVE_LOOKUP_SECONDS)
    return findings, apply(domain, findings)


def check_domains(*, now: datetime | None = None) -> dict[str, int]:
    """The hourly job: check every custom domain, drop those never verified in time; returns counts of what happened.

    Every domain is looked up, the verified ones too: a domain whose proof is gone stops being served
    after the grace period, and one whose proof came back (or arrived late) is served again.
    """
    now = now or timezone.now()
    stale = Domain.objects.filter(
        is_custom=True, verified_at__isnull=True, lapsed_at__isnull=True, created_at__lt=now - Domain.PENDING_FOR
    )
    counts = {"dropped": 0, "checked": 0} | {event.value: 0 for event in Event}
    for domain in stale.select_related("tenant"):
        logger.info("domain %s of %s dropped: never verified", domain.domain, domain.tenant.schema_name)
        domain.delete()
        counts["dropped"] += 1
    domains = list(Domain.objects.filter(is_custom=True).select_related("tenant").order_by("pk"))
    with ThreadPoolExecutor(max_workers=PARALLEL_LOOKUPS) as pool:
        findings = list(pool.map(look_up, domains))
    for domain, found in zip(domains, findings, strict=True):
        event = apply(domain, found, now=now)
        counts["checked"] += 1
        if event is not None:
            counts[event.value] += 1
    return counts


def _tell_owners(domain: Domain, event: Event) -> None:
    """E-mail the workspace's owners: its proof is gone (and when we stop), or we stopped serving it."""
    workspace: Customer = domain.tenant
    owners = Membership.objects.filter(customer=workspace, role=Membership.Role.OWNER, user__is_active=True)
    context = {
        "domain": domain,
        "workspace": workspace,
        "cards": domain.printed_cards.count(),
        "stops_serving_at": domain.stops_serving_at,
        "settings_url": email_url(workspace.own_host, "/dashboard/settings/#domains"),
    }
    prefix = f"accounts/email/domain_{event.value.replace('-', '_')}"
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(
        render_to_string(f"{prefix}_subject.txt", context).split()
    )
    body = render_to_string(f"{prefix}_message.txt", context)
    for email in owners.values_list("user__email", flat=True):
        EmailMessage(subject, body, to=[email]).send()


# Adding one -------------------------------------------------------------------------------------------------------


class DomainTaken(ValidationError):
    def __init__(self) -> None:
        # Said the same way whichever workspace has it, so nobody learns whose it is.
        super().__init__(
            "That domain is already in use with QRCards. If it is yours, write to us and we will sort it out.",
            code="taken",
        )


def add_domain(*, customer: Customer, name: str) -> Domain:
    """Add the (normalised) `name` to `customer`, waiting for its proof. Raises DomainTaken if any workspace has it."""
    try:
        with transaction.atomic():
            return Domain.objects.create(
                domain=name,
                tenant=customer,
                is_primary=False,
                is_custom=True,
                verification_token=secrets.token_urlsafe(24),
            )
    except IntegrityError:
        raise DomainTaken() from None
