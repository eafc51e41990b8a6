"""The items of the mentions capability: dataclasses, read through ItemAdapter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "MENTION_EXPORT_FIELDS", "CheckedMentionPage", "KnownMention", "MentionFinding", "MentionUpdate",
    "PageOutcome", "mention_id",
]


def mention_id(page_url: str, term: str) -> str:
    """The ``_id`` of the mention of ``term`` on ``page_url``: derived from its natural key."""
    return hashlib.sha1(f"mention\n{page_url}\n{term}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class KnownMention:
    """A mention as the store had it when its page's check started."""

    id: str
    page_url: str
    term: str
    status: str
    settled_status: str | None = None
    state_version: int = 0
    reclaimed_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: The terms the page was searched for when it was last read (what a 304 vouches for).
    searched_terms: list[str] = field(default_factory=list)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> KnownMention:
        return cls(
            id=doc["_id"], page_url=doc["page_url"], term=doc["term"], status=doc.get("status", "unlinked"),
            settled_status=doc.get("settled_status"), state_version=int(doc.get("state_version", 0)),
            reclaimed_at=doc.get("reclaimed_at"), etag=doc.get("etag"), last_modified=doc.get("last_modified"),
            searched_terms=list(doc.get("searched_terms") or []),
        )


@dataclass(slots=True)
class MentionFinding:
    """What the page says about one term now."""

    term: str
    matched_text: str
    context: str
    count: int
    linked: str
    link_url: str | None = None
    rel: list[str] = field(default_factory=list)
    anchor_text: str | None = None
    prominence: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PageOutcome:
    """What one fetch of a candidate page said, for every configured term.

    ``kind``: ``read`` (the page answered 2xx and was read: ``findings`` holds the
    terms it mentions), ``page_gone`` (404/410), ``error`` (the fetch failed,
    never taken as a mention being removed), ``not_modified`` (304).
    """

    page_url: str
    kind: str
    reason: str
    checked_at: datetime
    terms: tuple[str, ...]
    known: list[KnownMention] = field(default_factory=list)
    findings: list[MentionFinding] = field(default_factory=list)
    http_status: int | None = None
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    #: 0-100 when the candidate list (an export) gave one.
    authority: float | None = None
    #: Where the candidate came from: ``urls``, ``feed`` or ``recheck``.
    source: str | None = None


@dataclass(slots=True)
class MentionUpdate:
    """One mention's new state after a check (plain data; ``store.py`` writes it)."""

    mention_id: str
    page_url: str
    term: str
    from_status: str | None
    to_status: str
    reason: str
    #: ``state_version`` the stored document must still have (``None``: a new mention, inserted once).
    expected_version: int | None
    state: dict[str, Any] = field(default_factory=dict)
    history_entry: dict[str, Any] | None = None
    history_length: int = 20
    #: A 304: only ``last_checked`` and ``http_status`` are marked.
    unchanged: bool = False
    #: An unlinked mention that became a link: ``(link URL, anchor text, reason)`` of the backlink to create.
    reclaimed: tuple[str, str | None, str] | None = None

    def row(self) -> dict[str, Any]:
        state = self.state
        return {
            "page_url": self.page_url, "term": self.term, "status": self.to_status,
            "previous_status": self.from_status, "status_reason": self.reason,
            **{name: state.get(name) for name in (
                "matched_text", "context", "count", "linked", "link_url", "rel", "title", "author",
                "published", "prominence", "priority", "reclaimed_at", "last_checked")},
        }


#: The columns of an exported mention row, in order.
MENTION_EXPORT_FIELDS: tuple[str, ...] = (
    "record", "page_url", "term", "status", "previous_status", "status_reason", "matched_text", "context",
    "count", "linked", "link_url", "rel", "title", "author", "published", "prominence", "priority",
    "reclaimed_at", "last_checked",
)


@dataclass(slots=True)
class CheckedMentionPage:
    """A candidate page after its check: the new state of each of its mentions."""

    page_url: str
    updates: list[MentionUpdate] = field(default_factory=list)

    export_record = "mentions"
    export_fields = MENTION_EXPORT_FIELDS

    def export_rows(self) -> list[dict[str, Any]]:
        return [update.row() for update in self.updates]
