"""Optional cross-check: sslyze and our TLS probe look at the same testbed servers and agree.

Skipped unless one of:
- `EXPOSURE_SSLYZE=/path/to/python` — the interpreter of a virtualenv with sslyze installed;
- `EXPOSURE_CROSSCHECK=1` — the test makes that virtualenv itself (once, in
  `~/.cache/exposure/sslyze-venv`, or `EXPOSURE_SSLYZE_VENV`) with `pip install sslyze==6.3.1`.
sslyze lives in its own virtualenv because it pins a `cryptography` that conflicts with ours.

What must agree, per server:
- the protocol versions: sslyze's accepted TLS 1.0/1.1 ⟺ our legacy probe was accepted, and
  the best version each side saw (1.3/1.2, and 1.1/1.0 on the legacy side);
- the chain the server sent (byte for byte);
- the certificate verdict. Intentional difference, documented here: sslyze (with
  cryptography's webpki-style verifier) gives ONE verdict that folds trust, validity period,
  host name, key size and SHA-1 together; we judge each on its own axis so that one defect never
  masks or imitates another. So sslyze's "valid" must equal "none of our axes failed", and for
  every defect exactly our expected axis must be the one that failed.
- `expiring` (5 days left): sslyze calls it valid, and so do our trust, period and name axes;
  the 14-day early warning is ours alone.
- RSA-1024 (`weak_key`): sslyze 6.3.1 validates with cryptography 46, whose verifier accepts an
  RSA-1024 leaf from a trusted CA; OpenSSL at its default security level, browsers and the
  CA/Browser Forum Baseline Requirements (RSA >= 2048 bits since 2014) refuse it, and we report
  it as `tls.cert.weak_key`. This is the one verdict where we are stricter than sslyze
  (`SSLYZE_ACCEPTS`); the test fails if sslyze starts to disagree anywhere else.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from checks._site.website import visit_https
from exposure.net.certs import describe, matches_host
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, SiteSpec
from tests.support import scan_context

SSLYZE_VERSION = "6.3.1"
RUNNER = Path(__file__).with_name("sslyze_runner.py")

SITES: dict[str, SiteSpec] = {
    "valid.test": SiteSpec(),
    "ec.test": SiteSpec(cert="ec"),
    "expired.test": SiteSpec(cert="expired"),
    "notyet.test": SiteSpec(cert="not_yet_valid"),
    "expiring.test": SiteSpec(cert="expiring:5"),
    "wronghost.test": SiteSpec(cert="wrong_host"),
    "selfsigned.test": SiteSpec(cert="self_signed"),
    "unknownca.test": SiteSpec(cert="unknown_ca"),
    "nointermediate.test": SiteSpec(cert="missing_intermediate"),
    "weakkey.test": SiteSpec(cert="weak_key"),
    "sha1.test": SiteSpec(cert="sha1"),
    "legacy.test": SiteSpec(tls="1.0-1.1"),
    "mixed.test": SiteSpec(tls="1.0-1.3"),
    "tls12.test": SiteSpec(tls="1.2"),
    "tls13.test": SiteSpec(tls="1.3"),
    "tls10.test": SiteSpec(tls="1.0"),
}

#: the one axis of ours that must fail for each host (None: none)
AXIS = {
    "valid.test": None,
    "ec.test": None,
    "expired.test": "expired",
    "notyet.test": "not_yet_valid",
    "expiring.test": None,
    "wronghost.test": "hostname",
    "selfsigned.test": "trust",
    "unknownca.test": "trust",
    "nointermediate.test": "trust",
    "weakkey.test": "weak_key",
    "sha1.test": "weak_signature",
    "legacy.test": None,
    "mixed.test": None,
    "tls12.test": None,
    "tls13.test": None,
    "tls10.test": None,
}


#: axes sslyze's verifier does not hold against a certificate (see the module docstring)
SSLYZE_ACCEPTS: set[str] = {"weak_key"}


def _venv_python() -> str | None:
    given = os.environ.get("EXPOSURE_SSLYZE", "").strip()
    if given:
        return given
    if os.environ.get("EXPOSURE_CROSSCHECK", "").strip() not in ("1", "true", "yes"):
        return None
    venv = Path(os.environ.get("EXPOSURE_SSLYZE_VENV", Path.home() / ".cache/exposure/sslyze-venv"))
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"sslyze=={SSLYZE_VERSION}"], check=True
        )
    return str(python)


@pytest.fixture(scope="module")
def sslyze_python() -> str:
    python = _venv_python()
    if python is None:
        pytest.skip("set EXPOSURE_SSLYZE=<python with sslyze> or EXPOSURE_CROSSCHECK=1")
    return python


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def testbed() -> AsyncIterator[Testbed]:
    domains = [DomainSpec(name, site=site, www=False) for name, site in SITES.items()]
    area = Area(companies=[CompanySpec("1", "Cross BV", "a@b.test", domains=domains)])
    async with Testbed(area, shodan=False) as tb:
        yield tb


pytestmark = pytest.mark.asyncio(loop_scope="module")


def _ip(tb: Testbed, host: str) -> str:
    assert tb.layout is not None
    found = tb.layout.host_site(host)
    assert found is not None
    return found.ip


async def _sslyze(python: str, tb: Testbed) -> dict[str, dict]:
    targets = [
        {"host": h, "ip": _ip(tb, h), "port": tb.ports["https"], "ca_file": str(tb.ca_bundle)}
        for h in SITES
    ]
    # asynchronously: the testbed serves from this very event loop
    proc = await asyncio.create_subprocess_exec(
        python,
        str(RUNNER),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(targets).encode()), 600)
    assert proc.returncode == 0, err.decode()[-2000:]
    results = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return {r["host"]: r for r in results}


async def test_sslyze_agrees_with_our_probe(sslyze_python: str, testbed: Testbed):
    theirs = await _sslyze(sslyze_python, testbed)
    disagreements: list[tuple[str, str | None, list[str]]] = []
    async with scan_context(testbed, connect_timeout=3.0, read_timeout=3.0) as ctx:
        for host in SITES:
            seen = theirs[host]
            assert seen.get("status", "").endswith("COMPLETED"), seen
            visit = await visit_https(ctx, _ip(testbed, host), host)
            accepted = seen["accepted"]

            # protocol versions
            assert visit.legacy_accepted is (accepted["1.0"] or accepted["1.1"]), host
            best_modern = "1.3" if accepted["1.3"] else "1.2" if accepted["1.2"] else None
            assert visit.modern.version_number == best_modern, host
            if visit.legacy is not None and visit.legacy.accepted:
                best_legacy = "1.1" if accepted["1.1"] else "1.0"
                assert visit.legacy.version_number == best_legacy, host

            # the chain as sent
            shake = visit.handshake
            assert shake is not None and shake.leaf is not None
            from cryptography.hazmat.primitives.serialization import Encoding

            ours = [c.public_bytes(Encoding.DER).hex() for c in shake.chain]
            assert ours == seen["chain"], host

            # the verdict: theirs folds, ours separates (see the module docstring)
            info = describe(shake.leaf)
            failed = {
                "trust": not shake.trust.trusted,
                "expired": info.expired(ctx.now),
                "not_yet_valid": info.not_yet_valid(ctx.now),
                "hostname": not matches_host(shake.leaf, host),
                "weak_key": info.weak_key,
                "weak_signature": info.weak_signature,
            }
            axes = {axis for axis, bad in failed.items() if bad}
            assert axes == ({AXIS[host]} if AXIS[host] else set()), (host, axes)
            folded = axes - SSLYZE_ACCEPTS
            if seen["valid"] is not (not folded):
                disagreements.append((host, seen.get("validation_error"), sorted(axes)))
    assert disagreements == []
