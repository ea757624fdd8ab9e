"""Edge devices: VPN gateways, firewalls and Exchange/OWA, named by product and version.

The flaws that get small firms ransomed are mostly in the devices at the edge of their network
(CISA's KEV catalogue is full of them), and an owner recognises "your Fortinet VPN (FortiOS
7.0.12)" where "port 443" tells them nothing. This is a table of (device, signal, pattern,
example), as the camera fingerprints are (fingerprints.py): one matching row names the device,
because every pattern here is specific to it (a login path, a product string, a CPE). The
version comes from Shodan's `version`, else the matching CPE's version, else a header that
carries it (`X-OWA-Version`).

The identification goes into a service's evidence (`edge`: vendor, product, kind, version and a
Dutch and English label), and `exposure.service` / `exposure.exploited` use the label in their
technical line. Sources: Shodan's own field values for these products (`product`, `http.title`,
`http.html`, CPE 2.3 names as NVD spells them) and the products' well-known login paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.shodan.banners import Banner
from checks.shodan.fingerprints import HTML_HEAD, Signal, signal_text


@dataclass(frozen=True, slots=True)
class EdgeProduct:
    key: str
    vendor: str
    product: str
    kind: str  # "vpn", "firewall+vpn", "mail"
    system: str  # what the version is a version of (FortiOS, PAN-OS, ...)
    nl: str  # "uw ..." in a Dutch sentence
    en: str


@dataclass(frozen=True, slots=True)
class EdgeRow:
    key: str
    signal: Signal
    pattern: str
    example: str

    def matches(self, banner: Banner) -> bool:
        if self.signal is Signal.CPE:
            return any(self._search(c.name) for c in banner.cpes)
        text = signal_text(self.signal, banner)
        return text is not None and self._search(text)

    def _search(self, value: str) -> bool:
        return bool(value) and re.search(self.pattern, value, re.IGNORECASE) is not None


PRODUCTS: dict[str, EdgeProduct] = {
    p.key: p
    for p in (
        EdgeProduct(
            "fortigate", "Fortinet", "FortiGate SSL-VPN", "firewall+vpn", "FortiOS",
            "Fortinet-VPN", "Fortinet VPN",
        ),
        EdgeProduct(
            "netscaler", "Citrix", "NetScaler ADC/Gateway", "vpn", "NetScaler",
            "Citrix NetScaler-toegang", "Citrix NetScaler gateway",
        ),
        EdgeProduct(
            "ivanti", "Ivanti", "Connect Secure (Pulse Secure)", "vpn", "Connect Secure",
            "Ivanti/Pulse-VPN", "Ivanti/Pulse VPN",
        ),
        EdgeProduct(
            "sonicwall", "SonicWall", "SonicWall SSL-VPN", "firewall+vpn", "SonicOS",
            "SonicWall-VPN", "SonicWall VPN",
        ),
        EdgeProduct(
            "globalprotect", "Palo Alto Networks", "GlobalProtect", "firewall+vpn", "PAN-OS",
            "Palo Alto GlobalProtect-VPN", "Palo Alto GlobalProtect VPN",
        ),
        EdgeProduct(
            "cisco_asa", "Cisco", "ASA AnyConnect/WebVPN", "firewall+vpn", "ASA",
            "Cisco ASA-VPN", "Cisco ASA VPN",
        ),
        EdgeProduct(
            "exchange", "Microsoft", "Exchange (Outlook on the web)", "mail", "Exchange",
            "Exchange-mailserver (Outlook op het web)", "Exchange mail server (Outlook on the web)",
        ),
    )
}  # fmt: skip

S = Signal
ROWS: tuple[EdgeRow, ...] = (
    EdgeRow("fortigate", S.PRODUCT, r"\bforti(gate|os)\b|^fortinet\b", "Fortinet FortiGate"),
    EdgeRow("fortigate", S.HTML, r"/remote/login(check)?\b", 'top.location="/remote/login?lang=en"'),
    EdgeRow("fortigate", S.CPE, r"^fortinet:forti(os|gate)", "fortinet:fortios"),
    EdgeRow("netscaler", S.PRODUCT, r"netscaler|citrix (adc|gateway)", "Citrix NetScaler"),
    EdgeRow("netscaler", S.TITLE, r"citrix gateway|netscaler (gateway|aaa)", "Citrix Gateway"),
    EdgeRow("netscaler", S.HTML, r"/vpn/index\.html|/logon/LogonPoint/", '<a href="/vpn/index.html">'),
    EdgeRow("netscaler", S.CPE, r"^citrix:(netscaler|application_delivery_controller|gateway)", "citrix:netscaler_gateway"),
    EdgeRow("ivanti", S.PRODUCT, r"pulse (connect )?secure|ivanti connect secure", "Pulse Secure"),
    EdgeRow("ivanti", S.HTML, r"/dana-na/", 'action="/dana-na/auth/url_default/login.cgi"'),
    EdgeRow("ivanti", S.TITLE, r"(ivanti|pulse) connect secure", "Ivanti Connect Secure"),
    EdgeRow("ivanti", S.CPE, r"^(pulsesecure|ivanti):(pulse_)?connect_secure", "ivanti:connect_secure"),
    EdgeRow("sonicwall", S.PRODUCT, r"sonicwall", "SonicWALL SSL-VPN http proxy"),
    EdgeRow("sonicwall", S.SERVER, r"sonicwall", "SonicWALL SSL-VPN Web Server"),
    EdgeRow("sonicwall", S.TITLE, r"sonicwall|virtual office", "SonicWall - Virtual Office"),
    EdgeRow("sonicwall", S.CPE, r"^sonicwall:", "sonicwall:sonicos"),
    EdgeRow("globalprotect", S.HTML, r"global-protect/(login|portal)", 'action="/global-protect/login.esp"'),
    EdgeRow("globalprotect", S.TITLE, r"globalprotect", "GlobalProtect Portal"),
    EdgeRow("globalprotect", S.PRODUCT, r"globalprotect|pan-os|palo alto", "Palo Alto Networks PAN-OS"),
    EdgeRow("globalprotect", S.CPE, r"^paloaltonetworks:pan-os", "paloaltonetworks:pan-os"),
    EdgeRow("cisco_asa", S.HTML, r"/\+CSCOE\+/", 'document.location.replace("/+CSCOE+/logon.html")'),
    EdgeRow("cisco_asa", S.HEADER, r"webvpn(context|language|login)?=|x-transcend-version", "Set-Cookie: webvpnlogin=1"),
    EdgeRow("cisco_asa", S.PRODUCT, r"cisco (asa|adaptive security appliance)", "Cisco ASA"),
    EdgeRow("cisco_asa", S.CPE, r"^cisco:adaptive_security_appliance", "cisco:adaptive_security_appliance_software"),
    EdgeRow("exchange", S.HEADER, r"x-owa-version:", "X-OWA-Version: 15.2.1118.40"),
    EdgeRow("exchange", S.HTML, r"/owa/auth/", 'action="/owa/auth.owa"  src="/owa/auth/15.2.1118/themes/'),
    EdgeRow("exchange", S.PRODUCT, r"microsoft exchange|outlook web (app|access)", "Microsoft Exchange smtpd"),
    EdgeRow("exchange", S.CPE, r"^microsoft:exchange_server", "microsoft:exchange_server"),
)  # fmt: skip

_OWA_VERSION = re.compile(r"x-owa-version:\s*([\d.]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EdgeDevice:
    product: EdgeProduct
    version: str
    signal: str  # which row said so, for the evidence

    def label(self, language: str) -> str:
        name = self.product.nl if language == "nl" else self.product.en
        return f"{name} ({self.product.system} {self.version})" if self.version else name

    def evidence(self) -> dict[str, object]:
        return {
            "vendor": self.product.vendor,
            "product": self.product.product,
            "kind": self.product.kind,
            "version": self.version or None,
            "signal": self.signal,
            "label": {"nl": self.label("nl"), "en": self.label("en")},
        }


def identify(banner: Banner) -> EdgeDevice | None:
    """The edge device this banner shows, if any (the first matching row decides)."""
    for row in ROWS:
        if row.matches(banner):
            product = PRODUCTS[row.key]
            return EdgeDevice(
                product, _version(banner, row), f"{row.signal.value}: /{row.pattern}/"
            )
    return None


def _version(banner: Banner, row: EdgeRow) -> str:
    """The device's own version: OWA's header, a CPE of the device, or Shodan's `version` when
    Shodan's `product` names the device (not the web server in front of it)."""
    if row.key == "exchange":
        found = _OWA_VERSION.search(banner.data[:HTML_HEAD])
        if found:
            return found.group(1)
    own = [r for r in ROWS if r.key == row.key]
    for cpe in banner.cpes:
        if cpe.version and any(r.signal is Signal.CPE and r._search(cpe.name) for r in own):
            return cpe.version
    if banner.version and any(r.signal is Signal.PRODUCT and r.matches(banner) for r in own):
        return banner.version
    return ""
