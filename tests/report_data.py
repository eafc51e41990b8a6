"""A link profile to report on: backlinks with histories, events, an audit and the other ways' collections.

Used by the report's tests (small) and its benchmark (200,000 backlinks, 1,000,000
events), inserted with ``insert_many`` in batches. Deterministic for a seed. Some
third-party strings are hostile on purpose (markup, control characters).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pymongo

from linkcrawler.backlinks.events import wayback_url
from linkcrawler.store.indexes import ensure_indexes

BATCH = 5000
OUR = "https://our.example"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\x1b[31m'
STATUSES = [("live", 60), ("nofollow", 8), ("noindex", 3), ("canonicalized", 2), ("removed", 9), ("page_gone", 7),
            ("redirected", 3), ("unreachable", 3), ("error", 2), ("blocked", 2), ("pending", 1)]
REASONS = {"removed": "no link to the target on the page", "page_gone": "HTTP 404", "redirected": "redirects to /home",
           "unreachable": "DNS lookup failed", "nofollow": "rel=nofollow", "noindex": "meta robots noindex",
           "canonicalized": "canonical points elsewhere", "live": "link found", "error": "timeout",
           "blocked": "robots.txt disallows this page", "pending": "imported"}
LOST = {"removed", "page_gone", "redirected", "unreachable"}


def _batches(docs: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def populate(db: pymongo.database.Database, now: datetime, backlinks: int = 300, events: int = 1500,
             seed: int = 7, others: bool = True) -> None:
    """Fill ``db`` with a profile of ``backlinks`` links and ``events`` events over the last year."""
    rng = random.Random(seed)
    names, weights = zip(*STATUSES, strict=True)
    domains = max(5, backlinks // 8)
    targets = max(3, min(500, backlinks // 20))
    ensure_indexes(db)

    def backlink_docs() -> Iterator[dict[str, Any]]:
        for i in range(backlinks):
            domain = f"site{i % domains}.example" if i % 97 else f"{HOSTILE}.example"
            source = f"https://{domain}/post/{i}"
            target = f"{OUR}/page/{i % targets}"
            status = rng.choices(names, weights)[0]
            first = now - timedelta(days=rng.randint(10, 360))
            history = [{"status": "pending", "at": first, "reason": "imported"}]
            at = first
            for step in ("live", status)[: rng.randint(1, 2)]:
                at = min(now, at + timedelta(days=rng.randint(1, 60)))
                if history[-1]["status"] != step:
                    history.append({"status": step, "at": at, "reason": REASONS[step]})
            if history[-1]["status"] != status:
                history.append({"status": status, "at": min(now, at + timedelta(days=1)), "reason": REASONS[status]})
            yield {
                "_id": f"b{i}", "source_url": source, "target_url": target, "source_domain": domain,
                "target_domain": "our.example", "status": status,
                "status_reason": REASONS[status] if i % 50 else HOSTILE, "anchor_text": f"anchor {i}",
                "authority": rng.randint(0, 100), "priority": rng.randint(1, 100) if status in LOST else None,
                "first_seen": first, "last_changed": history[-1]["at"], "last_checked": now - timedelta(hours=rng.randint(0, 48)),
                "history": history, "state_version": len(history) - 1,
            }

    for batch in _batches(backlink_docs()):
        db.backlinks.insert_many(batch, ordered=False)

    types = [("new", 40), ("lost", 25), ("degraded", 10), ("recovered", 15), ("changed", 10)]
    tnames, tweights = zip(*types, strict=True)

    def event_docs() -> Iterator[dict[str, Any]]:
        for j in range(events):
            i = j % backlinks
            kind = rng.choices(tnames, tweights)[0]
            to = {"new": "pending", "lost": rng.choice(sorted(LOST)), "degraded": "nofollow", "recovered": "live",
                  "changed": "noindex"}[kind]
            when = now - timedelta(minutes=rng.randint(0, 364 * 24 * 60))
            source = f"https://site{i % domains}.example/post/{i}"
            yield {
                "_id": f"b{i}:{j}", "type": kind, "backlink_id": f"b{i}", "source_url": source,
                "target_url": f"{OUR}/page/{i % targets}", "from_status": None if kind == "new" else "live",
                "to_status": to, "reason": REASONS[to], "detected_at": when,
                "priority": rng.randint(1, 100) if kind in ("lost", "degraded") else 0,
                "wayback_url": wayback_url(source, when) if to in LOST else None,
            }

    for batch in _batches(event_docs()):
        db.link_events.insert_many(batch, ordered=False)

    pages = max(20, targets * 2)
    db.pages.insert_many([{
        "url": f"{OUR}/page/{k}", "status": 404 if k % 17 == 3 else (301 if k % 11 == 5 else 200),
        "final_status": 200, "final_url": f"{OUR}/page/{k + 1}" if k % 11 == 5 else None,
        "redirect_chain": ([{"url": f"{OUR}/page/{k}", "status": 301}, {"url": f"{OUR}/x/{k}", "status": 302},
                            {"url": f"{OUR}/page/{k + 1}", "status": 200}] if k % 11 == 5 else []),
        "redirect_loop": k == 7, "site": "our.example", "last_crawled": now,
    } for k in range(pages)])
    db.broken_links.insert_many([{
        "page_url": f"{OUR}/page/{k % pages}", "link_url": f"https://dead{k % 40}.example/{HOSTILE if k == 1 else k}",
        "anchor_text": "dead", "status": 404 if k % 3 else "dns_error", "kind": "external", "site": "our.example",
        "last_seen": now} for k in range(max(10, pages * 3))])
    db.redirected_links.insert_one({"page_url": f"{OUR}/page/1", "link_url": f"{OUR}/page/5",
                                    "final_url": f"{OUR}/page/6", "kind": "internal", "site": "our.example"})
    db.runs.insert_one({"_id": "r1", "spider": "backlinks", "started_at": now - timedelta(minutes=30),
                        "finished_at": now - timedelta(minutes=5), "finish_reason": "finished"})
    if not others:
        return
    db.mentions.insert_many([{
        "page_url": f"https://press{k}.example/a", "page_domain": f"press{k}.example", "term": "Acme",
        "matched_text": "ACME", "context": f"we loved {HOSTILE} acme", "status": "unlinked" if k % 3 else "linked",
        "first_seen": now - timedelta(days=k)} for k in range(12)])
    db.opportunities.insert_many([{
        "page_url": f"https://res{k}.example/links", "link_url": f"https://gone{k}.example/tool", "status": "open",
        "broken_reason": "http_404", "score": 90 - k, "suggested_target": f"{OUR}/page/1",
        "wayback_url": wayback_url(f"https://gone{k}.example/tool"), "first_seen": now} for k in range(8)])
    db.toxicity.insert_many([{
        "domain": f"spam{k}.example", "score": 95 - k * 7, "verdict": "toxic" if k < 3 else ("review" if k < 6 else "ok"),
        "signals": [{"name": "link farm", "weight": 40, "evidence": HOSTILE}], "links": k + 1, "decision": None,
        "scored_at": now} for k in range(9)])
    db.outreach.insert_many([{
        "kind": "reclaim_lost_link", "ref": f"b{k}", "page_url": f"https://site{k}.example/post/{k}",
        "status": ["todo", "contacted", "followed_up", "replied", "won", "declined"][k % 6], "priority": 50 + k,
        "created_at": now} for k in range(18)])
