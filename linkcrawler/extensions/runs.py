"""RunRecorder: one ``runs`` document per spider run, with its stats, when it ends."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from linkcrawler import defaults
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store import Store, open_store
from linkcrawler.store.connection import writes_to_store

logger = logging.getLogger(__name__)


def stats_document(stats: dict[str, Any]) -> dict[str, Any]:
    """Scrapy's stats as a MongoDB document: keys without dots or leading dollars."""
    return {re.sub(r"[.$]", "_", key): value for key, value in stats.items()}


class RunRecorder:
    """Extension: records each run of a spider in ``runs`` (``LINKCRAWLER_RECORD_RUNS``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id = uuid.uuid4().hex
        self.started_at: datetime | None = None
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        if not crawler.settings.getbool("LINKCRAWLER_RECORD_RUNS", defaults.LINKCRAWLER_RECORD_RUNS):
            raise NotConfigured("LINKCRAWLER_RECORD_RUNS is off")
        if not writes_to_store(crawler.settings):
            raise NotConfigured("the crawl writes nothing to MongoDB")
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    async def spider_opened(self, spider: Spider) -> None:
        self.started_at = datetime.now(timezone.utc)
        try:
            # Held for the whole run, so the store outlives the pipelines' use of it.
            self.store = await run_in_thread(open_store, self.crawler.settings)
        except LinkcrawlerError as exc:
            logger.warning("runs will not be recorded: %s", exc)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        document = {
            "_id": self.run_id,
            "spider": spider.name,
            "started_at": self.started_at,
            "finished_at": datetime.now(timezone.utc),
            "finish_reason": reason,
            "arguments": {k: v for k, v in vars(spider).items() if isinstance(v, (str, int, float, bool))},
            "stats": stats_document(self.crawler.stats.get_stats()),
        }
        if self.store is None:
            return
        store, self.store = self.store, None
        try:
            await run_in_thread(store.db.runs.replace_one, {"_id": document["_id"]}, document, upsert=True)
        except Exception as exc:  # a run's record must not fail the run
            logger.warning("could not record the run in 'runs': %s", exc)
        finally:
            await run_in_thread(store.close)
