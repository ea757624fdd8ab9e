"""The address policy: internal space is refused in every form it can be written in.

Judged through the policy function only; no packet is sent to any of these addresses.
"""

from __future__ import annotations

import pytest

from exposure.net.scope import in_scope, is_public_network, target_in_scope

INTERNAL = [
    # IPv4 itself
    "10.0.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "192.168.1.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "192.0.2.1",
    # NAT64, well-known prefix (RFC 6052) around the metadata service and 10.0.0.1
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::a00:1",
    "64:ff9b::7f00:1",
    # NAT64, local-use prefix (RFC 8215)
    "64:ff9b:1::a00:1",
    "64:ff9b:1:a00:1::",
    # 6to4 around loopback and 10/8
    "2002:7f00:1::1",
    "2002:a00:1::1",
    # Teredo with a private client (the client is stored inverted) and with a private server
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # client 10.0.0.1
    "2001:0:a00:1:8000:63bf:f7f7:fbfb",  # server 10.0.0.1
    # IPv4-mapped, -compatible (deprecated) and -translated
    "::ffff:127.0.0.1",
    "::ffff:a9fe:a9fe",
    "::7f00:1",
    "::a00:1",
    "::808:808",  # compatible is deprecated: refused even around a public address
    "::ffff:0:a00:1",
    # deprecated and reserved IPv6
    "fec0::1",
    "3ffe::1",
    "5f00::1",
    "4000::1",
    "100::1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "2001:db8::1",
    # not an address at all
    "localhost",
    "",
]

PUBLIC = [
    "8.8.8.8",
    "145.100.190.243",
    "2a00:1450:4001:82b::200e",
    "2606:4700:4700::1111",
    # a public IPv4 address through DNS64/NAT64, 6to4 and IPv4-mapped: reachable as itself
    "64:ff9b::808:808",
    "2002:808:808::1",
    "::ffff:8.8.8.8",
    # Teredo between a public server and a public client
    "2001:0:4136:e378:8000:63bf:f7f7:fbfb",  # client 8.8.4.4
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_space_is_refused_in_every_form(address: str) -> None:
    assert not in_scope(address, False)
    assert not target_in_scope("ip", address, False)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_stay_in_scope(address: str) -> None:
    assert in_scope(address, False)
    assert target_in_scope("ip", address, False)


def test_allow_private_is_the_lab_switch() -> None:
    assert in_scope("64:ff9b::a9fe:a9fe", True)
    assert in_scope("127.0.0.1", True)


@pytest.mark.parametrize(
    "network",
    [
        "64:ff9b::a00:0/120",  # 10.0.0.0/24 through NAT64
        "2002:a00::/24",  # 10.0.0.0/8 through 6to4
        "64:ff9b::/96",  # all of IPv4
        "2000::/3",  # contains 6to4 and Teredo
        "fec0::/120",
        "8.0.0.0/5",  # both ends public, 10/8 in the middle
        "10.0.0.0/24",
        "2001:db8::/120",
    ],
)
def test_networks_that_touch_internal_space_are_refused(network: str) -> None:
    assert not is_public_network(network)
    assert not target_in_scope("network", network, False)


@pytest.mark.parametrize(
    "network",
    ["8.8.8.0/24", "2a00:1450:4001:82b::/120", "64:ff9b::808:800/120", "2002:808:808::/48"],
)
def test_public_networks_stay_in_scope(network: str) -> None:
    assert is_public_network(network)
