"""Client addresses cut to their network, so that no full address is kept anywhere."""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `ip` names (an IPv4-mapped IPv6 address as IPv4), or None."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def network_of(ip: str) -> str:
    """The network of an address: IPv4 to its /24, IPv6 to its /48, "" for anything that isn't an address.

    "203.0.113.77" gives "203.0.113.0". One cut for analytics (a scan's `ip`) and for rate limits alike:
    one client is one network.
    """
    return network_of_address(parse_ip(ip))


def network_of_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """network_of() for an address already parsed (by parse_ip)."""
    if address is None:
        return ""
    host_bits = 32 - IPV4_PREFIX if address.version == 4 else 128 - IPV6_PREFIX
    # Zeroing the host bits is ip_network(...).network_address, four times faster (once per scan).
    return str(type(address)(int(address) >> host_bits << host_bits))
