"""Bilingual text. Every word a company reads exists in Dutch (the default) and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")


@dataclass(frozen=True, slots=True)
class Text:
    nl: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.nl

    def complete(self) -> bool:
        return bool(self.nl.strip()) and bool(self.en.strip())
