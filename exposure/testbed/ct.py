"""A look-alike of crt.sh's JSON search, for discovery through certificate transparency.

`GET /?q=%.haven.nl&output=json` answers, like crt.sh, a JSON list with one entry per logged
certificate (and precertificate) whose names match: `issuer_ca_id`, `issuer_name`,
`common_name`, `name_value` (the SANs, newline-separated), `id`, `entry_timestamp`,
`not_before`, `not_after`, `serial_number`, `result_count`. No match is `[]`.

Knobs, as crt.sh behaves on a bad day: `delay` (seconds before every answer: a slow search),
`outage` (an HTTP status every request gets, with crt.sh's HTML error page), `rate_interval`
(a client asking again sooner than this gets 429 with Retry-After), `garbage` (a 200 whose body
is not JSON). `counters` count requests and 429s.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any

from exposure.testbed.httpd import HttpServer, Request, Response
from exposure.testbed.smtp import check_loopback

ISSUER = "C=US, O=Let's Encrypt, CN=R11"


@dataclass(slots=True)
class CtCounters:
    requests: int = 0
    rate_limited: int = 0
    queries: Counter[str] = field(default_factory=Counter)


class CtLookalike:
    def __init__(self, *, rate_interval: float = 0.0, delay: float = 0.0) -> None:
        self.rate_interval = rate_interval
        self.delay = delay
        self.outage: int | None = None
        self.garbage = False
        self.counters = CtCounters()
        self._certs: list[dict[str, Any]] = []
        self._last: float | None = None
        self._server = HttpServer(server_header="nginx")

    def add_certificate(self, names: Iterable[str], *, issuer: str = ISSUER) -> int:
        """Log a certificate for `names` (the first is the CN); returns its crt.sh id."""
        names = [n.lower() for n in names]
        cert_id = 9_000_000_000 + len(self._certs) + 1
        self._certs.append(
            {
                "issuer_ca_id": 295815,
                "issuer_name": issuer,
                "common_name": names[0],
                "name_value": "\n".join(names),
                "id": cert_id,
                "entry_timestamp": "2026-10-01T08:00:00.123",
                "not_before": "2026-10-01T07:00:00",
                "not_after": "2026-12-30T07:00:00",
                "serial_number": f"{cert_id:x}",
                "result_count": len(names) + 1,
            }
        )
        return cert_id

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        check_loopback(host)
        await self._server.start(host, port, self._handler)

    def close(self) -> Awaitable[None]:
        return asyncio.ensure_future(self._server.close())

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}/"

    async def _handler(self, request: Request) -> Response:
        self.counters.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.outage is not None:
            return Response.html(
                f"<html><body><h1>{self.outage}</h1>Sorry, something went wrong.</body></html>",
                self.outage,
            )
        now = time.monotonic()
        if self.rate_interval and self._last is not None and now - self._last < self.rate_interval:
            self.counters.rate_limited += 1
            return Response.text(
                "<html><body>429 Too Many Requests</body></html>",
                429,
                "text/html; charset=utf-8",
                (("Retry-After", f"{self.rate_interval:g}"),),
            )
        self._last = now
        query = request.query.get("q", "").strip().lower()
        self.counters.queries[query] += 1
        if request.query.get("output") != "json":
            return Response.html(
                "<html><body>crt.sh look-alike: ask with output=json</body></html>"
            )
        if self.garbage:
            return Response.html("<html><body>not json</body></html>")
        return Response.json([cert for cert in self._certs if _matches(cert, query)])


def _matches(cert: dict[str, Any], query: str) -> bool:
    """crt.sh's `%.domain`: any name ending in `.domain` (wildcards included)."""
    if query.startswith("%."):
        suffix = query[1:]
        return any(n.endswith(suffix) for n in str(cert["name_value"]).splitlines())
    return query in str(cert["name_value"]).splitlines()
