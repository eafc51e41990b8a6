"""BacklinkStatePipeline: turn each check into a backlink's new state and its event.

A :class:`~linkcrawler.items.PageCheck` (what a page says about each of its known
links now, and links to us not known yet) becomes a :class:`PageUpdate`: for each
link a :class:`BacklinkUpdate` (the new state, the event of the transition if the
contract's table names one, the idempotent writes that record both:
:mod:`linkcrawler.backlinks.store` explains why they can be replayed safely), and
the writes that make the new links known. The MongoWriterPipeline writes them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from linkcrawler.backlinks.events import (
    build_event,
    changed_fields,
    lost_priority,
    settled_status,
)
from linkcrawler.backlinks.items import (
    BacklinkCheck,
    DiscoveredBacklink,
    KnownLink,
)
from linkcrawler.backlinks.status import PRESENT_STATUSES, as_status
from linkcrawler.backlinks.store import BACKLINKS, EVENTS, new_backlink_ops
from linkcrawler.backlinks.verdict import Verdict, apply_failure_policy
from linkcrawler.store.mapping import write_ops
from linkcrawler.store.writer import WriteOp
from linkcrawler.web.links import NOT_FOLLOWED_RELS

logger = logging.getLogger(__name__)




@dataclass(slots=True)
class BacklinkUpdate:
    """The outcome of one check: the state written and the event emitted (if any)."""

    backlink_id: str
    source_url: str
    target_url: str
    from_status: str
    to_status: str
    reason: str
    event: dict[str, Any] | None
    ops: list[WriteOp] = field(default_factory=list, repr=False)


@dataclass(slots=True)
class PageUpdate:
    """The outcome of one check of a linking page."""

    source_url: str
    updates: list[BacklinkUpdate]
    discovered: list[DiscoveredBacklink]


@write_ops.register
def _(item: PageUpdate) -> list[WriteOp]:
    ops = [op for update in item.updates for op in update.ops]
    for link in item.discovered:
        ops += new_backlink_ops(link.source_url, link.target_url, link.found_at,
                                "found on a checked page", anchor_text=link.anchor_text)
    return ops


def _followed(rel: list[str]) -> bool:
    return NOT_FOLLOWED_RELS.isdisjoint(rel)


def plan_update(check: BacklinkCheck, lost_after: int, history_length: int) -> BacklinkUpdate:
    """The new state of ``check.link``, its event, and the writes for both (pure)."""
    link: KnownLink = check.link
    now = check.checked_at
    if check.not_modified:
        status, failures = as_status(link.status), 0
    else:
        status, failures = apply_failure_policy(
            Verdict(as_status(check.status), check.reason), link.consecutive_failures, lost_after
        )
    present = status in PRESENT_STATUSES and not check.not_modified
    anchor_text = check.anchor_text if present else link.anchor_text
    rel = list(check.rel) if present else link.rel
    was_present = as_status(link.status) in PRESENT_STATUSES
    changed = (
        changed_fields({"anchor_text": link.anchor_text, "rel": link.rel}, {"anchor_text": anchor_text, "rel": rel})
        if present and was_present else frozenset()
    )
    reason = check.reason
    if status == "unreachable":
        reason = f"{reason} ({failures} checks in a row)"
    from_settled = link.settled_status or link.status
    new_version = link.state_version + 1
    event = build_event(
        backlink_id=link.id,
        state_version=new_version,
        source_url=link.source_url,
        target_url=link.target_url,
        from_status=from_settled,
        to_status=status,
        reason=reason,
        detected_at=now,
        changed=changed,
        authority=link.authority,
        rel_was_followed=_followed(link.rel),
    )
    state: dict[str, Any] = {
        "last_checked": now,
        "consecutive_failures": failures,
        "http_status": check.http_status,
    }
    if not check.not_modified:
        state |= {
            "status_reason": reason,
            "final_url": check.final_url,
            "redirect_chain": check.redirect_chain,
            "etag": check.etag,
            "last_modified": check.last_modified,
        }
    if present:
        state |= {"anchor_text": anchor_text, "rel": rel}
    update: dict[str, Any] = {"$set": state}
    ops: list[WriteOp] = []
    if status != link.status or changed or event is not None:
        state |= {
            "status": status.value,
            "settled_status": (settled_status(link.settled_status, status) or status).value,
            "state_version": new_version,
            "last_changed": now,
            "priority": lost_priority(link.authority, _followed(link.rel), status),
        }
        update["$push"] = {"history": {"$each": [{"status": status.value, "at": now, "reason": reason}],
                                       "$slice": -history_length}}
        if event is not None:
            ops.append(WriteOp.insert_once(EVENTS, event, phase=0))
    ops.append(WriteOp.update_if(BACKLINKS, {"_id": link.id, "state_version": link.state_version}, update))
    return BacklinkUpdate(
        backlink_id=link.id, source_url=link.source_url, target_url=link.target_url,
        from_status=link.status, to_status=status.value, reason=reason, event=event, ops=ops,
    )




