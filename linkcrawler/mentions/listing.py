"""The mentions worth asking about, best first, with who to ask: what ``scrapy mentions`` lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.database import Database

from linkcrawler.contacts.lookup import best_contacts
from linkcrawler.mentions.state import MENTION_STATUSES
from linkcrawler.mentions.store import MENTIONS

__all__ = ["LISTING_FIELDS", "listing_rows", "load_listing"]

#: The columns of ``scrapy mentions -o FILE.csv``, in order.
LISTING_FIELDS = (
    "priority", "status", "page_url", "page_domain", "term", "matched_text", "context", "count",
    "prominence", "authority", "linked", "link_url", "title", "author", "published", "contact_name",
    "contact_email", "contact_role", "first_seen", "last_checked", "reclaimed_at",
)
#: Best first: priority (authority and prominence), then how often the page names us, then the newest.
SORT = [("priority", -1), ("count", -1), ("first_seen", -1), ("_id", 1)]


def load_listing(db: Database[Any], status: str | None = "unlinked", limit: int = 50) -> list[dict[str, Any]]:
    """The mentions in ``status`` (``None``: every status), best first, each with its domain's best contact."""
    if status is not None and status not in MENTION_STATUSES:
        raise ValueError(f"unknown mention status {status!r}: one of {', '.join(MENTION_STATUSES)}")
    query = {} if status is None else {"status": status}
    cursor = db[MENTIONS].find(query, {"history": 0}).sort(SORT)
    docs = list(cursor.limit(limit) if limit else cursor)
    contacts = best_contacts(db, {doc.get("page_domain") for doc in docs if doc.get("page_domain")})
    return listing_rows(docs, contacts)


def listing_rows(docs: Iterable[Mapping[str, Any]], contacts: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per mention document, with the contact of its domain when one is known."""
    rows = []
    for doc in docs:
        contact = contacts.get(doc.get("page_domain") or "", {})
        row = {name: doc.get(name) for name in LISTING_FIELDS}
        row |= {"contact_name": contact.get("name"), "contact_email": contact.get("email"),
                "contact_role": contact.get("role")}
        rows.append(row)
    return rows
