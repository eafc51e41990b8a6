"""The indexes every collection needs, created (idempotently) before the first write.

Unique indexes are what make the writer's upserts idempotent: two writes of one
natural key can only ever meet in one document.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

INDEXES: dict[str, list[IndexModel]] = {
    # Every check updates its backlink, and the embedded server rewrites every
    # index entry of a document it modifies: an index here must serve a query.
    "backlinks": [
        # One document per (source_url, target_url): _id is derived from the pair
        # (backlinks/items.py backlink_id), so _id's own index keeps it unique.
        # The due query (backlinks/store.py due_filter): next_check, and last_checked
        # for links stored before the schedule existed (next_check missing).
        IndexModel([("next_check", ASCENDING), ("last_checked", ASCENDING)], name="due_next_check"),
    ],
    "link_events": [
        IndexModel([("detected_at", DESCENDING)], name="detected_at"),
        IndexModel([("type", ASCENDING), ("detected_at", DESCENDING)], name="type_detected_at"),
    ],
    "pages": [
        IndexModel([("url", ASCENDING)], unique=True, name="url"),
        IndexModel([("site", ASCENDING), ("status", ASCENDING)], name="site_status"),
    ],
    "broken_links": [
        IndexModel([("page_url", ASCENDING), ("link_url", ASCENDING)], unique=True, name="page_link"),
        IndexModel([("site", ASCENDING)], name="site"),
    ],
    "redirected_links": [
        IndexModel([("page_url", ASCENDING), ("link_url", ASCENDING)], unique=True, name="page_link"),
        IndexModel([("site", ASCENDING)], name="site"),
    ],
    "audit_fetches": [
        IndexModel([("site", ASCENDING), ("run", ASCENDING)], name="site_run"),
    ],
    "mentions": [
        # The natural key: one document per (page, brand term).
        IndexModel([("page_url", ASCENDING), ("term", ASCENDING)], unique=True, name="page_term"),
        # The due query (mentions/store.py due_mentions_filter).
        IndexModel([("last_checked", ASCENDING)], name="due"),
        # scrapy mentions: the unlinked ones, best first.
        IndexModel([("status", ASCENDING), ("priority", DESCENDING)], name="status_priority"),
    ],
    "contacts": [
        IndexModel([("domain", ASCENDING), ("key", ASCENDING)], unique=True, name="domain_key"),
        # contacts/lookup.py best_contacts: the most confident contact of each domain.
        IndexModel([("domain", ASCENDING), ("confidence", DESCENDING)], name="domain_confidence"),
    ],
    "outreach": [
        # One task per (thing, kind).
        IndexModel([("kind", ASCENDING), ("ref", ASCENDING)], unique=True, name="kind_ref"),
        # One open ask per (domain, kind): only open tasks carry open_key.
        IndexModel([("open_key", ASCENDING)], unique=True, sparse=True, name="open_key"),
        IndexModel([("status", ASCENDING), ("follow_up_due", ASCENDING)], name="status_due"),
        IndexModel([("contacted_at", ASCENDING)], name="contacted_at"),
    ],
    # prospects (linkcrawler/prospects/store.py)
    # Every index costs each write on the embedded server: only those a query needs.
    "opportunities": [
        # _id is derived from (page_url, link_url): one per pair. This serves the re-check's lookup by page.
        IndexModel([("page_url", ASCENDING)], name="page"),
    ],
    "prospect_pages": [
        IndexModel([("url", ASCENDING)], unique=True, name="url"),
    ],
    "outbound_checks": [
        IndexModel([("url", ASCENDING)], unique=True, name="url"),
    ],
    "competitor_links": [
        IndexModel([("competitor", ASCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
                   unique=True, name="competitor_source_target"),
        IndexModel([("source_domain", ASCENDING)], name="source_domain"),
    ],
    "runs": [
        IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)], name="spider_started"),
    ],
    # toxicaudit / disavow: worst domains first; the latest disavow version.
    "toxicity": [
        IndexModel([("score", DESCENDING)], name="score"),
    ],
    "disavow_versions": [
        IndexModel([("created_at", DESCENDING)], name="created_at"),
    ],
    # alerts: what each channel holds (alerts/delivery.py delivered_refs, the pending ones of a channel).
    "alert_deliveries": [
        IndexModel([("channel", ASCENDING), ("status", ASCENDING), ("newest_at", ASCENDING)], name="channel_status"),
    ],
}


#: Indexes that earlier versions created and no query uses: dropped where found.
#: ``target_domain`` and ``source_domain`` of ``backlinks`` only ever served a
#: ``distinct`` once per crawl and a ``$group``, which scan anyway, and cost
#: every backlink update two index entries.
#: ``due`` (``last_checked`` alone) served the due query before ``next_check``.
#: ``status`` served linkstatus's list of lost links, in a command that counts the
#: backlinks of each status with a ``$group`` (a scan) anyway, and the outreach
#: sync's still-lost check, now a look-up by ``_id``; on the embedded server it cost
#: every check's update two index writes (measured: benchmarks/backlinks/README.md).
#: ``source_target`` (unique on source_url, target_url) repeated what ``_id`` already
#: guarantees (it is derived from the pair: :func:`~linkcrawler.backlinks.items.backlink_id`),
#: and ``target`` served redirectmap's look-up of the gone pages' backlinks, now one
#: grouped scan: on the embedded server the two cost every check's update 0.7 of its
#: 1.7 ms and every import's insert half of its 0.5 ms (measured: benchmarks/backlinks/README.md).
RETIRED: dict[str, list[str]] = {
    "backlinks": ["target_domain", "source_domain", "due", "status", "source_target", "target"],
    # The events of a link are found by _id (event_key(link, version)): every
    # event insert paid an entry in ``backlink`` for one report query.
    "link_events": ["backlink"],
}


def ensure_indexes(db: Database[dict[str, Any]], collections: list[str] | None = None) -> None:
    """Create the indexes of ``collections`` (all by default), drop retired ones; a no-op when done."""
    for name in collections or list(INDEXES):
        db[name].create_indexes(INDEXES[name])
        retired = set(RETIRED.get(name, ())) & set(db[name].index_information())
        for index in sorted(retired):
            db[name].drop_index(index)
