"""A spider and a pipeline for the distributed-crawl tests.

``reliable_fetch`` fetches ``count`` slow pages of the mock server as start
requests (with ``dont_filter``, as the backlinks spider does: only the Redis
scheduler's once-per-run start check keeps two workers from both fetching
them) and, with ``children=1``, one child page per page (through the
duplicate filter). Each response becomes an item naming the process.

:class:`RecordPipeline` stores the items in MongoDB the way linkcrawler's
writer does: buffered, written in batches every ``RECORD_FLUSH_INTERVAL``
seconds, announcing each stored batch with ``items_stored``. A worker killed
with items still buffered loses them; the test checks that their requests were
handed out again.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pymongo
import scrapy
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import create_looping_call, run_in_thread, sleep
from scrapy.utils.defer import deferred_from_coro

from linkcrawler.signals import items_stored


class ReliableFetchSpider(scrapy.Spider):
    name = "reliable_fetch"
    custom_settings = {
        "ITEM_PIPELINES": {"tests.spiders.reliable_fetch.RecordPipeline": 100},
        "ROBOTSTXT_OBEY": False,
    }

    def __init__(self, base: str, count: str = "100", delay: str = "0.1", children: str = "0", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base.rstrip("/")
        self.count = int(count)
        self.delay = float(delay)
        self.children = children == "1"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for i in range(self.count):
            yield scrapy.Request(f"{self.base}/delay?s={self.delay}&page={i}", dont_filter=True)

    def parse(self, response: scrapy.http.Response) -> Any:
        yield {"url": response.url, "pid": os.getpid()}
        if self.children and "child" not in response.url:
            yield scrapy.Request(response.url + "&child=1")


class RecordPipeline:
    """Counts, per URL, how many times an item was stored (collection ``fetches``)."""

    def __init__(self, crawler: Crawler, mongo_uri: str, database: str, flush_interval: float) -> None:
        self.crawler = crawler
        self.mongo_uri = mongo_uri
        self.database = database
        self.flush_interval = flush_interval
        self.buffer: list[dict[str, Any]] = []
        self.flushing = False
        self.client: pymongo.MongoClient[dict[str, Any]] | None = None
        self.ticker: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        s = crawler.settings
        return cls(crawler, s["MONGO_URI"], s["MONGO_DATABASE"], s.getfloat("RECORD_FLUSH_INTERVAL", 1.0))

    def open_spider(self) -> None:
        self.client = pymongo.MongoClient(self.mongo_uri)
        self.announce(time.monotonic())
        self.ticker = create_looping_call(self.tick)
        self.ticker.start(self.flush_interval, now=False)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.buffer.append(item)
        return item

    def tick(self) -> None:
        if not self.flushing:
            deferred_from_coro(self.flush())

    async def flush(self) -> None:
        self.flushing = True
        try:
            upto = time.monotonic()
            batch, self.buffer = self.buffer, []
            if batch:
                await run_in_thread(self.write, batch)
            self.announce(upto)
        finally:
            self.flushing = False

    def write(self, batch: list[dict[str, Any]]) -> None:
        assert self.client is not None
        self.client[self.database].fetches.bulk_write([
            pymongo.UpdateOne({"_id": item["url"]}, {"$inc": {"count": 1}, "$push": {"pids": item["pid"]}}, upsert=True)
            for item in batch
        ])

    def announce(self, upto: float) -> None:
        self.crawler.signals.send_catch_log(signal=items_stored, upto=upto)

    async def close_spider(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        while self.flushing:
            await sleep(0.05)
        await self.flush()
        if self.client is not None:
            self.client.close()
