"""DMARC (RFC 7489, with the clarifications of its successor RFC 9989): discovery and a strict parse.

Discovery (RFC 7489 section 6.6.3): the TXT records at `_dmarc.<domain>`, keeping those that
start with `v=DMARC1`; none there, the same at `_dmarc.<organisational domain>`, which the Public
Suffix List gives (a snapshot shipped in the `publicsuffixlist` package; nothing is downloaded at
run time). Several records at one name is an error: receivers then apply no DMARC at all.

Parsing is strict where a mistake changes what receivers do, and follows the RFCs where they
say a mistake is harmless:

- `v=DMARC1` must be the first tag (`v` in any case, `DMARC1` exactly), tags are `name=value`
  separated by `;`, a tag given twice is an error, unknown tags are ignored (noted);
- `p`, `sp`, `np` must be none/quarantine/reject, `t` y/n, `psd` y/n/u, and every `rua`/`ruf`
  entry a URI: otherwise the record is invalid;
- a missing `p` acts as `p=none` (RFC 9989; RFC 7489 agreed when `rua` was present), and a bad
  `adkim`/`aspf`/`fo` value falls back to its default (RFC 9989 section 4.8): noted, not invalid;
- so does a bad `pct` (not 0..100) or `ri` (not a number): RFC 7489 section 6.3 says "Syntax
  errors in the remainder of the record SHOULD be discarded in favor of default values (if any)
  or ignored outright", and RFC 9989 drops both tags, so receivers still apply `p=reject`. A
  record that "breaks" only there is no `mail.dmarc.invalid` (checkdmarc's suite agrees).

The effective policy is `p` for the domain's own record and `sp` (else `p`) for the record of
its organisational domain; `t=y` (RFC 9989's testing mode) and `pct=0` (RFC 7489: every message
gets the next lower policy) lower it one step: reject to quarantine, quarantine to none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from exposure.net.dns import DnsAnswer, DnsStatus, Resolver, normalise_name

_WSP = r"[ \t]"
_DMARC_START = re.compile(rf"[vV]{_WSP}*={_WSP}*DMARC1{_WSP}*(?:;|\Z)")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_TAG_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*\Z")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s!,]+(?:![0-9]+[kmgtKMGT]?)?\Z")
_MAILTO = re.compile(r"mailto:[^@\s]+@[^@\s!]+(?:![0-9]+[kmgtKMGT]?)?\Z", re.IGNORECASE)


class Policy(StrEnum):
    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"

    def lowered(self) -> Policy:
        return {
            Policy.REJECT: Policy.QUARANTINE,
            Policy.QUARANTINE: Policy.NONE,
            Policy.NONE: Policy.NONE,
        }[self]


class DmarcSyntaxError(ValueError):
    """A record receivers cannot use; the message says where."""


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """A parsed record. `p` is None when the tag is absent (it then acts as none)."""

    text: str
    tags: tuple[tuple[str, str], ...]
    p: Policy | None
    sp: Policy | None = None
    np: Policy | None = None
    pct: int = 100
    testing: bool = False  # t=y
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def effective(self, *, organisational: bool) -> tuple[Policy, str]:
        """The policy receivers apply to the domain, and how it came about.

        `organisational`: the record was found at the organisational domain, not at the
        domain itself (then `sp` applies when present).
        """
        if organisational and self.sp is not None:
            policy, how = self.sp, f"sp={self.sp}"
        elif self.p is not None:
            policy, how = self.p, f"p={self.p}"
        else:
            policy, how = Policy.NONE, "no p tag (acts as p=none)"
        if self.testing and policy is not Policy.NONE:
            lower = policy.lowered()
            return lower, f"{how}, lowered to {lower} by t=y"
        if self.pct == 0 and policy is not Policy.NONE:
            lower = policy.lowered()
            return lower, f"{how}, lowered to {lower} by pct=0"
        return policy, how

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in self.tags}


def is_dmarc(text: str) -> bool:
    """Starts with the version tag `v=DMARC1` (RFC 7489 section 6.6.3 discards the rest)."""
    return _DMARC_START.match(text) is not None


def select_dmarc(texts: Sequence[str]) -> list[str]:
    return [t for t in texts if is_dmarc(t)]


def _policy(tag: str, value: str) -> Policy:
    try:
        return Policy(value.strip().lower())
    except ValueError:
        raise DmarcSyntaxError(f"{tag}={value!r}: must be none, quarantine or reject") from None


def _uris(tag: str, value: str) -> tuple[str, ...]:
    uris = tuple(part.strip() for part in value.split(","))
    for uri in uris:
        if not uri or not _URI.match(uri):
            raise DmarcSyntaxError(f"{tag}: {uri!r} is not a URI (e.g. mailto:dmarc@example.nl)")
        if uri.lower().startswith("mailto:") and not _MAILTO.match(uri):
            raise DmarcSyntaxError(f"{tag}: {uri!r} is not a mail address")
    return uris


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse one record strictly (see the module docstring); raise `DmarcSyntaxError`."""
    if not is_dmarc(text):
        raise DmarcSyntaxError("the record does not start with v=DMARC1")
    tags: list[tuple[str, str]] = []
    seen: set[str] = set()
    notes: list[str] = []
    parts = text.split(";")
    if parts and not parts[-1].strip(" \t"):
        parts = parts[:-1]  # one trailing ';' is allowed
    for index, part in enumerate(parts):
        raw = part.strip(" \t")
        if not raw:
            raise DmarcSyntaxError(f"empty tag at position {index + 1}")
        name, eq, value = raw.partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        if not eq or not _TAG_NAME.match(name):
            raise DmarcSyntaxError(f"{raw!r} is not a tag=value pair")
        if not _TAG_VALUE.match(value):
            raise DmarcSyntaxError(f"{name}: the value has characters that are not allowed")
        key = name.lower()
        if key in seen:
            raise DmarcSyntaxError(f"the {key} tag is given more than once")
        seen.add(key)
        tags.append((key, value))
    values = dict(tags)
    p = _policy("p", values["p"]) if "p" in values else None
    if p is None:
        notes.append("no p tag: receivers apply p=none")
    sp = _policy("sp", values["sp"]) if "sp" in values else None
    np = _policy("np", values["np"]) if "np" in values else None
    pct = 100
    if "pct" in values:
        if values["pct"].isdigit() and int(values["pct"]) <= 100:
            pct = int(values["pct"])
        else:
            notes.append(
                f"pct={values['pct']!r} is not a number from 0 to 100: receivers use 100 "
                "(RFC 7489 section 6.3; RFC 9989 drops the tag)"
            )
    testing = False
    if "t" in values:
        if values["t"].lower() not in ("y", "n"):
            raise DmarcSyntaxError(f"t={values['t']!r}: must be y or n")
        testing = values["t"].lower() == "y"
    if "psd" in values and values["psd"].lower() not in ("y", "n", "u"):
        raise DmarcSyntaxError(f"psd={values['psd']!r}: must be y, n or u")
    if "ri" in values and not values["ri"].isdigit():
        notes.append(
            f"ri={values['ri']!r} is not a number of seconds: receivers use 86400 "
            "(RFC 7489 section 6.3; RFC 9989 drops the tag)"
        )
    rua = _uris("rua", values["rua"]) if "rua" in values else ()
    ruf = _uris("ruf", values["ruf"]) if "ruf" in values else ()
    for tag in ("adkim", "aspf"):
        if tag in values and values[tag].lower() not in ("r", "s"):
            notes.append(f"{tag}={values[tag]!r} is not r or s: receivers use r")
    if "fo" in values and any(
        option.strip().lower() not in ("0", "1", "d", "s") for option in values["fo"].split(":")
    ):
        notes.append(f"fo={values['fo']!r} has an unknown option: receivers use 0")
    known = {
        "v",
        "p",
        "sp",
        "np",
        "pct",
        "t",
        "psd",
        "rua",
        "ruf",
        "adkim",
        "aspf",
        "fo",
        "rf",
        "ri",
    }
    notes += [f"unknown tag {name!r} ignored" for name, _ in tags if name not in known]
    return DmarcRecord(text, tuple(tags), p, sp, np, pct, testing, rua, ruf, tuple(notes))


# --- discovery -----------------------------------------------------------------------------------


class DmarcStatus(StrEnum):
    MISSING = "missing"
    VALID = "valid"
    INVALID = "invalid"
    TEMPERROR = "temperror"


@dataclass(frozen=True, slots=True)
class DmarcResult:
    domain: str
    status: DmarcStatus
    location: str = ""  # the name the record was found at (`_dmarc.<...>`)
    organisational: bool = False  # found at the organisational domain (fallback)
    org_domain: str = ""
    records: tuple[str, ...] = ()
    parsed: DmarcRecord | None = None
    policy: Policy | None = None
    policy_how: str = ""
    message: str = ""
    asked: tuple[str, ...] = field(default_factory=tuple)
    #: Why a "missing" verdict is missing when something DMARC-like was seen (for the owner).
    why: tuple[str, ...] = ()

    @property
    def record(self) -> str:
        return self.records[0] if len(self.records) == 1 else ""

    @property
    def has_reports(self) -> bool:
        return self.parsed is not None and bool(self.parsed.rua)

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"domain": self.domain, "status": str(self.status)}
        if self.location:
            data["location"] = self.location
        if self.organisational:
            data["organisational_domain"] = self.org_domain
        if self.asked:
            data["asked"] = list(self.asked)
        if len(self.records) == 1:
            data["record"] = self.records[0]
        elif self.records:
            data["records"] = list(self.records)
        if self.parsed is not None:
            data["tags"] = self.parsed.as_dict()
            if self.parsed.notes:
                data["notes"] = list(self.parsed.notes)
        if self.policy is not None:
            data["policy"] = str(self.policy)
            data["policy_from"] = self.policy_how
        if self.message:
            data["message"] = self.message
        if self.why:
            data["why"] = list(self.why)
        return data


def _failed(answer: DnsAnswer) -> str:
    return f"TXT look-up of {answer.name} failed: {answer.status} ({answer.error or '-'})"


def _near_misses(location: str, answer: DnsAnswer) -> list[str]:
    """Records that would be DMARC but for leading white space: receivers discard them (RFC
    7489 section 6.6.3: a record must start with `v=DMARC1`), so the verdict is "missing", but
    the owner needs to hear which character to delete."""
    return [
        f"the TXT record {text!r} at {location} starts with white space: receivers ignore it"
        for text in answer.texts
        if not is_dmarc(text) and is_dmarc(text.lstrip())
    ]


async def _at_apex(resolver: Resolver, domain: str, org_domain: str) -> list[str]:
    """A `v=DMARC1` record published at the domain itself instead of `_dmarc.<domain>` has no
    effect (RFC 7489 section 6.1: receivers look at `_dmarc` only); say so. The apex TXT is the
    one the SPF check reads anyway, so a run's DNS cache answers it."""
    why: list[str] = []
    for name in dict.fromkeys((domain, org_domain)):
        answer = await resolver.resolve(name, "TXT")
        if answer.status is DnsStatus.OK and any(is_dmarc(t.lstrip()) for t in answer.texts):
            why.append(
                f"a v=DMARC1 record is published at {name} itself: receivers look for it "
                f"only at _dmarc.{name}, so it has no effect"
            )
    return why


async def discover(domain: str, resolver: Resolver, org_domain: str) -> DmarcResult:
    """Find and judge the DMARC policy that applies to `domain` (see the module docstring)."""
    domain = normalise_name(domain)
    org_domain = normalise_name(org_domain) or domain
    own = f"_dmarc.{domain}"
    answer = await resolver.resolve(own, "TXT")
    if not answer.decisive:
        return DmarcResult(domain, DmarcStatus.TEMPERROR, message=_failed(answer), asked=(own,))
    records = select_dmarc(answer.texts) if answer.status is DnsStatus.OK else []
    near_misses = _near_misses(own, answer)
    location, organisational = own, False
    asked: tuple[str, ...] = (own,)
    if not records and org_domain != domain:
        location, organisational = f"_dmarc.{org_domain}", True
        asked = (own, location)
        answer = await resolver.resolve(location, "TXT")
        if not answer.decisive:
            return DmarcResult(domain, DmarcStatus.TEMPERROR, message=_failed(answer), asked=asked)
        records = select_dmarc(answer.texts) if answer.status is DnsStatus.OK else []
        near_misses += _near_misses(location, answer)
    common: dict[str, Any] = {
        "organisational": organisational,
        "org_domain": org_domain,
        "asked": asked,
    }
    if not records:
        why = list(near_misses)
        why += await _at_apex(resolver, domain, org_domain)
        return DmarcResult(domain, DmarcStatus.MISSING, why=tuple(why), **common)
    if len(records) > 1:
        return DmarcResult(
            domain,
            DmarcStatus.INVALID,
            location=location,
            records=tuple(records),
            message=f"{len(records)} DMARC records at {location}: receivers apply none of them",
            **common,
        )
    try:
        parsed = parse_dmarc(records[0])
    except DmarcSyntaxError as exc:
        return DmarcResult(
            domain,
            DmarcStatus.INVALID,
            location=location,
            records=tuple(records),
            message=str(exc),
            **common,
        )
    policy, how = parsed.effective(organisational=organisational)
    return DmarcResult(
        domain,
        DmarcStatus.VALID,
        location=location,
        records=tuple(records),
        parsed=parsed,
        policy=policy,
        policy_how=how,
        **common,
    )
