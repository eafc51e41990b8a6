"""The items linkcrawler's spiders produce: dataclasses, read through ItemAdapter."""

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


@dataclass(slots=True)
class AuditedPage:
    """One URL of the audited site and what it answered (a ``pages`` document)."""

    url: str
    site: str
    status: int | str
    """The URL's own HTTP status, or an error kind (``redirect_loop``, ``dns_error``...)."""
    crawled_at: datetime
    final_status: int | str | None = None
    final_url: str | None = None
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    redirect_loop: bool = False
    content_type: str | None = None
    title: str | None = None
    canonical: str | None = None
    noindex: bool = False
    depth: int | None = None
    """Clicks from the start URL; ``None`` for a page reached only through the sitemap."""
    found_by: str = "link"
    """``start``, ``link``, ``redirect`` (a hop of a redirect) or ``sitemap``."""
    error: str | None = None
    inlinks: int | None = None
    """Set when the page is reported after the whole crawl (a shared audit's report); else in :class:`AuditTotals`."""
    in_sitemap: bool | None = None


@dataclass(slots=True)
class BrokenLink:
    """A link on a page of the site whose target is broken (a ``broken_links`` document)."""

    page_url: str
    link_url: str
    status: int | str
    kind: str
    """``internal`` or ``external``."""
    site: str
    seen_at: datetime
    anchor_text: str = ""
    final_url: str | None = None
    """Where the link's redirects led, when it redirects."""


@dataclass(slots=True)
class RedirectedLink:
    """An internal link that points at a redirect instead of the final URL."""

    page_url: str
    link_url: str
    final_url: str
    redirects: int
    site: str
    seen_at: datetime
    anchor_text: str = ""


@dataclass(slots=True)
class AuditTotals:
    """What is only known once the crawl is over: inlinks, sitemap membership and click depth of each page."""

    site: str
    counted_at: datetime
    pages: list[tuple[str, int, bool, int | None, str]] = field(default_factory=list)
    """(url, inlinks, in_sitemap, depth, found_by) for every URL the audit recorded: the depth
    is the shortest click path from the start page (``None``: not reached by links)."""


@dataclass(slots=True)
class AuditFact:
    """What one worker of a distributed audit fetched (an ``audit_fetches`` document).

    The report is made from these once the shared crawl is over (see
    :mod:`linkcrawler.model.audit_crawl`); they are removed after it.
    """

    site: str
    run: str
    kind: str
    """``page`` (internal, GET), ``external`` (a link checked) or ``sitemap`` (part of a sitemap's URLs)."""
    url: str
    fetched_at: datetime
    status: int | str | None = None
    location: str | None = None
    details: dict[str, Any] | None = None
    anchors: list[tuple[str, str]] = field(default_factory=list)
    """(target, anchor text) of a page's links; a sitemap part's URLs with empty anchors."""
    error: str | None = None
