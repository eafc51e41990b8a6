"""Charts as inline SVG, drawn on the server.

Inline SVG rather than a charting library's JavaScript: a report is a file someone
opens offline, prints or mails, and a few kilobytes of SVG per chart need no script
at all (a charting library inlined weighs 200-800 KB), draw before any script could
run, print sharply, and scale to a phone's width (``viewBox``). Every text in a
chart is escaped: labels can be third-party strings (domains, reasons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Colours by meaning, readable on white and in greyscale print.
COLOURS = {
    "live": "#1a7f37", "degraded": "#bf8700", "lost": "#cf222e", "unknown": "#8c959f",
    "new": "#0969da", "recovered": "#8250df", "other": "#57606a",
}
PALETTE = ["#0969da", "#1a7f37", "#cf222e", "#bf8700", "#8250df", "#57606a", "#1b7c83", "#bc4c00"]

WIDTH = 720
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    colour: str


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def _nice_max(value: float) -> float:
    """The top of a y axis with 4 intervals, each a whole 1, 2 or 5 times a power of ten."""
    tick = max(1.0, value / 4)
    magnitude = float(10 ** (len(str(int(tick))) - 1))
    for step in (1, 2, 5, 10):
        if tick <= step * magnitude:
            return 4 * step * magnitude
    return 40.0 * magnitude


def _svg(height: int, body: list[str], title: str, width: int = WIDTH, kind: str = "") -> Markup:
    return Markup(
        f'<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet" {FONT}>'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(series: Sequence[Series], y: int) -> list[str]:
    out, x = [], 50
    for s in series:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{s.colour}"/>'
                   f'<text x="{x + 14}" y="{y}">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return out


def _axes(labels: Sequence[str], top: float, left: int, right: int, plot_top: int, bottom: int) -> list[str]:
    out = []
    for i in range(5):
        value = top * i / 4
        y = bottom - (bottom - plot_top) * i / 4
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de" stroke-width="1"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">{_fmt(value)}</text>')
    if labels:
        step = max(1, len(labels) // 8)
        span = (right - left) / max(1, len(labels))
        for i in range(0, len(labels), step):
            x = left + span * (i + 0.5)
            out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#57606a">'
                       f"{escape(labels[i])}</text>")
    return out


def empty_chart(title: str, message: str = "no data yet") -> Markup:
    return _svg(60, [f'<text x="{WIDTH / 2}" y="35" text-anchor="middle" fill="#57606a">{escape(message)}</text>'],
                title)


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], height: int = 260) -> Markup:
    """One line per series over ``labels`` (weeks), with a legend and a y axis."""
    if not labels or not series:
        return empty_chart(title)
    left, right, plot_top, bottom = 60, WIDTH - 15, 30, height - 30
    top = _nice_max(max((max(s.values) if s.values else 0) for s in series))
    body = _axes(labels, top, left, right, plot_top, bottom)
    span = (right - left) / max(1, len(labels))
    for s in series:
        points = [(left + span * (i + 0.5), bottom - (bottom - plot_top) * v / top) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline fill="none" stroke="{s.colour}" stroke-width="2.5" points="{path}">'
                    f"<title>{escape(s.name)}</title></polyline>")
        if len(points) == 1:
            x, y = points[0]
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{s.colour}"/>')
    body += _legend(series, 16)
    return _svg(height, body, title)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], height: int = 240) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series."""
    if not labels or not series:
        return empty_chart(title)
    left, right, plot_top, bottom = 60, WIDTH - 15, 30, height - 30
    top = _nice_max(max((max(s.values) if s.values else 0) for s in series))
    body = _axes(labels, top, left, right, plot_top, bottom)
    group = (right - left) / len(labels)
    bar = max(1.0, group * 0.8 / len(series))
    for i, label in enumerate(labels):
        for j, s in enumerate(series):
            value = s.values[i]
            h = (bottom - plot_top) * value / top
            x = left + group * i + group * 0.1 + bar * j
            body.append(f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{s.colour}">'
                        f"<title>{escape(label)}: {_fmt(value)} {escape(s.name)}</title></rect>")
    body += _legend(series, 16)
    return _svg(height, body, title)


HBAR_WIDTH = 520


def hbar_chart(title: str, rows: Sequence[tuple[str, float]], colour: str = PALETTE[0],
               colours: Sequence[str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value), the value written at the end of each bar."""
    if not rows:
        return empty_chart(title)
    # Narrower than the time charts: on a phone its labels stay readable.
    width, row_height, label_width = HBAR_WIDTH, 24, 190
    height = 10 + row_height * len(rows)
    top = max(v for _, v in rows) or 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = 5 + i * row_height
        w = (width - label_width - 60) * value / top
        text = label if len(label) <= 28 else label[:27] + "\u2026"
        fill = colours[i % len(colours)] if colours else colour
        body.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(text)}<title>{escape(label)}</title></text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_height - 8}" fill="{fill}"/>'
            f'<text x="{label_width + max(w, 1) + 6:.1f}" y="{y + 15}" fill="#1b1f24">{_fmt(value)}</text>'
        )
    return _svg(height, body, title, width, "hbar")
