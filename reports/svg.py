"""Tiny inline SVG charts for the reports: no scripts, no external files, text escaped.

Why hand-made: a report is one self-contained file that a member opens on a phone or prints,
so a chart library with JavaScript or web fonts is out. The charts are plain SVG elements.

One trick keeps them legible on a phone: horizontal positions are percentages of the chart's
width and vertical ones are pixels, with no `viewBox`. The chart then stretches to any width
while its text keeps its real font size (a scaled `viewBox` would shrink a 14px label to 8px
on a 390px screen). Lines are drawn as separate `<line>` segments because a `<polyline>` cannot
take percentages.

Every label goes through `markupsafe.escape`: chart labels are check titles and sector names,
and a sector name comes from the member list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from exposure.severity import Severity
from reports.scoring import Grade

GRADE_COLORS: dict[Grade, str] = {
    Grade.A: "#1a7f37",
    Grade.B: "#4d8a1f",
    Grade.C: "#a15c00",
    Grade.D: "#c2410c",
    Grade.E: "#b42318",
}
SEVERITY_COLORS: dict[Severity, str] = {
    Severity.CRITICAL: "#7a1010",
    Severity.HIGH: "#b42318",
    Severity.MEDIUM: "#a15c00",
    Severity.LOW: "#2f6690",
    Severity.INFO: "#5f6b76",
}
INK = "#1f2933"
MUTED = "#5f6b76"
GRID = "#d8dde3"
ACCENT = "#1d4e89"

FONT = "font-family:inherit"
MAX_LABEL = 56


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: what it is, how long, its colour, and the text at its end."""

    label: str
    value: float
    color: str = ACCENT
    shown: str = ""  # the value as text at the end of the bar; default: the value itself
    strong: bool = False  # bold label (the reader's own bar)


@dataclass(frozen=True, slots=True)
class Point:
    """One step of a trend: its label on the x-axis and its value."""

    label: str
    value: float | None


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def _short(label: str, limit: int = MAX_LABEL) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _open(height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" height="{height}" '
        f'role="img" aria-label="{escape(title)}" style="{FONT}">'
        f"<title>{escape(title)}</title>"
    )


def hbars(bars: Sequence[Bar], title: str, maximum: float | None = None) -> Markup:
    """Horizontal bars, each with its label above it: reads on a phone and on paper.

    The labels are HTML text above each bar's own small SVG, so that a long label (a finding's
    title) wraps on a narrow screen instead of running off it; the bars are SVG.
    """
    if not bars:
        return Markup("")
    top = maximum if maximum is not None else max((b.value for b in bars), default=0.0)
    top = top if top > 0 else 1.0
    parts = [f'<div class="hbars" role="group" aria-label="{escape(title)}">']
    for bar in bars:
        width = max(min(bar.value / top, 1.0), 0.0) * 86.0
        shown = bar.shown or _plain_number(bar.value)
        strong = " strong" if bar.strong else ""
        parts.append(f'<div class="hbar-label{strong}">{escape(bar.label)}</div>')
        parts.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="hbar" width="100%" height="20" '
            f'role="img" aria-label="{escape(bar.label)}: {escape(shown)}" style="{FONT}">'
            f'<rect x="0" y="2" width="86%" height="16" rx="3" fill="{GRID}" opacity="0.45"/>'
        )
        if width > 0:
            parts.append(
                f'<rect x="0" y="2" width="{_pct(width)}" height="16" rx="3" '
                f'fill="{escape(bar.color)}"/>'
            )
        parts.append(
            f'<text x="{_pct(width + 1.5)}" y="15" font-size="14" font-weight="700" '
            f'fill="{INK}">{escape(shown)}</text></svg>'
        )
    parts.append("</div>")
    return _joined(parts)


def columns(bars: Sequence[Bar], title: str, height: int = 180) -> Markup:
    """Vertical bars with the value above and the label below (companies per grade)."""
    if not bars:
        return Markup("")
    top = max((b.value for b in bars), default=0.0) or 1.0
    plot = height - 48  # room for the value above and the label below
    slot = 100.0 / len(bars)
    parts = [_open(height, title)]
    baseline = height - 26
    parts.append(
        f'<line x1="0" y1="{baseline}" x2="100%" y2="{baseline}" stroke="{GRID}" stroke-width="1"/>'
    )
    for i, bar in enumerate(bars):
        h = round(plot * max(bar.value, 0.0) / top)
        x = slot * i + slot * 0.2
        center = slot * i + slot / 2
        if h > 0:
            parts.append(
                f'<rect x="{_pct(x)}" y="{baseline - h}" width="{_pct(slot * 0.6)}" '
                f'height="{h}" rx="3" fill="{escape(bar.color)}"/>'
            )
        shown = bar.shown or _plain_number(bar.value)
        parts.append(
            f'<text x="{_pct(center)}" y="{baseline - h - 6}" font-size="14" font-weight="700" '
            f'text-anchor="middle" fill="{INK}">{escape(shown)}</text>'
        )
        parts.append(
            f'<text x="{_pct(center)}" y="{height - 6}" font-size="14" text-anchor="middle" '
            f'fill="{INK}">{escape(_short(bar.label, 14))}</text>'
        )
    parts.append("</svg>")
    return _joined(parts)


def line(
    points: Sequence[Point],
    title: str,
    low: float = 0.0,
    high: float = 100.0,
    height: int = 200,
    color: str = ACCENT,
) -> Markup:
    """A trend line (average score per scan) on a fixed scale with a few grid lines."""
    if not points:
        return Markup("")
    span = (high - low) or 1.0
    top, bottom = 12, height - 28
    left, right = 9.0, 97.0  # percent; the scale labels sit left of `left`

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * (min(max(value, low), high) - low) / span

    def x_of(i: int) -> float:
        if len(points) == 1:
            return (left + right) / 2
        return left + (right - left) * i / (len(points) - 1)

    parts = [_open(height, title)]
    for tick in _ticks(low, high):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_pct(left)}" y1="{y:.1f}" x2="{_pct(right)}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_pct(left - 1.5)}" y="{y + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="{MUTED}">{escape(_plain_number(tick))}</text>'
        )
    known = [(i, p) for i, p in enumerate(points) if p.value is not None]
    for (i, a), (j, b) in pairwise(known):
        assert a.value is not None and b.value is not None
        parts.append(
            f'<line x1="{_pct(x_of(i))}" y1="{y_of(a.value):.1f}" x2="{_pct(x_of(j))}" '
            f'y2="{y_of(b.value):.1f}" stroke="{escape(color)}" stroke-width="3" '
            f'stroke-linecap="round"/>'
        )
    for i, p in known:
        assert p.value is not None
        parts.append(
            f'<circle cx="{_pct(x_of(i))}" cy="{y_of(p.value):.1f}" r="4" '
            f'fill="{escape(color)}"><title>{escape(p.label)}: '
            f"{escape(_plain_number(p.value))}</title></circle>"
        )
    for i in _label_positions(len(points)):
        anchor = "start" if i == 0 and len(points) > 1 else "middle"
        if i == len(points) - 1 and len(points) > 1:
            anchor = "end"
        parts.append(
            f'<text x="{_pct(x_of(i))}" y="{height - 6}" font-size="12" '
            f'text-anchor="{anchor}" fill="{MUTED}">{escape(points[i].label)}</text>'
        )
    if known:
        i, p = known[-1]
        assert p.value is not None
        parts.append(
            f'<text x="{_pct(x_of(i))}" y="{y_of(p.value) - 10:.1f}" font-size="14" '
            f'font-weight="700" text-anchor="end" fill="{INK}">'
            f"{escape(_plain_number(p.value))}</text>"
        )
    parts.append("</svg>")
    return _joined(parts)


def stacked(
    columns_: Sequence[tuple[str, Sequence[tuple[str, float, str]]]],
    title: str,
    height: int = 180,
) -> Markup:
    """Stacked columns: per step (a scan) the share of each part (grades A..E), 100% high.

    `columns_` is [(label, [(part name, count, colour), ...]), ...].
    """
    if not columns_:
        return Markup("")
    top, bottom = 8, height - 28
    slot = 100.0 / len(columns_)
    parts = [_open(height, title)]
    for i, (label, pieces) in enumerate(columns_):
        total = sum(count for _, count, _ in pieces) or 1.0
        x = slot * i + slot * 0.15
        y = float(bottom)
        for name, count, color in pieces:
            if count <= 0:
                continue
            h = (bottom - top) * count / total
            y -= h
            parts.append(
                f'<rect x="{_pct(x)}" y="{y:.1f}" width="{_pct(slot * 0.7)}" height="{h:.1f}" '
                f'fill="{escape(color)}"><title>{escape(label)} – {escape(name)}: '
                f"{escape(_plain_number(count))}</title></rect>"
            )
    for i in _label_positions(len(columns_)):
        parts.append(
            f'<text x="{_pct(slot * i + slot / 2)}" y="{height - 6}" font-size="12" '
            f'text-anchor="middle" fill="{MUTED}">{escape(columns_[i][0])}</text>'
        )
    parts.append("</svg>")
    return _joined(parts)


def share_bar(pieces: Sequence[tuple[str, float, str]], title: str, height: int = 14) -> Markup:
    """One 100%-wide bar split into parts (a sector's grades), for inside a table cell."""
    total = sum(count for _, count, _ in pieces)
    parts = [_open(height, title)]
    x = 0.0
    if total > 0:
        for name, count, color in pieces:
            if count <= 0:
                continue
            w = 100.0 * count / total
            parts.append(
                f'<rect x="{_pct(x)}" y="0" width="{_pct(w)}" height="{height}" '
                f'fill="{escape(color)}"><title>{escape(name)}: '
                f"{escape(_plain_number(count))}</title></rect>"
            )
            x += w
    parts.append("</svg>")
    return _joined(parts)


def _joined(parts: Sequence[str]) -> Markup:
    """The chart as markup. Safe because every value from outside went through `escape`
    where `parts` were built; the rest is our own fixed SVG."""
    return Markup("".join(parts))  # noqa: S704


def _label_positions(n: int, most: int = 4) -> list[int]:
    """Which x labels to print: all when few, else the first, the last and a few between,
    so that dates never overlap on a phone."""
    if n <= most:
        return list(range(n))
    step = (n - 1) / (most - 1)
    return sorted({round(step * k) for k in range(most)})


def _ticks(low: float, high: float) -> list[float]:
    step = (high - low) / 4
    return [low + step * k for k in range(5)]


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
