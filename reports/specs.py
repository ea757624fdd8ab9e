"""The words and facts per finding id, as reports need them, from the installed checks.

Reports never import checks (DESIGN.md): a finding's title, risk, remediation, technical text,
effort and theme come from each check's `FindingSpec` through the registry. This wrapper adds
what a report needs on top: a fallback for a finding whose check is no longer installed (it is
still in the store and must still be reported, in plain words), the catalogue's theme when a
spec names none, and which themes the installed checks test at all ("not tested" is not "no
problems").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from exposure.catalogue import CATALOGUE, Theme
from exposure.contract import Effort, FindingSpec
from exposure.registry import Registry
from exposure.text import Text
from reports.codes import CodeBook, code_book

FALLBACK_RISK = Text(
    "Uw IT-leverancier kan u uitleggen wat dit betekent voor uw bedrijf.",
    "Your IT supplier can explain what this means for your business.",
)
FALLBACK_REMEDIATION = Text(
    "Vraag uw IT-leverancier om dit te bekijken; de technische bijlage heeft de details.",
    "Ask your IT supplier to look at this; the technical appendix has the details.",
)


@dataclass(frozen=True, slots=True)
class Specs:
    """FindingSpecs by id, the check family of each id, and each family's title."""

    by_id: Mapping[str, FindingSpec] = field(default_factory=dict)
    family_of: Mapping[str, str] = field(default_factory=dict)
    family_titles: Mapping[str, Text] = field(default_factory=dict)
    # Which target kinds (domain, ip, network) each family applies to: what "tested" can mean.
    family_kinds: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Words and one-line fixes for the codes in a finding's evidence (`reports.codes`).
    codes: CodeBook = field(default_factory=dict)

    @classmethod
    def from_registry(cls, registry: Registry) -> Specs:
        return cls(
            by_id=registry.specs(),
            family_of=registry.family_of(),
            family_titles={check.meta.id: check.meta.title for check in registry.checks},
            family_kinds={
                check.meta.id: frozenset(str(k) for k in check.meta.target_kinds)
                for check in registry.checks
            },
            codes=code_book(registry),
        )

    @classmethod
    def of(
        cls, *specs: FindingSpec, family: str = "test", kinds: tuple[str, ...] = ("domain",)
    ) -> Specs:
        """Specs without a registry (tests, tools): all in one family."""
        return cls(
            by_id={s.id: s for s in specs},
            family_of={s.id: family for s in specs},
            family_titles={family: Text(family, family)},
            family_kinds={family: frozenset(kinds)},
        )

    def families(self) -> frozenset[str]:
        return frozenset(self.family_of.values())

    def kinds_of_family(self, family: str) -> frozenset[str]:
        """The target kinds a family applies to (a family the registry does not describe:
        domains, which every topic but devices is about)."""
        return self.family_kinds.get(family, frozenset({"domain"}))

    def families_of_theme(self, theme: Theme) -> tuple[str, ...]:
        """The installed families that can report on a topic, in a stable order."""
        return tuple(sorted({f for i, f in self.family_of.items() if self.theme(i) is theme}))

    def spec(self, check_id: str) -> FindingSpec | None:
        return self.by_id.get(check_id)

    def theme(self, check_id: str) -> Theme | None:
        spec = self.by_id.get(check_id)
        if spec is not None and spec.theme is not None:
            return spec.theme
        entry = CATALOGUE.get(check_id)
        return entry.theme if entry is not None else None

    def effort(self, check_id: str) -> Effort:
        spec = self.by_id.get(check_id)
        return spec.effort if spec is not None else Effort.MEDIUM

    def efforts(self) -> dict[str, Effort]:
        return {check_id: spec.effort for check_id, spec in self.by_id.items()}

    def title(self, check_id: str, language: str, stored: str = "") -> str:
        """The spec's title; else the title stored with the finding; else the id itself."""
        spec = self.by_id.get(check_id)
        if spec is not None:
            return spec.title.get(language)
        return stored.strip() or check_id

    def risk(self, check_id: str, language: str) -> str:
        spec = self.by_id.get(check_id)
        return (spec.risk if spec is not None else FALLBACK_RISK).get(language)

    def remediation(self, check_id: str, language: str) -> str:
        spec = self.by_id.get(check_id)
        return (spec.remediation if spec is not None else FALLBACK_REMEDIATION).get(language)

    def technical(self, check_id: str, language: str) -> str:
        spec = self.by_id.get(check_id)
        return spec.technical.get(language) if spec is not None else ""

    def tested_themes(self) -> frozenset[Theme]:
        """The themes at least one installed check covers."""
        return frozenset(t for t in (self.theme(i) for i in self.by_id) if t is not None)

    def ids_of_family(self, family: str) -> frozenset[str]:
        return frozenset(i for i, f in self.family_of.items() if f == family)

    def family_title(self, family: str, language: str) -> str:
        title = self.family_titles.get(family)
        return title.get(language) if title is not None else family
