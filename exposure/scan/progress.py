"""How a run reports progress to whoever watches it: the protocol the orchestrator calls.

The bars for a person (a terminal, a log file) live in `exposure.app.progress`: the engine
reports, the faces draw.
"""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    def start(self, total: int, resumed: int = 0) -> None: ...
    def advance(self, company_id: str) -> None: ...
    def note(self, line: str) -> None: ...
    def close(self) -> None: ...


class NullProgress:
    def start(self, total: int, resumed: int = 0) -> None:
        pass

    def advance(self, company_id: str) -> None:
        pass

    def note(self, line: str) -> None:
        pass

    def close(self) -> None:
        pass
