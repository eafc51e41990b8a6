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
    links_truncated: bool = False
    """The page has more links than ``analyze_page`` reads (``MAX_LINKS``): some were not checked."""
    depth: int | None = None
    """Clicks from the start URL; ``None`` for a page reached only through the sitemap."""
    found_by: str = "link"
    """``start``, ``link``, ``redirect`` (a hop of a redirect) or ``sitemap``."""
    error: str | None = None
    inlinks: int | None = None
    """Distinct internal pages linking to it, so far (:class:`AuditTotals` has the final count of those linked later)."""
    in_sitemap: bool | None = None
    """Whether a sitemap read so far lists it (:class:`AuditTotals` adds the sitemaps read later)."""

    export_record = "pages"
    export_fields = (
        "record", "url", "site", "status", "final_status", "final_url", "redirect_chain", "redirect_loop",
        "content_type", "title", "canonical", "noindex", "links_truncated", "depth", "found_by", "error", "last_crawled",
        "inlinks", "in_sitemap",
    )

    def row(self) -> dict[str, Any]:
        """The ``pages`` document's fields (``inlinks`` and ``in_sitemap`` only when known)."""
        fields = {
            "url": self.url,
            "site": self.site,
            "status": self.status,
            "final_status": self.final_status,
            "final_url": self.final_url,
            "redirect_chain": self.redirect_chain,
            "redirect_loop": self.redirect_loop,
            "content_type": self.content_type,
            "title": self.title,
            "canonical": self.canonical,
            "noindex": self.noindex,
            "links_truncated": self.links_truncated,
            "depth": self.depth,
            "found_by": self.found_by,
            "error": self.error,
            "last_crawled": self.crawled_at,
        }
        if self.in_sitemap is not None:
            fields["in_sitemap"] = self.in_sitemap
        if self.inlinks is not None:
            fields["inlinks"] = self.inlinks
        return fields

    def export_rows(self) -> list[dict[str, Any]]:
        return [self.row()]


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

    export_record = "broken_links"
    export_fields = ("record", "page_url", "link_url", "anchor_text", "status", "kind", "site", "final_url",
                     "last_seen")

    def row(self) -> dict[str, Any]:
        """The ``broken_links`` document's fields but its key and ``last_seen``."""
        return {"anchor_text": self.anchor_text, "status": self.status, "kind": self.kind, "site": self.site,
                "final_url": self.final_url}

    def export_rows(self) -> list[dict[str, Any]]:
        return [{"page_url": self.page_url, "link_url": self.link_url, **self.row(), "last_seen": self.seen_at}]


@dataclass(slots=True)
class RedirectedLink:
    """A link that points at a redirect instead of the final URL: worth pointing at where it ends.

    ``kind`` is ``internal`` (to the audited site) or ``external``. An external
    link counts from one redirect on, ``http://`` to ``https://`` included: the
    page still makes every visitor take a detour the site owner can remove.
    """

    page_url: str
    link_url: str
    final_url: str
    redirects: int
    kind: str
    site: str
    seen_at: datetime
    anchor_text: str = ""

    export_record = "redirected_links"
    export_fields = ("record", "page_url", "link_url", "anchor_text", "final_url", "redirects", "kind", "site",
                     "last_seen")

    def row(self) -> dict[str, Any]:
        """The ``redirected_links`` document's fields but its key and ``last_seen``."""
        return {"anchor_text": self.anchor_text, "final_url": self.final_url, "redirects": self.redirects,
                "kind": self.kind, "site": self.site}

    def export_rows(self) -> list[dict[str, Any]]:
        return [{"page_url": self.page_url, "link_url": self.link_url, **self.row(), "last_seen": self.seen_at}]


@dataclass(slots=True)
class AuditTotals:
    """What is only known once the crawl is over, for the pages written as they were answered.

    Written with grouped updates (by inlink count) of the pages it changes, not a rewrite of every page.
    """

    site: str
    counted_at: datetime
    inlinks: dict[str, int] = field(default_factory=dict)
    """Recorded URLs linked again after they were recorded -> distinct internal pages linking to them."""
    in_sitemap: list[str] = field(default_factory=list)
    """Recorded URLs found in a sitemap read after they were recorded."""
    found_by: dict[str, str] = field(default_factory=dict)
    """Recorded URLs whose ``found_by`` changed after they were recorded (a redirect's hop linked later)."""

    #: Completes the pages already exported: no row of its own.
    export_record = None


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

    #: Internal to a shared audit: no exported row.
    export_record = None


