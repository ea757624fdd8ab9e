"""The `exposure.*` family end to end: testbed devices behind the Shodan and InternetDB
look-alikes, the real orchestrator, a real SQLite store.

Asserted in both directions: each id on exactly the hosts whose device carries it (the testbed
catalogue's `Device.expected()`), nothing but inventory on a plain web server, and nothing at
all where Shodan saw nothing. Without a key the run reports what InternetDB supports and says
which ids it could not decide; a broken key stops the family cleanly while the others run.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from checks.shodan.check import ShodanCheck
from checks.target.unresolvable import UnresolvableCheck
from exposure.catalogue import CATALOGUE as FINDING_CATALOGUE
from exposure.registry import Registry
from exposure.testbed.scenario import ANY_IP, CompanySpec, DomainSpec
from exposure.testbed.shodan import ApiKey
from exposure.testbed.shodan_devices import CATALOGUE, Device, host_document, vuln
from tests.checks.shodan_lab import (
    device_area,
    domain_company,
    expected_by_ip,
    found_by_ip,
    lookalike,
    scan,
    shodan_lab,
    utc,
)

COMPROMISE = {"compromised", "malware", "doublepulsar"}

#: Every device kind of the testbed catalogue, one per company and IP.
ALL_KINDS = {f"dev-{kind}": Device(kind, ANY_IP) for kind in CATALOGUE}

#: Variants the catalogue's escalations and rules hinge on.
VARIANTS = {
    "cam-screenshot": Device.camera("hikvision", ANY_IP, screenshot=True),
    "cam-moved": Device.camera("hikvision", ANY_IP, port=8080),
    "rtsp-moved": Device.rtsp(ANY_IP, port=8554),
    "vnc-odd-port": Device.vnc(ANY_IP, port=5999, auth=False),
    "mongo-odd-port": Device.database("mongodb", ANY_IP, port=27999),
    "apache-critical-cve": Device.web("apache", ANY_IP, vulns=(vuln("CVE-2021-42013"),)),
    "apache-verified-cve": Device.web(
        "apache", ANY_IP, vulns=(vuln("CVE-2022-37436", verified=True),)
    ),
    "hik-cve": Device.camera("hikvision", ANY_IP, vulns=(vuln("CVE-2021-36260"),)),
    "rdp-bluekeep": Device.rdp(ANY_IP, vulns=(vuln("CVE-2019-0708", verified=True),)),
    "rdp-eol": Device.rdp(ANY_IP, tags=("eol-product",)),
    "nginx-hacked": Device.web("nginx", ANY_IP, tags=("compromised",)),
    "office": [Device.rdp(ANY_IP), Device.smb(ANY_IP), Device("other.ssh", ANY_IP)],
    "yard": [Device.camera("dahua", ANY_IP), Device.ics("modbus", ANY_IP)],
}


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch, tmp_path):
    """No SHODAN_API_KEY or exposure.toml from the machine running the tests."""
    import os

    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


# --- with an API key ------------------------------------------------------------------------------


async def test_each_exposure_id_is_reported_for_exactly_the_hosts_that_carry_it(tmp_path):
    async with shodan_lab(device_area(ALL_KINDS | VARIANTS), tmp_path) as lab:
        outcome = await scan(lab)
        assert found_by_ip(outcome) == expected_by_ip(lab)
        assert outcome.errors == ()
        counters = lookalike(lab).counters
        assert counters.rate_limited == 0
        assert counters.unauthorized == 0
        # InternetDB first, the REST API only for addresses with open ports: one each
        assert set(counters.host_lookups.values()) == {1}
        assert outcome.summary.sources["shodan"]["mode"] == "full"


async def test_a_plain_web_server_is_inventory_only(tmp_path):
    area = device_area(
        {"nginx": Device.web("nginx", ANY_IP), "apache": Device.web("apache", ANY_IP)}
    )
    async with shodan_lab(area, tmp_path) as lab:
        outcome = await scan(lab)
        rows = [r for r in outcome.findings if r.check_id.startswith("exposure.")]
        assert {r.check_id for r in rows} == {"exposure.service"}
        assert {r.severity for r in rows} == {"info"}
        assert sorted(r.evidence["port"] for r in rows) == [80, 80, 443, 443]
        assert all(r.evidence["product"] in ("nginx", "Apache httpd") for r in rows)


async def test_nothing_is_reported_where_shodan_saw_nothing(tmp_path):
    quiet = CompanySpec("79999999", "Stil B.V.", "info@stil.test", ips=["quiet-wan"])
    area = device_area({"cam": Device.camera("axis", ANY_IP)}, companies=[quiet])
    async with shodan_lab(area, tmp_path) as lab:
        outcome = await scan(lab)
        ip = lab.testbed.address("quiet-wan")
        assert ip not in found_by_ip(outcome)
        assert outcome.errors == ()
        assert lookalike(lab).counters.host_lookups[ip] == 0  # InternetDB said nothing: no REST


async def test_evidence_names_ip_port_product_signals_timestamp_and_cves(tmp_path):
    area = device_area(
        {
            "cam": Device.camera("hikvision", ANY_IP, screenshot=True),
            "web": Device.web("apache", ANY_IP, vulns=(vuln("CVE-2023-25690"),)),
            "kev": Device.web("apache", ANY_IP, vulns=(vuln("CVE-2021-42013"),)),
            "web2": Device.web("apache", ANY_IP, vulns=(vuln("CVE-2022-37436", verified=True),)),
            "vnc": Device.vnc(ANY_IP, auth=False),
            "rdp": Device.rdp(ANY_IP, vulns=(vuln("CVE-2019-0708", verified=True),)),
        }
    )
    async with shodan_lab(area, tmp_path) as lab:
        outcome = await scan(lab)
        by = {(r.target, r.check_id, r.discriminator): r for r in outcome.findings}
        cam_ip = lab.testbed.address("cam")
        cam = by[(cam_ip, "exposure.camera", "")]
        assert cam.severity == "critical"
        assert cam.evidence["ip"] == cam_ip
        assert cam.evidence["vendor"] == "Hikvision"
        assert cam.evidence["ports"] == [80, 554, 8000]
        assert cam.evidence["live_view"] is True and cam.evidence["screenshot"] == [80]
        http = next(s for s in cam.evidence["services"] if s["port"] == 80)
        assert http["transport"] == "tcp" and http["product"] == "Hikvision IP Camera"
        assert "server: App-webs/ (Hikvision)" in http["signals"]
        assert http["seen"] and http["stale"] is False
        assert "Shodan holds a screenshot" in cam.detail

        rdp_ip = lab.testbed.address("rdp")
        rdp = by[(rdp_ip, "exposure.remote_access", f"{rdp_ip}:3389")]
        assert (rdp.evidence["ip"], rdp.evidence["port"], rdp.evidence["transport"]) == (
            rdp_ip,
            3389,
            "tcp",
        )
        assert rdp.evidence["product"] == "Remote Desktop Protocol"
        assert rdp.evidence["signals"] == ["module: rdp"]
        assert rdp.evidence["seen"] and rdp.evidence["cves"] == ["CVE-2019-0708"]

        vnc_ip = lab.testbed.address("vnc")
        vnc = by[(vnc_ip, "exposure.remote_access", f"{vnc_ip}:5900")]
        assert vnc.severity == "critical"
        assert vnc.evidence["authentication"] == "none"
        assert "answers without authentication" in vnc.detail

        critical = by[(lab.testbed.address("web"), "exposure.vulnerable", "")]
        assert critical.severity == "critical"
        assert critical.evidence["max_cvss"] == 9.8
        assert [c["cve"] for c in critical.evidence["cves"]] == ["CVE-2023-25690"]
        assert critical.evidence["kev_count"] == 0  # critical by its score alone
        # a flaw in CISA's KEV catalogue is one problem, `exposure.exploited`, not two
        kev_ip = lab.testbed.address("kev")
        assert (kev_ip, "exposure.exploited", "") in by
        assert (kev_ip, "exposure.vulnerable", "") not in by
        assert critical.evidence["cves"][0]["verified"] is False
        assert "matched on the software version only" in critical.detail
        verified = by[(lab.testbed.address("web2"), "exposure.vulnerable", "")]
        assert verified.severity == "high"  # CVSS 5.3
        assert verified.evidence["verified"] == ["CVE-2022-37436"]
        assert "verified by Shodan: CVE-2022-37436" in verified.detail


async def test_old_banners_are_reported_as_old_not_as_fresh(tmp_path):
    area = device_area({"old": Device.rdp(ANY_IP), "new": Device.rdp(ANY_IP)})
    now = utc(2026, 3, 2, 2, 0)
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        old_ip, new_ip = lab.testbed.address("old"), lab.testbed.address("new")
        old = now.replace(tzinfo=None) - timedelta(days=45)
        la.add_host(host_document(old_ip, [Device.rdp(old_ip)], when=old))
        new = now.replace(tzinfo=None) - timedelta(days=2)
        la.add_host(host_document(new_ip, [Device.rdp(new_ip)], when=new))
        outcome = await scan(lab, now=now)
        rows = {r.target: r for r in outcome.findings if r.check_id == "exposure.remote_access"}
        assert rows[old_ip].evidence["stale"] is True
        assert rows[old_ip].evidence["services"][0]["seen"].startswith(f"{old:%Y-%m-%d}")
        assert "(45 days ago); may no longer be current" in rows[old_ip].detail
        assert rows[new_ip].evidence["stale"] is False
        assert "2 days ago" in rows[new_ip].detail and "may no longer" not in rows[new_ip].detail


# --- without an API key: InternetDB only ---------------------------------------------------------


async def test_without_a_key_internetdb_findings_and_a_degraded_note(tmp_path):
    async with shodan_lab(device_area(ALL_KINDS | VARIANTS), tmp_path) as lab:
        outcome = await scan(lab, key=False)
        assert lookalike(lab).counters.rest_requests == 0
        found = found_by_ip(outcome)
        assert lab.testbed.layout is not None
        by_ip: dict[str, set[str]] = {}
        hacked: set[str] = set()
        for device in lab.testbed.layout.devices:
            by_ip.setdefault(device.ip, set()).update(f for f, _ in device.expected())
            if COMPROMISE & {t for s in device.services() for t in s.tags}:
                hacked.add(device.ip)
        # odd ports: only a banner says what runs there, InternetDB gives the number only
        limits = {lab.testbed.address(name): name for name in ("rtsp-moved", "vnc-odd-port")}
        degraded = [e for e in outcome.errors if e.reason == "source_unavailable"]
        for ip, expected in by_ip.items():
            got = set(found.get(ip, {}))
            if ip in limits:
                assert got == {"exposure.service"}, limits[ip]
                [error] = [e for e in degraded if e.target == ip]
                assert expected <= set(error.finding_ids)  # undecided, not "fine"
                continue
            if ip in hacked:
                # InternetDB's tags are per address: which port is hacked is unknown, so the
                # compromised finding lists the ports and their class stays undecided.
                expected = expected - {"exposure.service"}
            assert got == expected, ip
            # no banners: no escalation, the catalogue's default severity; but a CVE id in
            # CISA's KEV catalogue needs no score to make the CVE finding critical
            for finding, severity in found[ip].items():
                want = FINDING_CATALOGUE[finding].severity.value
                if finding == "exposure.vulnerable" and "exposure.exploited" in found[ip]:
                    want = "critical"
                assert severity == want, (ip, finding)

        assert degraded and all(
            e.message.startswith("ran degraded: no Shodan API key (InternetDB only)")
            for e in degraded
        )
        assert len(degraded) == len(outcome.errors)
        for error in degraded:
            # never the ids InternetDB decides as well as the API
            assert not {"exposure.compromised", "exposure.vulnerable"} & set(error.finding_ids)
            assert error.finding_ids
        # an address with nothing but ports that say what they are is fully decided
        rdp_ip = lab.testbed.address("dev-remote.rdp")
        assert not [e for e in degraded if e.target == rdp_ip]
        nginx_ip = lab.testbed.address("dev-web.nginx")
        nginx_error = next(e for e in degraded if e.target == nginx_ip)
        assert sorted(nginx_error.finding_ids) == ["exposure.camera", "exposure.file_share"]

        shodan = outcome.summary.sources["shodan"]
        assert shodan["mode"] == "degraded"
        assert shodan["notes"] == ["ran degraded: no Shodan API key (InternetDB only)"]


async def test_a_degraded_run_does_not_resolve_what_only_the_full_api_saw(tmp_path):
    # a camera known only by its Server header: InternetDB has no camera CPE for it
    disguised = Device("web.nginx", ANY_IP, server="App-webs/", side_ports=False)
    area = device_area({"cam": disguised, "rdp": Device.rdp(ANY_IP)})
    async with shodan_lab(area, tmp_path) as lab:
        cam_ip, rdp_ip = lab.testbed.address("cam"), lab.testbed.address("rdp")
        first = await scan(lab)
        assert found_by_ip(first)[cam_ip] == {"exposure.camera": "high"}
        assert found_by_ip(first)[rdp_ip] == {"exposure.remote_access": "high"}

        second = await scan(lab, key=False)
        assert second.summary.stats.resolved == 0
        assert "exposure.camera" in found_by_ip(second)[cam_ip]  # undecided: still open

        lookalike(lab).remove_host(rdp_ip)  # the RDP port was closed
        third = await scan(lab, key=False)
        assert rdp_ip not in found_by_ip(third)  # InternetDB decides that: resolved
        assert third.summary.stats.resolved == 1
        assert "exposure.camera" in found_by_ip(third)[cam_ip]


# --- a key that does not work ----------------------------------------------------------------------


@pytest.mark.parametrize("json_error", [False, True], ids=["nginx-html-401", "json-401"])
async def test_an_invalid_key_stops_the_family_cleanly_and_other_checks_still_run(
    tmp_path, json_error
):
    lost = CompanySpec(
        "79999999",
        "Verlopen B.V.",
        "info@verlopen.test",
        domains=[DomainSpec("verlopen.test", nxdomain=True, site=None)],
    )
    area = device_area(
        {"cam": Device.camera("hikvision", ANY_IP), "rdp": Device.rdp(ANY_IP)}, companies=[lost]
    )
    registry = Registry((ShodanCheck(), UnresolvableCheck()))
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        first = await scan(lab)
        assert len(found_by_ip(first)) == 2
        la.invalid_key_json = json_error
        outcome = await scan(
            lab, key="thisKeyIsNotValid000000000000000", registry=registry, shodan_cache_days=0
        )
        assert la.counters.unauthorized == 1  # one request told; no more were sent
        assert outcome.summary.stats.resolved == 0  # "could not test" is not "fixed"
        shodan_errors = [e for e in outcome.errors if e.check_id == "shodan"]
        assert {e.reason for e in shodan_errors} == {"source_unavailable"}
        assert all("Shodan API key rejected" in e.message for e in shodan_errors)
        assert all("check shodan_api_key" in e.message for e in shodan_errors)
        assert {r.check_id for r in outcome.findings if r.company_id == "79999999"} == {
            "target.unresolvable"
        }
        shodan = outcome.summary.sources["shodan"]
        assert shodan["mode"] == "unavailable"
        assert "Shodan API key rejected" in shodan["notes"][0]


async def test_spent_credits_stop_the_family_with_a_clear_error(tmp_path):
    area = device_area({"cam": Device.camera("dahua", ANY_IP), "rdp": Device.rdp(ANY_IP)})
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        la.add_key(ApiKey(key="poorKey0000000000000000000000000", query_credits=0))
        la.host_lookup_costs_credit = True
        outcome = await scan(lab, key="poorKey0000000000000000000000000")
        assert la.counters.credits_refused == 1
        assert {e.reason for e in outcome.errors} == {"source_unavailable"}
        assert all("query credits exhausted" in e.message for e in outcome.errors)
        assert found_by_ip(outcome) == {}


async def test_a_free_plan_without_host_lookups_runs_degraded_and_says_why(tmp_path):
    area = device_area({"rdp": Device.rdp(ANY_IP), "web": Device.web("nginx", ANY_IP)})
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        la.add_key(ApiKey(key="freeKey0000000000000000000000000", plan="oss"))
        outcome = await scan(lab, key="freeKey0000000000000000000000000")
        # told once: either the first look-up was one address, or a batch was refused and then
        # one address alone; after that no look-up is asked again
        assert la.counters.forbidden == la.counters.requests["host"] == 1 + la.counters.batches
        found = found_by_ip(outcome)
        assert found[lab.testbed.address("rdp")] == {"exposure.remote_access": "high"}
        assert found[lab.testbed.address("web")] == {"exposure.service": "info"}
        [error] = outcome.errors
        assert "plan does not include host look-ups" in error.message
        assert outcome.summary.sources["shodan"]["mode"] == "degraded"


# --- the REST API's rate, and the cache across runs ---------------------------------------------


@pytest.mark.slow
async def test_at_the_real_rate_of_one_request_per_second_nothing_is_refused(tmp_path):
    area = device_area(
        {
            "a": Device.rdp(ANY_IP),
            "b": Device.camera("axis", ANY_IP),
            "c": Device.database("redis", ANY_IP),
        }
    )
    async with shodan_lab(area, tmp_path, rate_interval=1.0) as lab:
        la = lookalike(lab)
        la.rate_slack = 0.0  # strict: any two requests closer than 1 s are refused
        started = time.monotonic()
        outcome = await scan(lab, interval=1.0)
        assert la.counters.rate_limited == 0
        assert sum(la.counters.host_lookups.values()) == 3
        assert la.counters.requests["host"] < 3  # batched (issue 21)
        assert time.monotonic() - started >= 1.0  # the first request waits one interval
        assert len(found_by_ip(outcome)) == 3


async def test_a_second_run_within_the_cache_period_makes_no_rest_request(tmp_path):
    area = device_area({"cam": Device.camera("hikvision", ANY_IP), "rdp": Device.rdp(ANY_IP)})
    t0 = utc(2026, 3, 2, 2, 0)
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        first = await scan(lab, now=t0)
        asked = la.counters.host_lookups
        assert sum(asked.values()) == 2
        idb = la.counters.requests["internetdb"]

        second = await scan(lab, now=t0 + timedelta(days=6))
        assert sum(asked.values()) == 2  # served from the store
        assert la.counters.requests["internetdb"] == 2 * idb  # free, and the change detector
        assert found_by_ip(second) == found_by_ip(first)
        assert (second.summary.stats.new, second.summary.stats.resolved) == (0, 0)
        assert second.summary.sources["shodan"]["cache_hits"] == 2
        assert all("cached_from" in r.evidence for r in second.findings)

        await scan(lab, now=t0 + timedelta(days=8))  # older than shodan_cache_days (7)
        assert sum(asked.values()) == 4

        await scan(lab, now=t0 + timedelta(days=9), shodan_cache_days=0)  # cache off
        assert sum(asked.values()) == 6
        assert la.counters.rate_limited == 0


async def test_a_change_internetdb_shows_refetches_before_the_cache_expires(tmp_path):
    area = device_area({"office": Device.rdp(ANY_IP), "other": Device.rdp(ANY_IP)})
    t0 = utc(2026, 3, 2, 2, 0)
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        await scan(lab, now=t0)
        office = lab.testbed.address("office")
        la.add_devices(Device.rdp(office), Device.vnc(office, auth=False))  # a new port opened
        outcome = await scan(lab, now=t0 + timedelta(days=1))
        assert la.counters.host_lookups[office] == 2  # refetched: its ports changed
        assert la.counters.host_lookups[lab.testbed.address("other")] == 1  # still cached
        assert found_by_ip(outcome)[office] == {"exposure.remote_access": "critical"}


async def test_the_run_waits_for_shodan_not_the_check(tmp_path):
    # address by address (no batches) at the real rate of one request a second: five device
    # hosts take five turns, more than the check's budget (0.8 x 2 s); the look-ups only wait
    # for their turn, so the run waits for them and every device host is judged (issue 21)
    area = device_area({f"ip{n}": Device.rdp(ANY_IP) for n in range(5)})
    async with shodan_lab(area, tmp_path, rate_interval=1.0) as lab:
        outcome = await scan(lab, interval=1.0, check_timeout=2.0, shodan_batch_size=1)
        assert not [e for e in outcome.errors if "deferred" in e.message]
        assert outcome.summary.sources["shodan"]["deferred"] == 0
        assert outcome.summary.status == "complete"
        assert set(found_by_ip(outcome)) == set(expected_by_ip(lab))
        la = lookalike(lab)
        assert la.counters.rate_limited == 0 and la.counters.requests["host"] == 5


async def test_lookups_still_queued_at_the_run_deadline_are_deferred_not_failed(tmp_path):
    area = device_area({f"ip{n}": Device.rdp(ANY_IP) for n in range(12)})
    async with shodan_lab(area, tmp_path, rate_interval=0.4) as lab:
        # twelve turns of 0.4 s do not fit in a run of 3 s: what is still queued when the run's
        # deadline nears is deferred (and the run completes with it), not before
        outcome = await scan(
            lab, interval=0.4, check_timeout=2.0, run_deadline=3.0, shodan_batch_size=1
        )
        deferred = [e for e in outcome.errors if "deferred" in e.message]
        assert deferred and {e.reason for e in deferred} == {"rate_limited"}
        assert all("the run's deadline came" in e.message for e in deferred)
        assert outcome.summary.sources["shodan"]["deferred"] == len(deferred)
        assert len(found_by_ip(outcome)) + len(deferred) == 12
        assert found_by_ip(outcome)  # what was answered before the deadline was judged
        assert lookalike(lab).counters.rate_limited == 0


async def test_a_hanging_api_costs_its_own_timeout_not_the_runs(tmp_path):
    # the same queue behind the pace, but the API hangs: a check past its budget does not wait
    # for it, the run ends within the request's time-out and the checks' budget, long before
    # its deadline, and the canary marks it degraded
    area = device_area({f"ip{n}": Device.rdp(ANY_IP) for n in range(6)})
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        la.delay = 5.0  # the REST API hangs
        started = time.monotonic()
        outcome = await scan(
            lab,
            shodan_batch_size=1,
            connect_timeout=0.3,
            read_timeout=0.3,
            check_timeout=1.0,
            run_deadline=600,
        )
        assert time.monotonic() - started < 5.0
        assert outcome.summary.stats.resolved == 0
        assert {e.reason for e in outcome.errors} <= {"timeout", "source_unavailable"}
        assert not [e for e in outcome.errors if "deferred" in e.message]
        assert outcome.summary.status == "degraded"
        assert outcome.summary.sources_failed.keys() == {"shodan"}


async def test_batched_look_ups_fit_where_single_ones_are_deferred(tmp_path):
    # twelve device hosts at 0.5 s a request: 6 s address by address, more than the check's
    # budget (0.8 x 4 s); batched they take a turn or two (issue 21)
    area = device_area({f"ip{n}": Device.rdp(ANY_IP) for n in range(12)})
    async with shodan_lab(area, tmp_path, rate_interval=0.5) as lab:
        outcome = await scan(lab, interval=0.5, check_timeout=4.0)
        assert not [e for e in outcome.errors if "deferred" in e.message]
        assert outcome.summary.sources["shodan"]["deferred"] == 0
        assert len(found_by_ip(outcome)) == 12
        la = lookalike(lab)
        assert la.counters.rate_limited == 0 and la.counters.requests["host"] <= 4


async def test_slow_answers_cost_their_timeout_and_nothing_is_resolved(tmp_path):
    area = device_area({f"ip{n}": Device.rdp(ANY_IP) for n in range(4)})
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        await scan(lab)
        la.delay = 5.0  # the REST API hangs
        started = time.monotonic()
        outcome = await scan(
            lab, shodan_cache_days=0, connect_timeout=0.2, read_timeout=0.2, check_timeout=20
        )
        # three time-outs in a row mean "the API is down": the fourth is not even sent
        assert time.monotonic() - started < 4.0
        assert outcome.summary.stats.resolved == 0
        reasons = {e.reason for e in outcome.errors}
        assert reasons <= {"timeout", "source_unavailable"}
        assert outcome.summary.sources["shodan"]["mode"] == "unavailable"
        # the API's canary does not answer either: our source failed, the run says so
        assert outcome.summary.status == "degraded"
        assert outcome.summary.sources_failed.keys() == {"shodan"}
        assert len(found_by_ip(outcome)) == 4  # still open


# --- domains, shared hosting, networks ------------------------------------------------------------


async def test_a_domain_is_checked_on_its_own_address_but_not_on_shared_hosting(tmp_path):
    shared = [
        domain_company(n, f"winkel{n}.test", "hosting-1")
        for n in range(1, 7)  # six shops on one hoster: five other domains each
    ]
    hoster = [Device.web("nginx", ANY_IP), Device.database("mysql", ANY_IP)]
    shared[0] = domain_company(1, "winkel1.test", "hosting-1", *hoster)
    own = domain_company(20, "koelhuis.test", "koelhuis-wan", Device.ics("modbus", ANY_IP))
    listed = CompanySpec("70000030", "Hoster-klant", "it@klant.test", ips=["hosting-1"])
    area = device_area({}, companies=[*shared, own, listed])
    async with shodan_lab(area, tmp_path) as lab:
        outcome = await scan(lab)
        hosting = lab.testbed.address("hosting-1")
        by_company = outcome.ids_by_company()
        for company in shared:
            assert company.id not in by_company  # the hoster's services are not the shop's
        assert by_company[own.id] == {"exposure.ics"}
        row = next(r for r in outcome.findings if r.company_id == own.id)
        assert row.evidence["domain"] == "koelhuis.test"
        assert row.target == lab.testbed.address("koelhuis-wan")
        # an address a company lists itself is its own, shared or not
        assert by_company[listed.id] == {"exposure.service", "exposure.database"}
        assert outcome.summary.sources["shodan"]["shared_hosting_skipped"] == 1
        assert lookalike(lab).counters.host_lookups[hosting] == 1  # once for the whole run


NET = "127.253.9.0/28"


def _network_area():
    company = CompanySpec("70000040", "Werf met netwerk", "it@werf.test", ips=[NET])
    devices = {
        "127.253.9.2": Device.camera("reolink", "127.253.9.2"),
        "127.253.9.5": Device.ftp("127.253.9.5", anonymous=True),
    }
    return device_area({}, companies=[company]), devices


async def test_a_network_is_one_net_search_with_a_key(tmp_path):
    area, devices = _network_area()
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        la.add_devices(*devices.values())
        outcome = await scan(lab)
        assert la.counters.requests["search"] == 1
        assert la.counters.requests["host"] == 0
        assert la.counters.requests["internetdb"] == 0
        assert found_by_ip(outcome) == {
            "127.253.9.2": {"exposure.camera": "high"},
            "127.253.9.5": {"exposure.file_share": "high"},
        }
        ftp = next(r for r in outcome.findings if r.target == "127.253.9.5")
        assert ftp.evidence["anonymous"] is True


async def test_a_network_without_net_search_is_looked_up_address_by_address(tmp_path):
    area, devices = _network_area()
    async with shodan_lab(area, tmp_path) as lab:
        la = lookalike(lab)
        la.add_devices(*devices.values())
        outcome = await scan(lab, key=False)
        assert la.counters.requests["internetdb"] == 14  # the /28's hosts
        assert set(found_by_ip(outcome)) == {"127.253.9.2", "127.253.9.5"}

        la.add_key(ApiKey(key="freeKey0000000000000000000000000", plan="oss"))
        la.counters.requests.clear()
        outcome = await scan(lab, key="freeKey0000000000000000000000000")
        assert la.counters.requests["search"] == 1  # refused: filters need a paid plan
        # refused: no host look-ups either (the list, then one address to tell a plan without
        # lists from one without host look-ups)
        assert la.counters.requests["host"] == 2
        assert set(found_by_ip(outcome)) == {"127.253.9.2", "127.253.9.5"}
        assert "no net: searches" in " ".join(outcome.summary.sources["shodan"]["notes"])


async def test_the_api_key_never_reaches_logs_or_the_store(tmp_path, caplog):
    area = device_area({"cam": Device.camera("hikvision", ANY_IP)})
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="httpx")  # exposure.logs quiets it to WARNING
    async with shodan_lab(area, tmp_path) as lab:
        key = lab.testbed.shodan_api_key
        outcome = await scan(lab)
        bad = await scan(lab, key="wrongKey000000000000000000000000", shodan_cache_days=0)
    assert "REDACTED" in caplog.text  # httpx logged the request line, without the key
    assert key not in caplog.text and "wrongKey0000" not in caplog.text
    stored = repr([r.evidence for r in outcome.findings]) + repr(
        [(e.message, e.target) for e in bad.errors]
    )
    assert key not in stored and "wrongKey0000" not in stored
