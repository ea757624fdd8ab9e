"""SPF (RFC 7208): a strict parser and an asynchronous evaluator of the whole policy tree.

The scanner has no message and no sending IP, so it cannot run `check_host()`. What it can do,
and what receivers' verdicts depend on, is evaluate the policy the way `check_host()` would in
the worst case (no term matches before the end): walk every term in order, follow `include`
and `redirect`, and count what RFC 7208 section 4.6.4 limits: DNS-querying terms (include, a,
mx, ptr, exists, redirect; at most 10, nested records included, a repeated include counted each
time) and void look-ups (answers with no records: at most 2). Whatever makes a receiver return
`permerror` is `mail.spf.invalid`; a policy that lets everybody pass or stays neutral is
`mail.spf.permissive`; a DNS time-out anywhere is `temperror`, which decides nothing.

Parsing is pure and strict (section 4.6: a syntax error anywhere in the record, even after
`all`, is a permerror). Evaluation is pure apart from the resolver it is handed.

Macros (section 7): `%{d}` (the current domain) is expanded, with transformers and delimiters;
a domain-spec that needs the message (`%{i}`, `%{s}`, `%{l}`, `%{o}`, `%{h}`, `%{p}`, `%{v}`)
cannot be expanded without one: its term counts as one look-up and is not followed (noted in the
evidence), which is also what checkdmarc does. `%{c}`, `%{r}` and `%{t}` are allowed in `exp`
only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from exposure.net.dns import DnsAnswer, DnsStatus, Resolver, normalise_name

MAX_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2
MAX_MX_RECORDS = 10
MAX_RECORDS_IN_EVIDENCE = 25

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_MACRO_LETTERS = frozenset("slodiphcrtv")
_EXP_ONLY_LETTERS = frozenset("crt")
_MESSAGE_LETTERS = frozenset("slo" + "iphv")  # need the message or the connection
_DELIMITERS = frozenset(".-+,/_=")
_MODIFIER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*\Z")
_CIDR4 = re.compile(r"(?:0|[1-9][0-9]?)\Z")
_CIDR6 = re.compile(r"(?:0|[1-9][0-9]{0,2})\Z")
_DUAL_CIDR = re.compile(r"(?:/(0|[1-9][0-9]?))?(?://(0|[1-9][0-9]{0,2}))?\Z")
_CIDR_SUFFIX = re.compile(r"(?:/[0-9]+)?(?://[0-9]+)?\Z")
#: Section 12, toplabel: alphanumerics with at least one letter, or with an inner hyphen.
_TOPLABEL = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9]")


class Qualifier(StrEnum):
    PASS = "+"  # noqa: S105 - the SPF qualifier, not a password
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"


class SpfSyntaxError(ValueError):
    """The record breaks the RFC 7208 grammar; `term` is the offending term ("" for the record)."""

    def __init__(self, message: str, term: str = "") -> None:
        super().__init__(message)
        self.term = term


@dataclass(frozen=True, slots=True)
class Mechanism:
    """One mechanism as written. `value` is the domain-spec or the address ("" when absent)."""

    qualifier: Qualifier
    name: str
    value: str = ""
    cidr4: int | None = None
    cidr6: int | None = None
    text: str = ""

    @property
    def queries_dns(self) -> bool:
        return self.name in LOOKUP_TERMS

    @property
    def has_macro(self) -> bool:
        return "%" in self.value


@dataclass(frozen=True, slots=True)
class SpfRecord:
    """A parsed record. `mechanisms` in order, including any after `all` (which never count)."""

    text: str
    mechanisms: tuple[Mechanism, ...]
    redirect: str | None = None
    exp: str | None = None
    unknown_modifiers: tuple[str, ...] = ()

    @property
    def all(self) -> Mechanism | None:
        """The first `all` (evaluation ends there: it always matches)."""
        return next((m for m in self.mechanisms if m.name == "all"), None)

    @property
    def evaluated(self) -> tuple[Mechanism, ...]:
        """The mechanisms `check_host()` can reach: up to and including the first `all`."""
        terms: list[Mechanism] = []
        for mechanism in self.mechanisms:
            terms.append(mechanism)
            if mechanism.name == "all":
                break
        return tuple(terms)

    @property
    def after_all(self) -> tuple[Mechanism, ...]:
        return self.mechanisms[len(self.evaluated) :]

    @property
    def effective_redirect(self) -> str | None:
        """`redirect` counts only when the record has no `all` (section 6.1)."""
        return None if self.all is not None else self.redirect

    @property
    def lookup_terms(self) -> int:
        """DNS-querying terms of this record alone (nested records not included)."""
        own = sum(1 for m in self.evaluated if m.queries_dns)
        return own + (1 if self.effective_redirect is not None else 0)


# --- parsing -----------------------------------------------------------------------------------


def is_spf(text: str) -> bool:
    """Section 4.5: a record whose version section is exactly `v=spf1` (then a space or end)."""
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def select_spf(texts: Sequence[str]) -> list[str]:
    """The SPF records among the TXT records of a name (the strings already joined)."""
    return [t for t in texts if is_spf(t)]


def parse_spf(text: str) -> SpfRecord:
    """Parse one record; raise `SpfSyntaxError` for anything the grammar does not allow."""
    if not is_spf(text):
        raise SpfSyntaxError("the record does not start with v=spf1")
    if not text.isascii():
        raise SpfSyntaxError("the record contains non-ASCII characters")
    mechanisms: list[Mechanism] = []
    redirect: str | None = None
    exp: str | None = None
    unknown: list[str] = []
    # Section 12: terms are separated by SP alone (`1*SP`); a TAB, CR or LF stays inside the
    # term, where the term's own grammar refuses it.
    for term in [t for t in text.split(" ") if t][1:]:
        parsed = _term(term)
        if isinstance(parsed, Mechanism):
            mechanisms.append(parsed)
            continue
        name, value = parsed
        if name == "redirect":
            if redirect is not None:
                raise SpfSyntaxError("more than one redirect modifier", term)
            check_domain_spec(value, term)
            redirect = value.lower()
        elif name == "exp":
            if exp is not None:
                raise SpfSyntaxError("more than one exp modifier", term)
            check_domain_spec(value, term)
            exp = value
        else:
            check_macro_string(value, term, exp=False)
            unknown.append(term)
    return SpfRecord(text, tuple(mechanisms), redirect, exp, tuple(unknown))


def _term(term: str) -> Mechanism | tuple[str, str]:
    qualifier = ""
    body = term
    if body[0] in "+-~?":
        qualifier, body = body[0], body[1:]
    cut = len(body)
    for index, char in enumerate(body):
        if char in ":/=":
            cut = index
            break
    name, sep, rest = body[:cut], body[cut : cut + 1], body[cut + 1 :]
    lowered = name.lower()
    if sep == "=" and lowered not in MECHANISMS:
        if qualifier:
            raise SpfSyntaxError(f"{term!r}: a modifier takes no qualifier", term)
        if not _MODIFIER_NAME.match(name):
            raise SpfSyntaxError(f"{term!r} is not a valid modifier", term)
        if lowered in ("redirect", "exp") and not rest:
            raise SpfSyntaxError(f"{term!r}: the {lowered} modifier needs a value", term)
        return lowered, rest
    if lowered not in MECHANISMS:
        raise SpfSyntaxError(f"{term!r} is not an SPF mechanism or modifier", term)
    q = Qualifier(qualifier or "+")
    match lowered:
        case "all":
            if sep:
                raise SpfSyntaxError(f"{term!r}: all takes no value", term)
            return Mechanism(q, "all", text=term)
        case "include" | "exists":
            if sep != ":" or not rest:
                raise SpfSyntaxError(f"{term!r}: {lowered} needs :domain", term)
            check_domain_spec(rest, term)
            return Mechanism(q, lowered, rest.lower(), text=term)
        case "a" | "mx":
            return _a_or_mx(q, lowered, sep, rest, term)
        case "ptr":
            if sep == "/":
                raise SpfSyntaxError(f"{term!r}: ptr takes no prefix length", term)
            if sep == ":":
                if not rest:
                    raise SpfSyntaxError(f"{term!r}: ptr: needs a domain", term)
                check_domain_spec(rest, term)
            return Mechanism(q, "ptr", rest.lower(), text=term)
        case _:  # ip4, ip6
            return _ip(q, lowered, sep, rest, term)


def _a_or_mx(q: Qualifier, name: str, sep: str, rest: str, term: str) -> Mechanism:
    value, cidr = "", ""
    if sep == ":":
        value, cidr = _split_cidr(rest)
        if not value:
            raise SpfSyntaxError(f"{term!r}: {name}: needs a domain", term)
        check_domain_spec(value, term)
    elif sep == "/":
        cidr = "/" + rest
    elif sep:
        raise SpfSyntaxError(f"{term!r} is not a valid {name} mechanism", term)
    cidr4, cidr6 = _dual_cidr(cidr, term) if cidr else (None, None)
    return Mechanism(q, name, value.lower(), cidr4, cidr6, text=term)


def _dual_cidr(text: str, term: str) -> tuple[int | None, int | None]:
    """`/n`, `//n` or `/n//m` (section 12, dual-cidr-length; no leading zeros)."""
    match = _DUAL_CIDR.match(text)
    if not text or match is None:
        raise SpfSyntaxError(f"{term!r}: bad prefix length {text!r}", term)
    four, six = match.group(1), match.group(2)
    if (four is not None and int(four) > 32) or (six is not None and int(six) > 128):
        raise SpfSyntaxError(f"{term!r}: prefix length out of range {text!r}", term)
    return (int(four) if four is not None else None, int(six) if six is not None else None)


def _split_cidr(rest: str) -> tuple[str, str]:
    """`domain/24//64` to (`domain`, `/24//64`).

    Only a prefix length at the very end is one: a macro-literal may hold `/` and `:`
    (section 7.1), so `a:foo:bar/baz.example.com` is the domain `foo:bar/baz.example.com`
    (the suite's a-colon-domain). A `/` not followed by digits to the end belongs to the domain,
    whose top-label rule then judges it (`a:example.com/abc` is a permerror there).
    """
    match = _CIDR_SUFFIX.search(rest)
    if match is None or not match.group(0):
        return rest, ""
    return rest[: match.start()], match.group(0)


def _ip(q: Qualifier, name: str, sep: str, rest: str, term: str) -> Mechanism:
    if sep != ":" or not rest:
        raise SpfSyntaxError(f"{term!r}: {name} needs an address", term)
    address, slash, prefix = rest.partition("/")
    version = 4 if name == "ip4" else 6
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise SpfSyntaxError(
            f"{term!r}: {address!r} is not an IPv{version} address", term
        ) from None
    if ip.version != version:
        raise SpfSyntaxError(f"{term!r}: {address!r} is not an IPv{version} address", term)
    length: int | None = None
    if slash:
        pattern, top = (_CIDR4, 32) if version == 4 else (_CIDR6, 128)
        if not pattern.match(prefix) or int(prefix) > top:
            raise SpfSyntaxError(f"{term!r}: bad prefix length /{prefix}", term)
        length = int(prefix)
    cidr4, cidr6 = (length, None) if version == 4 else (None, length)
    return Mechanism(q, name, address.lower(), cidr4, cidr6, text=term)


def check_macro_string(value: str, term: str = "", *, exp: bool = False) -> bool:
    """Section 7.1: `%{letter digits [r] delimiters}`, `%%`, `%_`, `%-`; visible ASCII else.

    Returns whether the string ends in a macro-expand (what domain-end needs to know).
    """
    where = term or value
    index = 0
    ends_in_macro = False
    while index < len(value):
        char = value[index]
        ends_in_macro = char == "%"
        if char != "%":
            if not 0x21 <= ord(char) <= 0x7E:
                raise SpfSyntaxError(f"{where!r}: character {char!r} not allowed", term)
            index += 1
            continue
        nxt = value[index + 1 : index + 2]
        if nxt in ("%", "_", "-"):
            index += 2
            continue
        if nxt != "{":
            raise SpfSyntaxError(
                f"{where!r}: '%' must start a macro (%{{...}}, %%, %_ or %-)", term
            )
        close = value.find("}", index)
        if close < 0:
            raise SpfSyntaxError(f"{where!r}: unterminated macro", term)
        _macro_body(value[index + 2 : close], where, term, exp=exp)
        index = close + 1
    return ends_in_macro


def _macro_body(
    body: str, where: str, term: str, *, exp: bool
) -> tuple[str, int | None, bool, str]:
    if not body or body[0].lower() not in _MACRO_LETTERS:
        raise SpfSyntaxError(f"{where!r}: unknown macro letter in %{{{body}}}", term)
    letter = body[0]
    if letter.lower() in _EXP_ONLY_LETTERS and not exp:
        raise SpfSyntaxError(f"{where!r}: %{{{letter}}} is allowed in exp only", term)
    rest = body[1:]
    digits = ""
    while rest and rest[0].isdigit():
        digits, rest = digits + rest[0], rest[1:]
    if digits and int(digits) == 0:
        raise SpfSyntaxError(f"{where!r}: a macro transformer of 0 is not allowed", term)
    reverse = bool(rest) and rest[0] in "rR"
    if reverse:
        rest = rest[1:]
    if any(c not in _DELIMITERS for c in rest):
        raise SpfSyntaxError(f"{where!r}: bad macro delimiter in %{{{body}}}", term)
    return letter, int(digits) if digits else None, reverse, rest


def check_domain_spec(value: str, term: str = "") -> None:
    """Section 12: `domain-spec = macro-string domain-end`, and `domain-end` is a macro or
    `"." toplabel ["."]`.

    So a name must end in a dot and a top label that is not all digits: `a:museum`,
    `a:foo-bar`, `a:abc.123`, `a:111.222.33.44` and `redirect=-all` are permerrors (section 4.6:
    a syntax error anywhere), as the RFC 7208 test suite and pyspf have them. Receivers that
    query such names anyway see a void look-up; the grammar, not their leniency, decides here.
    """
    if not value:
        raise SpfSyntaxError(f"{term!r}: empty domain", term)
    if check_macro_string(value, term, exp=False):
        return
    name = value[:-1] if value.endswith(".") else value
    dot = name.rfind(".")
    if dot < 0 or not _TOPLABEL.fullmatch(name[dot + 1 :]):
        raise SpfSyntaxError(
            f"{term or value!r}: {value!r} does not end in a valid top-level label "
            "(section 7.1: a fully qualified name, not all digits)",
            term,
        )


def expand(spec: str, domain: str) -> str | None:
    """Expand the macros of a domain-spec that depend on the domain alone (`%{d}`).

    None when the spec needs the message or the connection (`%{i}`, `%{s}`, ...): such a term
    cannot be evaluated without a message, and is counted but not followed.
    """
    out: list[str] = []
    index = 0
    while index < len(spec):
        char = spec[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        nxt = spec[index + 1]
        if nxt == "%":
            out.append("%")
            index += 2
            continue
        if nxt == "_":
            out.append(" ")
            index += 2
            continue
        if nxt == "-":
            out.append("%20")
            index += 2
            continue
        close = spec.find("}", index)
        letter, digits, reverse, delimiters = _macro_body(
            spec[index + 2 : close], spec, spec, exp=False
        )
        if letter.lower() != "d":
            return None
        parts = re.split("[" + re.escape(delimiters or ".") + "]", domain)
        if reverse:
            parts.reverse()
        if digits is not None:
            parts = parts[-digits:]
        out.append(".".join(parts))
        index = close + 1
    name = normalise_name("".join(out))
    while len(name) > 253 and "." in name:  # section 7.3: drop labels from the left
        name = name.split(".", 1)[1]
    return name


# --- evaluation --------------------------------------------------------------------------------


class SpfStatus(StrEnum):
    NONE = "none"  # no SPF record at the domain
    VALID = "valid"  # evaluates without error (whatever its policy)
    PERMERROR = "permerror"  # receivers cannot use it: mail.spf.invalid
    TEMPERROR = "temperror"  # DNS did not answer somewhere: no verdict


class SpfError(StrEnum):
    MULTIPLE_RECORDS = "multiple_records"
    SYNTAX = "syntax"
    TOO_MANY_LOOKUPS = "too_many_lookups"
    TOO_MANY_VOID_LOOKUPS = "too_many_void_lookups"
    INCLUDE_LOOP = "include_loop"
    REDIRECT_LOOP = "redirect_loop"
    INCLUDE_WITHOUT_SPF = "include_without_spf"
    REDIRECT_WITHOUT_SPF = "redirect_without_spf"
    TOO_MANY_MX = "too_many_mx"


@dataclass(frozen=True, slots=True)
class SpfNode:
    """One record met during the walk (evidence: the tree of the policy)."""

    domain: str
    record: str
    via: str  # "top", "include", "redirect"
    depth: int
    lookup_terms: int


@dataclass(frozen=True, slots=True)
class SpfResult:
    """What evaluating a domain's SPF policy found.

    `permissive` is True/False, or None when a time-out left it open. `all_qualifier` is the
    qualifier of the `all` that ends the policy (through `redirect`), None when there is none.
    """

    domain: str
    status: SpfStatus
    record: str = ""
    records: tuple[str, ...] = ()
    lookups: int = 0
    void_lookups: int = 0
    error: SpfError | None = None
    message: str = ""
    all_qualifier: str | None = None
    permissive: bool | None = None
    permissive_reason: str = ""
    nodes: tuple[SpfNode, ...] = ()
    notes: tuple[str, ...] = ()

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "domain": self.domain,
            "status": str(self.status),
            "lookups": self.lookups,
            "void_lookups": self.void_lookups,
        }
        if self.record:
            data["record"] = self.record
        if len(self.records) > 1:
            data["records"] = list(self.records)
        if self.error is not None:
            data["error"] = str(self.error)
        if self.message:
            data["message"] = self.message
        if self.all_qualifier is not None:
            data["all"] = f"{self.all_qualifier}all"
        if self.permissive_reason:
            data["permissive_reason"] = self.permissive_reason
        if self.nodes:
            data["tree"] = [
                {"domain": n.domain, "via": n.via, "depth": n.depth, "record": n.record}
                for n in self.nodes[:MAX_RECORDS_IN_EVIDENCE]
            ]
        if self.notes:
            data["notes"] = list(self.notes)
        return data


class _PermError(Exception):
    def __init__(self, error: SpfError, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


class _TempError(Exception):
    pass


@dataclass(slots=True)
class _Walk:
    resolver: Resolver
    lookups: int = 0
    void: int = 0
    nodes: list[SpfNode] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pass_everything: str = ""  # why every sender passes, if some term lets them

    def count(self, term: str, domain: str) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _PermError(
                SpfError.TOO_MANY_LOOKUPS,
                f"more than {MAX_LOOKUPS} DNS-querying terms (the 11th is {term} in {domain})",
            )

    def void_lookup(self, what: str) -> None:
        self.void += 1
        if self.void > MAX_VOID_LOOKUPS:
            raise _PermError(
                SpfError.TOO_MANY_VOID_LOOKUPS,
                f"more than {MAX_VOID_LOOKUPS} look-ups without an answer (the last: {what})",
            )

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < MAX_RECORDS_IN_EVIDENCE:
            self.notes.append(text)


def _temp(answer: DnsAnswer) -> _TempError:
    detail = answer.error or str(answer.status)
    return _TempError(
        f"{answer.rdtype} look-up of {answer.name} failed: {answer.status} ({detail})"
    )


async def fetch_records(resolver: Resolver, domain: str) -> tuple[DnsAnswer, list[str]]:
    """The TXT answer of a name and the SPF records in it."""
    answer = await resolver.resolve(domain, "TXT")
    return answer, select_spf(answer.texts) if answer.status is DnsStatus.OK else []


async def evaluate(domain: str, resolver: Resolver) -> SpfResult:
    """Evaluate the SPF policy of `domain` (see the module docstring)."""
    domain = normalise_name(domain)
    if not is_domain(domain):
        # Section 4.3: a malformed or single-label domain is "none", never asked.
        return SpfResult(domain, SpfStatus.NONE, message=f"{domain!r} is not a domain name")
    answer, records = await fetch_records(resolver, domain)
    if not answer.decisive:
        return SpfResult(domain, SpfStatus.TEMPERROR, message=str(_temp(answer)))
    if not records:
        return SpfResult(domain, SpfStatus.NONE)
    if len(records) > 1:
        return SpfResult(
            domain,
            SpfStatus.PERMERROR,
            records=tuple(records),
            error=SpfError.MULTIPLE_RECORDS,
            message=f"{len(records)} SPF records at {domain}; receivers must use none of them",
        )
    text = records[0]
    walk = _Walk(resolver)
    top_all: str | None = None
    try:
        record = _parse(text, domain)
        walk.nodes.append(SpfNode(domain, text, "top", 0, record.lookup_terms))
        top_all = await _walk(walk, domain, record, (domain,), depth=0, passing=True)
    except _PermError as exc:
        return _result(
            domain, SpfStatus.PERMERROR, text, walk, error=exc.error, message=exc.message
        )
    except _TempError as exc:
        # A look-up failed: the policy's validity is unknown, and whether it is permissive too,
        # unless what was already seen settles it.
        known = walk.pass_everything or _top_permissive(text)
        return _result(
            domain,
            SpfStatus.TEMPERROR,
            text,
            walk,
            message=str(exc),
            permissive=True if known else None,
            permissive_reason=known,
        )
    reason = walk.pass_everything
    if top_all == UNKNOWN_END:
        top_all = None
    elif not reason:
        if top_all is None:
            reason = "the policy ends without all or redirect: unlisted senders are neutral"
        elif top_all in ("+", "?"):
            word = "passes" if top_all == "+" else "is neutral for"
            reason = f"the policy ends in {top_all}all: it {word} every sender"
    return _result(
        domain,
        SpfStatus.VALID,
        text,
        walk,
        all_qualifier=top_all,
        permissive=bool(reason),
        permissive_reason=reason,
    )


def _top_permissive(text: str) -> str:
    """Whether the top record alone already makes the policy permissive (for temperror)."""
    try:
        record = parse_spf(text)
    except SpfSyntaxError:
        return ""
    last = record.all
    if last is not None and last.qualifier in (Qualifier.PASS, Qualifier.NEUTRAL):
        return f"the policy ends in {last.qualifier}all"
    return ""


def _result(domain: str, status: SpfStatus, text: str, walk: _Walk, **kwargs: Any) -> SpfResult:
    return SpfResult(
        domain,
        status,
        record=text,
        records=(text,),
        lookups=min(walk.lookups, MAX_LOOKUPS + 1),
        void_lookups=walk.void,
        nodes=tuple(walk.nodes),
        notes=tuple(walk.notes),
        **kwargs,
    )


def _parse(text: str, domain: str) -> SpfRecord:
    try:
        return parse_spf(text)
    except SpfSyntaxError as exc:
        raise _PermError(SpfError.SYNTAX, f"{domain}: {exc}") from None


async def _prefetch(walk: _Walk, domain: str, record: SpfRecord) -> None:
    """Ask DNS for a record's own terms at once; the walk then reads them from the run cache.

    Only as many terms as the look-up budget has left, so that a record over the limit does
    not cost queries a receiver would never send.
    """
    budget = MAX_LOOKUPS - walk.lookups
    wanted: list[tuple[str, str]] = []
    terms = [m for m in record.evaluated if m.queries_dns]
    for mechanism in terms[: max(0, budget)]:
        target = expand(mechanism.value, domain) if mechanism.value else domain
        if not target or not _valid_name(target):
            continue  # the walk reports it
        if mechanism.name == "include":
            wanted.append((target, "TXT"))
        elif mechanism.name == "a":
            wanted += [(target, "A"), (target, "AAAA")]
        elif mechanism.name == "mx":
            wanted.append((target, "MX"))
        elif mechanism.name == "exists":
            wanted.append((target, "A"))
    if len(terms) < budget and record.effective_redirect is not None:
        target = expand(record.effective_redirect, domain)
        if target and _valid_name(target):
            wanted.append((target, "TXT"))
    if len(wanted) > 1:
        await asyncio.gather(*(walk.resolver.resolve(n, t) for n, t in dict.fromkeys(wanted)))


async def _walk(
    walk: _Walk,
    domain: str,
    record: SpfRecord,
    stack: tuple[str, ...],
    *,
    depth: int,
    passing: bool,
) -> str | None:
    """Evaluate one record's terms in order; return its effective `all` qualifier.

    `stack` is the chain of domains being evaluated (a loop is a domain met again on it);
    `passing` is True when a match here means "pass" for the top-level policy (every include
    on the way had the `+` qualifier), which is how an included `+all` opens the door.
    """
    await _prefetch(walk, domain, record)
    if record.after_all:
        walk.note(f"{domain}: terms after all are never evaluated: {record.after_all[0].text}")
    if record.all is not None and record.redirect is not None:
        walk.note(f"{domain}: redirect is ignored because the record has all")
    for unknown in record.unknown_modifiers:
        walk.note(f"{domain}: unknown modifier ignored: {unknown}")
    for mechanism in record.evaluated:
        opens = passing and mechanism.qualifier is Qualifier.PASS
        match mechanism.name:
            case "all":
                if opens and depth > 0:
                    walk.pass_everything = walk.pass_everything or (
                        f"{domain} (included) ends in +all: every sender passes"
                    )
                return mechanism.qualifier.value
            case "ip4" | "ip6":
                if opens and (mechanism.cidr4 == 0 or mechanism.cidr6 == 0):
                    walk.pass_everything = walk.pass_everything or (
                        f"{domain}: {mechanism.text} matches every address"
                    )
            case "include":
                walk.count(mechanism.text, domain)
                await _include(walk, domain, mechanism, stack, depth=depth, opens=opens)
            case "a" | "mx":
                walk.count(mechanism.text, domain)
                if opens and (mechanism.cidr4 == 0 or mechanism.cidr6 == 0):
                    walk.pass_everything = walk.pass_everything or (
                        f"{domain}: {mechanism.text} matches every address"
                    )
                if mechanism.name == "a":
                    await _a(walk, domain, mechanism)
                else:
                    await _mx(walk, domain, mechanism)
            case "ptr":
                walk.count(mechanism.text, domain)
                walk.note(f"{domain}: ptr should not be used (RFC 7208 section 5.5)")
            case "exists":
                walk.count(mechanism.text, domain)
                await _exists(walk, domain, mechanism)
    if record.effective_redirect is not None:
        walk.count(f"redirect={record.effective_redirect}", domain)
        return await _redirect(walk, domain, record.effective_redirect, stack, depth, passing)
    return None


#: What `_walk` returns for a policy whose end cannot be known without a message.
UNKNOWN_END = "unknown"


def _valid_name(name: str) -> bool:
    """Can this expanded name be asked at all?

    Only the DNS limits count (labels of 1 to 63 octets, 253 in all): the grammar already
    judged the domain-spec as written, and an expansion may hold any visible character or a
    space (`%{d}`, `%%`, `%_`, `%-`: the suite's macro-mania-in-domain), which DNS carries.
    """
    labels = name.split(".")
    return (
        len(name) <= 253
        and name.isascii()
        and all(0 < len(label) <= 63 and label.isprintable() for label in labels)
    )


def is_domain(name: str) -> bool:
    """Section 4.3: a <domain> check_host() can start from: two labels or more, none empty."""
    return "." in name and _valid_name(name)


def _checked(target: str | None, term: str, domain: str) -> str | None:
    """The expanded target of a term, refused (permerror) if it is not a usable DNS name."""
    if target is None:
        return None
    if not _valid_name(target):
        raise _PermError(
            SpfError.SYNTAX, f"{term} in {domain}: {target!r} is not a valid domain name"
        )
    return target


async def _include(
    walk: _Walk,
    domain: str,
    mechanism: Mechanism,
    stack: tuple[str, ...],
    *,
    depth: int,
    opens: bool,
) -> None:
    target = _checked(expand(mechanism.value, domain), mechanism.text, domain)
    if target is None:
        walk.note(f"{domain}: {mechanism.text} needs the message to expand; not followed")
        return
    if target in stack:
        chain = " -> ".join((*stack, target))
        raise _PermError(SpfError.INCLUDE_LOOP, f"include loop: {chain}")
    text, record = await _target_record(
        walk, target, f"{mechanism.text} in {domain}", SpfError.INCLUDE_WITHOUT_SPF, "5.2"
    )
    walk.nodes.append(SpfNode(target, text, "include", depth + 1, record.lookup_terms))
    await _walk(walk, target, record, (*stack, target), depth=depth + 1, passing=opens)


async def _target_record(
    walk: _Walk, target: str, label: str, missing: SpfError, section: str
) -> tuple[str, SpfRecord]:
    """The one SPF record at an include or redirect target, counted and judged as RFC 7208
    says: no answer is a temperror, none or several records a permerror."""
    answer, records = await fetch_records(walk.resolver, target)
    if not answer.decisive:
        raise _temp(answer)
    if not records:
        if answer.status in (DnsStatus.NXDOMAIN, DnsStatus.NODATA):
            walk.void_lookup(f"TXT {target}")
        raise _PermError(
            missing,
            f"{label}: {target} has no SPF record (a permerror, section {section})",
        )
    if len(records) > 1:
        raise _PermError(SpfError.MULTIPLE_RECORDS, f"{label}: {target} has several")
    return records[0], _parse(records[0], target)


async def _redirect(
    walk: _Walk,
    domain: str,
    spec: str,
    stack: tuple[str, ...],
    depth: int,
    passing: bool,
) -> str | None:
    target = _checked(expand(spec, domain), f"redirect={spec}", domain)
    if target is None:
        walk.note(f"{domain}: redirect={spec} needs the message to expand; not followed")
        return UNKNOWN_END  # not called permissive: we cannot tell (precision over recall)
    if target in stack:
        chain = " -> ".join((*stack, target))
        raise _PermError(SpfError.REDIRECT_LOOP, f"redirect loop: {chain}")
    text, record = await _target_record(
        walk, target, f"redirect={spec} in {domain}", SpfError.REDIRECT_WITHOUT_SPF, "6.1"
    )
    walk.nodes.append(SpfNode(target, text, "redirect", depth, record.lookup_terms))
    # The redirect target's policy replaces this one: same depth, same "passing".
    return await _walk(walk, target, record, (*stack, target), depth=depth, passing=passing)


async def _a(walk: _Walk, domain: str, mechanism: Mechanism) -> None:
    spec = mechanism.value or domain
    target = _checked(expand(spec, domain), mechanism.text, domain)
    if target is None:
        walk.note(f"{domain}: {mechanism.text} needs the message to expand; not followed")
        return
    four, six = await asyncio.gather(
        walk.resolver.resolve(target, "A"), walk.resolver.resolve(target, "AAAA")
    )
    if (four.status is DnsStatus.OK and four.records) or (
        six.status is DnsStatus.OK and six.records
    ):
        return
    for answer in (four, six):
        if not answer.decisive:
            raise _temp(answer)
    walk.void_lookup(f"A/AAAA {target}")


async def _mx(walk: _Walk, domain: str, mechanism: Mechanism) -> None:
    spec = mechanism.value or domain
    target = _checked(expand(spec, domain), mechanism.text, domain)
    if target is None:
        walk.note(f"{domain}: {mechanism.text} needs the message to expand; not followed")
        return
    answer = await walk.resolver.resolve(target, "MX")
    if not answer.decisive:
        raise _temp(answer)
    if not answer.records:
        walk.void_lookup(f"MX {target}")
        return
    if len(answer.records) > MAX_MX_RECORDS:
        raise _PermError(
            SpfError.TOO_MANY_MX,
            f"{mechanism.text} in {domain}: {target} has {len(answer.records)} MX records "
            f"(at most {MAX_MX_RECORDS}, section 4.6.4)",
        )
    await _mx_hosts(walk, mechanism, [str(host) for _, host in answer.records])


async def _mx_hosts(walk: _Walk, mechanism: Mechanism, hosts: list[str]) -> None:
    """Section 5.4: `mx` then looks up each MX host's addresses, and those look-ups are DNS
    queries like any other: one that finds nothing is void (section 4.6.4), so MX hosts
    without A/AAAA can make the record a permerror (checkdmarc's testMxHostMissingARecords).

    A host counts as void only when neither family has an address (a receiver asks the family
    of the connection; the scanner has none and does not blame a v6-only host). A null MX
    (RFC 7505, host ".") names no host and is not asked.
    """
    names = [h for h in dict.fromkeys(normalise_name(h) for h in hosts) if h]
    answers = await asyncio.gather(
        *(walk.resolver.resolve(h, t) for h in names for t in ("A", "AAAA"))
    )
    for index, host in enumerate(names):
        four, six = answers[2 * index], answers[2 * index + 1]
        if any(a.status is DnsStatus.OK and a.records for a in (four, six)):
            continue
        for answer in (four, six):
            if not answer.decisive:
                raise _temp(answer)
        walk.void_lookup(f"A/AAAA {host} (MX host of {mechanism.text})")


async def _exists(walk: _Walk, domain: str, mechanism: Mechanism) -> None:
    target = _checked(expand(mechanism.value, domain), mechanism.text, domain)
    if target is None:
        return  # the usual case: exists:%{i}._spf.example.net needs the sender's address
    answer = await walk.resolver.resolve(target, "A")
    if not answer.decisive:
        raise _temp(answer)
    if not answer.records:
        walk.void_lookup(f"A {target}")
