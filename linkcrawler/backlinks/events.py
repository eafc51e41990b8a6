"""Which ``link_events`` a status change produces, and how to write each exactly once.

The contract's table, read over every pair of the eleven statuses (the test suite
spells out all 121 pairs):

========================  ===============  ===============  ===============  ===============
from \\ to                 unknown          live             degraded         lost
========================  ===============  ===============  ===============  ===============
(none: first seen)        new              new              new              new
unknown                   --               --               --               lost
live                      --               changed [1]_     degraded         lost
degraded                  --               recovered        changed [2]_     lost
lost                      --               recovered        degraded [3]_    changed [2]_
========================  ===============  ===============  ===============  ===============

.. [1] only when something that matters changed (:data:`MATTERING_FIELDS`).
.. [2] when the status itself changed (``nofollow`` -> ``noindex``, ``removed`` ->
   ``page_gone``: the way the link is degraded or lost is what outreach acts on), or
   when something that matters changed; nothing for an identical re-check.
.. [3] a lost link that comes back degraded (``removed`` -> ``nofollow``). The table
   names no type for it, yet subscribers must hear that the link is back: ``degraded``
   names the state it arrived in, as ``lost`` and ``recovered`` do.

Transitions into the unknown class (``error``, ``blocked``, ``pending``) are silent:
they say nothing about the link. Out of it, only ``lost`` is named (``error`` ->
``unreachable``, or a first check that finds the link gone); unknown -> live or
degraded is silent, the ``new`` event having announced the link.

Because ``error``/``blocked`` are noise between two real states, call
:func:`event_type` with the backlink's last *settled* status as ``from_status``
(:func:`settled_status`): ``live`` -> ``error`` -> ``nofollow`` is then a
``degraded`` event, and ``removed`` -> ``error`` -> ``page_gone`` a ``changed`` one,
not a second ``lost``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from linkcrawler.backlinks.status import (
    LOST_STATUSES,
    TRANSIENT_STATUSES,
    Status,
    StatusClass,
    as_status,
    status_class,
)

__all__ = [
    "MATTERING_FIELDS",
    "EventType",
    "build_event",
    "changed_fields",
    "event_key",
    "event_type",
    "expiring_event",
    "lost_priority",
    "settled_status",
    "wayback_url",
]

#: Backlink fields whose change, within one class, is worth a ``changed`` event.
MATTERING_FIELDS = frozenset({"anchor_text", "target_url", "rel"})


class EventType(StrEnum):
    """``link_events.type``."""

    NEW = "new"
    LOST = "lost"
    DEGRADED = "degraded"
    RECOVERED = "recovered"
    CHANGED = "changed"
    EXPIRING = "expiring"
    """A link with ``expires_at`` is some days from its end (:func:`expiring_event`); no status change."""


def event_type(
    from_status: str | None, to_status: str, changed: Collection[str] = frozenset()
) -> EventType | None:
    """The event a transition produces, or ``None`` (see the table in the module doc).

    ``from_status`` is ``None`` for a backlink seen for the first time, else its last
    settled status (:func:`settled_status`); ``changed`` names the backlink fields the
    check changed (:func:`changed_fields`). ``ValueError`` for an unknown status.
    """
    to = as_status(to_status)
    if from_status is None:
        return EventType.NEW
    origin = as_status(from_status)
    before, after = status_class(origin), status_class(to)
    matters = not MATTERING_FIELDS.isdisjoint(changed)
    if after is StatusClass.UNKNOWN:
        return None
    if before is StatusClass.UNKNOWN:
        return EventType.LOST if after is StatusClass.LOST else None
    if after is StatusClass.LOST:
        if before is not StatusClass.LOST:
            return EventType.LOST
        return EventType.CHANGED if origin is not to or matters else None
    if after is StatusClass.LIVE:
        if before is StatusClass.LIVE:
            return EventType.CHANGED if matters else None
        return EventType.RECOVERED
    # after is DEGRADED
    if before is StatusClass.DEGRADED:
        return EventType.CHANGED if origin is not to or matters else None
    return EventType.DEGRADED


def settled_status(previous_settled: str | None, status: str) -> Status | None:
    """The last status that says something about the link, after a check found ``status``.

    ``error`` and ``blocked`` settle nothing: the previous settled status stays (or
    the transient one, for a backlink that has none yet). Store it beside ``status``
    and pass it to :func:`event_type` as ``from_status``.
    """
    current = as_status(status)
    if current in TRANSIENT_STATUSES:
        return as_status(previous_settled) if previous_settled is not None else current
    return current


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> frozenset[str]:
    """Which of :data:`MATTERING_FIELDS` differ between two backlink states.

    Anchor texts compare with whitespace squashed, rel as a set of lower-case tokens;
    a field missing on one side counts as empty.
    """
    changed = set()
    for name in MATTERING_FIELDS:
        a, b = before.get(name), after.get(name)
        if name == "rel":
            same = _rel_set(a) == _rel_set(b)
        elif name == "anchor_text":
            same = " ".join((a or "").split()) == " ".join((b or "").split())
        else:
            same = (a or None) == (b or None)
        if not same:
            changed.add(name)
    return frozenset(changed)


def _rel_set(value: Any) -> frozenset[str]:
    if not value:
        return frozenset()
    tokens = value.split() if isinstance(value, str) else value
    return frozenset(str(t).lower() for t in tokens)


def event_key(backlink_id: object, state_version: int) -> str:
    """The ``_id`` of the event of a backlink's ``state_version``-th recorded change.

    Protocol (one transition, one event, whatever is retried or replayed; the
    writes are built in :mod:`linkcrawler.backlinks.store` and
    :mod:`pipelines.backlink_state`):

    1. The backlink carries ``state_version``: 0 at import, where the ``new`` event
       gets key ``id:0``; each recorded change of state adds one.
    2. A check that changes the state of a backlink read at version ``N`` writes,
       in this order, the event with ``_id = event_key(id, N + 1)`` (an insert: a
       duplicate key means "already written"), then the new state with an update
       conditional on ``state_version == N`` that sets it to ``N + 1``.

    A retried write finds the key taken and inserts nothing. A crawl that died
    after the event and before the state finds version ``N`` again, derives the
    same transition and the same key: the event is not doubled and the state is
    written. A crawl that died after both finds the link no longer due, or a
    version that moved on. A real change later (live -> removed -> live ->
    removed) has versions N+1, N+2, N+3: three keys, three events. The key leaves
    the statuses out on purpose: if a replay saw a different outcome for version
    N+1, two events with two keys would describe one transition.
    """
    if isinstance(state_version, bool) or not isinstance(state_version, int) or state_version < 0:
        raise ValueError(f"state_version must be a non-negative int, got {state_version!r}")
    return f"{backlink_id}:{state_version}"


# Urgency of each status, 0-1: a removed link or a deleted page lose everything and
# call for outreach now; a redirect may be fixed by the site; unreachable may come
# back by itself; degraded links keep part of their value.
_STATUS_WEIGHTS: dict[Status, float] = {
    Status.REMOVED: 1.0,
    Status.PAGE_GONE: 1.0,
    Status.REDIRECTED: 0.8,
    Status.UNREACHABLE: 0.7,
    Status.NOINDEX: 0.6,
    Status.NOFOLLOW: 0.5,
    Status.CANONICALIZED: 0.4,
}
#: Authority assumed when no import gave one: the middle of the 0-100 scale.
UNKNOWN_AUTHORITY = 50.0


def lost_priority(authority: float | None, rel_was_followed: bool, status: str) -> int:
    """How urgent a lost or degraded link is, 0-100 (0: not lost, nothing to do).

    ``round(100 * authority_weight * link_weight * status_weight)``, at least 1, with

    - ``authority_weight = 0.25 + 0.75 * authority / 100`` (authority 0-100, clamped;
      unknown -> 50): a weak site's link still matters a little;
    - ``link_weight``: 1 if the link was followed before, 0.5 if it was not;
    - ``status_weight``: removed, page_gone 1; redirected 0.8; unreachable 0.7;
      noindex 0.6; nofollow 0.5; canonicalized 0.4; any other status 0 (priority 0).
    """
    weight = _STATUS_WEIGHTS.get(as_status(status), 0.0)
    if not weight:
        return 0
    if authority is None or math.isnan(authority) or math.isinf(authority):
        authority = UNKNOWN_AUTHORITY
    authority = min(100.0, max(0.0, float(authority)))
    authority_weight = 0.25 + 0.75 * authority / 100.0
    link_weight = 1.0 if rel_was_followed else 0.5
    return max(1, round(100 * authority_weight * link_weight * weight))


def wayback_url(source_url: str, at: datetime | None = None) -> str:
    """The Wayback Machine address of ``source_url``: its capture nearest ``at``, or all.

    ``https://web.archive.org/web/<YYYYMMDDhhmmss>/<url>`` (``*`` instead of the time
    without ``at``, the list of captures). A naive ``at`` is taken as UTC.
    No network access: this only builds the string.
    """
    if at is None:
        stamp = "*"
    else:
        if at.tzinfo is not None:
            at = at.astimezone(UTC)
        stamp = at.strftime("%Y%m%d%H%M%S")
    return f"https://web.archive.org/web/{stamp}/{source_url.strip()}"


def build_event(
    *,
    backlink_id: object,
    state_version: int,
    source_url: str,
    target_url: str,
    from_status: str | None,
    to_status: str,
    reason: str,
    detected_at: datetime,
    changed: Collection[str] = frozenset(),
    authority: float | None = None,
    rel_was_followed: bool = True,
    wayback_at: datetime | None = None,
) -> dict[str, Any] | None:
    """The ``link_events`` document for a transition, or ``None`` when it has no event.

    ``_id`` is :func:`event_key`; ``priority`` is :func:`lost_priority` of the new
    status; ``wayback_url`` is set for lost links: the capture nearest
    ``wayback_at`` (the last check that found the link live: the page as it was
    with the link), else nearest ``detected_at``.
    """
    kind = event_type(from_status, to_status, changed)
    if kind is None:
        return None
    to = as_status(to_status)
    return {
        "_id": event_key(backlink_id, state_version),
        "type": kind.value,
        "backlink_id": backlink_id,
        "source_url": source_url,
        "target_url": target_url,
        "from_status": as_status(from_status).value if from_status is not None else None,
        "to_status": to.value,
        "reason": reason,
        "detected_at": detected_at,
        "priority": lost_priority(authority, rel_was_followed, to),
        "wayback_url": wayback_url(source_url, wayback_at or detected_at) if to in LOST_STATUSES else None,
    }


def expiring_event(
    *,
    backlink_id: object,
    source_url: str,
    target_url: str,
    status: str,
    expires_at: datetime,
    days: int,
    detected_at: datetime,
    authority: float | None = None,
) -> dict[str, Any]:
    """The ``expiring`` event of a link ``days`` days from its ``expires_at``.

    Its ``_id`` is ``<backlink id>:expiring:<days>``: written with an insert, each
    notice exists once whatever the number of runs that see the link in its window.
    """
    end = expires_at.astimezone(UTC) if expires_at.tzinfo is not None else expires_at
    left = expires_at - detected_at
    hours = max(0, int(left.total_seconds() // 3600))
    when = f"in {hours // 24} day(s)" if hours >= 24 else f"in {hours} hour(s)"
    return {
        "_id": f"{backlink_id}:expiring:{days}",
        "type": EventType.EXPIRING.value,
        "backlink_id": backlink_id,
        "source_url": source_url,
        "target_url": target_url,
        "from_status": status,
        "to_status": status,
        "reason": f"the link expires as agreed on {end:%Y-%m-%d %H:%M} UTC ({when}; {days}-day notice)",
        "detected_at": detected_at,
        "expires_at": expires_at,
        "priority": lost_priority(authority, True, Status.REMOVED),
        "wayback_url": None,
    }
