"""OutreachSync: when a crawl that finds facts ends, the outreach queue follows them.

After a ``backlinks``, ``mentions``, ``prospects`` or ``contacts`` crawl (its item
pipelines, and so its writes, are closed by then), :func:`sync_outreach` creates the
tasks its facts call for and moves the tasks they moved: a recovered link wins its
reclaim task without anyone running another command. It runs in a thread, off the
reactor; a failure is logged and never fails the crawl (the next sync, or the next
``scrapy outreach``, does the same work: the sync is idempotent).
Off with ``LINKCRAWLER_OUTREACH_SYNC=False``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from linkcrawler import defaults
from linkcrawler.clock import Clock
from linkcrawler.contacts.outreach_store import SyncReport, outreach_settings, sync_outreach
from linkcrawler.store import open_store
from linkcrawler.store.connection import STORE_UNAVAILABLE, writes_to_store
from linkcrawler.store.indexes import ensure_indexes

logger = logging.getLogger(__name__)

#: The spiders whose facts move the queue.
SYNCED_SPIDERS = frozenset({"backlinks", "mentions", "prospects", "contacts"})


class OutreachSync:
    """Extension: :func:`sync_outreach` when a crawl of :data:`SYNCED_SPIDERS` closes."""

    def __init__(self, settings: Any, stats: Any = None, spiders: frozenset[str] = SYNCED_SPIDERS) -> None:
        self.settings = settings
        self.stats = stats
        self.spiders = spiders

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutreachSync:
        if not crawler.settings.getbool("LINKCRAWLER_OUTREACH_SYNC", defaults.LINKCRAWLER_OUTREACH_SYNC):
            raise NotConfigured("LINKCRAWLER_OUTREACH_SYNC is off")
        if not writes_to_store(crawler.settings):
            raise NotConfigured("the crawl writes nothing to MongoDB")
        extension = cls(crawler.settings, crawler.stats)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if spider.name not in self.spiders or reason == STORE_UNAVAILABLE:
            return  # nothing of ours to follow, or no store to follow it in
        try:
            report = await run_in_thread(self.sync)
        except Exception as exc:  # the queue must never fail the crawl that fed it
            logger.warning("outreach: the queue was not updated (the next sync will do it): %s", exc)
            return
        logger.info("outreach: %s", report.summary())
        if self.stats is not None:
            self.stats.set_value("linkcrawler/outreach/created", report.created)
            self.stats.set_value("linkcrawler/outreach/moved", report.moved)

    def sync(self) -> SyncReport:
        store = open_store(self.settings)
        try:
            ensure_indexes(store.db, ["outreach", "contacts"])
            return sync_outreach(store.db, Clock.from_settings(self.settings).now(), outreach_settings(self.settings))
        finally:
            store.close()
