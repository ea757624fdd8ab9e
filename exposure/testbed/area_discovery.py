"""The discovery scenario (issue #22): hosts of members that their member list does not name,
and the decoys discovery must leave alone.

Three fictional companies (every name ends in `.test`):
- **Sleepdienst Noorderhaven** runs a VPN gateway on `vpn.noorderhaven-sleep.test` at its
  office address: the name resolves (a common name), is in a certificate (CT), and Shodan sees
  the gateway with a known-exploited CVE (Shodan search finds the name and the address). Its
  SPF record also names a CDN edge (`ip4:`) that Shodan tags `cdn`: a decoy.
- **Installatiebedrijf Kade** has its site on a shared hosting server; the office's camera is
  found only through the SPF `ip4:` term (no name points at it). The SPF record also names the
  hoster's server, which carries many unrelated domains: a decoy.
- **Expeditie Wildhaven** has a wildcard zone (`*.wildhaven.test`) and a wildcard certificate:
  no common name may become a host.

Everything is declared: SPF terms name symbolic addresses (`ip4:{ip:kade-office}`), the VPN
gateway is a `HostSpec` with its own log-in page (so its certificate is in the CT look-alike),
and the wildcard certificate is one the area has logged. `expected(testbed)` lists exactly the
proposals discovery must make. `exposure demo` runs these companies too (area_demo).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exposure.testbed.providers import MAIL_PROVIDER, MX_PROVIDER, PROVIDER_RECORDS
from exposure.testbed.scenario import (
    ANY_IP,
    Area,
    CompanySpec,
    DeviceSpec,
    DomainSpec,
    HostSpec,
    Record,
    SiteSpec,
)
from exposure.testbed.shodan_catalogue import Vuln
from exposure.testbed.shodan_devices import Device

if TYPE_CHECKING:
    from exposure.testbed.runner import Testbed

NOORDERHAVEN = "59220001"
KADE = "59220002"
WILDHAVEN = "59220003"
SHARED = "disc-hosting"  # the shared hosting server
OFFICE_NH = "noorderhaven-office"
OFFICE_KADE = "kade-office"
CDN_EDGE = "cdn-edge"
FORTINET_CVE = Vuln(
    "CVE-2018-13379",
    9.8,
    "Fortinet FortiOS SSL VPN path traversal: credentials of logged-in users can be read.",
    verified=False,
)
#: Unrelated sites on the shared server: what makes it shared hosting.
TENANTS = tuple(f"tenant{n}.test" for n in range(1, 8))


def discovery_companies() -> list[CompanySpec]:
    """The three companies of the scenario (also part of the demo's port area)."""
    return [
        CompanySpec(
            NOORDERHAVEN,
            "Sleepdienst Noorderhaven",
            "ict@noorderhaven-sleep.test",
            "maritime",
            phone="0255 52 20 01",
            domains=[
                DomainSpec(
                    "noorderhaven-sleep.test",
                    mx=MX_PROVIDER,
                    txt=[f"v=spf1 ip4:{{ip:{CDN_EDGE}}} include:_spf.havenmail.test -all"],
                    dmarc="v=DMARC1; p=reject",
                    elsewhere=[HostSpec("vpn", OFFICE_NH, site=SiteSpec(server="FortiGate"))],
                )
            ],
            devices=[
                DeviceSpec(
                    OFFICE_NH,
                    Device("web.nginx", ANY_IP, port=443, vulns=(FORTINET_CVE,), tags=("vpn",)),
                ),
                DeviceSpec(CDN_EDGE, Device("web.nginx", ANY_IP, tags=("cdn",))),
            ],
        ),
        CompanySpec(
            KADE,
            "Installatiebedrijf Kade",
            "info@kade-installatie.test",
            "construction",
            phone="0255 52 20 02",
            domains=[
                DomainSpec(
                    "kade-installatie.test",
                    a=[SHARED],
                    www=False,
                    mx=MX_PROVIDER,
                    txt=[
                        f"v=spf1 ip4:{{ip:{OFFICE_KADE}}} ip4:{{ip:{SHARED}}} "
                        "include:_spf.havenmail.test -all"
                    ],
                    dmarc="v=DMARC1; p=none",
                )
            ],
            devices=[
                DeviceSpec(OFFICE_KADE, Device.camera("hikvision", ANY_IP)),
                DeviceSpec(SHARED, Device("web.apache", ANY_IP)),
            ],
        ),
        CompanySpec(
            WILDHAVEN,
            "Expeditie Wildhaven",
            "planning@wildhaven.test",
            "logistics",
            phone="0255 52 20 03",
            domains=[
                DomainSpec(
                    "wildhaven.test",
                    mx=MX_PROVIDER,
                    dmarc="v=DMARC1; p=quarantine",
                    records=[Record("*", "A", "wildhaven-web")],
                    a=["wildhaven-web"],
                )
            ],
        ),
    ]


def discovery_area() -> Area:
    return Area(
        companies=discovery_companies(),
        mail_hosts=MAIL_PROVIDER,
        records=[*PROVIDER_RECORDS, *discovery_records()],
        certificates=discovery_certificates(),
        name="discovery scenario",
    )


def discovery_records() -> list[Record]:
    """The shared server's unrelated tenants: what makes its address shared hosting."""
    return [Record(f"{t}.", "A", SHARED) for t in TENANTS]


def discovery_certificates() -> list[tuple[str, ...]]:
    """Certificates CT has logged that no site of the area serves: Wildhaven's wildcard."""
    return [("*.wildhaven.test", "wildhaven.test")]


def expected(tb: Testbed) -> set[tuple[str, str, str]]:
    """(company, kind, value) of every host discovery must propose, and nothing else."""
    return {
        (NOORDERHAVEN, "domain", "vpn.noorderhaven-sleep.test"),
        (NOORDERHAVEN, "ip", tb.address(OFFICE_NH)),
        (KADE, "ip", tb.address(OFFICE_KADE)),
    }


def decoys(tb: Testbed) -> set[str]:
    """Values discovery must never propose: the shared server, the CDN edge, wildcard names."""
    return {
        tb.address(SHARED),
        tb.address(CDN_EDGE),
        *(f"{label}.wildhaven.test" for label in ("vpn", "mail", "remote", "cam", "nas")),
    }
