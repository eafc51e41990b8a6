"""The alert kinds: one per source collection, each a section of the digest.

A kind says which documents of its collection are worth a message (a query built
from the :class:`~linkcrawler.alerts.rules.AlertRules`), how the most valuable come
first, and how one document reads in a digest (an :class:`Entry`). A capability
adds its alerts by adding a kind to :data:`KINDS`; an unknown name is an error
(:func:`kind`). Field names are the contract's (``../shared/design/contract.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.alerts.rules import AlertRules

#: Words for the state a link moved into: what a reader needs to know.
STATUS_WORDS: dict[str, str] = {
    "live": "the link is live and followed again",
    "nofollow": "the link is now nofollow (no longer passes value)",
    "noindex": "the linking page is now noindex",
    "canonicalized": "the linking page's canonical points to another URL",
    "removed": "the linking page no longer carries the link",
    "page_gone": "the linking page is gone",
    "redirected": "the linking page redirects to a page without the link",
    "unreachable": "the linking site cannot be reached any more",
    "pending": "a new link, not checked yet",
}

#: Words for an opportunity's ``broken_reason``.
BROKEN_WORDS: dict[str, str] = {
    "http_404": "the linked page answers 404",
    "http_410": "the linked page answers 410 (gone)",
    "dns_nxdomain": "the linked domain does not exist any more",
    "connection_refused": "the linked site refuses connections",
    "parked_domain": "the linked domain is parked",
    "soft_404": "the linked page is a soft 404",
    "redirect_to_unrelated": "the linked page redirects to an unrelated page",
}


@dataclass(frozen=True)
class Entry:
    """One line of a digest: what happened, where, and why, in words."""

    kind: str
    ref: str
    value: int | None
    title: str
    reason: str
    page_url: str | None = None
    target_url: str | None = None
    wayback_url: str | None = None
    when: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True)
class AlertKind:
    """A source of alerts: a collection, what is worth a message there, and how it reads."""

    name: str
    title: str
    collection: str
    #: The time a document counts from (only those after ``now - lookback`` are considered).
    time_field: str
    #: The number that ranks entries (most valuable first), or None.
    value_field: str | None
    query: Callable[[AlertRules, datetime, datetime], dict[str, Any]]
    entry: Callable[[dict[str, Any]], Entry]

    def sort(self) -> list[tuple[str, int]]:
        keys = [(self.value_field, -1)] if self.value_field else []
        return [*keys, (self.time_field, -1), ("_id", 1)]


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _value_at_least(field: str, rules: AlertRules) -> dict[str, Any]:
    return {field: {"$gte": rules.min_priority}} if rules.min_priority > 0 else {}


# link_events ---------------------------------------------------------------

#: Event types that carry no priority (the min priority does not filter them).
_UNRANKED_EVENTS = ["new", "recovered"]


def _events_query(rules: AlertRules, since: datetime, now: datetime) -> dict[str, Any]:
    query: dict[str, Any] = {"type": {"$in": sorted(rules.types)}, "detected_at": {"$gte": since}}
    if rules.min_priority > 0:
        query["$or"] = [{"priority": {"$gte": rules.min_priority}}, {"type": {"$in": _UNRANKED_EVENTS}}]
    return query


def _event_entry(doc: dict[str, Any]) -> Entry:
    to_status = str(doc.get("to_status") or "")
    words = STATUS_WORDS.get(to_status, to_status)
    detail = str(doc.get("reason") or "")
    reason = f"{words} ({detail})" if detail and detail != words else words
    from_status = doc.get("from_status")
    title = f"{doc.get('type')}: {from_status} -> {to_status}" if from_status else f"{doc.get('type')}: {to_status}"
    # A priority of 0 says "nothing to do" (a recovery): not a rank worth printing.
    return Entry(
        kind="link_events", ref=str(doc["_id"]), value=_int(doc.get("priority")) or None, title=title, reason=reason,
        page_url=doc.get("source_url"), target_url=doc.get("target_url"), wayback_url=doc.get("wayback_url"),
        when=doc.get("detected_at"),
    )


# mentions -------------------------------------------------------------------

def _mentions_query(rules: AlertRules, since: datetime, now: datetime) -> dict[str, Any]:
    return {"status": "unlinked", "first_seen": {"$gte": since}}


def _mention_entry(doc: dict[str, Any]) -> Entry:
    said = doc.get("matched_text") or doc.get("term") or ""
    title = doc.get("title")
    reason = f"mentions \u201c{said}\u201d without linking to us" + (f" ({title})" if title else "")
    return Entry(
        kind="mentions", ref=str(doc["_id"]), value=None, title="unlinked mention", reason=reason,
        page_url=doc.get("page_url"), when=doc.get("first_seen"), detail=doc.get("context"),
    )


# opportunities --------------------------------------------------------------

def _opportunities_query(rules: AlertRules, since: datetime, now: datetime) -> dict[str, Any]:
    return {"status": "open", "first_seen": {"$gte": since}, **_value_at_least("score", rules)}


def _opportunity_entry(doc: dict[str, Any]) -> Entry:
    broken = str(doc.get("broken_reason") or "")
    reason = BROKEN_WORDS.get(broken, broken or "broken outbound link")
    reasons = doc.get("score_reasons") or []
    if reasons:
        reason += "; " + "; ".join(str(r) for r in reasons[:3])
    suggestion = doc.get("suggested_target")
    return Entry(
        kind="opportunities", ref=str(doc["_id"]), value=_int(doc.get("score")), title="broken link opportunity",
        reason=reason, page_url=doc.get("page_url"), target_url=doc.get("link_url"),
        wayback_url=doc.get("wayback_url"), when=doc.get("first_seen"),
        detail=f"offer {suggestion} instead" if suggestion else None,
    )


# toxicity -------------------------------------------------------------------

def _toxicity_query(rules: AlertRules, since: datetime, now: datetime) -> dict[str, Any]:
    # Newly toxic: scored toxic, and no person has decided about it yet.
    return {"verdict": "toxic", "decision": None, "scored_at": {"$gte": since}, **_value_at_least("score", rules)}


def _toxicity_entry(doc: dict[str, Any]) -> Entry:
    signals = [s.get("name") or "" for s in doc.get("signals") or [] if isinstance(s, dict)]
    reason = "signals: " + ", ".join(s for s in signals[:5] if s) if signals else "scored toxic"
    links = doc.get("links")
    return Entry(
        # One alert per domain: a re-audit that scores it toxic again says nothing new.
        kind="toxicity", ref=str(doc.get("domain") or doc["_id"]), value=_int(doc.get("score")),
        title=f"toxic domain: {doc.get('domain')}", reason=reason, when=doc.get("scored_at"),
        detail=f"{links} of our backlinks; decide with scrapy toxicaudit --keep/--disavow" if links is not None else None,
    )


# outreach -------------------------------------------------------------------

_AWAITING_REPLY = ["contacted", "followed_up"]


def _outreach_query(rules: AlertRules, since: datetime, now: datetime) -> dict[str, Any]:
    return {"status": {"$in": _AWAITING_REPLY}, "follow_up_due": {"$gte": since, "$lte": now},
            **_value_at_least("priority", rules)}


def _outreach_entry(doc: dict[str, Any]) -> Entry:
    due = doc.get("follow_up_due")
    contacted = doc.get("contacted_at")
    reason = "no reply yet"
    if isinstance(contacted, datetime):
        reason = f"contacted {contacted:%Y-%m-%d}, no reply yet"
    # A task is due again after each follow-up: the due date is part of what was said.
    ref = f"{doc['_id']}@{due.isoformat() if isinstance(due, datetime) else due}"
    return Entry(
        kind="outreach", ref=ref, value=_int(doc.get("priority")), title=f"follow-up due: {doc.get('kind')}",
        reason=reason, page_url=doc.get("page_url"), when=due,
    )


#: Every alert kind, in the order of the digest's sections.
KINDS: dict[str, AlertKind] = {
    k.name: k for k in (
        AlertKind("link_events", "Backlinks", "link_events", "detected_at", "priority", _events_query, _event_entry),
        AlertKind("mentions", "New unlinked mentions", "mentions", "first_seen", None, _mentions_query, _mention_entry),
        AlertKind("opportunities", "New broken-link opportunities", "opportunities", "first_seen", "score",
                  _opportunities_query, _opportunity_entry),
        AlertKind("toxicity", "Newly toxic domains", "toxicity", "scored_at", "score", _toxicity_query, _toxicity_entry),
        AlertKind("outreach", "Outreach follow-ups due", "outreach", "follow_up_due", "priority",
                  _outreach_query, _outreach_entry),
    )
}


def kind(name: str) -> AlertKind:
    """The kind called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown alert kind {name!r} (known: {', '.join(KINDS)})") from None
