"""`Testbed`: a whole simulated port area running in this process, on loopback.

    async with Testbed(area, latency=0.02) as tb:
        settings = load_settings(**tb.settings_overrides())
        ...

It picks a random block 127.N.0.0/16 (N in 16..250; the DNS server is 127.N.0.1, the Shodan
look-alikes 127.N.0.2, sites and mail hosts 127.N.1.1 onwards), binds the DNS server on an
ephemeral port, picks one ephemeral port each for http, https and smtp (held on 127.N.0.1 for the
testbed's lifetime, so no other testbed can take it) and then uses those ports on every other
address of the block. The scanner reaches all of it through its ordinary settings: `resolvers`,
`ca_bundle`, `ports`, `shodan_api_url`, `internetdb_url` and `allow_private`.

On exit everything is stopped and the temporary directory (CA bundle, member list) removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import errno
import json
import random
import shutil
import socket
import ssl
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from exposure.testbed.ca import CertDefect, CertSpec, ThrowawayCA, TlsVersions, warm_keys
from exposure.testbed.ct import CtLookalike
from exposure.testbed.dns import DnsServer, Records
from exposure.testbed.scenario import Area, Layout
from exposure.testbed.shodan import DEFAULT_KEY, ShodanLookalike
from exposure.testbed.shodan_devices import HostInfo
from exposure.testbed.smtp import Behaviour, CertKind, MailHostSpec, SmtpServer
from exposure.testbed.web import Web, WebPorts

BLOCKS = range(16, 251)
CSV_HEADER = ("id", "name", "email", "domains", "ips", "sector")
_MAIL_CERTS: dict[CertKind, CertDefect] = {
    kind: CertDefect(kind.value) for kind in CertKind if kind != CertKind.UNTRUSTED
}
_MAIL_CERTS[CertKind.UNTRUSTED] = CertDefect.UNKNOWN_CA


@dataclass(frozen=True, slots=True)
class TestbedCounters:
    """A snapshot of what the testbed saw (for tests and benchmarks)."""

    __test__ = False  # not a pytest test class

    dns_queries: int
    dns_by_type: dict[str, int]
    tls_handshakes: dict[str, int]  # web, by SNI ("" = none)
    http_requests: dict[str, int]  # web, by Host
    smtp_sessions: dict[str, int]  # by mail host name
    smtp_tls_handshakes: dict[str, int]
    shodan_requests: dict[str, int] = field(default_factory=dict)  # by endpoint
    shodan_rate_limited: int = 0  # 429 answers of the REST look-alike
    shodan_host_addresses: int = 0  # addresses asked in REST host look-ups (batched or not)

    @property
    def http_total(self) -> int:
        return sum(self.http_requests.values())

    @property
    def tls_total(self) -> int:
        return sum(self.tls_handshakes.values())


class Testbed:
    """The simulated port area of `area`; an async context manager.

    `latency` is added to every DNS answer, `connect_latency` before each accepted web or SMTP
    connection is served; `block` fixes N of 127.N.0.0/16 (default random);
    `shodan=False` leaves the Shodan look-alikes out (their URLs then point nowhere useful);
    `validating=True` makes the DNS server answer as a DNSSEC-validating resolver does.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        area: Area,
        *,
        latency: float = 0.0,
        connect_latency: float = 0.0,
        block: int | None = None,
        shodan: bool = True,
        validating: bool = False,
    ) -> None:
        self.area = area
        self.latency = latency
        self.connect_latency = connect_latency
        self.validating = validating
        self._block = block
        self._with_shodan = shodan
        self.layout: Layout | None = None
        self.directory: Path | None = None
        self.ca: ThrowawayCA | None = None
        self.ca_bundle: Path | None = None
        self.dns: DnsServer | None = None
        self.web: Web | None = None
        self.mail: dict[str, SmtpServer] = {}
        self.canary_mx: SmtpServer | None = None
        self.shodan: ShodanLookalike | None = None
        #: The certificate-transparency look-alike: every certificate the testbed's sites
        #: show is logged there, as a real CA logs what it issues.
        self.ct: CtLookalike | None = None
        self.ports: dict[str, int] = {}
        self._placeholders: list[socket.socket] = []
        self._started = False

    # --- life cycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Testbed:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("testbed already started")
        await asyncio.to_thread(warm_keys)  # the slow part, off the event loop
        attempts = 1 if self._block is not None else 5
        for attempt in range(attempts):
            block = self._block if self._block is not None else random.choice(BLOCKS)
            try:
                await self._start(block)
            except OSError as exc:
                await self.close()
                if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                continue
            except BaseException:
                await self.close()
                raise
            self._started = True
            return

    async def _start(self, block: int) -> None:
        layout = self.layout = Layout(self.area, block)
        self.directory = Path(tempfile.mkdtemp(prefix=f"exposure-testbed-{block}-"))
        ca = self.ca = ThrowawayCA(self.directory)
        self.ca_bundle = ca.write_bundle(self.directory / "ca-bundle.pem")

        dns = self.dns = DnsServer(
            layout.records,
            latency=self.latency,
            signer=layout.signer,
            validating=self.validating,
        )
        dns.time_out(*layout.dns_timeouts)
        dns.fail(*layout.dns_servfail)
        await dns.start(layout.dns_ip, 0)

        for service in ("http", "https", "smtp"):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._placeholders.append(sock)
            sock.bind((layout.dns_ip, 0))
            self.ports[service] = sock.getsockname()[1]

        self.web = Web(layout, ca, WebPorts(self.ports["http"], self.ports["https"]))
        self.web.latency = self.connect_latency
        await self.web.start()
        # The canary MX (`canary_mx`): a plain mail host on the DNS server's address, on the
        # smtp port, which it also holds for the testbed's lifetime instead of a placeholder.
        self._placeholders.pop().close()
        canary = self.canary_mx = SmtpServer(
            MailHostSpec("canary-mx.testbed", layout.dns_ip, starttls=False)
        )
        await canary.start(layout.dns_ip, self.ports["smtp"])
        for name, spec in layout.mail_hosts.items():
            server = SmtpServer(spec, ssl_context=self._mail_context(spec))
            server.latency = self.connect_latency
            self.mail[name] = server
            assert spec.ip is not None
            await server.start(spec.ip, self.ports["smtp"])

        if self._with_shodan:
            shodan = self.shodan = ShodanLookalike()
            if layout.devices:
                info = {
                    d.ip: HostInfo(hostnames=tuple(layout.names_by_ip.get(d.ip, ())))
                    for d in layout.devices
                }
                shodan.add_devices(*layout.devices, info=info)
            await shodan.start(layout.shodan_ip)

        ct = self.ct = CtLookalike()
        logged: set[tuple[str, ...]] = set()
        for hosts in layout.sites.values():
            for site in hosts.values():
                if site.cert_names not in logged:
                    logged.add(site.cert_names)
                    ct.add_certificate(site.cert_names)
        for logged_names in self.area.certificates:
            names = tuple(logged_names)
            if names not in logged:
                logged.add(names)
                ct.add_certificate(names)
        await ct.start(layout.shodan_ip)

    def _mail_context(self, spec: MailHostSpec) -> ssl.SSLContext | None:
        if not spec.starttls or spec.behaviour == Behaviour.REFUSE:
            return None
        assert self.ca is not None
        versions = TlsVersions(spec.tls_min, spec.tls_max)
        return self.ca.server_context([spec.name], CertSpec(_MAIL_CERTS[spec.cert]), versions)

    async def close(self) -> None:
        """Stop every server and remove the temporary directory. Safe to call twice."""
        if self.ct is not None:
            await self.ct.close()
            self.ct = None
        if self.shodan is not None:
            await self.shodan.close()
            self.shodan = None
        for server in self.mail.values():
            await server.close()
        self.mail.clear()
        if self.canary_mx is not None:
            await self.canary_mx.close()
            self.canary_mx = None
        if self.web is not None:
            await self.web.close()
            self.web = None
        if self.dns is not None:
            await self.dns.close()
            self.dns = None
        for sock in self._placeholders:
            sock.close()
        self._placeholders.clear()
        if self.ca is not None:
            self.ca.cleanup()
            self.ca = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self._started = False

    # --- what the scanner is given -------------------------------------------------------------

    def _require(self) -> tuple[Layout, DnsServer]:
        if not self._started or self.layout is None or self.dns is None:
            raise RuntimeError("the testbed is not running")
        return self.layout, self.dns

    @property
    def block(self) -> int:
        return self._require()[0].block

    @property
    def records(self) -> Records:
        """The live DNS data: change it between scans."""
        return self._require()[1].records

    @property
    def resolver(self) -> str:
        return self._require()[1].resolver_spec()

    @property
    def shodan_api_url(self) -> str:
        return self.shodan.rest_url if self.shodan else f"http://{self._require()[0].shodan_ip}:9"

    @property
    def internetdb_url(self) -> str:
        return (
            self.shodan.internetdb_url
            if self.shodan
            else f"http://{self._require()[0].shodan_ip}:9"
        )

    @property
    def shodan_api_key(self) -> str:
        return DEFAULT_KEY

    def settings_overrides(self, *, shodan_key: bool = False) -> dict[str, Any]:
        """Keyword arguments for `load_settings`/`Settings` that point the scanner here.

        `shodan_key=True` adds the look-alike's API key (`shodan_api_key`); without it the
        scanner uses InternetDB only, as without a key in production.
        """
        self._require()
        assert self.ca_bundle is not None
        overrides: dict[str, Any] = {
            "resolvers": [self.resolver],
            "ca_bundle": self.ca_bundle,
            "ports": dict(self.ports),
            "shodan_api_url": self.shodan_api_url,
            "internetdb_url": self.internetdb_url,
            "allow_private": True,
            "canary_mx": [self._require()[0].dns_ip],
        }
        if self.ct is not None:
            overrides["discovery_ct_url"] = self.ct.url
            # the pause between CT searches spares crt.sh, a volunteer service; the look-alike
            # is ours (a test of the pacing sets its own interval)
            overrides["discovery_ct_interval"] = 0.0
        if shodan_key:
            overrides["shodan_api_key"] = self.shodan_api_key
        return overrides

    def env(self, *, shodan_key: bool = False) -> dict[str, str]:
        """The same as `EXPOSURE_*` environment variables (for subprocesses and the CLI)."""
        env = {}
        for name, value in self.settings_overrides(shodan_key=shodan_key).items():
            if isinstance(value, list):
                text = ",".join(value)
            elif isinstance(value, dict):
                text = ",".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            env[f"EXPOSURE_{name.upper()}"] = text
        return env

    def members_rows(self) -> list[dict[str, str]]:
        """The member list's rows; with the optional `language` and `phone` columns when a
        company has one."""
        layout = self._require()[0]
        with_language = any(m.language for m in layout.members)
        with_phone = any(m.phone for m in layout.members)
        return [
            {
                "id": m.id,
                "name": m.name,
                "email": m.email,
                "domains": ";".join(m.domains),
                "ips": ";".join(m.ips),
                "sector": m.sector,
                **({"language": m.language} if with_language else {}),
                **({"phone": m.phone} if with_phone else {}),
            }
            for m in layout.members
        ]

    def write_members_csv(self, path: str | Path) -> Path:
        """The member list in the CSV contract of DESIGN.md (UTF-8, `;` inside list fields)."""
        path = Path(path)
        with path.open("w", encoding="utf-8", newline="") as fh:
            rows = self.members_rows()
            optional = tuple(c for c in ("language", "phone") if rows and c in rows[0])
            header = (*CSV_HEADER, *optional)
            writer = csv.DictWriter(fh, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        return path

    def info(self, *, shodan_key: bool = False) -> dict[str, Any]:
        """Everything a process outside needs, JSON-ready (see `python -m exposure.testbed`)."""
        overrides = self.settings_overrides(shodan_key=shodan_key)
        overrides["ca_bundle"] = str(overrides["ca_bundle"])
        return {
            "block": self.block,
            "settings": overrides,
            "env": self.env(shodan_key=shodan_key),
            "shodan_api_key": self.shodan_api_key,
            "companies": len(self.area.companies),
        }

    def write_info(self, path: str | Path, *, shodan_key: bool = False) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.info(shodan_key=shodan_key), indent=2), encoding="utf-8")
        return path

    # --- knobs and counters --------------------------------------------------------------------

    def counters(self) -> TestbedCounters:
        _, dns = self._require()
        assert self.web is not None
        return TestbedCounters(
            dns_queries=dns.total,
            dns_by_type=dict(dns.queries),
            tls_handshakes=dict(self.web.handshakes),
            http_requests=dict(self.web.requests),
            smtp_sessions={name: s.counters.sessions for name, s in self.mail.items()},
            smtp_tls_handshakes={name: s.counters.tls_handshakes for name, s in self.mail.items()},
            shodan_requests=dict(self.shodan.counters.requests) if self.shodan else {},
            shodan_rate_limited=self.shodan.counters.rate_limited if self.shodan else 0,
            shodan_host_addresses=(
                sum(self.shodan.counters.host_lookups.values()) if self.shodan else 0
            ),
        )

    def reset_counters(self) -> None:
        _, dns = self._require()
        dns.reset_counters()
        if self.web is not None:
            self.web.requests.clear()
            for site_ip in self.web.ips.values():
                for server in (site_ip.http, site_ip.https):
                    if server is not None:
                        server.requests = server.handshakes = 0
                        server.handshakes_by_name = Counter()

    def address(self, symbol: str) -> str:
        """The address a symbolic address of the area was given."""
        return self._require()[0].alloc.resolve(symbol)


@contextlib.asynccontextmanager
async def running(area: Area, **kwargs: Any) -> Any:
    """`async with running(area) as tb:` — the same as `async with Testbed(area)`."""
    async with Testbed(area, **kwargs) as tb:
        yield tb
