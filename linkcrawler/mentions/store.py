"""How mentions are stored: one document per (page, term), written idempotently.

A new mention is an upsert with ``$setOnInsert`` on its derived ``_id`` (whoever
finds it first writes it, a replay changes nothing). A known one is updated only
while its ``state_version`` is the one its check started from; a change of
status bumps the version and pushes one ``history`` entry (capped), so a
replayed write can neither double an entry nor move a state back. A reclaimed
mention's backlink and ``new`` event are written with
:func:`linkcrawler.backlinks.store.new_backlink_ops` (event first, both on
natural keys): exactly one backlink and one event, however often the run is repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.mentions.items import CheckedMentionPage, KnownMention, MentionUpdate
from linkcrawler.store.writer import WriteOp

__all__ = ["MENTIONS", "WRITERS", "due_mentions_filter", "known_mentions", "update_ops"]

MENTIONS = "mentions"

#: Fields of a mention document the spider needs to plan a check.
KNOWN_PROJECTION = {"page_url": 1, "term": 1, "status": 1, "settled_status": 1, "state_version": 1,
                    "reclaimed_at": 1, "etag": 1, "last_modified": 1, "last_checked": 1,
                    "searched_terms": 1}


def due_mentions_filter(terms: Iterable[str], now: datetime, interval: timedelta | None) -> dict[str, Any]:
    """The known mentions of ``terms`` due for a check (``interval=None``: all of them)."""
    query: dict[str, Any] = {"term": {"$in": list(terms)}}
    if interval is not None:
        query["$or"] = [{"last_checked": None}, {"last_checked": {"$lt": now - interval}}]
    return query


def known_mentions(db: Database[Any], page_urls: Iterable[str], terms: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """``{page_url: [mention documents]}`` of ``terms`` on ``page_urls`` (one query)."""
    found: dict[str, list[dict[str, Any]]] = {}
    cursor = db[MENTIONS].find({"page_url": {"$in": list(page_urls)}, "term": {"$in": list(terms)}},
                               KNOWN_PROJECTION)
    for doc in cursor:
        found.setdefault(doc["page_url"], []).append(doc)
    return found


def update_ops(update: MentionUpdate) -> list[WriteOp]:
    """The writes of one mention's new state (and of the backlink a reclaimed one becomes)."""
    if update.expected_version is None:
        return [WriteOp.upsert_on(MENTIONS, {"_id": update.mention_id}, {"$setOnInsert": update.state})]
    if update.unchanged:
        return [WriteOp.update_if(MENTIONS, {"_id": update.mention_id}, {
            "$max": {"last_checked": update.state["last_checked"]},
            "$set": {"http_status": update.state["http_status"]},
        })]
    ops: list[WriteOp] = []
    if update.reclaimed is not None:
        link_url, anchor_text, reason = update.reclaimed
        ops += new_backlink_ops(update.page_url, link_url, update.state["last_checked"], reason,
                                anchor_text=anchor_text)
    document: dict[str, Any] = {"$set": update.state}
    if update.history_entry is not None:
        document["$push"] = {"history": {"$each": [update.history_entry], "$slice": -update.history_length}}
    ops.append(WriteOp.update_at_version(MENTIONS, update.mention_id, update.expected_version, document))
    return ops


def checked_page_ops(item: CheckedMentionPage) -> list[WriteOp]:
    return [op for update in item.updates for op in update_ops(update)]


def known_from(docs: Iterable[dict[str, Any]]) -> list[KnownMention]:
    return [KnownMention.from_document(doc) for doc in docs]


#: How each item of this capability is stored (see :mod:`linkcrawler.store.writers`).
WRITERS: dict[type, Callable[[Any], list[WriteOp]]] = {CheckedMentionPage: checked_page_ops}
