"""The warning e-mail: what a busy owner reads, and the RFC 5322 message that carries it.

What it says, in this order (templates `warning.txt.j2` and `warning.html.j2`): a subject that
names the Meldpunt and the company; the one to three most important actions first (ranked by
`reports.scoring.rank_actions`, as in the company report); per action what it means for the
business, what to do, and where; a separate part with the technical details to forward to the
IT supplier; how to check the message is genuine (call the Meldpunt's number, quote the
reference; we never ask for a password); who sent it and why. The words per finding come from
each check's metadata (`FindingSpec`, through the registry); the words around them from
`reports.words`.

Safety: a company name comes from a member list, and hosts and evidence from scanned servers,
so all of it is treated as hostile. Every such value is made one plain line (`plain`): control
characters, line breaks, Unicode line separators and bidirectional overrides become spaces,
runs of white space one space, and `scheme://` is defanged so that no mail client turns a
value into a link. The HTML part is autoescaped by the shared environment. Headers are built
by the `email` package, which refuses CR/LF in a header, and the values are plain lines before
they get there. There are no attachments, no images, no remote content and no links except the
Meldpunt's phone number.
"""

from __future__ import annotations

import re
import secrets
import textwrap
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

from markupsafe import Markup, escape

from exposure.contract import Effort, FindingSpec
from exposure.settings import Settings
from exposure.severity import Severity
from exposure.text import Language, Text
from reports import certainty, codes, scoring
from reports.coverage import THEMES, NotTested
from reports.discovered import named
from reports.evidence import rows as evidence_rows
from reports.hosts import display_host, public_evidence
from reports.render import format_date, render
from reports.specs import FALLBACK_REMEDIATION, FALLBACK_RISK
from reports.warning import Reason, Selected, WarningPlan
from reports.words import coverage_reason, theme_title, ui

TOP_ACTIONS = 3
MAX_NAME = 80  # a company name in a subject or greeting
MAX_TARGET = 200
MAX_DETAIL = 300
MAX_EVIDENCE_ITEMS = 20
MAX_EVIDENCE_VALUE = 4000  # a bound, not a cut: `reports.evidence` limits lists by item
MAX_TARGETS_SHOWN = 10
MAX_UNTESTED_SHOWN = 6  # (topic, host) pairs in the "could not test" line; the rest counted

# Characters that must not reach a reader: C0/C1 controls, line and paragraph separators,
# bidirectional embeddings/overrides/isolates (they reorder what is shown: "Trojan Source"),
# zero-width characters and the BOM.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}):(//)")


def plain(value: Any, limit: int = 500) -> str:
    """A hostile value as one harmless line of text (see the module docstring)."""
    text = value if isinstance(value, str) else str(value)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub(" ", text)
    text = " ".join(text.split())
    text = _SCHEME.sub(r"\1[:]\2", text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


@dataclass(frozen=True, slots=True)
class Sender:
    """The Meldpunt as the message presents it (settings `meldpunt_*`)."""

    name: str
    email: str
    phone: str
    url: str
    portal: str = ""  # the portal's address (`portal_url`), shown as text to type, not a link

    @classmethod
    def from_settings(cls, settings: Settings) -> Sender:
        return cls(
            name=plain(settings.meldpunt_name, 120),
            email=settings.meldpunt_email.strip(),
            phone=plain(settings.meldpunt_phone, 40),
            url=plain(settings.meldpunt_url, 200),
            portal=plain(settings.portal_url, 200),
        )

    def missing(self) -> list[str]:
        """The settings a real message cannot do without: who it is from, how to verify it."""
        missing = []
        if not self.name:
            missing.append("meldpunt_name")
        if not self.email:
            missing.append("meldpunt_email")
        if not self.phone:
            missing.append("meldpunt_phone")
        if not self.url:
            missing.append("meldpunt_url")
        return missing


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding in the technical part: where, what exactly, since when."""

    target: str
    detail: str
    severity: Severity
    reason: Reason
    first_seen: datetime
    evidence: tuple[EvidenceLine, ...]


@dataclass(frozen=True, slots=True)
class ActionView:
    """One thing to do (one catalogue id, possibly on several hosts), ready for a template."""

    rank: int
    check_id: str
    title: str
    severity: Severity
    effort: Effort
    reasons: tuple[Reason, ...]
    previous_severity: Severity | None  # for "raised": the severity the company was told
    targets: tuple[str, ...]
    more_targets: int
    risk: str
    remediation: str
    first_step: str
    technical: str
    findings: tuple[FindingView, ...]  # the first MAX_TARGETS_SHOWN, by host
    more_findings: int  # how many more the report lists
    probable_note: str = ""  # rests on an open port alone: what was seen (reports.certainty)
    fixes: tuple[codes.Explained, ...] = ()  # the evidence's codes, each with its one-line fix


@dataclass(frozen=True, slots=True)
class WarningContent:
    """The rendered message, before it becomes an `EmailMessage`."""

    subject: str
    preheader: str
    text: str
    html: str
    actions: tuple[ActionView, ...]


_GENERIC = FindingSpec(
    id="",
    severity=Severity.MEDIUM,
    title=Text("Beveiligingsprobleem", "Security problem"),
    risk=FALLBACK_RISK,  # the company report's words, so mail and report agree
    remediation=FALLBACK_REMEDIATION,
    technical=Text("", ""),
)


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return match.group(1) if match else text.strip()


def _evidence(
    evidence: Mapping[str, Any], target: str, detail: str, language: Language = "nl"
) -> tuple[EvidenceLine, ...]:
    """The evidence for the IT supplier as labelled rows in the reader's language
    (`reports.evidence`): whole values, lists written out, nothing internal; repeats of the host
    and the detail are left out. Values stay one plain line each (see `plain`)."""
    lines: list[EvidenceLine] = []
    for key, value in evidence_rows(evidence, language):
        line = plain(value, MAX_EVIDENCE_VALUE)
        if line in (target, detail):
            continue
        lines.append(EvidenceLine(plain(key, 80), line))
        if len(lines) == MAX_EVIDENCE_ITEMS:
            break
    return tuple(lines)


def _technical_host(target: str) -> str:
    """`bakkerij-dé-haven.test (xn--bakkerij-d-haven-kqb.test)`: the name as the owner writes
    it, and the A-label the IT supplier types into a tool."""
    shown = display_host(target)
    return shown if shown == target else f"{shown} ({target})"


def _reason_order(reason: Reason) -> int:
    return (Reason.NEW, Reason.REOPENED, Reason.RAISED, Reason.REMINDER).index(reason)


def where(finding: Any, discovered: Mapping[int, str], show: Callable[[str], str] = str) -> str:
    """The host as a message names it (`show`: as the owner reads it, or as the IT supplier
    does): a host discovery found says so (issue #22), so an owner sees it was not on the
    member list and can tell the Meldpunt "not ours"."""
    target = plain(show(finding.target), MAX_TARGET)
    label = discovered.get(finding.target_id) if finding.target_id is not None else None
    return plain(named(target, finding.target, label), MAX_TARGET)


def actions(
    plan: WarningPlan,
    specs: Mapping[str, FindingSpec],
    language: Language,
    book: codes.CodeBook | None = None,
) -> tuple[ActionView, ...]:
    """The plan's findings as actions, most urgent first (the report's ranking)."""
    groups: dict[str, list[Selected]] = {}
    for selected in plan.selected:
        groups.setdefault(selected.finding.check_id, []).append(selected)
    efforts = {check_id: spec.effort for check_id, spec in specs.items()}
    ranked = scoring.rank_actions(
        [
            scoring.Item(s.finding.check_id, s.severity, "open", False, s.finding.target)
            for s in plan.selected
        ],
        efforts,
        include_info=True,
    )
    views: list[ActionView] = []
    for action in ranked:
        group = groups[action.check_id]
        spec = specs.get(action.check_id)
        words = spec or _GENERIC
        title = (
            words.title.get(language)
            if spec
            else plain(group[0].finding.title or action.check_id, 120)
        )
        probable = certainty.all_probable(s.finding.evidence for s in group)
        if probable:
            title = certainty.probable_title(title, language)
        seen = "; ".join(
            plain(
                certainty.seen_line(s.finding.evidence, display_host(s.finding.target), language),
                120,
            )
            for s in sorted(group, key=lambda s: s.finding.target)[:MAX_TARGETS_SHOWN]
        )
        targets = sorted({where(s.finding, plan.discovered, display_host) for s in group})
        raised = [s.previous_severity for s in group if s.previous_severity is not None]
        views.append(
            ActionView(
                rank=action.rank,
                check_id=plain(action.check_id, 64),
                title=title,
                severity=action.severity,
                effort=action.effort,
                reasons=tuple(sorted({s.reason for s in group}, key=_reason_order)),
                previous_severity=min(raised) if raised else None,
                targets=tuple(targets[:MAX_TARGETS_SHOWN]),
                more_targets=max(len(targets) - MAX_TARGETS_SHOWN, 0),
                risk=words.risk.get(language),
                remediation=words.remediation.get(language),
                first_step=_first_sentence(words.remediation.get(language)),
                technical=words.technical.get(language),
                findings=tuple(
                    FindingView(
                        target=where(s.finding, plan.discovered, _technical_host),
                        detail=plain(s.finding.detail, MAX_DETAIL),
                        severity=s.severity,
                        reason=s.reason,
                        first_seen=s.finding.first_seen,
                        evidence=_evidence(
                            public_evidence(s.finding.evidence),
                            plain(s.finding.target, MAX_TARGET),
                            plain(s.finding.detail, MAX_DETAIL),
                            language,
                        ),
                    )
                    for s in sorted(group, key=lambda s: s.finding.target)[:MAX_TARGETS_SHOWN]
                ),
                more_findings=max(len(group) - MAX_TARGETS_SHOWN, 0),
                probable_note=ui("probable_note", language, seen=seen) if probable else "",
                fixes=tuple(
                    codes.Explained(e.code, plain(e.text, 300), plain(e.fix, 300))
                    for e in codes.explain(
                        book, action.check_id, (s.finding.evidence for s in group), language
                    )
                ),
            )
        )
    return tuple(views)


def urgency(worst: Severity, language: Language) -> str:
    """The urgency a subject leads with: a possible break-in must not read like a certificate
    that expires next week."""
    key = {
        Severity.CRITICAL: "urgency_critical",
        Severity.HIGH: "urgency_high",
        Severity.MEDIUM: "urgency_medium",
    }.get(worst, "urgency_low")
    return ui(key, language)


def subject_for(
    plan: WarningPlan,
    sender: Sender,
    count: int,
    reference: str = "",
    worst: Severity | None = None,
) -> str:
    """`Dringend, vandaag regelen: 1 probleem bij Bakkerij De Haven – Meldpunt X (MP-2026-…)`:
    urgency first, the count in the report's unit (a problem = one check id), the reference."""
    company = plain(plan.company.name, MAX_NAME)
    reminder = plan.kind == "reminder"
    key = f"warn_subject_{'reminder_' if reminder else ''}{'one' if count == 1 else 'many'}"
    level = worst if worst is not None else max(s.severity for s in plan.selected)
    text = ui(
        key,
        plan.language,
        urgency=urgency(level, plan.language),
        meldpunt=sender.name,
        company=company,
        n=count,
        reference=reference,
    )
    if not reference:
        text = text.replace(" ()", "")
    return plain(text, 250)


def first_line(views: Sequence[ActionView], language: Language) -> str:
    """What was found, concretely, in one sentence: the most urgent problem and where."""
    if not views:
        return ""
    top = views[0]
    what = f"{top.title} ({', '.join(top.targets[:3])})" if top.targets else top.title
    rest = len(views) - 1
    if rest == 1:
        what += ", " + ui("warn_first_more_one", language)
    elif rest > 1:
        what += ", " + ui("warn_first_more_many", language, n=rest)
    return ui("warn_first_line", language, what=what)


def untested_line(items: Sequence[NotTested], language: Language) -> str:
    """What the latest scan could not test, in one plain line with the reasons: `Niet getest
    bij de laatste scan: Website en certificaten op bakkerij.nl (geen antwoord binnen de tijd).
    Dat betekent niet dat het daar in orde is: we weten het niet.` Empty when everything ran.
    Never a pass: it says we do not know."""
    if not items:
        return ""
    order = {theme: i for i, theme in enumerate(THEMES)}
    ranked = sorted(items, key=lambda x: (order.get(x.theme, len(order)), x.target))
    parts = [
        ui(
            "warn_untested_item",
            language,
            topic=theme_title(x.theme, language),
            host=display_host(x.target),
            reason=coverage_reason(x.reason, language),
        )
        for x in ranked[:MAX_UNTESTED_SHOWN]
    ]
    rest = len(ranked) - MAX_UNTESTED_SHOWN
    if rest > 0:
        parts.append(ui("warn_untested_more", language, n=rest))
    return plain(ui("warn_untested", language, what="; ".join(parts)), 1500)


def compose(
    plan: WarningPlan,
    specs: Mapping[str, FindingSpec],
    sender: Sender,
    reference: str,
    now: datetime,
    book: codes.CodeBook | None = None,
) -> WarningContent:
    """Render the subject, the plain text and the HTML of one warning. `book` gives the words
    and one-line fixes of the codes in the evidence (`reports.codes.code_book`)."""
    language = plan.language
    views = actions(plan, specs, language, book)
    worst = max((a.severity for a in views), default=Severity.INFO)
    subject = subject_for(plan, sender, len(views), reference, worst)
    company = plain(plan.company.name, MAX_NAME)
    top = views[:TOP_ACTIONS]
    preheader = plain(" · ".join(f"{a.title}: {a.first_step}" for a in top), 180)
    values: dict[str, Any] = {
        "subject": subject,
        "preheader": preheader,
        "company": company,
        "sender": sender,
        "reference": reference,
        # the scan that saw it (the newest sighting of what is in the message), and today
        "date": format_date(max(s.finding.last_seen for s in plan.selected), language),
        "sent_date": format_date(now, language),
        "kind": plan.kind,
        "actions": views,
        "top": top,
        "more": len(views) - len(top),
        "still_open": len(plan.still_open),
        "first_line": first_line(views, language),
        "untested": untested_line(plan.untested, language),
        "emergency": worst is Severity.CRITICAL and bool(sender.phone),
        "emergency_html": _nowrap(
            "warn_emergency", language, meldpunt=sender.name, phone=sender.phone
        ),
        "wrap": _wrap,
        "genuine_call_html": _nowrap(
            "warn_genuine_call", language, phone=sender.phone, reference=reference
        ),
        "severity_class": _severity_class,
        "Reason": Reason,
    }
    text = render("warning.txt.j2", language, **values)
    html = render("warning.html.j2", language, **values)
    return WarningContent(subject, preheader, _tidy_text(text), html, views)


def _nowrap(key: str, language: Language, **values: str) -> Markup:
    """A UI sentence for the HTML part whose values never break over two lines (a reference
    number or a phone number split at its hyphen is hard to read out). Escaped like the rest."""
    markers = {name: f"\ue000{i}\ue001" for i, name in enumerate(values)}
    sentence = escape(ui(key, language, **markers))
    for name, marker in markers.items():
        span = Markup('<span style="white-space:nowrap">{}</span>').format(values[name])
        sentence = sentence.replace(marker, span)
    return sentence


def _wrap(text: str, indent: int = 0, width: int = 72) -> str:
    """Wrap a paragraph for the plain-text part (after the first line, indented)."""
    prefix = " " * indent
    return textwrap.fill(
        text,
        width=width,
        initial_indent="",
        subsequent_indent=prefix,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _tidy_text(text: str) -> str:
    """No trailing spaces and at most one empty line in a row."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy).strip() + "\n"


def _severity_class(severity: Severity) -> str:
    return severity.value


def message_id(reference: str, sender_email: str) -> str:
    """`<MP-2026-000123.1f3a...@meldpunt.nl>`: unique, and it names the reference."""
    domain = sender_email.rsplit("@", 1)[-1] if "@" in sender_email else "exposure.invalid"
    return f"<{reference}.{secrets.token_hex(8)}@{domain}>"


def build_message(
    content: WarningContent,
    *,
    sender: Sender,
    recipients: Sequence[str],
    company_name: str,
    reference: str,
    language: Language,
    now: datetime,
    msgid: str,
) -> EmailMessage:
    """The RFC 5322 message: plain text and HTML alternatives, no attachments."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = content.subject
    message["From"] = Address(display_name=sender.name, addr_spec=sender.email)
    name = plain(company_name, MAX_NAME)
    message["To"] = [Address(display_name=name, addr_spec=address) for address in recipients]
    message["Reply-To"] = Address(display_name=sender.name, addr_spec=sender.email)
    when = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    message["Date"] = format_datetime(when.astimezone(UTC))
    message["Message-ID"] = msgid
    # Not a list and not bulk: but auto-generated, so auto-responders stay quiet (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message["X-Meldpunt-Reference"] = reference
    message.set_content(content.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(content.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = language  # after the parts: set_content drops Content-*
    return message


def eml_name(reference: str, company_id: str) -> str:
    """A file name for the outbox: the reference and the company id, safe characters only."""
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", company_id)[:64]
    return f"{reference}-{safe_id}.eml"
