"""A digest: the entries of each alert kind, most valuable first, as text and as HTML.

Pure: entries in, strings out. Third-party text (URLs, titles, contexts) is squashed
to one line (control characters cannot forge lines in a text message) and, in HTML,
escaped by jinja2's autoescape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2

from linkcrawler.alerts.kinds import KINDS, Entry
from linkcrawler.web.text import squash

#: The longest a third-party string is shown in a digest.
TEXT_LIMIT = 300


@dataclass(frozen=True)
class Section:
    """One alert kind in a digest: the entries shown, and how many were left out."""

    kind: str
    title: str
    shown: tuple[Entry, ...]
    total: int

    @property
    def left_out(self) -> int:
        return self.total - len(self.shown)


@dataclass(frozen=True)
class Digest:
    """What one channel receives in one message."""

    sections: tuple[Section, ...]
    #: Every entry the digest stands for, shown or only counted: all are delivered with it.
    entries: tuple[Entry, ...]
    generated_at: datetime

    @property
    def empty(self) -> bool:
        return not self.entries

    @property
    def subject(self) -> str:
        return "linkcrawler: " + summary(self.entries)

    def text(self) -> str:
        return _render("digest.txt", self)

    def html(self) -> str:
        return _render("digest.html", self)


def value_order(entry: Entry) -> tuple[int, float, str]:
    """Sort key: the highest value first (no value last), then the newest, then by ref."""
    when = entry.when.timestamp() if isinstance(entry.when, datetime) else 0.0
    return (-(entry.value if entry.value is not None else -1), -when, entry.ref)


def build_digest(entries: Mapping[str, Sequence[Entry]], max_lines: int, now: datetime) -> Digest:
    """The digest of ``entries`` (per kind name), in the kinds' order, ``max_lines`` shown per section."""
    sections = []
    every: list[Entry] = []
    for name, kind in KINDS.items():
        found = sorted(entries.get(name) or (), key=value_order)
        if not found:
            continue
        sections.append(Section(name, kind.title, tuple(found[:max_lines]), len(found)))
        every += found
    return Digest(tuple(sections), tuple(every), now)


def summary(entries: Sequence[Entry]) -> str:
    """"3 lost, 1 recovered links; 2 unlinked mentions": counts in words."""
    counts: dict[str, int] = {}
    for entry in entries:
        label = entry.title.split(":", 1)[0] if entry.kind == "link_events" else _KIND_LABELS.get(entry.kind, entry.kind)
        counts[label] = counts.get(label, 0) + 1
    if not counts:
        return "nothing new"
    return ", ".join(f"{n} {label}" for label, n in counts.items())


_KIND_LABELS = {
    "mentions": "unlinked mention(s)",
    "opportunities": "opportunity(ies)",
    "toxicity": "toxic domain(s)",
    "outreach": "follow-up(s) due",
}


def _clean(value: Any) -> str:
    return squash(str(value), TEXT_LIMIT) if value is not None else ""


def _href(value: Any) -> str:
    """A link target only for http(s) URLs: a third-party ``javascript:`` URL never becomes a link."""
    text = _clean(value)
    return text if text.lower().startswith(("http://", "https://")) else "#"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else ""


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("linkcrawler.alerts", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_ENVIRONMENT.filters["clean"] = _clean
_ENVIRONMENT.filters["when"] = _when
_ENVIRONMENT.filters["href"] = _href


def _render(template: str, digest: Digest) -> str:
    return _ENVIRONMENT.get_template(template).render(digest=digest)
