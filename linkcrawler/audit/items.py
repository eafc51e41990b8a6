"""The items of the site audit: dataclasses, read through ItemAdapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    :mod:`linkcrawler.crawl.book`); they are removed after it.
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


