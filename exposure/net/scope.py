"""Which addresses a scan may talk to.

The scanner works on the public internet. An address in private, loopback, link-local or other
special space is someone's internal network: a member list typo, or a scanned server that
redirects us inwards (SSRF). Such addresses are out of scope unless `allow_private` is set for a
lab or the testbed.

IPv6 has several ways to carry an IPv4 address inside it (NAT64, 6to4, Teredo, IPv4-mapped,
-compatible and -translated). On a scanner host with NAT64, `64:ff9b::a9fe:a9fe` *is*
169.254.169.254, so an address is judged by the IPv4 address it wraps, never by its IPv6 form.
Python's `is_global` alone does not do that, and it calls deprecated space (site-local `fec0::/10`,
the old 6bone) global; so the rules here are explicit tables that do not change with the Python
version: IPv6 must be global unicast (`2000::/3`) and outside every special block.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

#: IANA special-purpose IPv4 blocks that are not globally reachable, and multicast/reserved space.
_V4_BLOCKED = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # the deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)

#: IPv6 global unicast; everything outside it is reserved, multicast or one of the forms below.
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
#: Special blocks inside 2000::/3 that are not the public internet (or are deprecated).
_V6_BLOCKED = tuple(
    IPv6Network(n)
    for n in (
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
        "2001:db8::/32",  # documentation
        "3ffe::/16",  # the old 6bone, returned
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 segment identifiers (RFC 9602)
    )
)

# Forms whose low 32 bits are the IPv4 address.
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")  # RFC 6052
_MAPPED = IPv6Network("::ffff:0:0/96")  # RFC 4291
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_COMPATIBLE = IPv6Network("::/96")  # RFC 4291, deprecated: refused whatever it wraps
_LOW32 = (_NAT64_WELL_KNOWN, _MAPPED, _TRANSLATED)
_SIXTOFOUR = IPv6Network("2002::/16")  # RFC 3056: the IPv4 address is bits 16..47
#: Local-use NAT64 (RFC 8215): the operator picks where the IPv4 address sits, so nothing can
#: be said about where it leads; it is never a public address.
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")


def _v4_public(ip: IPv4Address) -> bool:
    return bool(ip.is_global) and not any(ip in net for net in _V4_BLOCKED)


def _v4_network_public(net: IPv4Network) -> bool:
    return _v4_public(net.network_address) and not any(net.overlaps(b) for b in _V4_BLOCKED)


def embedded_ipv4(ip: IPv6Address) -> tuple[IPv4Address, ...] | None:
    """The IPv4 address(es) an IPv6 address stands for, or None when it wraps none.

    Teredo names two (server and client); both must be public."""
    if ip in _COMPATIBLE:
        return (IPv4Address(int(ip) & 0xFFFFFFFF),)
    if any(ip in net for net in _LOW32):
        return (IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    return None


def is_public_address(address: str | IPAddress) -> bool:
    """May this address be contacted on the public internet, whatever form it is written in?"""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, IPv4Address):
        return _v4_public(ip)
    if ip in _COMPATIBLE or ip in _NAT64_LOCAL or ip.is_site_local:
        return False  # deprecated, or an embedding whose target cannot be known
    inner = embedded_ipv4(ip)
    if inner is not None:
        return all(_v4_public(v4) for v4 in inner)
    return ip in _V6_GLOBAL_UNICAST and not any(ip in net for net in _V6_BLOCKED)


def is_public_network(network: str | IPNetwork) -> bool:
    """Is every address of this network public? A network that only touches special space is not."""
    net = ipaddress.ip_network(network, strict=False) if isinstance(network, str) else network
    if isinstance(net, IPv4Network):
        return _v4_network_public(net)
    inner = _inner_network(net)
    if inner is not None:
        return _v4_network_public(inner)
    if any(net.overlaps(n) for n in (*_LOW32, _SIXTOFOUR, _NAT64_LOCAL, _COMPATIBLE)):
        return False  # straddles an embedding prefix: some of its addresses lead elsewhere
    return net.subnet_of(_V6_GLOBAL_UNICAST) and not any(net.overlaps(b) for b in _V6_BLOCKED)


def _inner_network(net: IPv6Network) -> IPv4Network | None:
    """The IPv4 network an IPv6 network inside a NAT64, mapped or 6to4 prefix stands for."""
    for outer in _LOW32:
        if net.subnet_of(outer):
            return IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
    if net.subnet_of(_SIXTOFOUR):
        bits = min(net.prefixlen, 48) - 16
        return IPv4Network(((int(net.network_address) >> 80) & 0xFFFFFFFF, bits), strict=False)
    return None


def in_scope(address: str, allow_private: bool) -> bool:
    """May the scanner connect to this address?"""
    if allow_private:
        return True
    try:
        return is_public_address(address)
    except ValueError:
        return False


def target_in_scope(kind: str, value: str, allow_private: bool) -> bool:
    """Is a registered IP or network target scannable? Names (domains, discovered hosts) are
    judged per resolved address."""
    if allow_private or kind in ("domain", "host"):
        return True
    try:
        return is_public_network(value) if kind == "network" else is_public_address(value)
    except ValueError:
        return False
