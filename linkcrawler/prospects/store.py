"""How the prospects crawl is stored: its documents and the idempotent writes.

- ``prospect_pages``: one per prospect page (unique ``url``): what it carried
  when last checked (outbound links with anchors and context, links to us), so a
  shared crawl's report can be built from what every worker stored, and pages
  are due again after ``LINKCRAWLER_RECHECK_HOURS``;
- ``outbound_checks``: one per outbound URL (unique ``url``): its last verdict
  (``broken``, ``unverified`` or ``ok``, with ``broken_reason`` and the reason in words);
- ``opportunities``: one per (page_url, link_url), ``_id`` derived from both
  (:func:`~linkcrawler.prospects.items.opportunity_id`). A re-check moves an open
  one to ``fixed`` or ``won`` with a conditional update; a ``won`` one also makes
  the page's link to us a backlink with its ``new`` event
  (:func:`~linkcrawler.backlinks.store.new_backlink_ops`), exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.prospects.items import (
    OpportunityChange,
    OpportunityItem,
    OutboundCheck,
    OutboundLink,
    ProspectPage,
)
from linkcrawler.prospects.verdict import LinkVerdict
from linkcrawler.store.writer import WriteOp

OPPORTUNITIES = "opportunities"
PROSPECT_PAGES = "prospect_pages"
OUTBOUND_CHECKS = "outbound_checks"
COMPETITOR_LINKS = "competitor_links"
#: Every collection of the capability (for ensure_indexes).
COLLECTIONS = [OPPORTUNITIES, PROSPECT_PAGES, OUTBOUND_CHECKS, COMPETITOR_LINKS]


def prospect_page_ops(item: ProspectPage) -> list[WriteOp]:
    fields: dict[str, Any] = {
        "domain": item.domain, "status": item.status, "title": item.title, "last_checked": item.checked_at,
        "outbound": [link.document() for link in item.outbound],
        "our_links": [link.document() for link in item.our_links],
        "page_date": item.page_date, "depth": item.depth, "error": item.error, "run": item.run,
    }
    if item.authority is not None:
        fields["authority"] = item.authority
    return [WriteOp.upsert_on(PROSPECT_PAGES, {"url": item.url},
                              {"$set": fields, "$setOnInsert": {"first_seen": item.checked_at}})]


def page_from_document(doc: dict[str, Any]) -> ProspectPage:
    """A stored prospect page, as the report reads it."""
    return ProspectPage(
        url=doc["url"], domain=doc.get("domain") or "", checked_at=doc["last_checked"], status=doc["status"],
        title=doc.get("title") or "", authority=doc.get("authority"),
        outbound=[OutboundLink(**link) for link in doc.get("outbound") or ()],
        our_links=[OutboundLink(**link) for link in doc.get("our_links") or ()],
        page_date=doc.get("page_date"), depth=doc.get("depth") or 0, error=doc.get("error"), run=doc.get("run") or "",
    )


def outbound_check_ops(item: OutboundCheck) -> list[WriteOp]:
    fields = {**item.verdict.document(), "checked_at": item.checked_at, "run": item.run}
    url = fields.pop("url")
    return [WriteOp.upsert_on(OUTBOUND_CHECKS, {"url": url}, {"$set": fields})]


def opportunity_ops(item: OpportunityItem) -> list[WriteOp]:
    fields = item.fields()
    first_seen = fields.pop("last_checked")
    return [WriteOp.upsert_on(OPPORTUNITIES, {"_id": item.id}, {
        "$set": {**fields, "last_checked": first_seen},
        "$setOnInsert": {"first_seen": first_seen, "contact_ids": []},
        "$unset": {"status_reason": ""},
    })]


def change_ops(item: OpportunityChange) -> list[WriteOp]:
    """``fixed`` applies to an open opportunity only; ``won`` to any not won yet (it wins over ``fixed``)."""
    condition: dict[str, Any] = {"_id": item.id, "status": "open" if item.status == "fixed" else {"$ne": "won"}}
    ops = [WriteOp.update_if(OPPORTUNITIES, condition, {"$set": {
        "status": item.status, "status_reason": item.reason, "last_checked": item.at, f"{item.status}_at": item.at,
    }})]
    for link in item.won_links:
        ops += new_backlink_ops(
            item.page_url, link.url, item.at,
            f"found on a prospect page: won broken-link opportunity (its dead link {item.link_url})",
            anchor_text=link.anchor_text or None,
        )
    return ops


def previous_opportunities(db: Database[Any], page_urls: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{_id: document}`` of the known opportunities of these pages (status, page_url, link_url)."""
    found: dict[str, dict[str, Any]] = {}
    urls = sorted(set(page_urls))
    for start in range(0, len(urls), 200):
        for doc in db[OPPORTUNITIES].find({"page_url": {"$in": urls[start:start + 200]}},
                                          {"page_url": 1, "link_url": 1, "status": 1}):
            found[doc["_id"]] = doc
    return found


def recently_checked(db: Database[Any], page_urls: Iterable[str], now: datetime, interval: timedelta) -> set[str]:
    """Those of ``page_urls`` checked less than ``interval`` before ``now`` (not due yet)."""
    urls = sorted(set(page_urls))
    recent: set[str] = set()
    for start in range(0, len(urls), 200):
        for doc in db[PROSPECT_PAGES].find(
            {"url": {"$in": urls[start:start + 200]}, "last_checked": {"$gte": now - interval}}, {"url": 1}
        ):
            recent.add(doc["url"])
    return recent


def load_run(db: Database[Any], run: str) -> tuple[list[ProspectPage], dict[str, LinkVerdict]]:
    """What every worker of a shared run stored: its prospect pages and its outbound checks."""
    pages = [page_from_document(doc) for doc in db[PROSPECT_PAGES].find({"run": run})]
    verdicts = {doc["url"]: LinkVerdict.from_document(doc) for doc in db[OUTBOUND_CHECKS].find({"run": run})}
    return pages, verdicts


#: How each item of this capability is stored (see :mod:`linkcrawler.store.writers`).
WRITERS: dict[type, Callable[[Any], list[WriteOp]]] = {
    ProspectPage: prospect_page_ops,
    OutboundCheck: outbound_check_ops,
    OpportunityItem: opportunity_ops,
    OpportunityChange: change_ops,
}
