"""When a backlink is checked next: by its value and by how often its page changes.

:func:`next_check` gives the time stored as ``backlinks.next_check``; the spider
(without ``-a all=1``) checks what is due by it (:func:`~linkcrawler.backlinks.store.due_filter`).

The formula, with ``min`` = ``LINKCRAWLER_RECHECK_HOURS`` (24) and ``max`` =
``LINKCRAWLER_RECHECK_MAX_HOURS`` (168)::

    value    = authority / 100              (0-100 from an import; unknown: 0.5)
    changing = 1                            the page's main content changed within the last `max` hours
             = 0                            no change seen for 4 x `max` hours (or never)
             linear in between
    urgency  = (value + changing) / 2       0..1
    interval = max - (max - min) * urgency  hours

so a high-authority page that changes often is checked daily, a stable
low-value one weekly, and nothing waits longer than ``max``. A check that could
not decide (``error``, ``blocked``) is repeated after ``min``, so the
consecutive-failure rule counts checks at the pace it did. How often a page
changes is read from its content fingerprint
(:func:`~linkcrawler.web.context.content_fingerprint`): ``page_changed_at`` is
the last check that saw it differ.

The site bound (``LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY``) is the spider's:
it counts the links of a site checked in the last 24 hours and leaves the rest
due for a later run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from linkcrawler import defaults
from linkcrawler.backlinks.status import TRANSIENT_STATUSES, as_status

__all__ = ["Schedule"]

#: Without a change for this many times the longest interval, a page counts as stable.
STABLE_AFTER = 4


@dataclass(frozen=True, slots=True)
class Schedule:
    """The re-check intervals: ``min_hours`` for the most urgent links, ``max_hours`` for the least."""

    min_hours: float = defaults.LINKCRAWLER_RECHECK_HOURS
    max_hours: float = defaults.LINKCRAWLER_RECHECK_MAX_HOURS

    def __post_init__(self) -> None:
        if not 0 < self.min_hours <= self.max_hours:
            raise ValueError(
                f"re-check hours must satisfy 0 < LINKCRAWLER_RECHECK_HOURS ({self.min_hours}) "
                f"<= LINKCRAWLER_RECHECK_MAX_HOURS ({self.max_hours})"
            )

    def interval(
        self,
        status: str,
        authority: float | None,
        page_changed_at: datetime | None,
        now: datetime,
    ) -> timedelta:
        """How long until the next check of a link just checked at ``now`` (see the module doc)."""
        if as_status(status) in TRANSIENT_STATUSES:
            return timedelta(hours=self.min_hours)
        if authority is None or math.isnan(authority):
            value = 0.5
        else:
            value = min(1.0, max(0.0, float(authority) / 100.0))
        changing = 0.0
        if page_changed_at is not None:
            age = (now - page_changed_at).total_seconds() / 3600.0
            stable = STABLE_AFTER * self.max_hours
            if age <= self.max_hours:
                changing = 1.0
            elif age < stable:
                changing = (stable - age) / (stable - self.max_hours)
        urgency = (value + changing) / 2.0
        return timedelta(hours=self.max_hours - (self.max_hours - self.min_hours) * urgency)

    def next_check(
        self, status: str, authority: float | None, page_changed_at: datetime | None, now: datetime
    ) -> datetime:
        """``now`` + :meth:`interval`."""
        return now + self.interval(status, authority, page_changed_at, now)
