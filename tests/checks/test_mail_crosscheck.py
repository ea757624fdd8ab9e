"""Our SPF and DMARC against an established implementation: checkdmarc, on the same testbed zones.

checkdmarc (the `crosscheck` extra, installed by `make test`) runs in this process, in a thread,
with a dnspython resolver pointed at the testbed's DNS server and port; ours runs on the event
loop through the scanner's own resolver. For every zone of `exposure.testbed.area_mail` that
answers DNS, the two must agree on:

- SPF: the verdict (valid, none, permerror), and, wherever checkdmarc reports them, the DNS
  look-up count and the void look-up count;
- DMARC: found or not, valid or not, where the record was found (own or organisational domain),
  and the `p` and `sp` values (checkdmarc fills an absent `sp` with `p`, as receivers do).

Intentional differences are listed in `SPF_DIFFERENCES`, each with the reason, and the test
checks that they still differ (a list that no longer holds must be cleaned up). What checkdmarc
does not judge is not compared: our `permissive` verdict, and the effective policy after `t=y`
or `pct=0` (checkdmarc reports the tags; we lower the policy, see checks/mail/dmarc.py).

Time: about 5 s for ~75 zones (checkdmarc runs in 4 threads; the zone whose include times
out costs it a few seconds of waiting).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import dns.resolver
import pytest

from checks.mail import dmarc as our_dmarc
from checks.mail import spf as our_spf
from checks.mail.shared import organisational_domain
from exposure.net.dns import AiodnsResolver, CachingResolver
from exposure.testbed.area_mail import ZONES, mail_area
from exposure.testbed.runner import Testbed

try:
    import checkdmarc.dmarc as cd_dmarc
    import checkdmarc.spf as cd_spf
    import checkdmarc.utils as cd_utils
except ImportError:  # pragma: no cover - the extra is part of `make test`
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail("checkdmarc is not installed (the crosscheck extra); CI must run this test")
    pytest.skip(
        "checkdmarc is not installed (pip install -e '.[crosscheck]')", allow_module_level=True
    )

#: zone -> (what differs, why). Each must still differ, or the entry goes.
SPF_DIFFERENCES: dict[str, tuple[str, str]] = {
    "spf-ptr.test": (
        "void_lookups",
        "checkdmarc resolves the A/AAAA records of a ptr: domain and counts a void look-up when "
        "there are none; a receiver's ptr evaluation looks up the sender's PTR and the A "
        "records of the names it returns, never the A record of the ptr: domain itself, so we "
        "count no void look-up there (the term still counts as one DNS look-up in both).",
    ),
    "spf-include-timeout.test": (
        "verdict",
        "an include whose DNS times out is a temperror (RFC 7208 §5.2): we decide nothing and "
        "report 'could not test'; checkdmarc treats the failed look-up as 'no SPF record' and "
        "the whole record as permerror. A DNS hiccup must never become 'your SPF is broken'.",
    ),
}

ZONES_WITH_DNS = [z.name for z in ZONES if z.dns == "ok"]


def _checkdmarc(
    resolver: dns.resolver.Resolver, domain: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        cd_spf.check_spf(domain, resolver=resolver, timeout=1.0, retries=0),
        cd_dmarc.check_dmarc(domain, resolver=resolver, timeout=1.0, retries=0),
    )


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    """Both implementations' verdicts on every zone (one testbed, one event loop)."""

    async def collect() -> dict[str, dict[str, Any]]:
        async with Testbed(mail_area(), shodan=False) as tb:
            ip, port = tb.resolver.rsplit(":", 1)
            theirs = dns.resolver.Resolver(configure=False)
            theirs.nameservers = [ip]
            theirs.port = int(port)
            theirs.timeout, theirs.lifetime = 1.0, 1.0
            cd_utils.DNS_CACHE.clear()
            inner = AiodnsResolver([(ip, int(port))], timeout=0.5, tries=3)
            ours = CachingResolver(inner)
            from publicsuffixlist import PublicSuffixList

            psl = await asyncio.to_thread(PublicSuffixList)
            threads = asyncio.Semaphore(4)

            async def one(name: str) -> tuple[str, dict[str, Any]]:
                async with threads:
                    cd_spf_result, cd_dmarc_result = await asyncio.to_thread(
                        _checkdmarc, theirs, name
                    )
                return name, {
                    "cd_spf": cd_spf_result,
                    "cd_dmarc": cd_dmarc_result,
                    "spf": await our_spf.evaluate(name, ours),
                    "dmarc": await our_dmarc.discover(name, ours, organisational_domain(psl, name)),
                }

            try:
                return dict(await asyncio.gather(*(one(name) for name in ZONES_WITH_DNS)))
            finally:
                await inner.close()

    return asyncio.run(collect())


def _spf_facts(ours: our_spf.SpfResult, theirs: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    if theirs["valid"]:
        verdict = "valid"
    elif str(theirs.get("error", "")).startswith(
        ("An SPF record does not exist", "The domain does not exist")
    ):
        verdict = "none"
    else:
        verdict = "permerror"
    facts: dict[str, tuple[Any, Any]] = {"verdict": (str(ours.status), verdict)}
    if theirs.get("dns_lookups") is not None:
        facts["lookups"] = (ours.lookups, theirs["dns_lookups"])
    if theirs.get("void_dns_lookups") is not None:
        facts["void_lookups"] = (ours.void_lookups, theirs["void_dns_lookups"])
    return facts


@pytest.mark.parametrize("zone", ZONES_WITH_DNS)
def test_spf_agrees(results, zone: str):
    ours, theirs = results[zone]["spf"], results[zone]["cd_spf"]
    facts = _spf_facts(ours, theirs)
    differing = {key for key, (a, b) in facts.items() if a != b}
    if zone in SPF_DIFFERENCES:
        key, _why = SPF_DIFFERENCES[zone]
        assert differing == {key}, (zone, facts, theirs.get("error"))
    else:
        assert not differing, (zone, facts, theirs.get("error"), ours.message)


def _location(ours: our_dmarc.DmarcResult) -> str | None:
    return ours.location.removeprefix("_dmarc.") if ours.location else None


@pytest.mark.parametrize("zone", ZONES_WITH_DNS)
def test_dmarc_agrees(results, zone: str):
    ours: our_dmarc.DmarcResult = results[zone]["dmarc"]
    theirs = results[zone]["cd_dmarc"]
    assert (ours.status is our_dmarc.DmarcStatus.VALID) == bool(theirs["valid"]), (
        zone,
        ours.message,
        theirs.get("error"),
    )
    if ours.status is our_dmarc.DmarcStatus.MISSING:
        assert "does not exist" in theirs["error"]
        return
    if ours.status is our_dmarc.DmarcStatus.VALID:
        assert _location(ours) == theirs["location"]
        assert ours.parsed is not None
        tags = theirs["tags"]
        assert str(ours.parsed.p or "none") == tags["p"]["value"]
        assert str(ours.parsed.sp or ours.parsed.p or "none") == tags["sp"]["value"]


def test_the_cross_check_covers_every_spf_and_dmarc_verdict(results):
    """The zones exercise each of our SPF and DMARC outcomes, so the agreement means something."""
    spf = {results[z]["spf"].status for z in results}
    errors = {results[z]["spf"].error for z in results} - {None}
    dmarc = {results[z]["dmarc"].status for z in results}
    assert spf == set(our_spf.SpfStatus)
    assert errors >= {
        our_spf.SpfError.MULTIPLE_RECORDS,
        our_spf.SpfError.SYNTAX,
        our_spf.SpfError.TOO_MANY_LOOKUPS,
        our_spf.SpfError.TOO_MANY_VOID_LOOKUPS,
        our_spf.SpfError.INCLUDE_LOOP,
        our_spf.SpfError.INCLUDE_WITHOUT_SPF,
    }
    assert dmarc == {
        our_dmarc.DmarcStatus.VALID,
        our_dmarc.DmarcStatus.MISSING,
        our_dmarc.DmarcStatus.INVALID,
    }
    assert any(results[z]["dmarc"].organisational for z in results)
