"""A mention's state after a check of its page: :func:`plan_page`, pure.

One document per (page, term). A page read (2xx) gives each configured term
``unlinked``, ``linked`` or ``nofollow`` when the page mentions it, ``removed``
when a known mention is gone from it; 404/410 is ``page_gone``; a failed fetch
is ``error``, never ``removed`` (the shared failure policy); a 304 keeps the
state and only marks ``last_checked``. A term the page does not mention and
that was not known before leaves no document.

When a mention whose last settled state (not ``error``) was ``unlinked`` becomes
a link to us (``linked`` or ``nofollow``), it is *reclaimed*: ``reclaimed_at`` is
set once and the link becomes a backlink with its ``new`` event
(:mod:`linkcrawler.mentions.store`), monitored by the backlinks spider from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linkcrawler.mentions.items import MentionFinding, MentionUpdate, PageOutcome, mention_id
from linkcrawler.mentions.linked import FOLLOWED, NOFOLLOW
from linkcrawler.web.urls import host_of, registrable_domain

__all__ = ["LINK_STATUSES", "MENTION_STATUSES", "mention_priority", "plan_page", "status_of"]

UNLINKED, LINKED, NOFOLLOW_STATUS, REMOVED, PAGE_GONE, ERROR = (
    "unlinked", "linked", "nofollow", "removed", "page_gone", "error")
MENTION_STATUSES = (UNLINKED, LINKED, NOFOLLOW_STATUS, REMOVED, PAGE_GONE, ERROR)
#: The statuses of a mention that links to us.
LINK_STATUSES = frozenset({LINKED, NOFOLLOW_STATUS})

#: How much each place of a mention adds to its priority.
_PROMINENCE_POINTS = {"title": 20, "heading": 12, "first_paragraph": 8}
#: The priority base of a page whose authority no import gave.
_UNKNOWN_AUTHORITY = 30.0


def status_of(linked: str) -> str:
    """The mention status of a ``linked`` value."""
    return {FOLLOWED: LINKED, NOFOLLOW: NOFOLLOW_STATUS}.get(linked, UNLINKED)


def mention_priority(authority: float | None, prominence: Sequence[str], count: int) -> int:
    """0-100: how much a mention is worth asking about (authority, then how prominent it is)."""
    base = _UNKNOWN_AUTHORITY if authority is None else max(0.0, min(100.0, float(authority)))
    score = base * 0.6 + sum(_PROMINENCE_POINTS.get(place, 0) for place in prominence) + min(max(count - 1, 0), 4) * 2
    return max(0, min(100, round(score)))


def _reason(finding: MentionFinding) -> str:
    times = "once" if finding.count == 1 else f"{finding.count} times"
    if finding.linked == FOLLOWED:
        return f"mentions {finding.term!r} {times}, linked to {finding.link_url}"
    if finding.linked == NOFOLLOW:
        rel = " ".join(finding.rel) or "meta nofollow"
        return f"mentions {finding.term!r} {times}, linked with rel={rel} to {finding.link_url}"
    return f"mentions {finding.term!r} {times} without a link to us"


def plan_page(outcome: PageOutcome, history_length: int = 20) -> list[MentionUpdate]:
    """The new state of every mention ``outcome`` says something about."""
    known = {mention.term: mention for mention in outcome.known}
    findings = {finding.term: finding for finding in outcome.findings}
    now = outcome.checked_at
    updates: list[MentionUpdate] = []
    for term in outcome.terms:
        previous = known.get(term)
        finding = findings.get(term) if outcome.kind == "read" else None
        if previous is None and finding is None:
            continue
        if outcome.kind == "not_modified" and previous is not None and previous.status == ERROR \
                and previous.settled_status not in (None, ERROR):
            # The page answers again, unchanged since it was last read: its last settled state stands.
            restored = str(previous.settled_status)
            reason = "not modified since the last check"
            updates.append(MentionUpdate(
                previous.id, outcome.page_url, term, previous.status, restored, reason, previous.state_version,
                state={"last_checked": now, "http_status": outcome.http_status, "status": restored,
                       "status_reason": reason, "last_changed": now, "state_version": previous.state_version + 1},
                history_entry={"status": restored, "at": now, "reason": reason}, history_length=history_length,
            ))
            continue
        if outcome.kind == "not_modified":
            assert previous is not None
            updates.append(MentionUpdate(
                previous.id, outcome.page_url, term, previous.status, previous.status,
                "not modified since the last check", previous.state_version,
                state={"last_checked": now, "http_status": outcome.http_status},
                history_length=history_length, unchanged=True,
            ))
            continue
        state: dict[str, Any] = {
            "last_checked": now, "http_status": outcome.http_status, "final_url": outcome.final_url,
        }
        if finding is not None:
            status, reason = status_of(finding.linked), _reason(finding)
            state |= {
                "matched_text": finding.matched_text, "context": finding.context, "count": finding.count,
                "linked": finding.linked, "link_url": finding.link_url, "rel": list(finding.rel),
                "prominence": list(finding.prominence), "title": outcome.title, "author": outcome.author,
                "published": outcome.published, "etag": outcome.etag, "last_modified": outcome.last_modified,
                "priority": mention_priority(outcome.authority, finding.prominence, finding.count),
                "searched_terms": list(outcome.terms),
            }
        elif outcome.kind == "read":
            status, reason = REMOVED, f"the page no longer mentions {term!r}"
            state |= {"etag": outcome.etag, "last_modified": outcome.last_modified, "count": 0,
                      "searched_terms": list(outcome.terms)}
        elif outcome.kind == "page_gone":
            status, reason = PAGE_GONE, outcome.reason
        else:
            status, reason = ERROR, outcome.reason
        if outcome.authority is not None:
            state["authority"] = outcome.authority
        state |= {"status": status, "status_reason": reason}
        if previous is None:
            state |= {
                "page_url": outcome.page_url, "page_domain": registrable_domain(host_of(outcome.page_url)),
                "term": term, "first_seen": now, "last_changed": now, "settled_status": status,
                "state_version": 0, "reclaimed_at": None, "contact_ids": [], "source": outcome.source,
                "history": [{"status": status, "at": now, "reason": reason}],
            }
            updates.append(MentionUpdate(mention_id(outcome.page_url, term), outcome.page_url, term, None,
                                         status, reason, None, state=state, history_length=history_length))
            continue
        settled_before = previous.settled_status or previous.status
        if status != ERROR:
            state["settled_status"] = status
        update = MentionUpdate(previous.id, outcome.page_url, term, previous.status, status, reason,
                               previous.state_version, state=state, history_length=history_length)
        if status != previous.status:
            state |= {"last_changed": now, "state_version": previous.state_version + 1}
            update.history_entry = {"status": status, "at": now, "reason": reason}
        if (finding is not None and status in LINK_STATUSES and settled_before == UNLINKED
                and previous.reclaimed_at is None and finding.link_url):
            state["reclaimed_at"] = now
            update.reclaimed = (
                finding.link_url, finding.anchor_text or finding.matched_text,
                f"reclaimed mention: the unlinked mention of {term!r} on this page became a link",
            )
        updates.append(update)
    return updates
