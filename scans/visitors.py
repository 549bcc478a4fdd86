"""Who scanned: device, browser, OS and bot flag from the user agent; country,
truncated address and a daily visitor hash from the IP.

Plain functions, no Django and no database, called for every scan. The user
agent parse is cached per process; the geolocation data is loaded on first use.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import ua_parser
from crawlerdetect import CrawlerDetect

from lib.networks import parse_ip

if TYPE_CHECKING:
    from geoip2fast import GeoIP2Fast

MAX_USER_AGENT_LENGTH = 512

# Link-preview fetchers crawlerdetect doesn't know. Anchored at the start: the
# apps' own in-app browsers send a normal browser user agent.
_PREVIEW_FETCHERS = re.compile(r"^Viber/")

_DESKTOP_OS = frozenset(
    {
        "Windows", "Mac OS X", "Mac OS", "Chrome OS", "Linux", "Ubuntu", "Kubuntu",
        "Linux Mint", "Debian", "Fedora", "Red Hat", "CentOS", "Arch Linux", "Gentoo",
        "openSUSE", "SUSE", "Slackware", "FreeBSD", "OpenBSD", "NetBSD", "Solaris",
    }
)  # fmt: skip
_MOBILE_OS = frozenset(
    {
        "iOS", "Android", "Windows Phone", "Windows Mobile", "BlackBerry OS",
        "KaiOS", "Firefox OS", "HarmonyOS", "Symbian OS",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Client:
    device: str  # "mobile", "tablet", "desktop", "bot" or "other"
    browser: str  # "" if unknown
    os: str  # "" if unknown
    is_bot: bool


_NOBODY = Client(device="bot", browser="", os="", is_bot=True)


def describe_client(user_agent: str, *, method: str = "GET") -> Client:
    """Describe the client from its User-Agent header and request method.

    Crawlers, link previews of chat and social apps, HTTP libraries, headless
    browsers, an empty user agent and every HEAD request count as bots, with
    device "bot". Only the first 512 characters of the user agent are parsed.
    """
    if not user_agent or user_agent.isspace():
        return _NOBODY
    client = _describe(user_agent[:MAX_USER_AGENT_LENGTH])
    if method.upper() == "HEAD" and not client.is_bot:
        return replace(client, device="bot", is_bot=True)
    return client


@functools.lru_cache(maxsize=4096)
def _describe(user_agent: str) -> Client:
    result = _ua_parser().parse(user_agent)
    device = result.device or ua_parser.Device()
    browser = result.user_agent.family if result.user_agent else ""
    os_family = result.os.family if result.os else ""
    is_bot = (
        device.family == "Spider"
        or _crawler_detect().is_crawler(user_agent)
        or _PREVIEW_FETCHERS.search(user_agent) is not None
    )
    return Client(
        device="bot" if is_bot else _device_class(user_agent, os_family, device),
        browser="" if browser == "Other" else browser,
        os="" if os_family == "Other" else os_family,
        is_bot=is_bot,
    )


def _device_class(user_agent: str, os_family: str, device: ua_parser.Device) -> str:
    family = device.family
    if "TV" in family:
        return "other"
    if family in ("iPad", "Generic Tablet") or family.startswith("Kindle") or device.brand == "Generic_Android_Tablet":
        return "tablet"
    if os_family == "Android":
        # Android tablets leave "Mobile" out of the user agent; phones send it.
        return "mobile" if "Mobile" in user_agent else "tablet"
    if os_family in _MOBILE_OS:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return "other"


@functools.cache
def _ua_parser() -> ua_parser.Parser:
    # Unlike ua_parser.parse(), no cache of its own: _describe is the cache.
    # BestAvailableResolver is the pure-Python one unless ua-parser-rs or
    # google-re2 is installed; for it, regexes compiled up front (load_builtins)
    # are faster than lazily compiled ones. The others would want load_lazy_builtins.
    return ua_parser.Parser(ua_parser.BestAvailableResolver(ua_parser.load_builtins()))


@functools.cache
def _crawler_detect() -> CrawlerDetect:
    return CrawlerDetect()


def country_for_ip(ip: str) -> str:
    """ISO 3166 alpha-2 country code of the full address, from bundled offline
    data; "" for private, reserved, invalid and unknown addresses.
    """
    return country_of(parse_ip(ip))


def country_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """country_for_ip() for an address already parsed (by lib.networks.parse_ip)."""
    if address is None or not address.is_global:
        return ""
    code: str = _geoip().lookup(str(address)).country_code
    # geoip2fast answers "--" for networks it has no country for.
    return code if len(code) == 2 and code.isalpha() else ""


@functools.cache
def _geoip() -> GeoIP2Fast:
    """Load the country data (IPv4 and IPv6) once per process, on first use.

    Takes about 0.2 s and 50 MiB of memory per process.
    """
    # Importing geoip2fast sets these for the whole process, and so for every
    # subprocess we start; put them back.
    saved = {name: os.environ.get(name) for name in ("PYTHONWARNINGS", "PYTHONIOENCODING")}
    import geoip2fast

    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    # A full path: given a bare name, geoip2fast looks in the working directory first.
    data_file = os.path.join(os.path.dirname(geoip2fast.__file__), "geoip2fast-ipv6.dat.gz")
    return geoip2fast.GeoIP2Fast(geoip2fast_data_file=data_file)


def visitor_hash(*, ip: str, user_agent: str, salt: bytes) -> str:
    """16 hex characters identifying a visitor for as long as the salt is kept.

    A keyed BLAKE2b of the full IP and user agent: without the salt the hash
    can't be recomputed from a guessed address, so dropping the salt forgets
    the visitor.
    """
    # surrogatepass: a stray surrogate in a header must not lose the scan.
    data = f"{ip}\0{user_agent}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, key=salt, digest_size=8).hexdigest()


def new_salt() -> bytes:
    return secrets.token_bytes(32)
