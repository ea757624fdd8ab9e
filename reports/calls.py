"""The Meldpunt's morning call list: whom to call first, about what, and what to say.

After the nightly scan someone at the Meldpunt has an hour and a phone. A list sorted by name
or score hides the one firm whose cameras anyone can watch between forty that lack DNSSEC, so
this list holds only what justifies a call, in order of harm:

1. companies with an open critical problem, then those with an open high one;
2. within that, problems that are new since the last run first (the owner may not know yet);
3. then the problem that has been open longest (a warning that did not work);
4. then companies that were never warned about it (no e-mail went out: the phone is all).

Each line says what, since when, whether and when the company was warned (the reference it
can quote), whether it opened its report in the portal, whom to reach (e-mail and phone from
the member list), and one sentence to start the call with. Companies that could not be tested
in the last run come after them, with the reason and since when: a site nobody could test for a
week is a question for the owner too. Accepted risks are not on the list: the owner decided.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, select

from exposure.catalogue import Theme
from exposure.contract import FailureReason
from exposure.models import (
    AccessToken,
    CheckError,
    Company,
    Finding,
    FindingEvent,
    PortalSession,
    RunCompany,
    utcnow,
)
from exposure.severity import Severity
from exposure.store.warnings import delivered_warnings
from exposure.text import Text
from reports import findings, history, render, scoring, words
from reports.specs import Specs

#: What justifies a call.
SERIOUS: tuple[Severity, ...] = (Severity.CRITICAL, Severity.HIGH)
#: Events that make a finding open (again): where "open since" starts.
OPENING_EVENTS = ("opened", "reopened", "unaccepted")
#: How many of the latest runs "could not test ... since" looks back over.
UNTESTED_RUNS = 60

T = Text

#: The words of the call list, in one table so both languages are always there (a test holds it).
WORDS: Mapping[str, Text] = {
    "title": T("Wie bellen we vandaag?", "Whom do we call today?"),
    "intro": T(
        "Bedrijven met een open ernstig of zeer ernstig probleem, het ergste eerst: zeer ernstig, "
        "dan nieuw sinds de vorige scan, dan het langst open, dan nog niet gewaarschuwd. "
        "Daarna bedrijven die we bij de laatste scan niet konden testen.",
        "Companies with an open high or critical problem, the worst first: critical, then new "
        "since the previous scan, then open longest, then not yet warned. After them, companies "
        "we could not test in the last scan.",
    ),
    "none": T(
        "Niemand om te bellen: geen open ernstige problemen en alles kon getest worden.",
        "Nobody to call: no open serious problems and everything could be tested.",
    ),
    "company": T("Bedrijf", "Company"),
    "problem": T("Wat", "What"),
    "since": T("Sinds", "Since"),
    "warned": T("Gewaarschuwd", "Warned"),
    "read": T("Rapport gelezen", "Report read"),
    "contact": T("Contact", "Contact"),
    "say": T("Wat zeggen we", "What to say"),
    "new": T("nieuw", "new"),
    "not_warned": T("nog niet gewaarschuwd", "not warned yet"),
    "partly_warned": T("{n} nog niet gewaarschuwd", "{n} not warned yet"),
    "never_read": T("nog niet geopend", "not opened yet"),
    "read_before": T("{date}, vóór de waarschuwing", "{date}, before the warning"),
    "no_phone": T("geen telefoon bekend", "no phone number known"),
    "no_email": T("geen e-mail bekend", "no e-mail known"),
    "untested": T("Niet te testen", "Could not test"),
    "untested_line": T(
        "{n} test(s) niet gelukt: {reasons}", "{n} test(s) could not be run: {reasons}"
    ),
    "untested_since": T("sinds {date}", "since {date}"),
    "untested_runs": T(
        "sinds {date} ({runs} scans op rij)", "since {date} ({runs} scans in a row)"
    ),
    "more": T("en nog {n}", "and {n} more"),
    "say_warned": T(
        "{title} ({target}). {action} Wij mailden u op {date} (referentie {reference}).",
        "{title} ({target}). {action} We e-mailed you on {date} (reference {reference}).",
    ),
    "say_new": T(
        "{title} ({target}). {action} U krijgt van ons ook een e-mail.",
        "{title} ({target}). {action} You will also get an e-mail from us.",
    ),
    "say_untested": T(
        "We konden {target} sinds {date} niet testen ({reason}). Is het nog in gebruik, en "
        "weet uw IT-leverancier ervan?",
        "We could not test {target} since {date} ({reason}). Is it still in use, and does "
        "your IT supplier know?",
    ),
}


def w(key: str, language: str, **values: object) -> str:
    """One phrase of the call list in `language` (values are text; templates escape)."""
    text = WORDS[key].get(language)
    return text.format(**values) if values else text


@dataclass(frozen=True, slots=True)
class Warned:
    reference: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Problem:
    """One serious open problem of a company (one check id; its hosts together)."""

    check_id: str
    title: str
    severity: Severity
    targets: tuple[str, ...]
    since: datetime
    new: bool
    warned: Warned | None  # the latest delivered warning that named it


@dataclass(frozen=True, slots=True)
class Untested:
    """What could not be tested for a company in the last run, and for how many runs now."""

    errors: int
    reasons: tuple[str, ...]  # in words, most frequent first
    targets: tuple[str, ...]
    since: datetime
    runs: int  # runs in a row (up to the last) with something that could not be tested


@dataclass(frozen=True, slots=True)
class Call:
    company_id: str
    name: str
    sector: str
    email: str
    phone: str
    problems: tuple[Problem, ...]  # worst first
    untested: Untested | None
    read_at: datetime | None  # the last time the company opened its portal report
    say: str

    @property
    def severity(self) -> Severity | None:
        return self.problems[0].severity if self.problems else None

    @property
    def since(self) -> datetime | None:
        return min((p.since for p in self.problems), default=None)

    @property
    def new(self) -> bool:
        return any(p.new for p in self.problems)

    @property
    def warned(self) -> Warned | None:
        found = [p.warned for p in self.problems if p.warned is not None]
        return max(found, key=lambda x: x.at) if found else None

    @property
    def unwarned(self) -> int:
        return sum(1 for p in self.problems if p.warned is None)

    @property
    def read_after_warning(self) -> bool:
        warned = self.warned
        return self.read_at is not None and (warned is None or self.read_at >= warned.at)


@dataclass(frozen=True, slots=True)
class CallList:
    language: str
    generated_at: datetime
    latest_run_at: datetime | None
    calls: tuple[Call, ...]


def build(
    session: Session, specs: Specs, language: str = "nl", *, now: datetime | None = None
) -> CallList:
    """The call list from the store as it is now (one query per kind of fact)."""
    companies = {
        c.id: c for c in session.exec(select(Company).where(col(Company.active).is_(True)))
    }
    runs = history.runs_with_results(session)
    latest = runs[-1] if runs else None
    rows = [
        f
        for f in session.exec(
            select(Finding).where(
                Finding.status == "open",
                col(Finding.severity).in_([s.value for s in SERIOUS]),
            )
        )
        if f.company_id in companies
    ]
    opened = _opened_at(session, [f.id for f in rows if f.id is not None])
    new_ids = _new_in_run(session, latest.id if latest else None)
    warned = _warned_by_fingerprint(session, {f.company_id for f in rows})
    per_company: dict[str, list[Finding]] = defaultdict(list)
    for f in rows:
        per_company[f.company_id].append(f)
    untested = _untested(session, runs, language, set(companies))
    read = _last_read(session)
    calls = []
    for company_id in sorted(per_company.keys() | untested.keys()):
        company = companies[company_id]
        problems = _problems(
            per_company.get(company_id, []), specs, language, opened, new_ids, warned
        )
        call_untested = untested.get(company_id)
        calls.append(
            Call(
                company_id=company_id,
                name=company.name,
                sector=words.sector_label(company.sector, language) if company.sector else "",
                email=company.email,
                phone=company.phone,
                problems=problems,
                untested=call_untested,
                read_at=read.get(company_id),
                say=_say(problems, call_untested, specs, language),
            )
        )
    calls.sort(key=order_key)
    return CallList(
        language=language,
        generated_at=now or utcnow(),
        latest_run_at=latest.at if latest else None,
        calls=tuple(calls),
    )


def order_key(call: Call) -> tuple[Any, ...]:
    """Harm first: severity, new, open longest, not warned; then the longest untested."""
    if call.severity is None:
        untested = call.untested
        return (1, 0, -(untested.runs if untested else 0), datetime.max, 0, call.name.lower())
    return (
        0,
        -call.severity.rank,
        0 if call.new else 1,
        call.since or datetime.max,
        0 if call.unwarned else 1,
        call.name.lower(),
    )


# --- output --------------------------------------------------------------------------------------

FIELDS = (
    "rank",
    "company_id",
    "company",
    "severity",
    "problems",
    "check_ids",
    "targets",
    "since",
    "new",
    "warned_at",
    "reference",
    "not_warned",
    "read_at",
    "email",
    "phone",
    "could_not_test",
    "could_not_test_since",
    "say",
)


def records(calls: CallList) -> list[dict[str, Any]]:
    """One flat dictionary per call, the same for JSON and CSV (stable field names)."""
    result = []
    for rank, call in enumerate(calls.calls, start=1):
        warned = call.warned
        untested = call.untested
        result.append(
            {
                "rank": rank,
                "company_id": call.company_id,
                "company": call.name,
                "severity": call.severity.value if call.severity else "",
                "problems": [p.title for p in call.problems],
                "check_ids": [p.check_id for p in call.problems],
                "targets": sorted({t for p in call.problems for t in p.targets}),
                "since": _iso(call.since),
                "new": call.new,
                "warned_at": _iso(warned.at if warned else None),
                "reference": warned.reference if warned else "",
                "not_warned": call.unwarned,
                "read_at": _iso(call.read_at),
                "email": call.email,
                "phone": call.phone,
                "could_not_test": list(untested.reasons) if untested else [],
                "could_not_test_since": _iso(untested.since if untested else None),
                "say": call.say,
            }
        )
    return result


def to_json(calls: CallList) -> str:
    document = {
        "generated_at": _iso(calls.generated_at),
        "latest_run_at": _iso(calls.latest_run_at),
        "calls": records(calls),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def to_csv(calls: CallList) -> str:
    """CSV for a spreadsheet: lists joined with `; `, formula-like cells neutralised."""
    return findings.csv_text(
        FIELDS,
        (
            ["; ".join(map(str, r[k])) if isinstance(r[k], list) else r[k] for k in FIELDS]
            for r in records(calls)
        ),
    )


def to_text(calls: CallList) -> str:
    """The list for a terminal or a morning e-mail: one block per company, no column cut."""
    lang = calls.language
    if not calls.calls:
        return w("none", lang) + "\n"
    lines = [w("title", lang), ""]
    for rank, call in enumerate(calls.calls, start=1):
        lines.append(f"{rank}. {call.name} ({call.company_id}){_sector(call)}")
        for label, value in cells(call, lang):
            lines.append(f"   {label}: {value}")
        lines.append("")
    return "\n".join(lines)


def cells(call: Call, language: str) -> list[tuple[str, str]]:
    """The facts of one call as (label, text), shared by the text table and the HTML page."""
    return [
        (w("problem", language), problem_text(call, language)),
        (w("since", language), since_text(call, language)),
        (w("warned", language), warned_text(call, language)),
        (w("read", language), read_text(call, language)),
        (w("contact", language), contact_text(call, language)),
        (w("say", language), call.say),
    ]


def problem_text(call: Call, language: str) -> str:
    parts = []
    for p in call.problems:
        word = scoring.SEVERITY_WORDS[p.severity].get(language)
        new = f", {w('new', language)}" if p.new else ""
        parts.append(f"{p.title} ({word}{new}): {_hosts(p.targets, language)}")
    if call.untested is not None:
        u = call.untested
        parts.append(
            f"{w('untested', language)}: "
            + w("untested_line", language, n=u.errors, reasons=", ".join(u.reasons))
        )
    return " · ".join(parts)


def since_text(call: Call, language: str) -> str:
    parts = []
    if call.since is not None:
        parts.append(_when(call.since, language))
    if call.untested is not None:
        u = call.untested
        date = _when(u.since, language)
        parts.append(
            f"{w('untested', language)}: "
            + w(
                "untested_runs" if u.runs > 1 else "untested_since",
                language,
                date=date,
                runs=u.runs,
            )
        )
    return " · ".join(parts)


def warned_text(call: Call, language: str) -> str:
    if not call.problems:
        return "–"
    warned = call.warned
    if warned is None:
        return w("not_warned", language)
    text = f"{_when(warned.at, language)} ({warned.reference})"
    if call.unwarned:
        text += "; " + w("partly_warned", language, n=call.unwarned)
    return text


def read_text(call: Call, language: str) -> str:
    if call.read_at is None:
        return w("never_read", language)
    date = _when(call.read_at, language)
    return date if call.read_after_warning else w("read_before", language, date=date)


def contact_text(call: Call, language: str) -> str:
    return " · ".join(
        (call.phone or w("no_phone", language), call.email or w("no_email", language))
    )


def render_html(calls: CallList, *, heading_level: int = 2) -> Markup:
    """The list as an HTML section for the overview and `/meldpunt`.

    Safe to mark: the template is rendered with autoescape on, so every name, host and
    sentence in it is already escaped text.
    """
    html = render.render(
        "_calls.html.j2",
        calls.language,
        c=calls,
        w=lambda key, **values: w(key, calls.language, **values),
        cells=lambda call: cells(call, calls.language),
        h=heading_level,
    )
    return Markup(html)  # noqa: S704


# --- internals -----------------------------------------------------------------------------------


def _problems(
    rows: Sequence[Finding],
    specs: Specs,
    language: str,
    opened: Mapping[int, datetime],
    new_ids: set[int],
    warned: Mapping[str, Warned],
) -> tuple[Problem, ...]:
    by_check: dict[str, list[Finding]] = defaultdict(list)
    for f in rows:
        by_check[f.check_id].append(f)
    problems = []
    for check_id, group in by_check.items():
        seen = [warned[f.fingerprint] for f in group if f.fingerprint in warned]
        problems.append(
            Problem(
                check_id=check_id,
                title=specs.title(check_id, language, group[0].title),
                severity=max(Severity.parse(f.severity) for f in group),
                targets=tuple(sorted({f.target for f in group})),
                since=min(opened.get(f.id or 0, f.first_seen) for f in group),
                new=any(f.id in new_ids for f in group),
                warned=max(seen, key=lambda x: x.at) if len(seen) == len(group) else None,
            )
        )
    # Within a company: worst first; among equals an exposed device before the rest (anyone
    # can reach it now), then the newest, then the oldest open.
    problems.sort(
        key=lambda p: (
            -p.severity.rank,
            specs.theme(p.check_id) is not Theme.DEVICES,
            not p.new,
            p.since,
            p.check_id,
        )
    )
    return tuple(problems)


def _opened_at(session: Session, finding_ids: Sequence[int]) -> dict[int, datetime]:
    """When each finding became open this time (its last opening event)."""
    if not finding_ids:
        return {}
    result: dict[int, datetime] = {}
    query = select(FindingEvent.finding_id, FindingEvent.at).where(
        col(FindingEvent.finding_id).in_(list(finding_ids)),
        col(FindingEvent.event).in_(OPENING_EVENTS),
    )
    for finding_id, at in session.exec(query):
        if finding_id not in result or at > result[finding_id]:
            result[finding_id] = at
    return result


def _new_in_run(session: Session, run_id: int | None) -> set[int]:
    if run_id is None:
        return set()
    query = select(FindingEvent.finding_id).where(
        FindingEvent.run_id == run_id, col(FindingEvent.event).in_(("opened", "reopened"))
    )
    return set(session.exec(query))


def _warned_by_fingerprint(session: Session, company_ids: Iterable[str]) -> dict[str, Warned]:
    """Per fingerprint, the latest delivered warning that named it."""
    result: dict[str, Warned] = {}
    for records_ in delivered_warnings(session, sorted(company_ids)).values():
        for record in records_:  # oldest first: the latest wins
            for fingerprint in record.fingerprints:
                result[fingerprint] = Warned(record.reference, record.created_at)
    return result


def _last_read(session: Session) -> dict[str, datetime]:
    """Per company, the last time it opened its portal report (a link or a session)."""
    result: dict[str, datetime] = {}

    def note(company_id: str | None, at: datetime | None) -> None:
        if company_id and at is not None and (company_id not in result or at > result[company_id]):
            result[company_id] = at

    for token_company, used in session.exec(
        select(AccessToken.company_id, AccessToken.last_used_at)
    ):
        note(token_company, used)
    for company_id, at in session.exec(
        select(PortalSession.company_id, PortalSession.created_at).where(
            PortalSession.kind == "company"
        )
    ):
        note(company_id, at)
    return result


#: Reasons that are a fault of our own side (a source of ours down, a limit of ours, our own bug
#: or time budget, our scope): no reason to phone a member, who can do nothing about them.
OUR_SIDE: frozenset[str] = frozenset(
    {
        FailureReason.UNAVAILABLE,
        FailureReason.LOCAL_LIMIT,
        FailureReason.BUG,
        FailureReason.DEADLINE,
        FailureReason.OUT_OF_SCOPE,
    }
)


def _untested(
    session: Session, runs: Sequence[history.RunInfo], language: str, active: set[str]
) -> dict[str, Untested]:
    """Per company with a check that could not decide in the last run that scanned it to the
    end: the reasons, and how many of its runs in a row (up to that one) had such a check.
    Failures of our own side (`OUR_SIDE`) are left out: they are not the member's to fix."""
    if not runs:
        return {}
    runs = runs[-UNTESTED_RUNS:]  # bounded: a year of nightly errors is not read each morning
    run_at = {r.id: r.at for r in runs}
    done: dict[str, list[int]] = defaultdict(list)
    for company_id, run_id in session.exec(
        select(RunCompany.company_id, RunCompany.run_id).where(RunCompany.status == history.DONE)
    ):
        if company_id in active and run_id in run_at:
            done[company_id].append(run_id)
    failing: dict[str, set[int]] = defaultdict(set)
    latest_errors: dict[str, list[CheckError]] = defaultdict(list)
    last_run = {c: max(ids) for c, ids in done.items()}
    for error in session.exec(
        select(CheckError).where(
            col(CheckError.company_id).in_(sorted(last_run)),
            col(CheckError.run_id) >= runs[0].id,
            col(CheckError.reason).not_in(sorted(OUR_SIDE)),
        )
    ):
        failing[error.company_id].add(error.run_id)
        if error.run_id == last_run.get(error.company_id):
            latest_errors[error.company_id].append(error)
    result = {}
    for company_id, errors in latest_errors.items():
        streak = []
        for run_id in sorted(done[company_id], reverse=True):
            if run_id not in failing[company_id]:
                break
            streak.append(run_id)
        reasons = Counter(words.failure_reason(e.reason, language) for e in errors)
        result[company_id] = Untested(
            errors=len(errors),
            reasons=tuple(r for r, _ in reasons.most_common()),
            targets=tuple(sorted({e.target for e in errors if e.target})),
            since=run_at[min(streak)],
            runs=len(streak),
        )
    return result


def _say(
    problems: Sequence[Problem], untested: Untested | None, specs: Specs, language: str
) -> str:
    """One sentence to open the call with: the worst problem, what to do, the reference."""
    if problems:
        top = problems[0]
        values = {
            "title": top.title,
            "target": _hosts(top.targets, language),
            "action": _first_sentence(specs.remediation(top.check_id, language)),
        }
        if top.warned is not None:
            return w(
                "say_warned",
                language,
                date=_when(top.warned.at, language),
                reference=top.warned.reference,
                **values,
            )
        return w("say_new", language, **values)
    if untested is not None:
        return w(
            "say_untested",
            language,
            target=_hosts(untested.targets, language) or "–",
            date=_when(untested.since, language),
            reason=untested.reasons[0] if untested.reasons else "",
        )
    return ""


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for end in (". ", "! ", "? "):
        if end in text:
            return text.split(end, 1)[0] + end.strip()
    return text


def _hosts(targets: Sequence[str], language: str, most: int = 2) -> str:
    shown = ", ".join(targets[:most])
    rest = len(targets) - most
    return f"{shown} {w('more', language, n=rest)}" if rest > 0 else shown


def _when(value: datetime, language: str) -> str:
    return f"{render.format_date(value, language)} {value:%H:%M}"


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else ""


def _sector(call: Call) -> str:
    return f", {call.sector}" if call.sector else ""


__all__ = [
    "WORDS",
    "Call",
    "CallList",
    "Problem",
    "Untested",
    "Warned",
    "build",
    "cells",
    "order_key",
    "records",
    "render_html",
    "to_csv",
    "to_json",
    "to_text",
    "w",
]
