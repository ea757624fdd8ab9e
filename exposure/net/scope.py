"""Which addresses a scan may talk to.

The scanner works on the public internet. An address in private, loopback, link-local or other
special space is someone's internal network: a member list typo, or a scanned server that
redirects us inwards (SSRF). Such addresses are out of scope unless `allow_private` is set for a
lab or the testbed.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_public_address(address: str | IPAddress) -> bool:
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def is_public_network(network: str | IPNetwork) -> bool:
    net = ipaddress.ip_network(network, strict=False) if isinstance(network, str) else network
    return is_public_address(net.network_address) and is_public_address(net.broadcast_address)


def in_scope(address: str, allow_private: bool) -> bool:
    """May the scanner connect to this address?"""
    if allow_private:
        return True
    try:
        return is_public_address(address)
    except ValueError:
        return False


def target_in_scope(kind: str, value: str, allow_private: bool) -> bool:
    """Is a registered IP or network target scannable? Domains are judged per resolved address."""
    if allow_private or kind == "domain":
        return True
    try:
        return is_public_network(value) if kind == "network" else is_public_address(value)
    except ValueError:
        return False
