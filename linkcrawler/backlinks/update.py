"""A backlink's new state after a check: :func:`plan_update`, pure.

A :class:`~linkcrawler.backlinks.items.BacklinkCheck` (what a page says about a
known link now) becomes a :class:`~linkcrawler.backlinks.items.BacklinkUpdate`:
the new state, after the consecutive-failure rule, and the event of the
transition if the contract's table names one. :mod:`linkcrawler.backlinks.store`
turns it into idempotent writes.
"""

from __future__ import annotations

import logging
from typing import Any

from linkcrawler.backlinks.events import (
    build_event,
    changed_fields,
    lost_priority,
    settled_status,
)
from linkcrawler.backlinks.items import (
    BacklinkCheck,
    BacklinkUpdate,
    KnownLink,
)
from linkcrawler.backlinks.proof import degraded_reason
from linkcrawler.backlinks.schedule import Schedule
from linkcrawler.backlinks.status import PRESENT_STATUSES, Status, as_status
from linkcrawler.backlinks.verdict import Verdict, apply_failure_policy
from linkcrawler.web.links import NOT_FOLLOWED_RELS

logger = logging.getLogger(__name__)


def _followed(rel: list[str]) -> bool:
    return NOT_FOLLOWED_RELS.isdisjoint(rel)


#: Lost statuses that, past a link's ``expires_at``, are the agreed end of the link.
_ENDED = frozenset({Status.REMOVED, Status.REDIRECTED, Status.PAGE_GONE})
_DEFAULT_SCHEDULE = Schedule()


def plan_update(
    check: BacklinkCheck, lost_after: int, history_length: int, schedule: Schedule | None = None
) -> BacklinkUpdate:
    """The new state of ``check.link`` and its event (pure); :func:`~linkcrawler.backlinks.store.update_ops` writes them.

    Besides the status: the link's context is stored when it changed, the page's
    content fingerprint too (and when it changed), ``last_live`` on a check that
    found the link, and ``next_check`` from ``schedule``
    (:mod:`linkcrawler.backlinks.schedule`). A link past its ``expires_at`` that is
    gone is ``removed`` "expired as agreed".
    """
    schedule = schedule or _DEFAULT_SCHEDULE
    link: KnownLink = check.link
    now = check.checked_at
    if check.not_modified:
        # The page is the one its validators came from: the last status that said
        # something about the link stands (a transient error or block in between
        # was the server's, not the page's: the 304 shows it answers again).
        status, failures = as_status(link.settled_status or link.status), 0
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
    if link.expires_at is not None and now >= link.expires_at and status in _ENDED:
        status = Status.REMOVED
        reason = f"expired as agreed (ended {link.expires_at:%Y-%m-%d}): {reason}"
    elif present and not check.not_modified:
        reason = degraded_reason(from_settled, link.rel, status.value, reason)
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
        wayback_at=link.last_live or (link.last_checked if as_status(link.status) in PRESENT_STATUSES else None),
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
        state |= {"anchor_text": anchor_text, "rel": rel, "last_live": now}
        # Written only when it changed: an unchanged page rewrites none of it.
        if check.context is not None and check.context != link.context:
            state["context"] = check.context
    page_changed_at = link.page_changed_at
    if check.page_fingerprint is not None and check.page_fingerprint != link.page_fingerprint:
        state["page_fingerprint"] = check.page_fingerprint
        if link.page_fingerprint is not None:
            page_changed_at = now
            state |= {"page_changed_at": now, "page_changes": link.page_changes + 1}
    state["next_check"] = schedule.next_check(status.value, link.authority, page_changed_at, now)
    history_entry: dict[str, Any] | None = None
    if status != link.status or changed or event is not None:
        state |= {
            "status": status.value,
            "settled_status": (settled_status(link.settled_status, status) or status).value,
            "state_version": new_version,
            "last_changed": now,
            "priority": lost_priority(link.authority, _followed(link.rel), status),
        }
        history_entry = {"status": status.value, "at": now, "reason": reason}
    unchanged = (
        check.not_modified and history_entry is None and link.consecutive_failures == failures
    )
    return BacklinkUpdate(
        backlink_id=link.id, source_url=link.source_url, target_url=link.target_url,
        from_status=link.status, to_status=status.value, reason=reason, event=event,
        expected_version=link.state_version, state=state, history_entry=history_entry,
        history_length=history_length, unchanged=unchanged,
    )
