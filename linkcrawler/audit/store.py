"""How a site audit is stored: ``pages``, ``broken_links``, ``redirected_links``.

Every write is an upsert on the collection's natural key with ``$set`` of the
values found, so re-running an audit refreshes documents instead of adding
to them (``inlinks`` is set to the final count, never incremented). Pages are
written once, as they are answered; the totals that need the whole crawl
(``inlinks``...) follow as a few grouped updates (:func:`totals_ops`).
Each item type's writes are in :data:`WRITERS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from pymongo.database import Database

from linkcrawler.audit.findings import AuditFindings, BrokenTarget
from linkcrawler.audit.items import (
    AuditedPage,
    AuditFact,
    AuditTotals,
    BrokenLink,
    RedirectedLink,
)
from linkcrawler.backlinks.status import STATUS_CLASSES, StatusClass
from linkcrawler.crawl.book import Answer
from linkcrawler.store.writer import WriteOp

PAGES = "pages"
BROKEN_LINKS = "broken_links"
REDIRECTED_LINKS = "redirected_links"
AUDIT_FETCHES = "audit_fetches"
BACKLINKS = "backlinks"

#: Backlink states whose link no longer exists: they do not count as referring.
LOST_BACKLINK_STATUSES = tuple(str(s) for s, c in STATUS_CLASSES.items() if c is StatusClass.LOST)


def audited_page_ops(item: AuditedPage) -> list[WriteOp]:
    update = {"$set": item.row(), "$setOnInsert": {"first_crawled": item.crawled_at}}
    return [WriteOp.upsert_on(PAGES, {"url": item.url}, update)]


def _page_link_upsert(collection: str, page_url: str, link_url: str, seen_at: datetime,
                      fields: dict[str, Any]) -> list[WriteOp]:
    """One document per (page, link) of a site: refreshed on every audit, first_seen kept."""
    update = {"$set": {**fields, "last_seen": seen_at}, "$setOnInsert": {"first_seen": seen_at}}
    return [WriteOp.upsert_on(collection, {"page_url": page_url, "link_url": link_url}, update)]


def broken_link_ops(item: BrokenLink) -> list[WriteOp]:
    return _page_link_upsert(BROKEN_LINKS, item.page_url, item.link_url, item.seen_at, item.row())


def redirected_link_ops(item: RedirectedLink) -> list[WriteOp]:
    return _page_link_upsert(REDIRECTED_LINKS, item.page_url, item.link_url, item.seen_at, item.row())


#: URLs per grouped update of the totals. SecantusDB matches a long ``$in`` slowly: 1 ms a
#: page with 50 URLs, 1.4 ms with 500, 7 ms with 2000 (measured; an UpdateOne per page: 0.9 ms).
TOTALS_CHUNK = 50


def totals_ops(item: AuditTotals) -> list[WriteOp]:
    """The totals as grouped updates: one per distinct inlink count (and chunk of URLs).

    The pages were written as they were answered, with their inlinks so far;
    only those linked again since are updated here. In a later phase: within
    one batch they run after the pages' own upserts.
    """
    by_count: dict[int, list[str]] = {}
    for url, count in item.inlinks.items():
        by_count.setdefault(count, []).append(url)
    ops = [
        WriteOp.update_all(PAGES, {"url": {"$in": urls[start:start + TOTALS_CHUNK]}}, {"$set": {"inlinks": count}},
                           phase=2)
        for count, urls in sorted(by_count.items())
        for start in range(0, len(urls), TOTALS_CHUNK)
    ]
    ops += [
        WriteOp.update_all(PAGES, {"url": {"$in": item.in_sitemap[start:start + TOTALS_CHUNK]}},
                           {"$set": {"in_sitemap": True}}, phase=2)
        for start in range(0, len(item.in_sitemap), TOTALS_CHUNK)
    ]
    by_origin: dict[str, list[str]] = {}
    for url, found_by in item.found_by.items():
        by_origin.setdefault(found_by, []).append(url)
    ops += [
        WriteOp.update_all(PAGES, {"url": {"$in": urls[start:start + TOTALS_CHUNK]}}, {"$set": {"found_by": found_by}},
                           phase=2)
        for found_by, urls in sorted(by_origin.items())
        for start in range(0, len(urls), TOTALS_CHUNK)
    ]
    return ops


def fact_id(run: str, kind: str, url: str) -> str:
    """The ``_id`` of a fact: one per (run, kind, URL), so a fetch made twice (a worker died) is stored once."""
    return hashlib.sha1(f"{run}\n{kind}\n{url}".encode(), usedforsecurity=False).hexdigest()


def fact_ops(item: AuditFact) -> list[WriteOp]:
    document = {
        "_id": fact_id(item.run, item.kind, item.url),
        "site": item.site,
        "run": item.run,
        "kind": item.kind,
        "url": item.url,
        "status": item.status,
        "location": item.location,
        "details": item.details,
        "anchors": [list(pair) for pair in item.anchors],
        "error": item.error,
        "fetched_at": item.fetched_at,
    }
    return [WriteOp.insert_once(AUDIT_FETCHES, document)]


#: How each item of the site audit is stored (see :mod:`linkcrawler.store.writers`).
WRITERS: dict[type, Callable[[Any], list[WriteOp]]] = {
    AuditedPage: audited_page_ops,
    BrokenLink: broken_link_ops,
    RedirectedLink: redirected_link_ops,
    AuditTotals: totals_ops,
    AuditFact: fact_ops,
}


def load_facts(db: Database[dict[str, Any]], site: str, run: str) -> tuple[dict[tuple[bool, str], Answer], list[str]]:
    """The answers the workers of ``run`` stored, keyed by ``(external, url)``, and the sitemaps' URLs."""
    answers: dict[tuple[bool, str], Answer] = {}
    sitemap_urls: dict[str, None] = {}
    sitemap_parts = []
    for doc in db[AUDIT_FETCHES].find({"site": site, "run": run}, {"fetched_at": 0, "site": 0, "run": 0}):
        kind = doc["kind"]
        if kind == "sitemap":
            sitemap_parts.append((doc["url"], doc.get("anchors") or []))
            continue
        external = kind == "external"
        answers[external, doc["url"]] = Answer(
            url=doc["url"],
            status=doc["status"],
            location=doc.get("location"),
            details=doc.get("details"),
            anchors={target: anchor for target, anchor in doc.get("anchors") or []} if not external else None,
            error=doc.get("error"),
            external=external,
        )
    for _, urls in sorted(sitemap_parts, key=lambda part: part[0]):
        for url, _anchor in urls:
            sitemap_urls[url] = None
    return answers, list(sitemap_urls)


def purge_facts(db: Database[dict[str, Any]], site: str) -> int:
    """Remove every stored fact of ``site`` (after its report was written)."""
    return db[AUDIT_FETCHES].delete_many({"site": site}).deleted_count


def purge_fixed_links(db: Database[dict[str, Any]], site: str, before: datetime) -> dict[str, int]:
    """Remove the site's broken and redirected links not seen since ``before`` (fixed since).

    Called after a complete audit: a link still broken was seen (``last_seen``
    refreshed) during it. Returns the number removed per collection.
    """
    removed = {}
    for name in (BROKEN_LINKS, REDIRECTED_LINKS):
        result = db[name].delete_many({"site": site, "last_seen": {"$lt": before}})
        removed[name] = result.deleted_count
    return removed


def load_findings(db: Database[dict[str, Any]], site: str) -> AuditFindings:
    """The findings of the site's last audit, read back from the collections (for reports and the demo)."""
    findings = AuditFindings(site=site)
    for page in db[PAGES].find({"site": site}, {"_id": 0}).sort("url", 1):
        findings.pages += 1
        findings.statuses[str(page.get("status"))] += 1
        chain = page.get("redirect_chain") or []
        if page.get("redirect_loop"):
            findings.loops.append(chain)
        elif len(chain) >= 3:
            findings.chains.append(chain)
        if page.get("found_by") == "sitemap" and page.get("depth") is None and page.get("in_sitemap"):
            findings.sitemap_only.append(page["url"])
        if page.get("status") in ("robots_disallowed", "refused_address"):
            findings.not_checked.append((page["url"], page["status"]))
    targets: dict[str, BrokenTarget] = {}
    for doc in db[BROKEN_LINKS].find({"site": site}).sort([("link_url", 1), ("page_url", 1)]):
        target = targets.setdefault(doc["link_url"], BrokenTarget(doc["link_url"], doc["status"], doc["kind"]))
        target.carriers.append((doc["page_url"], doc.get("anchor_text") or ""))
    findings.broken = list(targets.values())
    for doc in db[REDIRECTED_LINKS].find({"site": site}).sort([("page_url", 1), ("link_url", 1)]):
        # Documents written before ``kind`` existed are all internal links.
        external = doc.get("kind") == "external"
        (findings.redirected_external_links if external else findings.redirected_links).append(
            (doc["page_url"], doc["link_url"], doc["final_url"]))
    return findings


def sites(db: Database[dict[str, Any]]) -> list[str]:
    """The sites audited into ``pages``."""
    return sorted(s for s in db[PAGES].distinct("site") if s)


def referring_domains(
    db: Database[dict[str, Any]], targets: Iterable[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Per target URL: distinct referring domains, backlinks and anchor texts.

    Only links that still exist count: backlinks in a lost state (``removed``,
    ``page_gone``, ``redirected``, ``unreachable``) do not. ``targets`` limits
    it to those URLs. Yields ``{"_id": url, "domains": n, "backlinks": n, "anchors": [...]}``.

    One grouped scan either way: no index on ``target_url`` serves a ``$in`` of the
    targets (every check of every backlink would pay for its entries), and the
    embedded server matches each document against the whole ``$in`` list.
    """
    wanted = None if targets is None else set(targets)
    pipeline: list[dict[str, Any]] = [
        {"$match": {"status": {"$nin": list(LOST_BACKLINK_STATUSES)}}},
        {"$group": {
            "_id": "$target_url",
            "domains": {"$addToSet": "$source_domain"},
            "backlinks": {"$sum": 1},
            "anchors": {"$addToSet": "$anchor_text"},
        }},
    ]
    for row in db[BACKLINKS].aggregate(pipeline, allowDiskUse=True):
        if wanted is not None and row["_id"] not in wanted:
            continue
        yield {
            "_id": row["_id"],
            "domains": len([d for d in row["domains"] if d]),
            "backlinks": row["backlinks"],
            "anchors": [a for a in row["anchors"] if a],
        }


__all__ = [
    "AUDIT_FETCHES",
    "BACKLINKS",
    "BROKEN_LINKS",
    "LOST_BACKLINK_STATUSES",
    "PAGES",
    "REDIRECTED_LINKS",
    "fact_id",
    "load_facts",
    "load_findings",
    "purge_facts",
    "purge_fixed_links",
    "referring_domains",
    "sites",
]
