"""Every registered check obeys the contract: metadata complete, ids unique and catalogued."""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import entry_points

import pytest

from exposure.catalogue import CATALOGUE
from exposure.contract import Check, CheckMeta, Source
from exposure.registry import GROUP, RegistryError, load, validate
from exposure.severity import Severity
from exposure.text import Text


def test_every_entry_point_loads_and_validates():
    registry = load()
    names = {ep.name for ep in entry_points(group=GROUP)}
    assert len(registry.checks) == len(names) >= 1
    for check in registry.checks:
        assert isinstance(check, Check)
        assert check.meta.passive
        for spec in check.meta.findings:
            assert spec.id in CATALOGUE
            assert spec.severity == CATALOGUE[spec.id].severity
            for label in ("title", "risk", "remediation", "technical"):
                text = getattr(spec, label)
                assert text.nl.strip() and text.en.strip(), (spec.id, label)
                assert text.nl != text.en, f"{spec.id} {label}: Dutch text is the English one"


def test_finding_ids_are_unique_across_checks():
    registry = load()
    ids = [spec.id for c in registry.checks for spec in c.meta.findings]
    assert len(ids) == len(set(ids))


def _one_check():
    return load().checks[0]


class _Wrapped:
    def __init__(self, meta: CheckMeta) -> None:
        self.meta = meta

    async def run(self, target, ctx):  # pragma: no cover - never run
        return []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: replace(m, passive=False), "not passive"),
        (lambda m: replace(m, target_kinds=frozenset()), "applies to no target kind"),
        (lambda m: replace(m, title=Text(nl="", en="x")), "title lacks Dutch"),
        (
            lambda m: replace(m, findings=(replace(m.findings[0], id="nope.unknown"),)),
            "not in the catalogue",
        ),
        (
            lambda m: replace(m, findings=(replace(m.findings[0], severity=Severity.CRITICAL),)),
            "the catalogue says",
        ),
        (
            lambda m: replace(m, findings=(replace(m.findings[0], risk=Text(nl="x", en="")),)),
            "risk lacks Dutch or English",
        ),
        (
            lambda m: replace(m, partial={Source.SHODAN: frozenset({m.findings[0].id})}),
            "is not in its sources",
        ),
        (
            lambda m: replace(m, partial={next(iter(m.sources)): frozenset({"mail.nope"})}),
            "partial ids it does not declare: mail.nope",
        ),
    ],
)
def test_validate_refuses_broken_metadata(change, message):
    good = _one_check()
    assert validate([good]) == []
    problems = validate([_Wrapped(change(good.meta))])
    assert any(message in p for p in problems), problems


def test_a_finding_declared_by_two_checks_is_refused():
    good = _one_check()
    twin = _Wrapped(replace(good.meta, id="other"))
    assert any("also declared by" in p for p in validate([good, twin]))


def test_load_refuses_a_broken_entry_point(monkeypatch):
    import exposure.registry as registry_module

    class BrokenEP:
        name = "broken"
        value = "nowhere:Nothing"

        def load(self):
            raise ImportError("No module named 'nowhere'")

    monkeypatch.setattr(registry_module, "entry_points", lambda group: [BrokenEP()])
    with pytest.raises(RegistryError, match=r"'broken'.*failed to load"):
        load()


def test_select_by_prefix():
    registry = load()
    assert registry.select(["target"]) == tuple(c for c in registry.checks if c.meta.id == "target")
    assert registry.select(["target.unresolvable"])
    with pytest.raises(RegistryError, match="no check matches"):
        registry.select(["nothing.like.this"])
