"""The states a backlink can be in, and the class each state belongs to.

The string values are an API (``backlinks.status``, ``link_events.from_status``...):
downstream tools read them from the collections, so they never change.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What the last check found about one backlink (``backlinks.status``)."""

    PENDING = "pending"
    """Known, never checked."""
    LIVE = "live"
    """The page answers 200, is indexable and carries a followed link to the target."""
    NOFOLLOW = "nofollow"
    """The link is present but rel nofollow, ugc or sponsored (or the page is meta nofollow)."""
    NOINDEX = "noindex"
    """The link is present but the page is noindex (meta robots or X-Robots-Tag)."""
    CANONICALIZED = "canonicalized"
    """The link is present but the page's canonical points to another URL."""
    REMOVED = "removed"
    """The page answers 200 without a crawlable link to the target."""
    PAGE_GONE = "page_gone"
    """The page answers 404, 410 (or another "does not exist" 4xx)."""
    REDIRECTED = "redirected"
    """The page redirects and the destination does not carry the link."""
    UNREACHABLE = "unreachable"
    """The fetch failed on ``LINKCRAWLER_LOST_AFTER`` consecutive checks."""
    ERROR = "error"
    """The fetch failed, not yet confirmed: transient, never counted as lost."""
    BLOCKED = "blocked"
    """Cannot be verified: robots.txt, 401/403/999, a bot challenge."""


class StatusClass(StrEnum):
    """The four classes that events are defined over."""

    UNKNOWN = "unknown"
    LIVE = "live"
    DEGRADED = "degraded"
    LOST = "lost"


#: Every status, in the contract's order.
ALL_STATUSES: tuple[Status, ...] = tuple(Status)

STATUS_CLASSES: dict[Status, StatusClass] = {
    Status.PENDING: StatusClass.UNKNOWN,
    Status.LIVE: StatusClass.LIVE,
    Status.NOFOLLOW: StatusClass.DEGRADED,
    Status.NOINDEX: StatusClass.DEGRADED,
    Status.CANONICALIZED: StatusClass.DEGRADED,
    Status.REMOVED: StatusClass.LOST,
    Status.PAGE_GONE: StatusClass.LOST,
    Status.REDIRECTED: StatusClass.LOST,
    Status.UNREACHABLE: StatusClass.LOST,
    Status.ERROR: StatusClass.UNKNOWN,
    Status.BLOCKED: StatusClass.UNKNOWN,
}

UNKNOWN_STATUSES: frozenset[Status] = frozenset(
    s for s, c in STATUS_CLASSES.items() if c is StatusClass.UNKNOWN
)
LIVE_STATUSES: frozenset[Status] = frozenset(
    s for s, c in STATUS_CLASSES.items() if c is StatusClass.LIVE
)
DEGRADED_STATUSES: frozenset[Status] = frozenset(
    s for s, c in STATUS_CLASSES.items() if c is StatusClass.DEGRADED
)
LOST_STATUSES: frozenset[Status] = frozenset(
    s for s, c in STATUS_CLASSES.items() if c is StatusClass.LOST
)
#: The statuses in which the link was found on the page (live or degraded).
PRESENT_STATUSES: frozenset[Status] = LIVE_STATUSES | DEGRADED_STATUSES
#: Outcomes that say nothing about the link itself: a later check settles them.
TRANSIENT_STATUSES: frozenset[Status] = frozenset({Status.ERROR, Status.BLOCKED})


def as_status(value: str) -> Status:
    """``value`` as a :class:`Status`; ``ValueError`` naming the value if it is not one."""
    try:
        return Status(value)
    except ValueError:
        raise ValueError(
            f"unknown backlink status {value!r}; expected one of "
            + ", ".join(s.value for s in ALL_STATUSES)
        ) from None


def status_class(status: str) -> StatusClass:
    """The class (unknown, live, degraded, lost) of a status given as a string or Status."""
    return STATUS_CLASSES[as_status(status)]
