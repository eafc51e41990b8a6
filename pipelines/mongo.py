"""MongoWriterPipeline: every item the store keeps goes to MongoDB in batched bulk writes."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call, run_in_thread
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from linkcrawler import defaults
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.signals import items_stored
from linkcrawler.store import BulkWriter, Store, open_store
from linkcrawler.store.connection import STORE_UNAVAILABLE
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writers import check_writers, write_ops

logger = logging.getLogger(__name__)


class MongoWriterPipeline:
    """Turns items into idempotent writes (``write_ops``) and sends them in batches.

    Every item that reaches it must have a writer in
    :data:`linkcrawler.store.writers.WRITERS`: the item types a spider declares
    in ``stored_items`` are checked when it opens, and any other item with no
    writer is an error, never a silent loss. The store is opened
    (and, for the embedded default, started) when the spider opens; a MongoDB
    that cannot be reached stops the crawl there, before any page is fetched.
    """

    def __init__(
        self,
        settings: Any,
        batch_size: int = defaults.MONGO_BATCH_SIZE,
        flush_interval: float = defaults.MONGO_FLUSH_INTERVAL,
        retries: int = defaults.MONGO_WRITE_RETRIES,
        backoff: float = defaults.MONGO_RETRY_BACKOFF,
        backoff_max: float = defaults.MONGO_RETRY_BACKOFF_MAX,
        spill_dir: str = defaults.LINKCRAWLER_DATA_DIR,
        stats: Any = None,
        signals: Any = None,
        stored_items: tuple[type, ...] = (),
        progress_interval: float = defaults.LINKCRAWLER_PROGRESS_INTERVAL,
    ) -> None:
        if batch_size < 1:
            raise NotConfigured("MONGO_BATCH_SIZE must be at least 1")
        self.settings = settings
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.spill_dir = spill_dir
        self.progress_interval = progress_interval
        self.stats = stats
        self.signals = signals
        self.stored_items = stored_items
        self.store: Store | None = None
        self.writer: BulkWriter | None = None
        self._ticker: AsyncioLoopingCall | LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoWriterPipeline:
        s = crawler.settings
        return cls(
            settings=s,
            batch_size=s.getint("MONGO_BATCH_SIZE", defaults.MONGO_BATCH_SIZE),
            flush_interval=s.getfloat("MONGO_FLUSH_INTERVAL", defaults.MONGO_FLUSH_INTERVAL),
            retries=s.getint("MONGO_WRITE_RETRIES", defaults.MONGO_WRITE_RETRIES),
            backoff=s.getfloat("MONGO_RETRY_BACKOFF", defaults.MONGO_RETRY_BACKOFF),
            backoff_max=s.getfloat("MONGO_RETRY_BACKOFF_MAX", defaults.MONGO_RETRY_BACKOFF_MAX),
            spill_dir=s.get("LINKCRAWLER_DATA_DIR") or defaults.LINKCRAWLER_DATA_DIR,
            stats=crawler.stats,
            signals=crawler.signals,
            stored_items=tuple(getattr(crawler.spidercls, "stored_items", ())),
            progress_interval=s.getfloat("LINKCRAWLER_PROGRESS_INTERVAL", defaults.LINKCRAWLER_PROGRESS_INTERVAL),
        )

    async def open_spider(self) -> None:
        check_writers(self.stored_items)
        try:
            self.store = await run_in_thread(open_store, self.settings)
        except LinkcrawlerError as exc:
            # Scrapy closes a spider whose component raises CloseSpider while it
            # opens, once every component is started: one line, not a traceback.
            logger.error("%s", exc)
            raise CloseSpider(STORE_UNAVAILABLE) from exc
        await run_in_thread(ensure_indexes, self.store.db)
        self.writer = BulkWriter(
            self.store.db,
            batch_size=self.batch_size,
            retries=self.retries,
            backoff=self.backoff,
            backoff_max=self.backoff_max,
            spill_dir=self.spill_dir,
            stats=self.stats,
            progress_interval=self.progress_interval,
        )
        self._announce(time.monotonic())
        if self.flush_interval > 0:
            self._ticker = create_looping_call(self._flush_in_background)
            self._ticker.start(self.flush_interval, now=False)

    def _flush_in_background(self) -> None:
        if self.writer is None:
            return
        upto = time.monotonic()
        if self.writer.pending:
            deferred_from_coro(self._flush(upto))
        else:
            self._announce(upto)

    async def _flush(self, upto: float) -> None:
        assert self.writer is not None
        await self.writer.flush()
        self._announce(upto)

    def _announce(self, upto: float) -> None:
        # Everything given before ``upto`` is written (or spilled): the Redis
        # scheduler may now acknowledge the requests it came from.
        if self.signals is not None:
            self.signals.send_catch_log(signal=items_stored, upto=upto)

    async def process_item(self, item: Any) -> Any:
        ops = write_ops(item)
        if self.writer is not None:
            await self.writer.add(ops)
        return item

    async def close_spider(self) -> None:
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        try:
            if self.writer is not None:
                await self.writer.close()
        finally:
            if self.store is not None:
                store, self.store = self.store, None
                await run_in_thread(store.close)
