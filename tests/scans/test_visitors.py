from __future__ import annotations

import ipaddress
import os
import re

import pytest

from lib.networks import network_of
from scans.visitors import (
    Client,
    country_for_ip,
    describe_client,
    new_salt,
    visitor_hash,
)
from tests.fixtures.user_agents import BOTS, HUMANS, USER_AGENTS

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1"
)


def _ids(entries: list[tuple[str, bool, str]]) -> list[str]:
    return [ua[:60] for ua, _, _ in entries]


@pytest.mark.parametrize(("user_agent", "is_bot", "device"), BOTS, ids=_ids(BOTS))
def test_it_flags_crawlers_link_previews_and_http_clients_as_bots(user_agent: str, is_bot: bool, device: str) -> None:
    client = describe_client(user_agent)

    assert client.is_bot
    assert client.device == "bot"


@pytest.mark.parametrize(("user_agent", "is_bot", "device"), HUMANS, ids=_ids(HUMANS))
def test_it_does_not_flag_people_in_browsers_and_in_app_browsers(user_agent: str, is_bot: bool, device: str) -> None:
    assert not describe_client(user_agent).is_bot


@pytest.mark.parametrize(("user_agent", "is_bot", "device"), USER_AGENTS, ids=_ids(USER_AGENTS))
def test_it_tells_the_device_class(user_agent: str, is_bot: bool, device: str) -> None:
    client = describe_client(user_agent)

    assert (client.device, client.is_bot) == (device, is_bot)


@pytest.mark.parametrize(
    ("user_agent", "browser", "os"),
    [
        (SAFARI_ON_IPHONE, "Mobile Safari", "iOS"),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/120.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile",
            "Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
            " CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            "Chrome Mobile iOS",
            "iOS",
        ),
        (CHROME_ON_WINDOWS, "Chrome", "Windows"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox", "Linux"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
            " Version/17.1 Safari/605.1.15",
            "Safari",
            "Mac OS X",
        ),
        (CHROME_ON_WINDOWS + " Edg/120.0.0.0", "Edge", "Windows"),
    ],
)
def test_it_names_the_browser_and_os(user_agent: str, browser: str, os: str) -> None:
    client = describe_client(user_agent)

    assert (client.browser, client.os) == (browser, os)


def test_it_leaves_browser_and_os_empty_when_it_does_not_know_them() -> None:
    assert describe_client("FooClient") == Client(device="other", browser="", os="", is_bot=False)
    assert describe_client("curl/8.4.0").os == ""


@pytest.mark.parametrize("method", ["HEAD", "head", "Head"])
@pytest.mark.parametrize("user_agent", [SAFARI_ON_IPHONE, CHROME_ON_WINDOWS])
def test_a_head_request_is_always_a_bot(user_agent: str, method: str) -> None:
    client = describe_client(user_agent, method=method)

    assert client.is_bot
    assert client.device == "bot"
    assert client.browser == describe_client(user_agent).browser


def test_a_get_request_from_a_browser_is_not_a_bot() -> None:
    assert not describe_client(SAFARI_ON_IPHONE, method="GET").is_bot
    assert not describe_client(SAFARI_ON_IPHONE, method="post").is_bot


@pytest.mark.parametrize("user_agent", ["", " ", "\t\n"])
def test_an_empty_user_agent_is_a_bot(user_agent: str) -> None:
    assert describe_client(user_agent) == Client(device="bot", browser="", os="", is_bot=True)


def test_it_reads_only_the_first_512_characters_of_a_user_agent() -> None:
    padded = CHROME_ON_WINDOWS + " " * (512 - len(CHROME_ON_WINDOWS))

    assert describe_client(padded + "Googlebot/2.1") == describe_client(padded)
    assert not describe_client(padded + "Googlebot/2.1").is_bot


@pytest.mark.parametrize(
    ("ip", "truncated"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("198.51.100.255", "198.51.100.0"),
        (" 203.0.113.77 ", "203.0.113.0"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::"),
        ("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff", "2001:db8:abcd::"),
        ("2001:DB8:ABCD:12::1", "2001:db8:abcd::"),
        ("::ffff:203.0.113.77", "203.0.113.0"),
        ("fe80::1%eth0", "fe80::"),
    ],
)
def test_it_truncates_ipv4_to_the_24_and_ipv6_to_the_48(ip: str, truncated: str) -> None:
    assert network_of(ip) == truncated


@pytest.mark.parametrize("ip", ["", "   ", "unknown", "203.0.113.256", "203.0.113", "203.0.113.0/24", "2001:db8::g"])
def test_it_truncates_what_is_not_an_address_to_nothing(ip: str) -> None:
    assert network_of(ip) == ""


@pytest.mark.parametrize(
    "ip", ["203.0.113.77", "8.8.4.4", "192.168.1.23", "2001:db8:abcd:12::1", "2a00:1450:4001:80b::200e"]
)
def test_a_truncated_address_never_shows_the_full_one(ip: str) -> None:
    truncated = network_of(ip)

    assert truncated
    assert truncated != ip
    assert ip not in truncated


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),  # Google Public DNS
        ("2001:4860:4860::8888", "US"),
        ("::ffff:8.8.8.8", "US"),
        ("193.0.14.129", "NL"),  # k.root-servers.net, RIPE NCC
        ("77.88.8.8", "RU"),  # Yandex DNS
        ("202.12.27.33", "JP"),  # m.root-servers.net, WIDE
        ("2a00:1450:4001:80b::200e", "DE"),  # Google, Frankfurt
    ],
)
def test_it_finds_the_country_of_a_public_address(ip: str, country: str) -> None:
    assert country_for_ip(ip) == country


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.1.1",
        "0.0.0.0",  # noqa: S104 - an address to look up, not one to bind
        "255.255.255.255",
        "203.0.113.7",  # documentation
        "::1",
        "fe80::1",
        "fd00::1",
        "2001:db8::1",
        "::ffff:192.168.1.1",
        "",
        "unknown",
    ],
)
def test_it_has_no_country_for_private_reserved_or_invalid_addresses(ip: str) -> None:
    assert country_for_ip(ip) == ""


def test_looking_up_a_country_leaves_the_environment_alone() -> None:
    before = {name: os.environ.get(name) for name in ("PYTHONWARNINGS", "PYTHONIOENCODING")}

    country_for_ip("8.8.8.8")

    assert {name: os.environ.get(name) for name in before} == before


def test_the_visitor_hash_is_the_same_for_the_same_visitor_and_salt() -> None:
    salt = new_salt()

    first = visitor_hash(ip="203.0.113.77", user_agent=SAFARI_ON_IPHONE, salt=salt)
    second = visitor_hash(ip="203.0.113.77", user_agent=SAFARI_ON_IPHONE, salt=salt)

    assert first == second
    assert re.fullmatch(r"[0-9a-f]{16}", first)


def test_the_visitor_hash_changes_with_the_salt() -> None:
    def hashed(salt: bytes) -> str:
        return visitor_hash(ip="203.0.113.77", user_agent=SAFARI_ON_IPHONE, salt=salt)

    assert hashed(new_salt()) != hashed(new_salt())


def test_the_visitor_hash_tells_apart_visitors_behind_one_address() -> None:
    salt = new_salt()

    assert visitor_hash(ip="203.0.113.77", user_agent=SAFARI_ON_IPHONE, salt=salt) != visitor_hash(
        ip="203.0.113.77", user_agent=CHROME_ON_WINDOWS, salt=salt
    )
    assert visitor_hash(ip="203.0.113.77", user_agent="", salt=salt) != visitor_hash(
        ip="203.0.113.78", user_agent="", salt=salt
    )


def test_the_visitor_hash_does_not_contain_the_address() -> None:
    ip = "203.0.113.77"

    hashed = visitor_hash(ip=ip, user_agent=SAFARI_ON_IPHONE, salt=new_salt())

    assert ip not in hashed
    assert ipaddress.ip_address(ip).packed.hex() not in hashed


def test_salts_are_32_random_bytes() -> None:
    salt = new_salt()

    assert isinstance(salt, bytes)
    assert len(salt) == 32
    assert salt != new_salt()
