"""MTA-STS (RFC 8461): the `_mta-sts` record, the policy behind it, and whether it covers the MX.

A domain with MTA-STS tells sending servers: "deliver to me only over TLS with a valid
certificate, and only to these hosts". It takes two parts: a TXT record at `_mta-sts.<domain>`
(`v=STSv1; id=...`) and a policy file at `https://mta-sts.<domain>/.well-known/mta-sts.txt`.
Senders fetch the policy over HTTPS with a valid certificate, without following redirects
(section 3.3), as `text/plain`; they ignore a policy they cannot fetch or parse, and one whose
`mx` patterns do not match the MX hosts stops mail from being delivered at all in `enforce` mode.

Verdicts: no record is `mail.mta_sts.missing`; a record in `mode: none` too (the policy is
withdrawn: senders treat the domain as having none). A record whose policy is missing,
unreachable for good (refused, no address, bad certificate, a redirect, not 200, not text/plain,
over 64 KiB), malformed, or does not cover every MX host is `mail.mta_sts.invalid`. A fetch that
timed out or was reset decides nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from exposure.contract import FailureReason
from exposure.net.dns import DnsStatus, normalise_name
from exposure.net.http import FetchError, FetchResult, fetch

if TYPE_CHECKING:
    from exposure.contract import CheckContext

MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 section 3.3: senders may refuse a larger policy
MAX_AGE_LIMIT = 31_557_600  # section 3.2: at most about a year
POLICY_PATH = "/.well-known/mta-sts.txt"
_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")
_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}\Z")
_MX_PATTERN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9\-]*[a-z0-9])?\.)+[a-z0-9\-]*[a-z0-9]\Z")

#: Fetch errors that say "senders cannot get this policy" (as opposed to "try again").
_DEFINITE = frozenset(
    {
        FetchError.REFUSED,
        FetchError.NO_ADDRESS,
        FetchError.TLS,
        FetchError.CERTIFICATE,
        FetchError.PROTOCOL,
        FetchError.TOO_MANY_REDIRECTS,
        FetchError.BAD_REDIRECT,
        FetchError.INSECURE_REDIRECT,
        FetchError.BAD_URL,
    }
)


class StsSyntaxError(ValueError):
    pass


class StsStatus(StrEnum):
    MISSING = "missing"  # no record
    WITHDRAWN = "withdrawn"  # a policy in mode none
    VALID = "valid"
    INVALID = "invalid"
    TEMPERROR = "temperror"


@dataclass(frozen=True, slots=True)
class StsRecord:
    text: str
    id: str


@dataclass(frozen=True, slots=True)
class StsPolicy:
    mode: str
    mx: tuple[str, ...]
    max_age: int
    text: str

    def covers(self, host: str) -> bool:
        return any(mx_matches(pattern, host) for pattern in self.mx)


def is_sts_record(text: str) -> bool:
    return text == "v=STSv1" or bool(re.match(r"v=STSv1[ \t]*;", text))


def parse_record(text: str) -> StsRecord:
    """`v=STSv1; id=<1-32 alphanumerics>` plus optional extensions (section 3.1)."""
    parts = [p.strip(" \t") for p in text.split(";")]
    if parts and not parts[-1]:
        parts = parts[:-1]
    if not parts or parts[0] != "v=STSv1":
        raise StsSyntaxError("the record does not start with v=STSv1")
    fields: dict[str, str] = {}
    for part in parts[1:]:
        name, eq, value = part.partition("=")
        if not eq or not _FIELD_NAME.match(name):
            raise StsSyntaxError(f"{part!r} is not a field=value pair")
        if name in fields:
            raise StsSyntaxError(f"the {name} field is given twice")
        fields[name] = value
    if "id" not in fields:
        raise StsSyntaxError("the record has no id")
    if not _ID.match(fields["id"]):
        raise StsSyntaxError(f"id={fields['id']!r}: must be 1 to 32 letters and digits")
    return StsRecord(text, fields["id"])


def parse_policy(text: str) -> StsPolicy:
    """The policy file (section 3.2): `key: value` lines; version, mode, max_age, mx."""
    version = mode = None
    max_age: int | None = None
    mx: list[str] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon:
            raise StsSyntaxError(f"line {number}: {_clip(line)!r} is not 'key: value'")
        if key == "version":
            version = value
        elif key == "mode":
            mode = value
        elif key == "max_age":
            if not value.isdigit() or int(value) > MAX_AGE_LIMIT:
                raise StsSyntaxError(f"max_age {value!r}: a number of seconds up to a year")
            max_age = int(value)
        elif key == "mx":
            pattern = value.lower().rstrip(".")
            if not _MX_PATTERN.match(pattern):
                raise StsSyntaxError(f"mx {_clip(value)!r} is not a host name or *.pattern")
            mx.append(pattern)
    if version != "STSv1":
        raise StsSyntaxError("the policy has no 'version: STSv1'")
    if mode not in ("enforce", "testing", "none"):
        raise StsSyntaxError(f"mode {mode!r}: must be enforce, testing or none")
    if max_age is None:
        raise StsSyntaxError("the policy has no max_age")
    if mode != "none" and not mx:
        raise StsSyntaxError("the policy lists no mx")
    return StsPolicy(mode, tuple(mx), max_age, text)


def mx_matches(pattern: str, host: str) -> bool:
    """Section 4.1: exact match, or `*.example.nl` for exactly one more left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


def _clip(text: str, limit: int = 80) -> str:
    return text[:limit]


@dataclass(frozen=True, slots=True)
class StsResult:
    domain: str
    status: StsStatus
    records: tuple[str, ...] = ()
    record: StsRecord | None = None
    policy: StsPolicy | None = None
    uncovered: tuple[str, ...] = ()
    message: str = ""
    fetch: dict[str, Any] | None = None
    reason: FailureReason | None = None  # for TEMPERROR

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"domain": self.domain, "status": str(self.status)}
        if self.records:
            data["record" if len(self.records) == 1 else "records"] = (
                self.records[0] if len(self.records) == 1 else list(self.records)
            )
        if self.policy is not None:
            data["policy"] = {
                "mode": self.policy.mode,
                "mx": list(self.policy.mx),
                "max_age": self.policy.max_age,
            }
        if self.uncovered:
            data["mx_not_covered"] = list(self.uncovered)
        if self.fetch:
            data["fetch"] = self.fetch
        if self.message:
            data["message"] = self.message
        return data


async def check_mta_sts(ctx: CheckContext, domain: str, mx_hosts: Sequence[str]) -> StsResult:
    """The MTA-STS verdict of a mail domain whose MX hosts are `mx_hosts`."""
    domain = normalise_name(domain)
    name = f"_mta-sts.{domain}"
    answer = await ctx.dns.resolve(name, "TXT")
    if not answer.decisive:
        return StsResult(
            domain,
            StsStatus.TEMPERROR,
            message=f"TXT look-up of {name} failed: {answer.status}",
            reason=FailureReason.DNS_ERROR,
        )
    texts = [t for t in answer.texts if is_sts_record(t)] if answer.status is DnsStatus.OK else []
    if not texts:
        return StsResult(domain, StsStatus.MISSING)
    records = tuple(texts)
    if len(texts) > 1:
        return StsResult(
            domain,
            StsStatus.INVALID,
            records,
            message=f"{len(texts)} MTA-STS records at {name}: senders use none of them",
        )
    try:
        record = parse_record(texts[0])
    except StsSyntaxError as exc:
        return StsResult(domain, StsStatus.INVALID, records, message=f"{name}: {exc}")
    url = f"https://mta-sts.{domain}{POLICY_PATH}"
    result = await fetch(ctx, url, max_redirects=0, max_bytes=MAX_POLICY_BYTES + 1, verify=True)
    summary = result.evidence()
    if result.error is not None and result.error not in _DEFINITE:
        return StsResult(
            domain,
            StsStatus.TEMPERROR,
            records,
            record,
            message=f"could not fetch {url}: {result.detail}",
            fetch=summary,
            reason=result.failure_reason,
        )
    problem = _fetch_problem(result)
    if problem:
        return StsResult(domain, StsStatus.INVALID, records, record, message=problem, fetch=summary)
    try:
        policy = parse_policy(result.body.decode("utf-8", errors="replace"))
    except StsSyntaxError as exc:
        return StsResult(
            domain, StsStatus.INVALID, records, record, message=f"policy: {exc}", fetch=summary
        )
    if policy.mode == "none":
        return StsResult(domain, StsStatus.WITHDRAWN, records, record, policy, fetch=summary)
    uncovered = tuple(host for host in mx_hosts if not policy.covers(host))
    if uncovered:
        return StsResult(
            domain,
            StsStatus.INVALID,
            records,
            record,
            policy,
            uncovered,
            message="the policy's mx lines do not cover " + ", ".join(uncovered),
            fetch=summary,
        )
    return StsResult(domain, StsStatus.VALID, records, record, policy, fetch=summary)


def _fetch_problem(result: FetchResult) -> str:
    """Why senders cannot use what the fetch got ("" when they can)."""
    if result.error is FetchError.TOO_MANY_REDIRECTS:
        return f"{result.url} redirects (status {result.status}); senders do not follow redirects"
    if result.error is not None:
        return f"{result.url}: {result.detail or result.error}"
    if result.status != 200:
        return f"{result.url} answers {result.status}, not 200"
    if result.content_type != "text/plain":
        shown = result.content_type or "no Content-Type"
        return f"{result.url} is served as {shown}, not text/plain"
    if result.truncated or len(result.body) > MAX_POLICY_BYTES:
        return f"{result.url} is larger than {MAX_POLICY_BYTES // 1024} KiB"
    return ""
