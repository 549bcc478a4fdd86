"""Client addresses cut to their network, so that no full address is kept anywhere."""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def network_of(ip: str) -> str:
    """The network of an address: IPv4 to its /24, IPv6 to its /48, "" for anything that isn't an address.

    "203.0.113.77" gives "203.0.113.0"; an IPv4-mapped IPv6 address counts as IPv4. The same
    cut as scans' truncate_ip: one client is one network for rate limits and for analytics.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
