"""The Meldpunt's discovery page: proposed hosts with where they were found, confirm and
reject with the session's CSRF token; refused to companies and to anyone without a token."""

from __future__ import annotations

import pytest
from sqlmodel import select

from exposure.models import DiscoveredHost, Target
from exposure.store.db import session as session_scope
from exposure.store.discovery import Sighting, record_sightings
from tests.exposure.app.portal.conftest import COMPANIES, World, csrf_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _propose(world: World) -> tuple[int, int]:
    company = COMPANIES[0]
    with session_scope(world.engine) as db:
        stats = record_sightings(
            db,
            [
                Sighting(
                    company, "domain", "vpn.lid.test", "ct", {"certificates": [{"crt_id": 7}]}
                ),
                Sighting(company, "ip", "192.0.2.44", "dns", {"spf": "ip4:192.0.2.44"}),
            ],
        )
    vpn, cam = stats.proposed
    return vpn, cam


def _state(world: World, host_id: int) -> str:
    with session_scope(world.engine) as db:
        row = db.get(DiscoveredHost, host_id)
        assert row is not None
        return row.state


def test_the_meldpunt_confirms_and_rejects(world: World) -> None:
    vpn, cam = _propose(world)
    client = world.meldpunt_client()
    page = client.get("/meldpunt/discovery")
    assert page.status_code == 200
    assert "vpn.lid.test" in page.text and "certificaatregistratie" in page.text
    assert "SPF ip4:192.0.2.44" in page.text
    csrf = csrf_of(page.text)

    done = client.post(f"/meldpunt/discovery/{vpn}/confirm", data={"csrf": csrf})
    assert done.status_code == 303
    assert _state(world, vpn) == "confirmed"
    with session_scope(world.engine) as db:
        target = db.exec(select(Target).where(Target.value == "vpn.lid.test")).one()
    assert target.origin == "discovered"
    client.post(f"/meldpunt/discovery/{cam}/reject", data={"csrf": csrf})
    assert _state(world, cam) == "rejected"
    after = client.get(done.headers["location"])
    assert "Bevestigd: vpn.lid.test" in after.text
    assert 'data-host="192.0.2.44"' not in after.text  # decided: off the list


def test_without_the_token_or_as_a_company_nothing_changes(world: World) -> None:
    vpn, _ = _propose(world)
    client = world.meldpunt_client()
    assert client.post(f"/meldpunt/discovery/{vpn}/confirm", data={"csrf": "x"}).status_code == 403
    company = world.company_client(COMPANIES[0])
    page = company.get("/meldpunt/discovery")
    assert page.status_code == 403
    csrf = csrf_of(company.get("/report").text)
    refused = company.post(f"/meldpunt/discovery/{vpn}/confirm", data={"csrf": csrf})
    assert refused.status_code == 403
    anonymous = world.client()
    assert anonymous.get("/meldpunt/discovery").status_code == 303  # to the log-in
    assert _state(world, vpn) == "proposed"
    unknown = client.post(
        "/meldpunt/discovery/999/reject",
        data={"csrf": csrf_of(client.get("/meldpunt/discovery").text)},
    )
    assert unknown.status_code == 404


def test_a_company_says_not_ours_and_the_meldpunt_decides(world: World) -> None:
    vpn, cam = _propose(world)
    meldpunt = world.meldpunt_client()
    csrf = csrf_of(meldpunt.get("/meldpunt/discovery").text)
    meldpunt.post(f"/meldpunt/discovery/{vpn}/confirm", data={"csrf": csrf})

    company = world.company_client(COMPANIES[0])
    report = company.get("/report")
    assert 'href="/report/hosts"' in report.text
    page = company.get("/report/hosts")
    assert page.status_code == 200
    assert "vpn.lid.test" in page.text and "192.0.2.44" not in page.text  # only confirmed ones
    token = csrf_of(page.text)
    sent = company.post(
        f"/report/hosts/{vpn}/not-ours", data={"csrf": token, "note": "van de buren"}
    )
    assert sent.status_code == 303
    assert "Doorgegeven" in company.get(sent.headers["location"]).text
    # a proposed host, or someone else's, cannot be disputed
    assert company.post(f"/report/hosts/{cam}/not-ours", data={"csrf": token}).status_code == 404
    other = world.company_client(COMPANIES[1])
    other_token = csrf_of(other.get("/report").text)
    assert (
        other.post(f"/report/hosts/{vpn}/not-ours", data={"csrf": other_token}).status_code == 404
    )
    assert company.post(f"/report/hosts/{vpn}/not-ours", data={"csrf": "x"}).status_code == 403

    listing = meldpunt.get("/meldpunt/discovery").text
    assert 'id="disputed"' in listing and "van de buren" in listing
    meldpunt.post(f"/meldpunt/discovery/{vpn}/reject", data={"csrf": csrf})
    assert _state(world, vpn) == "rejected"
    assert 'id="disputed"' not in meldpunt.get("/meldpunt/discovery").text


def test_what_a_scanned_record_or_the_link_says_is_escaped(world: World) -> None:
    with session_scope(world.engine) as db:
        record_sightings(
            db,
            [Sighting(COMPANIES[0], "ip", "192.0.2.45", "dns", {"spf": "<script>x()</script>"})],
        )
    client = world.meldpunt_client()
    page = client.get("/meldpunt/discovery", params={"done": "<img src=x onerror=y()>"})
    assert page.status_code == 200
    assert "<script>x()</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text
