"""The items of the prospects crawl: dataclasses, read through ItemAdapter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkcrawler.prospects.verdict import LinkVerdict

__all__ = ["OpportunityChange", "OpportunityItem", "OutboundCheck", "OutboundLink", "ProspectPage", "opportunity_id"]


def opportunity_id(page_url: str, link_url: str) -> str:
    """The ``_id`` of an opportunity: derived from (page_url, link_url), so every writer agrees on it."""
    return hashlib.sha1(f"{page_url}\n{link_url}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class OutboundLink:
    """A link from a prospect page to another site: where to, its anchor and the text around it."""

    url: str
    anchor_text: str = ""
    context: str = ""

    def document(self) -> dict[str, Any]:
        return {"url": self.url, "anchor_text": self.anchor_text, "context": self.context}


@dataclass(slots=True)
class ProspectPage:
    """One prospect page as fetched (a ``prospect_pages`` document): what the report is built from."""

    url: str
    domain: str
    checked_at: datetime
    status: int | str
    """The page's HTTP status, or an error kind when it could not be fetched."""
    title: str = ""
    authority: float | None = None
    outbound: list[OutboundLink] = field(default_factory=list)
    our_links: list[OutboundLink] = field(default_factory=list)
    """Links to our own domains found on the page."""
    page_date: datetime | None = None
    depth: int = 0
    error: str | None = None
    run: str = ""

    @property
    def fetched(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300

    export_record = "prospect_pages"
    export_fields = ("record", "url", "domain", "status", "title", "authority", "outbound_links", "our_links",
                     "depth", "last_checked", "error")

    def export_rows(self) -> list[dict[str, Any]]:
        return [{
            "url": self.url, "domain": self.domain, "status": self.status, "title": self.title,
            "authority": self.authority, "outbound_links": len(self.outbound),
            "our_links": [link.url for link in self.our_links], "depth": self.depth,
            "last_checked": self.checked_at, "error": self.error,
        }]


@dataclass(slots=True)
class OutboundCheck:
    """What checking one outbound URL found (an ``outbound_checks`` document)."""

    verdict: LinkVerdict
    checked_at: datetime
    run: str = ""

    export_record = "outbound_checks"
    export_fields = ("record", "url", "state", "broken_reason", "reason", "http_status", "final_url", "checked_at")

    def export_rows(self) -> list[dict[str, Any]]:
        document = self.verdict.document()
        document.pop("redirect_chain")
        return [{**document, "checked_at": self.checked_at}]


@dataclass(slots=True)
class OpportunityItem:
    """One open opportunity as found by this run (an ``opportunities`` document, contract fields)."""

    page_url: str
    page_domain: str
    page_title: str
    link_url: str
    anchor_text: str
    context: str
    broken_reason: str
    http_status: int | None
    linked_from_pages: int
    wayback_url: str
    suggested_target: str | None
    suggestion_score: float | None
    score: int
    score_reasons: list[str]
    last_checked: datetime
    check_reason: str = ""
    """Why the link is broken, in words ("HTTP 404", "parked or for-sale domain: ...")."""
    authority: float | None = None

    @property
    def id(self) -> str:
        return opportunity_id(self.page_url, self.link_url)

    export_record = "opportunities"
    export_fields = (
        "record", "page_url", "page_domain", "page_title", "link_url", "anchor_text", "context", "broken_reason",
        "check_reason", "http_status", "linked_from_pages", "wayback_url", "suggested_target", "suggestion_score",
        "score", "score_reasons", "status", "last_checked",
    )

    def fields(self) -> dict[str, Any]:
        return {
            "page_url": self.page_url, "page_domain": self.page_domain, "page_title": self.page_title,
            "link_url": self.link_url, "anchor_text": self.anchor_text, "context": self.context,
            "broken_reason": self.broken_reason, "check_reason": self.check_reason, "http_status": self.http_status,
            "linked_from_pages": self.linked_from_pages, "wayback_url": self.wayback_url,
            "suggested_target": self.suggested_target, "suggestion_score": self.suggestion_score,
            "score": self.score, "score_reasons": self.score_reasons, "authority": self.authority,
            "status": "open", "last_checked": self.last_checked,
        }

    def export_rows(self) -> list[dict[str, Any]]:
        return [self.fields()]


@dataclass(slots=True)
class OpportunityChange:
    """A known opportunity that a re-check moved: ``fixed`` or ``won`` (with the links to us that won it)."""

    page_url: str
    link_url: str
    status: str
    reason: str
    at: datetime
    won_links: list[OutboundLink] = field(default_factory=list)

    @property
    def id(self) -> str:
        return opportunity_id(self.page_url, self.link_url)

    export_record = "opportunities"
    export_fields = OpportunityItem.export_fields

    def export_rows(self) -> list[dict[str, Any]]:
        return [{"page_url": self.page_url, "link_url": self.link_url, "status": self.status,
                 "check_reason": self.reason, "last_checked": self.at}]
