"""BacklinkStatePipeline: turn each check into a backlink's new state and its event.

A :class:`~linkcrawler.backlinks.items.PageCheck` (what a page says about each of
its known links now, and links to us not known yet) becomes a
:class:`~linkcrawler.backlinks.items.CheckedPage`: for each link its new state and
the event of the transition (:func:`~linkcrawler.backlinks.update.plan_update`),
and the new links. The MongoWriterPipeline stores it through the writer table;
a feed export (``-o links.csv``) writes one row per link.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from linkcrawler import defaults
from linkcrawler.backlinks.items import (
    CheckedPage,
    PageCheck,
)
from linkcrawler.backlinks.schedule import Schedule
from linkcrawler.backlinks.update import plan_update

logger = logging.getLogger(__name__)


class BacklinkStatePipeline:
    """Item pipeline: ``PageCheck`` in, ``CheckedPage`` out (other items pass)."""

    def __init__(self, lost_after: int = defaults.LINKCRAWLER_LOST_AFTER,
                 history_length: int = defaults.LINKCRAWLER_HISTORY_LENGTH, stats: Any = None,
                 schedule: Schedule | None = None) -> None:
        if lost_after < 1:
            raise ValueError(f"LINKCRAWLER_LOST_AFTER must be at least 1, got {lost_after}")
        self.lost_after = lost_after
        self.schedule = schedule or Schedule()
        self.history_length = history_length
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BacklinkStatePipeline:
        settings = crawler.settings
        return cls(
            lost_after=settings.getint("LINKCRAWLER_LOST_AFTER", defaults.LINKCRAWLER_LOST_AFTER),
            history_length=settings.getint("LINKCRAWLER_HISTORY_LENGTH", defaults.LINKCRAWLER_HISTORY_LENGTH),
            stats=crawler.stats,
            schedule=Schedule(
                settings.getfloat("LINKCRAWLER_RECHECK_HOURS", defaults.LINKCRAWLER_RECHECK_HOURS),
                settings.getfloat("LINKCRAWLER_RECHECK_MAX_HOURS", defaults.LINKCRAWLER_RECHECK_MAX_HOURS),
            ),
        )

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCheck):
            return item
        updates = [plan_update(check, self.lost_after, self.history_length, self.schedule) for check in item.checks]
        for update in updates:
            self._count(f"linkcrawler/backlinks/status/{update.to_status}")
            if update.event is not None:
                self._count(f"linkcrawler/backlinks/events/{update.event['type']}")
        self._count("linkcrawler/backlinks/discovered", len(item.discovered))
        self._count("linkcrawler/backlinks/checked", len(updates))
        return CheckedPage(item.source_url, updates, item.discovered)

    def _count(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)
