"""The check contract: what a check declares, what it is handed, and what it hands back.

A check never touches the database, never sends mail and never renders text for people. It looks,
and it says what it saw as `Observation`s. Two outcomes are kept strictly apart (sslyze's
distinction): a `FindingCandidate` says "this problem is there"; a `CheckFailure` says "I could
not decide" (timeout, refused, rate-limited, a bug). A failure is never a finding and never a pass:
the store keeps the findings it covers untouched instead of resolving them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from exposure.catalogue import Theme
from exposure.severity import Severity
from exposure.text import Text

if TYPE_CHECKING:
    from exposure.memo import RunMemo
    from exposure.net.dns import Resolver
    from exposure.scan.limits import Limits
    from exposure.settings import Settings
    from exposure.sources.shodan import ShodanSource

JSON = Any  # small JSON-serialisable values only: str, int, float, bool, None, lists, dicts


class TargetKind(StrEnum):
    """What a target is, and so which checks apply to it (`CheckMeta.target_kinds`)."""

    DOMAIN = "domain"  # a registered domain from the member list: mail, DNS, site, security.txt
    IP = "ip"
    NETWORK = "network"
    # One host name found by discovery and confirmed (`vpn.haven.nl`): a machine, not an
    # organisation's domain. Its website and devices are the member's; mail, DNS and security.txt
    # live on the registered domain, so a host gets only the checks that look at the host itself.
    HOST = "host"


class Effort(StrEnum):
    """Rough effort of the fix, used to rank "do these first" after severity."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Source(StrEnum):
    """What a check talks to; declared so that an operator knows what a check costs."""

    DNS = "dns"
    HTTP = "http"
    TLS = "tls"
    SMTP = "smtp"
    SHODAN = "shodan"


#: The longest technical line a finding keeps (`FindingCandidate.detail`).
DETAIL_MAX = 500


@dataclass(frozen=True, slots=True)
class FindingSpec:
    """Metadata of one catalogue id, kept next to the check that emits it (prowler's model).

    `risk` says what the problem means for the business, `remediation` what to do, and
    `technical` what to forward to the IT supplier. All of it in Dutch and English.
    """

    id: str
    severity: Severity
    title: Text
    risk: Text
    remediation: Text
    technical: Text
    effort: Effort = Effort.MEDIUM
    theme: Theme | None = None  # defaults to the catalogue's theme

    def candidate(
        self,
        subject: str,
        evidence: Mapping[str, JSON] | None = None,
        *,
        detail: str = "",
        discriminator: str = "",
        severity: Severity | None = None,
    ) -> FindingCandidate:
        """This finding, seen on `subject`. The id and severity come from the spec, so a check
        cannot pair an id with a severity its metadata does not declare; `severity` is for an
        escalation the check documents (a camera seen live, a critical CVE). The technical line
        is capped (`DETAIL_MAX`): it comes from what a server said."""
        return FindingCandidate(
            check_id=self.id,
            subject=subject,
            severity=self.severity if severity is None else severity,
            evidence=dict(evidence or {}),
            discriminator=discriminator,
            detail=detail[:DETAIL_MAX],
        )


@dataclass(frozen=True, slots=True)
class CodeText:
    """Plain words for one code a check puts in a finding's evidence.

    Some findings carry a list of finer-grained codes (the RFC 9116 errors of an invalid
    security.txt, the reason a file counts as missing). Reports must explain each of them to a
    shop owner without importing the check, so the words travel in the check's metadata:
    `text` says what is wrong, `fix` is one line saying what to do, `reference` names the rule
    (an RFC section) for the IT supplier.
    """

    code: str
    text: Text
    fix: Text
    reference: str = ""


@dataclass(frozen=True, slots=True)
class CheckMeta:
    id: str  # the family id, e.g. "tls"; every finding id it emits starts with a catalogue prefix
    title: Text
    description: Text
    target_kinds: frozenset[TargetKind]
    sources: frozenset[Source]
    findings: tuple[FindingSpec, ...]
    passive: bool = True
    version: str = "1"
    codes: tuple[CodeText, ...] = ()  # words for the evidence codes of its findings, if any
    # What the check wants from work that several checks share (e.g. the site visit of
    # `checks._site`: "site" for a check that visits every site anyway, "security.txt" for one
    # that would like the file fetched on that visit's connection). The names belong to the
    # shared code, not to the engine: the engine only gathers them for the run (`CheckContext.wants`).
    wants: frozenset[str] = frozenset()
    # The check waits for a paced source (Shodan's REST API: one request a second per key), so
    # its answers may queue well past `check_timeout` through no fault of anyone's. The
    # orchestrator then bounds it by the run's deadline (`CheckContext.deadline`) instead of
    # `check_timeout`; the check keeps its own work (DNS, a request in flight, a source that
    # stopped answering) within `check_timeout` itself.
    paced: bool = False
    # Sources the check can do without, each with the finding ids that rest on it alone: when our
    # own view through such a source is down (outbound port 25 blocked, or switched off with
    # `smtp_probes = false`), the check still runs, leaves exactly these ids "could not test",
    # and decides the rest (the mail family's SPF and DMARC need no SMTP session). A source in
    # `sources` but not here is all or nothing: without it the family is not started.
    partial: Mapping[Source, frozenset[str]] = field(default_factory=dict)

    @property
    def hard_sources(self) -> frozenset[Source]:
        """The sources without which the check cannot run at all."""
        return self.sources - frozenset(self.partial)

    def code_text(self, code: str) -> CodeText | None:
        """The words for an evidence code of this family (None: the family has no such code)."""
        for entry in self.codes:
            if entry.code == code:
                return entry
        return None

    def finding(self, finding_id: str) -> FindingSpec:
        for spec in self.findings:
            if spec.id == finding_id:
                return spec
        raise KeyError(f"check {self.id!r} does not declare finding {finding_id!r}")

    @property
    def finding_ids(self) -> frozenset[str]:
        return frozenset(spec.id for spec in self.findings)


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """A registered target as a check sees it (a value, no database row)."""

    company_id: str
    kind: TargetKind
    value: str  # canonical: IDNA A-label domain, normalised IP or CIDR
    display: str = ""  # what a person reads (the Unicode U-label for IDN domains)
    id: int | None = None  # the store's target id, where it has one

    @property
    def label(self) -> str:
        return self.display or self.value


@dataclass(frozen=True, slots=True)
class FindingCandidate:
    """ "This problem is there", as seen by one check on one target in one run.

    `subject` is what the problem sits on (a host name, an IP, `host:port`, an MX host); it is
    the target that reports show. `discriminator` separates several findings of the same id on
    the same subject (a port, an IP address of a multi-homed host).
    """

    check_id: str
    subject: str
    severity: Severity
    evidence: Mapping[str, JSON] = field(default_factory=dict)
    discriminator: str = ""
    detail: str = ""  # one short technical line for the IT supplier (English)


class FailureReason(StrEnum):
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    RATE_LIMITED = "rate_limited"
    DNS_ERROR = "dns_error"
    PROTOCOL = "protocol_error"
    OUT_OF_SCOPE = "out_of_scope"  # e.g. private address space without allow_private
    UNAVAILABLE = "source_unavailable"  # e.g. Shodan key invalid or credits exhausted
    DEADLINE = "deadline"
    LOCAL_LIMIT = "local_limit"  # a limit of ours (size, memory, own time budget): no verdict
    BUG = "bug"


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """ "I could not decide". Covers `finding_ids` (all of the check's ids when empty)."""

    reason: FailureReason
    message: str
    subject: str = ""
    finding_ids: frozenset[str] = frozenset()


Observation = FindingCandidate | CheckFailure


@dataclass(frozen=True, slots=True)
class CheckContext:
    """The shared clients a check is handed. Built once per run by the orchestrator.

    No module keeps a client in a global: whatever talks to the network arrives here, so that
    tests and the testbed hand in their own.
    """

    settings: Settings
    dns: Resolver
    limits: Limits
    memo: RunMemo
    now: datetime  # the run's clock: one instant for a whole run, so verdicts are consistent
    # DNSSEC-aware resolver (dnspython, DO+CD: answers carry their RRSIGs); None: not available
    dnssec: Resolver | None = None
    # Shodan (InternetDB + REST API): rate limit, run memo and cache across runs; None: none
    shodan: ShodanSource | None = None
    # What this run's checks want from shared work (the union of their `CheckMeta.wants`), so that
    # shared work asks, in one go, for what a later check will need. Empty: unknown, every check
    # fetches for itself.
    wants: frozenset[str] = frozenset()
    # When the run ends (the event loop's clock, `loop.time()`): what a `paced` check may wait
    # for. None: not known (a distributed job), every check keeps to `check_timeout`.
    deadline: float | None = None
    # Our own sources that are down in this run, with the cause (failed, or switched off by a
    # setting); live: a source that fails mid-run shows up here. A check asks it before using a
    # source of its `CheckMeta.partial` and then reports those ids as could-not-test.
    down: Mapping[Source, str] = field(default_factory=dict)

    def port(self, service: str) -> int:
        return self.settings.port(service)


@runtime_checkable
class Check(Protocol):
    meta: ClassVar[CheckMeta]

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]: ...


def wants_of(checks: Iterable[Check]) -> frozenset[str]:
    """What a run's checks want from shared work, together (`CheckContext.wants`)."""
    return frozenset().union(*(check.meta.wants for check in checks))


def fingerprint(check_id: str, company_id: str, subject: str, discriminator: str = "") -> str:
    """The stable identity of a finding across runs (DESIGN.md: Finding)."""
    raw = "\x1f".join(
        (check_id, company_id, subject.strip().lower(), discriminator.strip().lower())
    )
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
