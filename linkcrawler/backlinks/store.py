"""How backlinks and their events are stored: the documents and the idempotent writes.

Protocol (see ``docs`` in the README, "How events stay exactly-once"):

- a backlink's ``_id`` is derived from (source_url, target_url) (:func:`backlink_id`);
- it carries ``state_version``, bumped by every recorded change of state;
- a change from version N is written as an update *conditional on*
  ``state_version == N`` plus an event whose ``_id`` is ``<backlink id>:<N+1>``,
  the event first (``phase=0``).

Replaying the same change (a retried write, a crawl re-run after dying half-way)
meets a version that has moved on (the update matches nothing) and an event id
that exists (the insert is recognised as already written): nothing is doubled.
The ``new`` event of a link is always ``<id>:0``, whoever finds it first.

A check that changed nothing (the page answered 304 and the link had no
failures to reset: the daily re-check) is no change of state: it writes no
event, keeps the version, and is stored as a mark on ``_id`` alone:
``$max`` of ``last_checked`` (a replayed or late mark never moves it back)
and the ``http_status`` of that answer. On the embedded server the
``state_version`` condition is what an update costs most (about 0.3 of the
0.9 ms of server CPU per update, measured; see benchmarks/backlinks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from linkcrawler.backlinks.events import event_key
from linkcrawler.backlinks.items import BacklinkUpdate, CheckedPage, ExpiringNotices, backlink_id
from linkcrawler.store.writer import WriteOp
from linkcrawler.web.urls import host_of, registrable_domain

BACKLINKS = "backlinks"
EVENTS = "link_events"
#: How many past states a backlink keeps in ``history``.
HISTORY_LENGTH = 20


def new_backlink_ops(
    source_url: str,
    target_url: str,
    found_at: datetime,
    how: str,
    *,
    anchor_text: str | None = None,
    authority: float | None = None,
    first_seen: datetime | None = None,
    imported_from: str | None = None,
    extra: dict[str, Any] | None = None,
) -> list[WriteOp]:
    """Writes that make a backlink known (once) and emit its ``new`` event (once).

    A link that is already known keeps its state; only what an import says
    about it (authority, where it was imported from) is refreshed.
    """
    link_id = backlink_id(source_url, target_url)
    update: dict[str, Any] = {
        "$setOnInsert": _pending_fields(source_url, target_url, found_at, how, anchor_text, first_seen)
    }
    refresh = _refreshed_fields(authority, extra)
    if refresh:
        update["$set"] = refresh
    if imported_from:
        update["$addToSet"] = {"imported_from": imported_from}
    return [
        WriteOp.insert_once(EVENTS, _new_event(link_id, source_url, target_url, found_at, how), phase=0),
        WriteOp.upsert_on(BACKLINKS, {"_id": link_id}, update),
    ]


def new_backlink_documents(
    source_url: str,
    target_url: str,
    found_at: datetime,
    how: str,
    *,
    anchor_text: str | None = None,
    authority: float | None = None,
    first_seen: datetime | None = None,
    imported_from: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The backlink document and ``new`` event that :func:`new_backlink_ops` creates for
    a link not known yet, for a caller that knows the link is new and inserts them.

    Fields in the order an upsert leaves them (``_id``, then by name), so an inserted
    document is byte for byte the one the upsert would have made.
    """
    link_id = backlink_id(source_url, target_url)
    fields = _pending_fields(source_url, target_url, found_at, how, anchor_text, first_seen)
    fields.update(_refreshed_fields(authority, extra))
    if imported_from:
        fields["imported_from"] = [imported_from]
    document = {"_id": link_id, **dict(sorted(fields.items()))}
    return document, _new_event(link_id, source_url, target_url, found_at, how)


def _pending_fields(
    source_url: str,
    target_url: str,
    found_at: datetime,
    how: str,
    anchor_text: str | None,
    first_seen: datetime | None,
) -> dict[str, Any]:
    return {
        "source_url": source_url,
        "target_url": target_url,
        "source_domain": registrable_domain(host_of(source_url)),
        "target_domain": registrable_domain(host_of(target_url)),
        "status": "pending",
        "status_reason": how,
        "state_version": 0,
        "consecutive_failures": 0,
        "first_seen": first_seen or found_at,
        "last_changed": found_at,
        "history": [{"status": "pending", "at": found_at, "reason": how}],
        "anchor_text": anchor_text,
        "rel": [],
        "priority": None,
    }


def _refreshed_fields(authority: float | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    refresh: dict[str, Any] = dict(extra or {})
    if authority is not None:
        refresh["authority"] = authority
    return refresh


def _new_event(link_id: str, source_url: str, target_url: str, found_at: datetime, how: str) -> dict[str, Any]:
    return {
        "_id": event_key(link_id, 0),
        "type": "new",
        "backlink_id": link_id,
        "source_url": source_url,
        "target_url": target_url,
        "from_status": None,
        "to_status": "pending",
        "reason": how,
        "detected_at": found_at,
        "priority": None,
        "wayback_url": None,
    }


def due_filter(now: datetime, interval: timedelta | None) -> dict[str, Any]:
    """The backlinks due for a check at ``now``: ``next_check`` reached, or never checked.

    A backlink without ``next_check`` (stored before the schedule existed) is due as
    it was: never checked, or checked before ``now - interval``; its next check
    gives it a ``next_check``. ``interval=None`` means every backlink. Served by
    the ``due_next_check`` index (``next_check``, ``last_checked``).
    """
    if interval is None:
        return {}
    return {"$or": [
        {"next_check": {"$lte": now}},
        {"next_check": None, "last_checked": None},
        {"next_check": None, "last_checked": {"$lt": now - interval}},
    ]}


def expiring_ops(events: list[dict[str, Any]]) -> list[WriteOp]:
    """The writes of ``expiring`` notices: inserts keyed by (link, days), each once."""
    return [WriteOp.insert_once(EVENTS, event, phase=0) for event in events]


def update_ops(update: BacklinkUpdate) -> list[WriteOp]:
    """The writes of one backlink's new state: the event first, then the conditional update.

    A check that changed nothing is one unconditional mark (see the module docstring).
    """
    if update.unchanged:
        marked = {"http_status": update.state["http_status"]}
        if "next_check" in update.state:
            marked["next_check"] = update.state["next_check"]
        return [WriteOp.update_if(BACKLINKS, {"_id": update.backlink_id}, {
            "$max": {"last_checked": update.state["last_checked"]},
            "$set": marked,
        })]
    document: dict[str, Any] = {"$set": update.state}
    ops: list[WriteOp] = []
    if update.history_entry is not None:
        document["$push"] = {"history": {"$each": [update.history_entry], "$slice": -update.history_length}}
    if update.event is not None:
        ops.append(WriteOp.insert_once(EVENTS, update.event, phase=0))
    ops.append(WriteOp.update_at_version(BACKLINKS, update.backlink_id, update.expected_version, document))
    return ops


def checked_page_ops(item: CheckedPage) -> list[WriteOp]:
    """The writes of a checked page: each backlink's new state, and the new links found on it."""
    ops = [op for update in item.updates for op in update_ops(update)]
    for link in item.discovered:
        ops += new_backlink_ops(link.source_url, link.target_url, link.found_at,
                                "found on a checked page", anchor_text=link.anchor_text)
    return ops


#: How each item of this capability is stored (see :mod:`linkcrawler.store.writers`).
WRITERS: dict[type, Callable[[Any], list[WriteOp]]] = {
    CheckedPage: checked_page_ops,
    ExpiringNotices: lambda item: expiring_ops(item.events),
}
