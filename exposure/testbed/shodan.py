"""Look-alikes of the Shodan REST API and of InternetDB, served on loopback from one object.

Two `HttpServer`s (exposure/testbed/httpd.py) on the same loopback address, on two ports,
because the real services are two hosts and the scanner is configured with two base URLs
(`shodan_api_url` -> `rest_url`, `internetdb_url` -> `internetdb_url`):

- InternetDB: `GET /{ip}` -> `{"cpes", "hostnames", "ip", "ports", "tags", "vulns"}`;
  unknown IP -> 404 `{"detail": "No information available"}`.
- REST: `GET /shodan/host/{ip}?key=K[&minify=true]`, `/shodan/host/search?query=net:CIDR`,
  `/shodan/host/count`, `/api-info`, `/account/profile`.
- batched host look-ups, `GET /shodan/host/{ip1},{ip2},...` (what the official `shodan`
  client's `host()` sends for a list of addresses): a JSON list of the host documents of the
  addresses with data, in the order asked, the others left out; 404 with the one-address error
  when none has data; one request (one rate-limit turn) however many addresses. `batch_limit`
  (None: no limit) refuses a longer list with 400, so a scanner's fall-back can be tested.

The answers copy what the real API says, because the scanner must tell its cases apart
(texts and codes checked against the shodan library and published captures):

- unknown IP: 404 `{"error": "No information available for that IP."}`;
- invalid or missing key: 401 with nginx's HTML "401 Unauthorized" page (the official library
  turns that into "Invalid API key"); `invalid_key_json=True` answers
  `{"error": "Invalid API key"}` instead, as some API paths do;
- more than one request per second per key: 429
  `{"error": "Request rate limit reached (1 request/ second). Please wait a second before trying
  again and slow down your API calls."}`; counted in `counters.rate_limited`, which scanner tests
  assert stays 0;
- query credits spent (search costs one per page with filters, see `host_lookup_costs_credit`
  for host look-ups): 401 `{"error": "Insufficient query credits, please upgrade your API plan or
  wait for the monthly limit to reset"}`;
- a free ("oss") key: host look-ups 403 (membership needed since 2023), filtered searches 401
  `{"error": "Please upgrade your API plan to use filters or paging."}`;
- `outage=502` (or any status): every REST answer is that error page, as during an incident.

Host documents are plain dicts in Shodan's layout (see shodan_devices.py for the builder); the
set is mutable between scans (`add_host`, `remove_host`, `add_devices`).
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import time
from collections import Counter
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exposure.testbed.httpd import HttpServer, Request, Response
from exposure.testbed.shodan_devices import (
    Device,
    HostInfo,
    host_documents,
    internetdb_document,
)
from exposure.testbed.smtp import check_loopback

JSON = Any

DEFAULT_KEY = "testbedShodanKey0000000000000000"  # 32 characters, like a real key

RATE_LIMIT_ERROR = (
    "Request rate limit reached (1 request/ second). Please wait a second before trying again "
    "and slow down your API calls."
)
NO_INFORMATION_ERROR = "No information available for that IP."
NO_CREDITS_ERROR = "Insufficient query credits, please upgrade your API plan or wait for the monthly limit to reset"
UPGRADE_ERROR = "Please upgrade your API plan to use filters or paging."
INVALID_KEY_ERROR = "Invalid API key"
INTERNETDB_NOT_FOUND = "No information available"
UNAUTHORIZED_HTML = (
    "<html>\n <head>\n  <title>401 Unauthorized</title>\n </head>\n <body>\n"
    "  <h1>401 Unauthorized</h1>\n  This server could not verify that you are authorized to "
    "access the document you requested.<br/><br/>\n </body>\n</html>"
)
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key the REST look-alike accepts, with its plan and monthly allowance."""

    key: str = DEFAULT_KEY
    plan: str = "dev"  # "oss" is a free account: no host look-ups, no filters
    query_credits: int = 100
    scan_credits: int = 100
    monitored_ips: int = 16

    @property
    def member(self) -> bool:
        return self.plan != "oss"


@dataclass(slots=True)
class ShodanCounters:
    """What the look-alikes were asked. Mutable state, read by tests and benchmarks."""

    requests: Counter[str] = field(default_factory=Counter)  # endpoint -> count (both servers)
    paths: Counter[str] = field(default_factory=Counter)  # raw path -> count
    host_lookups: Counter[str] = field(default_factory=Counter)  # REST ip -> count
    internetdb_lookups: Counter[str] = field(default_factory=Counter)  # InternetDB ip -> count
    rate_limited: int = 0  # 429 answers; a well-behaved scanner keeps this at 0
    unauthorized: int = 0  # requests with a missing or invalid key
    credits_refused: int = 0
    forbidden: int = 0
    not_found: int = 0
    batches: int = 0  # host look-ups of more than one address
    batches_refused: int = 0  # refused for `batch_limit`

    @property
    def rest_requests(self) -> int:
        return sum(n for name, n in self.requests.items() if name != "internetdb")


class ShodanLookalike:
    """The Shodan REST API and InternetDB of the port area.

    Knobs (plain attributes, changeable between and during scans): `rate_interval` (seconds
    between two requests of one key; 0 disables the limit), `rate_slack` (tolerance for clock
    jitter), `delay` / `internetdb_delay` (seconds before every answer), `outage` (an HTTP
    status every REST request gets), `internetdb_outage` (the same for InternetDB),
    `invalid_key_json`, `host_lookup_costs_credit`.
    """

    def __init__(
        self,
        keys: Iterable[ApiKey] = (ApiKey(),),
        *,
        rate_interval: float = 1.0,
        rate_slack: float = 0.05,
        delay: float = 0.0,
        internetdb_delay: float = 0.0,
        invalid_key_json: bool = False,
        host_lookup_costs_credit: bool = False,
    ) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.credits: dict[str, int] = {}
        for key in keys:
            self.add_key(key)
        self.rate_interval = rate_interval
        self.rate_slack = rate_slack
        self.delay = delay
        self.internetdb_delay = internetdb_delay
        self.outage: int | None = None
        self.internetdb_outage: int | None = None
        self.invalid_key_json = invalid_key_json
        self.host_lookup_costs_credit = host_lookup_costs_credit
        self.batch_limit: int | None = None
        self.counters = ShodanCounters()
        self._hosts: dict[str, dict[str, JSON]] = {}
        self._internetdb: dict[str, dict[str, JSON]] = {}
        self._last_request: dict[str, float] = {}
        self._rest = HttpServer(server_header="nginx")
        self._idb = HttpServer(server_header="uvicorn")

    # --- the data ------------------------------------------------------------------------------

    def add_key(self, key: ApiKey) -> None:
        self.keys[key.key] = key
        self.credits[key.key] = key.query_credits

    def add_host(
        self, doc: Mapping[str, JSON], *, internetdb: bool | Mapping[str, JSON] = True
    ) -> None:
        """Serve `doc` (a REST host document) for its `ip_str`; InternetDB derives its summary
        from it unless `internetdb` is False (REST only) or a ready InternetDB document."""
        ip = str(ipaddress.ip_address(doc["ip_str"]))
        self._hosts[ip] = copy.deepcopy(dict(doc))
        if internetdb is True:
            self._internetdb[ip] = internetdb_document(doc)
        elif internetdb is False:
            self._internetdb.pop(ip, None)
        else:
            self._internetdb[ip] = copy.deepcopy(dict(internetdb))

    def add_devices(
        self, *devices: Device, info: Mapping[str, HostInfo] | HostInfo | None = None
    ) -> list[str]:
        """Build and add the host documents of `devices`; returns their IPs."""
        docs = host_documents(devices, info)
        for doc in docs:
            self.add_host(doc)
        return [doc["ip_str"] for doc in docs]

    def remove_host(self, ip: str) -> None:
        ip = str(ipaddress.ip_address(ip))
        self._hosts.pop(ip, None)
        self._internetdb.pop(ip, None)

    def host(self, ip: str) -> dict[str, JSON] | None:
        return self._hosts.get(str(ipaddress.ip_address(ip)))

    @property
    def ips(self) -> list[str]:
        return sorted(self._hosts, key=ipaddress.ip_address)

    # --- the servers ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, internetdb_port: int = 0) -> None:
        """Start both look-alikes on `host` (REST on `port`, InternetDB on `internetdb_port`)."""
        check_loopback(host)
        await self._rest.start(host, port, self._rest_handler)
        try:
            await self._idb.start(host, internetdb_port, self._internetdb_handler)
        except BaseException:
            await self._rest.close()
            raise

    def close(self) -> Awaitable[None]:
        """Stop both servers. Awaitable; a caller that does not await still stops listening."""
        return asyncio.ensure_future(self._close())

    async def _close(self) -> None:
        await asyncio.gather(self._rest.close(), self._idb.close())

    @property
    def rest_url(self) -> str:
        return f"http://{self._rest.host}:{self._rest.port}"

    @property
    def internetdb_url(self) -> str:
        return f"http://{self._idb.host}:{self._idb.port}"

    @property
    def port(self) -> int:
        return self._rest.port

    @property
    def internetdb_port(self) -> int:
        return self._idb.port

    # --- InternetDB ----------------------------------------------------------------------------

    async def _internetdb_handler(self, request: Request) -> Response:
        self.counters.requests["internetdb"] += 1
        self.counters.paths[request.path] += 1
        if self.internetdb_delay:
            await asyncio.sleep(self.internetdb_delay)
        if self.internetdb_outage is not None:
            status = self.internetdb_outage
            return Response.html(f"<html><body><h1>{status}</h1></body></html>", status)
        if request.method != "GET":
            return Response.json({"detail": "Method Not Allowed"}, 405)
        raw = request.path.strip("/")
        try:
            ip = str(ipaddress.ip_address(raw))
        except ValueError:
            return Response.json({"detail": "Not Found"}, 404)
        self.counters.internetdb_lookups[ip] += 1
        doc = self._internetdb.get(ip)
        if doc is None:
            self.counters.not_found += 1
            return Response.json({"detail": INTERNETDB_NOT_FOUND}, 404)
        return Response.json(doc)

    # --- REST ----------------------------------------------------------------------------------

    async def _rest_handler(self, request: Request) -> Response:
        endpoint = _endpoint(request.path)
        self.counters.requests[endpoint] += 1
        self.counters.paths[request.path] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.outage is not None:
            return Response.html(f"<html><body><h1>{self.outage}</h1></body></html>", self.outage)
        if request.method != "GET":
            return Response.json({"error": "Method not allowed"}, 405)
        key = self.keys.get(request.query.get("key", ""))
        if key is None:
            self.counters.unauthorized += 1
            if self.invalid_key_json:
                return Response.json({"error": INVALID_KEY_ERROR}, 401)
            return Response.html(UNAUTHORIZED_HTML, 401)
        if self._rate_limited(key.key):
            self.counters.rate_limited += 1
            return Response.json({"error": RATE_LIMIT_ERROR}, 429)
        match endpoint:
            case "host":
                return self._host(request, key)
            case "search" | "count":
                return self._search(request, key, count_only=endpoint == "count")
            case "api-info":
                return Response.json(self._api_info(key))
            case "profile":
                return Response.json(
                    {
                        "member": key.member,
                        "credits": 0,
                        "display_name": None,
                        "created": "2021-03-01T09:00:00.000000",
                    }
                )
            case _:
                self.counters.not_found += 1
                return Response.json({"error": "Not found"}, 404)

    def _rate_limited(self, key: str) -> bool:
        """1 request per `rate_interval` per key, measured between accepted requests."""
        if self.rate_interval <= 0:
            return False
        now = time.monotonic()
        last = self._last_request.get(key)
        if last is not None and now - last < self.rate_interval - self.rate_slack:
            return True
        self._last_request[key] = now
        return False

    def _spend(self, key: ApiKey) -> bool:
        if self.credits.get(key.key, 0) <= 0:
            self.counters.credits_refused += 1
            return False
        self.credits[key.key] -= 1
        return True

    def _host(self, request: Request, key: ApiKey) -> Response:
        raw = request.path.removeprefix("/shodan/host/").split(",")
        try:
            ips = [str(ipaddress.ip_address(part.strip())) for part in raw]
        except ValueError:
            return Response.json({"error": "Invalid IP"}, 400)
        if self.batch_limit is not None and len(ips) > self.batch_limit:
            self.counters.batches_refused += 1
            return Response.json({"error": "Too many IPs"}, 400)
        for ip in ips:
            self.counters.host_lookups[ip] += 1
        if len(ips) > 1:
            self.counters.batches += 1
        if not key.member:
            self.counters.forbidden += 1
            return Response.json({"error": "Access denied (403 Forbidden)"}, 403)
        if self.host_lookup_costs_credit and not self._spend(key):
            return Response.json({"error": NO_CREDITS_ERROR}, 401)
        minify = request.query.get("minify", "").lower() in ("true", "1")
        docs = []
        for ip in dict.fromkeys(ips):
            doc = self._hosts.get(ip)
            if doc is None:
                continue
            docs.append({k: v for k, v in doc.items() if k != "data"} if minify else doc)
        if not docs:
            self.counters.not_found += 1
            return Response.json({"error": NO_INFORMATION_ERROR}, 404)
        return Response.json(docs[0] if len(ips) == 1 else docs)

    def _search(self, request: Request, key: ApiKey, *, count_only: bool) -> Response:
        query = request.query.get("query", "").strip()
        try:
            page = int(request.query.get("page", "1"))
            matcher = _parse_query(query)
        except ValueError:
            return Response.json(
                {"error": "The search request timed out or your query was invalid."}, 400
            )
        filtered = ":" in query
        if not count_only and (filtered or page > 1):
            if not key.member:
                return Response.json({"error": UPGRADE_ERROR}, 401)
            if not self._spend(key):
                return Response.json({"error": NO_CREDITS_ERROR}, 401)
        banners = [
            banner
            for ip in self.ips
            for banner in self._hosts[ip].get("data", [])
            if matcher(ip, banner)
        ]
        result: dict[str, JSON] = {"total": len(banners), "facets": {}}
        if not count_only:
            start = (max(page, 1) - 1) * PAGE_SIZE
            result["matches"] = banners[start : start + PAGE_SIZE]
        return Response.json(result)

    def _api_info(self, key: ApiKey) -> dict[str, JSON]:
        return {
            "scan_credits": key.scan_credits,
            "usage_limits": {
                "scan_credits": key.scan_credits,
                "query_credits": key.query_credits,
                "monitored_ips": key.monitored_ips,
            },
            "plan": key.plan,
            "https": False,
            "unlocked": key.member,
            "query_credits": self.credits.get(key.key, 0),
            "monitored_ips": 0,
            "unlocked_left": self.credits.get(key.key, 0),
            "telnet": False,
        }


def _endpoint(path: str) -> str:
    """The name a request is counted under."""
    if path in ("/shodan/host/search", "/shodan/host/search/"):
        return "search"
    if path in ("/shodan/host/count", "/shodan/host/count/"):
        return "count"
    if path.startswith("/shodan/host/"):
        return "host"
    return {"/api-info": "api-info", "/account/profile": "profile"}.get(path, "other")


def _parse_query(query: str) -> Any:
    """A predicate for the filters the scanner may use: `net:CIDR`, `ip:IP`, `port:N` (ANDed),
    or discovery's `hostname:DOMAIN` / `ssl.cert.subject.cn:DOMAIN` (alone).

    Anything else is refused as an invalid query, so a scanner that builds another query notices.
    """
    by_name = _name_query(query)
    if by_name is not None:
        return by_name
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    ports: set[int] = set()
    for term in query.split():
        name, sep, value = term.partition(":")
        if not sep or not value:
            raise ValueError(term)
        match name.lower():
            case "net":
                nets.extend(ipaddress.ip_network(v, strict=False) for v in value.split(","))
            case "ip":
                nets.extend(ipaddress.ip_network(v) for v in value.split(","))
            case "port":
                ports.update(int(v) for v in value.split(","))
            case _:
                raise ValueError(term)
    if not nets:
        raise ValueError("a search of the testbed needs net: or ip:")

    def matches(ip: str, banner: Mapping[str, JSON]) -> bool:
        addr = ipaddress.ip_address(ip)
        return any(addr in net for net in nets) and (not ports or banner.get("port") in ports)

    return matches


def _name_query(query: str) -> Any:
    """`hostname:D` matches a banner with a host name that is D or ends in `.D` (Shodan's
    suffix match); `ssl.cert.subject.cn:D` one whose certificate's subject CN is D, `*.D` or
    ends in `.D`. None for any other query."""
    name, sep, value = query.strip().partition(":")
    field = name.lower()
    if not sep or field not in ("hostname", "ssl.cert.subject.cn") or not value or " " in value:
        return None
    domain = value.lower().strip('"').rstrip(".")

    def named(candidate: str) -> bool:
        candidate = candidate.lower().removeprefix("*.")
        return candidate == domain or candidate.endswith("." + domain)

    def matches(ip: str, banner: Mapping[str, JSON]) -> bool:
        if field == "hostname":
            return any(named(str(h)) for h in banner.get("hostnames") or ())
        ssl = banner.get("ssl") or {}
        subject = (ssl.get("cert") or {}).get("subject") or {}
        return named(str(subject.get("CN") or ""))

    return matches
