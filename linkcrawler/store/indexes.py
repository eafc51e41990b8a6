"""The indexes every collection needs, created (idempotently) before the first write.

Unique indexes are what make the writer's upserts idempotent: two writes of one
natural key can only ever meet in one document.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

INDEXES: dict[str, list[IndexModel]] = {
    "backlinks": [
        IndexModel([("source_url", ASCENDING), ("target_url", ASCENDING)], unique=True, name="source_target"),
        IndexModel([("last_checked", ASCENDING)], name="due"),
        IndexModel([("status", ASCENDING)], name="status"),
        IndexModel([("target_url", ASCENDING)], name="target"),
        IndexModel([("target_domain", ASCENDING)], name="target_domain"),
        IndexModel([("source_domain", ASCENDING)], name="source_domain"),
    ],
    "link_events": [
        IndexModel([("detected_at", DESCENDING)], name="detected_at"),
        IndexModel([("type", ASCENDING), ("detected_at", DESCENDING)], name="type_detected_at"),
        IndexModel([("backlink_id", ASCENDING)], name="backlink"),
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
    "runs": [
        IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)], name="spider_started"),
    ],
}


def ensure_indexes(db: Database[dict[str, Any]], collections: list[str] | None = None) -> None:
    """Create the indexes of ``collections`` (all by default); a no-op when they exist."""
    for name in collections or list(INDEXES):
        db[name].create_indexes(INDEXES[name])
