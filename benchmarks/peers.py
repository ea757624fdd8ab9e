"""The peer toolchain on the testbed: what an ICT partner would otherwise script together.

    python benchmarks/scan.py --peers ...            (the usual way: side by side with a scan)
    python benchmarks/peers.py --tool checkdmarc --info TESTBED.json --out FILE [--threads 16]

Each tool runs in a process of its own, against the same testbed as the scan:

- `checkdmarc` (SPF, DMARC, MTA-STS, STARTTLS on the MX hosts: `check_domains(...,
  check_mx_tls=True)`), with a dnspython resolver pointed at the testbed's DNS server;
- `sectxt` (security.txt: `SecurityTXT(domain)`, which tries https and http, `/.well-known/` and
  the top level, 5 s time-out each).

Neither library has concurrency of its own (one domain per call, blocking I/O), so a partner's
script runs them in a thread pool; `--threads` (default 16) is that pool. Both make their
connections through `socket.getaddrinfo`, which this script points at the testbed: host names
are resolved through the testbed's DNS (dnspython, so the DNS round trips are the tool's own
cost), and ports 443, 80 and 25 go to the testbed's HTTPS, HTTP and SMTP ports. The testbed's CA
is the only one trusted (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`).

`sslyze` (certificate and protocol versions) is not run yet: its cryptography pin needs a
virtual environment of its own (see benchmarks/README.md).

Each tool writes {domain: verdicts} and its wall time; `compare()` sets the verdicts beside the
scan's open findings and "could not test" errors.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("checkdmarc", "sectxt")


def _point_at_testbed(info: dict[str, Any]) -> Any:
    """Resolve every name through the testbed's DNS and map the well-known ports to its ports."""
    import dns.resolver

    settings = info["settings"]
    host, port = settings["resolvers"][0].rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.timeout = resolver.lifetime = 2.0
    ports = {443: settings["ports"]["https"], 80: settings["ports"]["http"]}
    ports[25] = settings["ports"]["smtp"]
    real = socket.getaddrinfo

    def getaddrinfo(
        name: Any, service: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        if isinstance(service, int) or (isinstance(service, str) and service.isdigit()):
            service = ports.get(int(service), int(service))
        text = name.decode() if isinstance(name, bytes) else str(name)
        try:
            ipaddress.ip_address(text)
            address = text
        except ValueError:
            try:
                address = str(resolver.resolve(text, "A")[0])
            except Exception as exc:
                raise socket.gaierror(socket.EAI_NONAME, f"{text}: {exc}") from None
        return real(address, service, family, type, proto, flags)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    # Every DNS message a tool sends (checkdmarc also asks for DS and DNSKEY itself, through
    # `dns.query` to the system's resolvers) goes to the testbed: nothing leaves loopback.
    import dns.query

    def redirect(real_query: Callable[..., Any]) -> Callable[..., Any]:
        def query(q: Any, where: str, timeout: Any = None, port: int = 53, *rest: Any, **kw: Any):
            return real_query(q, host, timeout, int(resolver.port), *rest, **kw)

        return query

    dns.query.udp = redirect(dns.query.udp)  # type: ignore[assignment]
    dns.query.tcp = redirect(dns.query.tcp)  # type: ignore[assignment]
    os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = settings["ca_bundle"]
    return resolver


def _checkdmarc(resolver: Any) -> Callable[[str], dict[str, Any]]:
    import checkdmarc

    def one(domain: str) -> dict[str, Any]:
        result: Any = checkdmarc.check_domains(
            [domain], resolver=resolver, check_mx_tls=True, timeout=2.0
        )
        spf, dmarc = result.get("spf") or {}, result.get("dmarc") or {}
        sts, mx = result.get("mta_sts") or {}, result.get("mx") or {}
        hosts = mx.get("hosts") or []
        starttls = [h.get("starttls") for h in hosts if isinstance(h, dict)]
        return {
            "spf_ok": bool(spf.get("valid")),
            "dmarc_ok": bool(dmarc.get("valid")),
            "mta_sts_ok": bool(sts.get("valid")),
            "starttls_ok": all(starttls) if starttls else None,
        }

    return one


def _sectxt() -> Callable[[str], dict[str, Any]]:
    import sectxt

    def one(domain: str) -> dict[str, Any]:
        found = sectxt.SecurityTXT(domain)
        # The testbed's files name their URL with the testbed's HTTPS port in Canonical; sectxt
        # fetched "https://domain/..." (port 443, mapped to that port underneath), so its
        # `no_canonical_match` is this harness's doing, not the file's: left out.
        errors = [e for e in found.errors if e.get("code") != "no_canonical_match"]
        return {"securitytxt_ok": not errors, "codes": sorted(e["code"] for e in errors)}

    return one


def run_tool(tool: str, info: dict[str, Any], domains: list[str], threads: int) -> dict[str, Any]:
    resolver = _point_at_testbed(info)
    one = _checkdmarc(resolver) if tool == "checkdmarc" else _sectxt()

    def safe(domain: str) -> dict[str, Any]:
        try:
            return one(domain)
        except Exception as exc:  # a crash of the tool on one domain: no verdict
            return {"error": f"{type(exc).__name__}: {exc}"[:200]}

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        verdicts = dict(zip(domains, pool.map(safe, domains), strict=True))
    return {"tool": tool, "wall": time.perf_counter() - started, "verdicts": verdicts}


def run_peers(
    info_path: Path, domains: list[str], threads: int, workdir: Path
) -> dict[str, dict[str, Any]]:
    """Every tool in a process of its own, one after the other (never beside the scan)."""
    results: dict[str, dict[str, Any]] = {}
    listing = workdir / "peer-domains.json"
    listing.write_text(json.dumps(domains))
    for tool in TOOLS:
        out = workdir / f"peer-{tool}.json"
        started = time.perf_counter()
        command = [sys.executable, __file__, "--tool", tool, "--info", str(info_path)]
        command += ["--domains", str(listing), "--out", str(out), "--threads", str(threads)]
        subprocess.run(
            command,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results[tool] = json.loads(out.read_text())
        results[tool]["process_wall"] = time.perf_counter() - started
    return results


#: peer verdict -> (the scan's finding ids that say "not ok", the scan's family)
OVERLAP: dict[str, tuple[frozenset[str], str]] = {
    "spf_ok": (frozenset({"mail.spf.missing", "mail.spf.invalid"}), "mail"),
    "dmarc_ok": (frozenset({"mail.dmarc.missing", "mail.dmarc.invalid"}), "mail"),
    "mta_sts_ok": (frozenset({"mail.mta_sts.missing", "mail.mta_sts.invalid"}), "mail"),
    "starttls_ok": (frozenset({"mail.starttls.missing"}), "mail"),
    "securitytxt_ok": (
        frozenset({"securitytxt.missing", "securitytxt.invalid", "securitytxt.expired"}),
        "securitytxt",
    ),
}


def scan_verdicts(database: Path, domains: list[str]) -> dict[str, Any]:
    """The scan's open findings and "could not test" (target, family) pairs, from its store."""
    import sqlite3

    db = sqlite3.connect(database)
    try:
        findings: dict[str, set[str]] = {}
        for target, check_id in db.execute(
            "SELECT target, check_id FROM finding WHERE status = 'open'"
        ):
            findings.setdefault(target, set()).add(check_id)
        undecided: set[tuple[str, str]] = set()
        for target, family in db.execute(
            "SELECT target, check_id FROM checkerror WHERE run_id = (SELECT max(id) FROM scanrun)"
        ):
            undecided.add((target, family))
    finally:
        db.close()
    return {"findings": findings, "undecided": undecided}


def compare(peers: dict[str, dict[str, Any]], ours: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per overlapping verdict: domains where both decided, agreements, and the disagreements
    (with up to five example domains each). A domain that does not exist (our
    `target.unresolvable`) and one we could not test are counted apart, not compared."""
    table: dict[str, dict[str, Any]] = {}
    for result in peers.values():
        for domain, verdicts in result["verdicts"].items():
            for key, theirs in verdicts.items():
                if key not in OVERLAP or theirs is None:
                    continue
                ids, family = OVERLAP[key]
                row = table.setdefault(
                    key,
                    {
                        "both_decided": 0,
                        "agree": 0,
                        "only_we_flag": 0,
                        "only_they_flag": 0,
                        "we_undecided": 0,
                        "no_such_domain": 0,
                        "examples": {"only_we_flag": [], "only_they_flag": []},
                    },
                )
                found = ours["findings"].get(domain, set())
                if "target.unresolvable" in found:
                    row["no_such_domain"] += 1
                    continue
                if (domain, family) in ours["undecided"]:
                    row["we_undecided"] += 1
                    continue
                we_ok = not (found & ids)
                row["both_decided"] += 1
                if we_ok == theirs:
                    row["agree"] += 1
                    continue
                side = "only_we_flag" if theirs else "only_they_flag"
                row[side] += 1
                if len(row["examples"][side]) < 5:
                    row["examples"][side].append(domain)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tool", choices=TOOLS, required=True)
    parser.add_argument("--info", type=Path, required=True)
    parser.add_argument("--domains", type=Path, required=True, help="JSON list of domains")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    info = json.loads(args.info.read_text())
    domains = json.loads(args.domains.read_text())
    result = run_tool(args.tool, info, domains, args.threads)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
