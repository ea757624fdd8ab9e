"""Check discovery through the `exposure.checks` entry points.

The engine never imports a check by name: a family ships as an entry point, and whatever is
installed is what runs. The metadata rules live here so that the contract test, `exposure checks`
and the orchestrator all apply the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points

from exposure.catalogue import CATALOGUE
from exposure.contract import Check, CheckMeta, CodeText, FindingSpec

GROUP = "exposure.checks"


class RegistryError(RuntimeError):
    """A registered check breaks the contract; the message names the check and the rule."""


@dataclass(frozen=True, slots=True)
class Registry:
    checks: tuple[Check, ...]

    def select(self, prefixes: Sequence[str] | None) -> tuple[Check, ...]:
        """Checks whose family id or one of whose finding ids starts with a prefix."""
        if not prefixes:
            return self.checks
        chosen = [c for c in self.checks if _matches(c.meta, prefixes)]
        if not chosen:
            known = ", ".join(sorted(c.meta.id for c in self.checks))
            raise RegistryError(f"no check matches {', '.join(prefixes)} (checks: {known})")
        return tuple(chosen)

    def specs(self) -> dict[str, FindingSpec]:
        return {spec.id: spec for check in self.checks for spec in check.meta.findings}

    def family_of(self) -> dict[str, str]:
        return {spec.id: check.meta.id for check in self.checks for spec in check.meta.findings}

    def code_text(self, finding_id: str, code: str) -> CodeText | None:
        """The words for an evidence code of a finding (see `CodeText`), through its family."""
        for check in self.checks:
            if finding_id in check.meta.finding_ids:
                return check.meta.code_text(code)
        return None


def _matches(meta: CheckMeta, prefixes: Sequence[str]) -> bool:
    names = [meta.id, *meta.finding_ids]
    return any(n == p or n.startswith(p.rstrip(".") + ".") for p in prefixes for n in names)


def validate(checks: Iterable[Check]) -> list[str]:
    """Every contract rule a set of checks breaks, as readable lines (empty when all is well)."""
    problems: list[str] = []
    families: set[str] = set()
    seen_ids: dict[str, str] = {}
    for check in checks:
        meta = getattr(check, "meta", None)
        if not isinstance(meta, CheckMeta):
            problems.append(f"{type(check).__name__}: has no CheckMeta `meta`")
            continue
        where = f"check {meta.id!r}"
        if meta.id in families:
            problems.append(f"{where}: family id registered twice")
        families.add(meta.id)
        if not meta.passive:
            problems.append(f"{where}: not passive; only passive checks ship")
        if not meta.target_kinds:
            problems.append(f"{where}: applies to no target kind")
        if not meta.findings:
            problems.append(f"{where}: declares no findings")
        for source, ids in meta.partial.items():
            if source not in meta.sources:
                problems.append(f"{where}: partial source {source.value!r} is not in its sources")
            unknown = sorted(set(ids) - meta.finding_ids)
            if unknown:
                problems.append(f"{where}: partial ids it does not declare: {', '.join(unknown)}")
        for label, text in (("title", meta.title), ("description", meta.description)):
            if not text.complete():
                problems.append(f"{where}: {label} lacks Dutch or English text")
        codes_seen: set[str] = set()
        for code in meta.codes:
            if code.code in codes_seen:
                problems.append(f"{where}: evidence code {code.code!r} declared twice")
            codes_seen.add(code.code)
            for label in ("text", "fix"):
                if not getattr(code, label).complete():
                    problems.append(f"{where}: code {code.code!r}: {label} lacks Dutch or English")
        for spec in meta.findings:
            if spec.id in seen_ids:
                problems.append(
                    f"{where}: finding {spec.id!r} also declared by {seen_ids[spec.id]!r}"
                )
            seen_ids[spec.id] = meta.id
            entry = CATALOGUE.get(spec.id)
            if entry is None:
                problems.append(f"{where}: finding {spec.id!r} is not in the catalogue")
                continue
            if spec.severity != entry.severity:
                problems.append(
                    f"{where}: finding {spec.id!r} has default severity {spec.severity}, "
                    f"the catalogue says {entry.severity}"
                )
            for label in ("title", "risk", "remediation", "technical"):
                if not getattr(spec, label).complete():
                    problems.append(f"{where}: finding {spec.id!r}: {label} lacks Dutch or English")
        if not callable(getattr(check, "run", None)):
            problems.append(f"{where}: has no run()")
    return problems


def load(group: str = GROUP) -> Registry:
    """Instantiate every registered check, refusing a set that breaks the contract."""
    checks: list[Check] = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            cls = ep.load()
            checks.append(cls())
        except Exception as exc:
            raise RegistryError(
                f"check entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
            ) from exc
    problems = validate(checks)
    if problems:
        raise RegistryError("; ".join(problems))
    return Registry(tuple(sorted(checks, key=lambda c: c.meta.id)))
