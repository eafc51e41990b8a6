"""The items of the backlinks capability: dataclasses, read through ItemAdapter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def backlink_id(source_url: str, target_url: str) -> str:
    """The ``_id`` of a backlink: derived from its natural key, so every writer agrees on it.

    A deterministic id lets an event name its backlink before the backlink
    document exists, and makes every insert of the same link the same upsert.
    """
    return hashlib.sha1(f"{source_url}\n{target_url}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class KnownLink:
    """A backlink as the store had it when its check started (its previous state)."""

    id: str
    source_url: str
    target_url: str
    status: str = "pending"
    #: The last status that said something about the link (not error/blocked).
    settled_status: str | None = None
    state_version: int = 0
    consecutive_failures: int = 0
    anchor_text: str | None = None
    rel: list[str] = field(default_factory=list)
    authority: float | None = None
    final_url: str | None = None
    #: The page's validators from the last check, for a conditional re-check.
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> KnownLink:
        return cls(
            id=doc["_id"],
            source_url=doc["source_url"],
            target_url=doc["target_url"],
            status=doc.get("status", "pending"),
            settled_status=doc.get("settled_status"),
            state_version=int(doc.get("state_version", 0)),
            consecutive_failures=int(doc.get("consecutive_failures", 0)),
            anchor_text=doc.get("anchor_text"),
            rel=list(doc.get("rel") or []),
            authority=doc.get("authority"),
            final_url=doc.get("final_url"),
            etag=doc.get("etag"),
            last_modified=doc.get("last_modified"),
        )


@dataclass(slots=True)
class BacklinkCheck:
    """What one check of a linking page says about one known backlink."""

    link: KnownLink
    status: str
    reason: str
    checked_at: datetime
    anchor_text: str | None = None
    rel: list[str] = field(default_factory=list)
    http_status: int | None = None
    final_url: str | None = None
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    #: The page answered 304: the previous state stands.
    not_modified: bool = False
    #: The fetch failed (the status before the consecutive-failure rule is applied).
    failed: bool = False


@dataclass(slots=True)
class DiscoveredBacklink:
    """A link to one of our domains, found on a checked page, that was not known."""

    source_url: str
    target_url: str
    found_at: datetime
    anchor_text: str | None = None
    rel: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PageCheck:
    """One check of a linking page: what it says about each known link, and new ones.

    One item per page, not per link: Scrapy's cost per item is of the order of
    checking a link, and a page carries several.
    """

    source_url: str
    checks: list[BacklinkCheck] = field(default_factory=list)
    discovered: list[DiscoveredBacklink] = field(default_factory=list)


# --- site_audit items (pages, broken links) go below this line ---




