"""The peer toolchain on the testbed: what an ICT partner would otherwise script together.

    python benchmarks/scan.py --peers ...            (the usual way: side by side with a scan)
    VENV/bin/python benchmarks/peers.py --tool checkdmarc --info TESTBED.json --domains D.json \
        --out FILE [--threads 16]

Each tool runs in a process of its own, with the Python of a virtual environment of its own
(`ensure_venv`: built on demand under `~/.cache/exposure-bench/<tool>-<version>/` with a pinned
version, reused when present), against the same testbed as the scan:

- `checkdmarc` (SPF, DMARC, MTA-STS, STARTTLS on the MX hosts: `check_domains(...,
  check_mx_tls=True)`), with a dnspython resolver pointed at the testbed's DNS server;
- `sectxt` (security.txt: `SecurityTXT(domain)`, which tries https and http, `/.well-known/` and
  the top level, 5 s time-out each);
- `sslyze` (certificate and protocol versions of the apex and `www.` of every domain, the host
  names our tls check looks at: `certificate_info` against the testbed's CA, and the TLS 1.0,
  1.1, 1.2 and 1.3 cipher-suite scans, which are sslyze's protocol-version scans).

checkdmarc and sectxt have no concurrency of their own (one domain per call, blocking I/O), so a
partner's script runs them in a thread pool; `--threads` (default 16) is that pool. sslyze has
its own: a `Scanner()` with its defaults (5 connections per server, 10 servers at once), fed
every host name at once; its names are resolved one after the other while the scan requests
are built (`ServerNetworkLocation` without an address, as sslyze's command line does).

All of them make their connections or look-ups through `socket.getaddrinfo`, which this script
points at the testbed: host names are resolved through the testbed's DNS (dnspython, so the DNS
round trips are the tool's own cost), and ports 443, 80 and 25 go to the testbed's HTTPS, HTTP
and SMTP ports (sslyze is given the HTTPS port itself). The testbed's CA is the only one trusted
(`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`; sslyze: its `custom_ca_file`, whose verdict is the one
read).

This file is run by each tool's interpreter: at module level it imports the standard library
only; a tool's modules (and dnspython) are imported inside the functions that use them.

Each tool writes {domain or host: verdicts} and its wall time; `compare()` sets the verdicts
beside the scan's open findings and "could not test" errors.
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
TOOLS = ("checkdmarc", "sectxt", "sslyze")

#: tool -> (its pinned version, what its virtual environment gets). checkdmarc and sectxt: the
#: versions the project's cross-check tests run (the `crosscheck` extra of pyproject.toml, as
#: installed in .venv); sslyze: tests/crosscheck/test_sslyze_crosscheck.py's pin. dnspython comes
#: with checkdmarc; the others get the project's version of it for this script's resolver.
DNSPYTHON = "dnspython==2.9.2"
PINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "checkdmarc": ("6.0.4", ("checkdmarc==6.0.4",)),
    "sectxt": ("0.9.8", ("sectxt==0.9.8", DNSPYTHON)),
    "sslyze": ("6.3.1", ("sslyze==6.3.1", DNSPYTHON)),
}
VENVS = Path.home() / ".cache" / "exposure-bench"


def ensure_venv(tool: str) -> Path:
    """The interpreter of `tool`'s own virtual environment, built on first use.

    `~/.cache/exposure-bench/<tool>-<version>/`; reused when its marker file names the same
    requirements (the marker is written only after pip succeeded). A failing pip is one line.
    """
    version, requirements = PINS[tool]
    venv = VENVS / f"{tool}-{version}"
    python = venv / "bin" / "python"
    marker = venv / ".exposure-bench"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"peers: building {venv} ({', '.join(requirements)})", file=sys.stderr, flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    steps = {
        "python -m venv": [sys.executable, "-m", "venv", "--clear", str(venv)],
        "pip install": [*pip, *requirements],
    }
    for label, step in steps.items():
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith("ERROR")]
            why = (errors or lines or ["no output"])[-1]
            raise SystemExit(
                f"peers: could not build {venv}: {label} exited with {done.returncode}: {why}"
            )
    marker.write_text(wanted)
    return python


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

    dns.query.udp = redirect(dns.query.udp)
    dns.query.tcp = redirect(dns.query.tcp)
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


def host_names(domain: str) -> tuple[str, ...]:
    """The web host names of a domain that our tls check looks at (checks._site.website)."""
    domain = domain.strip().rstrip(".").lower()
    return (domain,) if domain.startswith("www.") else (domain, f"www.{domain}")


#: sslyze's protocol-version scans: which versions our tls check decides on. SSL 2.0 and 3.0 are
#: left out: our check cannot offer them (a current OpenSSL cannot), the testbed cannot serve them
#: (no verdict to compare), and SSL 3.0 alone would add 121 more connections per host.
SSLYZE_VERSIONS = ("1_0", "1_1", "1_2", "1_3")


def run_sslyze(info: dict[str, Any], domains: list[str]) -> dict[str, Any]:
    """sslyze on the apex and www of every domain: one `Scanner()` with its default limits.

    Verdicts per host name: `cert_ok` (the chain validates against the testbed's CA, for that
    name, now: sslyze's one folded verdict), `legacy_off` (TLS 1.0 and 1.1 both refused); None
    when sslyze could not decide (`state`: `no_such_host` when the name does not resolve,
    `could_not_connect` when its connectivity test failed, `error` for a failed scan command).
    """
    from sslyze import (
        ScanCommand,
        ScanCommandAttemptStatusEnum,
        Scanner,
        ServerNetworkLocation,
        ServerScanRequest,
        ServerScanStatusEnum,
    )
    from sslyze.errors import ServerHostnameCouldNotBeResolved
    from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument
    from sslyze.scanner.models import ScanCommandsExtraArguments
    from sslyze.scanner.scanner_observer import ScannerObserver

    _point_at_testbed(info)
    settings = info["settings"]
    port = int(settings["ports"]["https"])
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(settings["ca_bundle"]))
    )
    commands = {ScanCommand.CERTIFICATE_INFO}
    commands |= {getattr(ScanCommand, f"TLS_{v}_CIPHER_SUITES") for v in SSLYZE_VERSIONS}
    verdicts: dict[str, dict[str, Any]] = {}
    requests = []
    started = time.perf_counter()
    for domain in domains:
        for host in host_names(domain):
            verdict: dict[str, Any] = {"domain": domain, "cert_ok": None, "legacy_off": None}
            verdicts[host] = verdict
            try:  # sslyze resolves here, one name after the other (as its command line does)
                location = ServerNetworkLocation(host, port)
            except ServerHostnameCouldNotBeResolved:
                verdict["state"] = "no_such_host"
                continue
            requests.append(
                ServerScanRequest(
                    server_location=location,
                    scan_commands=commands,
                    scan_commands_extra_arguments=extra,
                )
            )
    resolved = time.perf_counter()
    tested: dict[str, float] = {}  # host -> seconds until sslyze gave up connecting to it

    class Watch(ScannerObserver):  # the results only come out at the end; this is on time
        def server_connectivity_test_error(self, request: Any, error: Any) -> None:
            tested[request.server_location.hostname] = time.perf_counter() - resolved

        def server_connectivity_test_completed(self, request: Any, result: Any) -> None:
            pass

        def server_scan_completed(self, result: Any) -> None:
            pass

        def all_server_scans_completed(self) -> None:
            pass

    # its defaults: 5 connections per server, 10 servers at once
    scanner = Scanner(observers=[Watch()])
    if requests:
        scanner.queue_scans(requests)
    for result in scanner.get_results() if requests else ():
        verdict = verdicts[result.server_location.hostname]
        if result.scan_status != ServerScanStatusEnum.COMPLETED or result.scan_result is None:
            verdict["state"] = "could_not_connect"
            error = result.connectivity_error_trace
            verdict["error"] = str(error or result.scan_status)[:200]
            verdict["gave_up_after"] = round(tested.get(result.server_location.hostname, 0.0), 2)
            continue
        scan = result.scan_result
        verdict["state"] = "completed"
        accepted: dict[str, bool | None] = {}
        for version in SSLYZE_VERSIONS:
            attempt = getattr(scan, f"tls_{version}_cipher_suites")
            ok = attempt.status == ScanCommandAttemptStatusEnum.COMPLETED and attempt.result
            accepted[version] = bool(attempt.result.accepted_cipher_suites) if ok else None
        verdict["accepted"] = accepted
        legacy = (accepted["1_0"], accepted["1_1"])
        if True in legacy:
            verdict["legacy_off"] = False
        elif None not in legacy:
            verdict["legacy_off"] = True
        else:
            verdict["state"] = "error"
        attempt = scan.certificate_info
        info_result = attempt.result
        if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED or info_result is None:
            verdict["state"] = "error"
        elif info_result.certificate_deployments:
            deployment = info_result.certificate_deployments[0]
            custom = [
                p
                for p in deployment.path_validation_results
                if p.trust_store.name == "Supplied CA file"
            ]
            verdict["cert_ok"] = bool(custom and custom[0].was_validation_successful)
            if custom and custom[0].validation_error:
                verdict["cert_error"] = str(custom[0].validation_error)[:200]
    ended = time.perf_counter()
    return {
        "tool": "sslyze",
        "wall": ended - started,
        "resolve_wall": resolved - started,
        "gave_up": sorted(tested.values()),
        "hosts": len(verdicts),
        "keys": ["cert_ok", "legacy_off"],
        "verdicts": verdicts,
    }


def run_tool(tool: str, info: dict[str, Any], domains: list[str], threads: int) -> dict[str, Any]:
    if tool == "sslyze":
        return run_sslyze(info, domains)
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
    info_path: Path,
    domains: list[str],
    threads: int,
    workdir: Path,
    tools: tuple[str, ...] = TOOLS,
    snapshot: Callable[[], Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every tool in a process of its own, with the interpreter of its own virtual environment,
    one after the other (never beside the scan). `snapshot()`, when given, is taken before and
    after each tool (the testbed's counters: `testbed_before`, `testbed_after`)."""
    results: dict[str, dict[str, Any]] = {}
    listing = workdir / "peer-domains.json"
    listing.write_text(json.dumps(domains))
    pythons = {tool: ensure_venv(tool) for tool in tools}  # built before anything is timed
    for tool in tools:
        out, log = workdir / f"peer-{tool}.json", workdir / f"peer-{tool}.log"
        before = snapshot() if snapshot else None
        started = time.perf_counter()
        command = [str(pythons[tool]), __file__, "--tool", tool, "--info", str(info_path)]
        command += ["--domains", str(listing), "--out", str(out), "--threads", str(threads)]
        with log.open("w") as stderr:
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        if done.returncode != 0:
            lines = [line for line in log.read_text().splitlines() if line.strip()]
            raise SystemExit(
                f"peers: {tool} exited with {done.returncode}: {(lines or ['no output'])[-1]}"
            )
        results[tool] = json.loads(out.read_text())
        results[tool]["process_wall"] = time.perf_counter() - started
        if snapshot:
            results[tool]["testbed_before"], results[tool]["testbed_after"] = before, snapshot()
    return results


#: sslyze's certificate verdict against ours: any `tls.cert.*` finding on the host name except
#: `tls.cert.expiring` (a certificate that expires within 14 days is valid; the early warning is
#: ours alone). Known difference kept in: sslyze 6.3.1 (cryptography's verifier) accepts an
#: RSA-1024 leaf from a trusted CA, which we report as `tls.cert.weak_key` (see
#: tests/crosscheck/test_sslyze_crosscheck.py); the synthetic area has no such certificate.
TLS_CERT_IDS = frozenset(
    {
        "tls.cert.expired",
        "tls.cert.not_yet_valid",
        "tls.cert.hostname_mismatch",
        "tls.cert.untrusted",
        "tls.cert.weak_key",
        "tls.cert.weak_signature",
    }
)

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
    # sslyze, per host name (apex and www): the tls family's findings sit on the host name
    "cert_ok": (TLS_CERT_IDS, "tls"),
    "legacy_off": (frozenset({"tls.protocol.legacy"}), "tls"),
}


def scan_verdicts(database: Path, domains: list[str]) -> dict[str, Any]:
    """The scan's open findings per subject, and its "could not test" errors of the last run:
    (subject, family) -> the finding ids they leave undecided (empty: all of the family's)."""
    import sqlite3

    db = sqlite3.connect(database)
    try:
        findings: dict[str, set[str]] = {}
        for target, check_id in db.execute(
            "SELECT target, check_id FROM finding WHERE status = 'open'"
        ):
            findings.setdefault(target, set()).add(check_id)
        undecided: dict[tuple[str, str], frozenset[str]] = {}
        for target, family, ids in db.execute(
            "SELECT target, check_id, finding_ids FROM checkerror "
            "WHERE run_id = (SELECT max(id) FROM scanrun)"
        ):
            covered = frozenset(json.loads(ids or "[]"))
            before = undecided.get((target, family))
            if before is None:
                undecided[(target, family)] = covered
            else:  # one error that covers every id makes the whole family undecided
                undecided[(target, family)] = (
                    (before | covered) if before and covered else frozenset()
                )
    finally:
        db.close()
    return {"findings": findings, "undecided": undecided}


def _we_could_not_test(
    ours: dict[str, Any], subject: str, family: str, ids: frozenset[str]
) -> bool:
    covered = ours["undecided"].get((subject, family))
    return covered is not None and (not covered or bool(covered & ids))


def ours_about(ours: dict[str, Any], domains: list[str]) -> dict[str, Any]:
    """What the scan stored about these domains and their www (for the examples in the JSON)."""
    about: dict[str, Any] = {}
    for domain in domains:
        names = {domain, *host_names(domain)}
        about[domain] = {
            "findings": sorted(i for n in names for i in ours["findings"].get(n, ())),
            "undecided": sorted(
                f"{t} {f}: {', '.join(sorted(ids)) or 'all'}"
                for (t, f), ids in ours["undecided"].items()
                if t in names
            ),
        }
    return about


def compare(peers: dict[str, dict[str, Any]], ours: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per overlapping verdict: names where both decided, agreements, and the disagreements
    (with up to five examples each). A domain that does not exist (our `target.unresolvable` on
    it, or, for sslyze, a host name that does not resolve) and a name we could not test (an
    error of the verdict's family covering its ids, or of the target check on the domain) are
    counted apart, not compared; so is one the peer could not test (sslyze: could not connect,
    or a scan command failed; examples kept)."""
    table: dict[str, dict[str, Any]] = {}
    for result in peers.values():
        declared = result.get("keys")  # sslyze: None means "could not test", not "no verdict"
        for name, verdicts in result["verdicts"].items():
            domain = verdicts.get("domain", name)
            keys = declared or [k for k in verdicts if k in OVERLAP]
            for key in keys:
                theirs = verdicts.get(key)
                if key not in OVERLAP or (theirs is None and not declared):
                    continue
                ids, family = OVERLAP[key]
                row = table.setdefault(
                    key,
                    {
                        "both_decided": 0,
                        "agree": 0,
                        "both_flag": 0,
                        "only_we_flag": 0,
                        "only_they_flag": 0,
                        "we_undecided": 0,
                        "they_undecided": 0,
                        "no_such_domain": 0,
                        "examples": {
                            "only_we_flag": [],
                            "only_they_flag": [],
                            "they_undecided": [],
                        },
                    },
                )
                found = ours["findings"].get(name, set())
                gone = "target.unresolvable" in ours["findings"].get(domain, set())
                if gone or verdicts.get("state") == "no_such_host":
                    row["no_such_domain"] += 1
                    continue
                # our mail, security.txt and tls checks say nothing about a domain that does not
                # exist (`target.unresolvable` does): when the target check could not decide, our
                # silence on the domain is no verdict either
                if (
                    _we_could_not_test(ours, name, family, ids)
                    or (domain, "target") in ours["undecided"]
                ):
                    row["we_undecided"] += 1
                    continue
                if theirs is None:
                    row["they_undecided"] += 1
                    if len(row["examples"]["they_undecided"]) < 5:
                        row["examples"]["they_undecided"].append(name)
                    continue
                we_ok = not (found & ids)
                row["both_decided"] += 1
                if we_ok == theirs:
                    row["agree"] += 1
                    row["both_flag"] += not we_ok
                    continue
                side = "only_we_flag" if theirs else "only_they_flag"
                row[side] += 1
                if len(row["examples"][side]) < 5:
                    row["examples"][side].append(name)
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
