"""The exports for the ICT partner: the JSON validates against its schema; the CSV matches it."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest

from exposure.store.db import session as session_scope
from reports import export
from reports.export import FINDING_FIELDS
from tests.reports import sample
from tests.reports.sample import SPECS, SampleArea

VALIDATOR = jsonschema.Draft202012Validator(
    export.schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def document(area: SampleArea, company_id: str, language: str = "nl") -> dict:
    with session_scope(area.engine) as session:
        data = export.company_document(session, company_id, SPECS, language)
    # through text, as the partner receives it
    return json.loads(export.to_json(data))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(export.schema())


@pytest.mark.parametrize(
    "company_id",
    [sample.FISH, sample.SHIPYARD, sample.BAKERY, sample.HOSTILE, sample.NEVER_SCANNED, sample.TUG],
)
def test_every_export_validates(area: SampleArea, company_id: str) -> None:
    VALIDATOR.validate(document(area, company_id))


def test_the_schema_rejects_what_breaks_the_promise(area: SampleArea) -> None:
    good = document(area, sample.FISH)
    broken = json.loads(json.dumps(good))
    broken["findings"][0]["severity"] = "urgent"
    assert not VALIDATOR.is_valid(broken)
    renamed = json.loads(json.dumps(good))
    renamed["findings"][0]["check"] = renamed["findings"][0].pop("check_id")
    assert not VALIDATOR.is_valid(renamed)
    no_z = json.loads(json.dumps(good))
    no_z["generated_at"] = no_z["generated_at"].rstrip("Z")
    assert not VALIDATOR.is_valid(no_z)


def test_the_schema_and_the_code_name_the_same_fields() -> None:
    finding = export.schema()["$defs"]["finding"]
    assert tuple(finding["required"]) == FINDING_FIELDS
    assert set(finding["properties"]) == set(FINDING_FIELDS)


def test_the_document_has_grade_actions_and_all_findings(area: SampleArea) -> None:
    data = document(area, sample.BAKERY)
    assert data["company"] == {"id": sample.BAKERY, "name": "Bakkerij Dé Haven", "sector": "food"}
    assert data["score"]["points"] == 83 and data["score"]["grade"] == "B"
    assert [a["rank"] for a in data["actions"]] == list(range(1, len(data["actions"]) + 1))
    statuses = [f["status"] for f in data["findings"]]
    assert statuses == sorted(statuses, key=["open", "accepted", "resolved"].index)
    assert statuses[-1] == "resolved"  # the fixed certificate: the partner sees what was fixed
    expired = data["findings"][-1]
    assert expired["check_id"] == "tls.cert.expired" and expired["resolved_at"].endswith("Z")
    assert expired["theme"] == "website" and expired["effort"] == "low"
    assert expired["title"] == "Het certificaat van uw website is verlopen"


def test_the_words_follow_the_language(area: SampleArea) -> None:
    data = document(area, sample.BAKERY, "en")
    assert data["language"] == "en"
    assert data["findings"][-1]["title"] == "Your website's certificate has expired"


def test_a_company_never_scanned_has_no_score(area: SampleArea) -> None:
    data = document(area, sample.NEVER_SCANNED)
    assert data["score"] is None and data["scanned_at"] is None
    assert data["findings"] == [] and data["actions"] == []


def test_the_csv_has_one_row_per_finding_with_the_json_fields(area: SampleArea) -> None:
    with session_scope(area.engine) as session:
        text = export.company_csv(session, sample.FISH, SPECS)
    rows = list(csv.DictReader(io.StringIO(text)))
    data = document(area, sample.FISH)
    assert len(rows) == len(data["findings"])
    assert [r["fingerprint"] for r in rows] == [f["fingerprint"] for f in data["findings"]]
    assert json.loads(rows[0]["evidence"]) == data["findings"][0]["evidence"]
    assert text.endswith("\r\n")
