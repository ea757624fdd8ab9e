"""Port numbers that mean something without a banner (for InternetDB summaries).

InternetDB gives a port list and no banners. A few ports say what runs there well enough to
decide on (3389 is RDP, 502 is Modbus: the service-class table in services.py lists those);
`FIRM_OTHER_PORTS` are ports whose service is an ordinary one that the REST API would also list
as inventory (SSH, mail, DNS, VPN). `WEB_PORTS` are where web interfaces usually sit: on those,
only banners tell a website from a camera's or a NAS's login page. Any other port could be
anything.
"""

from __future__ import annotations

WEB_PORTS: frozenset[int] = frozenset(
    {80, 81, 82, 88, 443, 591, 5000, 5001, 7080, 7443, 8000, 8001, 8008, 8080, 8081, 8082}
    | {8088, 8181, 8443, 8444, 8888, 9000, 9080, 9090, 9443, 10000, 10443}
)

#: port -> the ordinary service InternetDB's port number is enough to name.
FIRM_OTHER_PORTS: dict[int, str] = {
    22: "SSH",
    25: "SMTP",
    53: "DNS",
    110: "POP3",
    123: "NTP",
    143: "IMAP",
    465: "SMTPS",
    500: "IPsec VPN (IKE)",
    587: "SMTP submission",
    993: "IMAPS",
    995: "POP3S",
    1194: "OpenVPN",
    1723: "PPTP VPN",
    4500: "IPsec VPN (NAT-T)",
    51820: "WireGuard VPN",
}
