"""The Redis scheduler in one process: what a crawl leaves in Redis, when requests are acknowledged, runs."""

from __future__ import annotations

from typing import Any, ClassVar

import pymongo
import pytest_twisted
import redis
from scrapy.crawler import Crawler

from linkcrawler.distributed.queue import CrawlKeys
from tests.crawling import CrawlResult, run_spider
from tests.mockserver import MockServer
from tests.spiders.reliable_fetch import ReliableFetchSpider

KEYS = CrawlKeys.for_spider("linkcrawler", "reliable_fetch")


def settings(redis_url: str, mongo_uri: str, mongo_db_name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "REDIS_URL": redis_url,
        "MONGO_URI": mongo_uri,
        "MONGO_DATABASE": mongo_db_name,
        "ITEM_PIPELINES": {"tests.spiders.reliable_fetch.RecordPipeline": 100},
        "RECORD_FLUSH_INTERVAL": 0.2,
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        **overrides,
    }


@pytest_twisted.inlineCallbacks
def test_a_crawl_through_redis_leaves_nothing_behind(
    mockserver: MockServer, redis_url: str, mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database
) -> Any:
    result: CrawlResult = yield run_spider(
        ReliableFetchSpider, settings(redis_url, mongo_uri, mongo_db_name),
        base=mockserver.url("/"), count="20", delay="0.01", children="1",
    )
    assert len(result.items) == 40
    assert mongo_db.fetches.count_documents({"count": 1}) == 40
    stats = result.stats
    assert stats["scheduler/dequeued/redis"] == stats["linkcrawler/scheduler/acknowledged"] == 40
    assert stats["linkcrawler/scheduler/run"] and stats["linkcrawler/scheduler/worker"]
    server = redis.Redis.from_url(redis_url)
    assert server.zcard(KEYS.queue) == 0
    assert server.keys(KEYS.inflight("*")) == []
    assert server.scard(KEYS.workers) == 0
    assert not server.exists(KEYS.run), "the run should be over"
    # The run's duplicate filter stays until the next run starts, and expires anyway.
    assert server.scard(KEYS.dupefilter) == 20
    assert server.ttl(KEYS.dupefilter) > 0


class InFlightProbe:
    """A pipeline that notes, when the item pipelines close, what Redis still holds in flight."""

    seen: ClassVar[list[int]] = []

    def __init__(self, crawler: Crawler) -> None:
        self.server = redis.Redis.from_url(crawler.settings["REDIS_URL"])
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> InFlightProbe:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        return item

    def close_spider(self) -> None:
        in_flight = sum(self.server.hlen(key) for key in self.server.keys(KEYS.inflight("*")))
        acknowledged = self.stats.get_value("linkcrawler/scheduler/acknowledged", 0)
        self.seen[:] = [in_flight, acknowledged]
        self.server.close()


@pytest_twisted.inlineCallbacks
def test_requests_are_acknowledged_only_once_their_items_are_stored(
    mockserver: MockServer, redis_url: str, mongo_uri: str, mongo_db_name: str
) -> Any:
    # The pipeline stores nothing before the spider closes: until then, every
    # request taken must stay in flight, to be handed out again if this worker died.
    pipelines = {"tests.test_scheduler_redis.InFlightProbe": 50, "tests.spiders.reliable_fetch.RecordPipeline": 100}
    result: CrawlResult = yield run_spider(
        ReliableFetchSpider,
        settings(redis_url, mongo_uri, mongo_db_name, RECORD_FLUSH_INTERVAL=3600, ITEM_PIPELINES=pipelines),
        base=mockserver.url("/"), count="30", delay="0.01",
    )
    assert len(result.items) == 30
    assert InFlightProbe.seen == [30, 0]
    # Once the pipelines have closed (everything stored), all are acknowledged.
    assert result.stats["linkcrawler/scheduler/acknowledged"] == 30
    assert redis.Redis.from_url(redis_url).keys(KEYS.inflight("*")) == []


@pytest_twisted.inlineCallbacks
def test_each_run_starts_with_an_empty_duplicate_filter(
    mockserver: MockServer, redis_url: str, mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database
) -> Any:
    for _ in range(2):
        result: CrawlResult = yield run_spider(
            ReliableFetchSpider, settings(redis_url, mongo_uri, mongo_db_name),
            base=mockserver.url("/"), count="10", delay="0", children="1",
        )
        assert len(result.items) == 20
    assert mongo_db.fetches.count_documents({"count": 2}) == 20
    assert redis.Redis.from_url(redis_url).scard(KEYS.dupefilter) == 10


@pytest_twisted.inlineCallbacks
def test_a_named_run_that_is_over_is_not_crawled_again(
    mockserver: MockServer, redis_url: str, mongo_uri: str, mongo_db_name: str
) -> Any:
    named = settings(redis_url, mongo_uri, mongo_db_name, SCHEDULER_RUN_ID="nightly-1")
    first: CrawlResult = yield run_spider(ReliableFetchSpider, named, base=mockserver.url("/"), count="5", delay="0")
    late: CrawlResult = yield run_spider(ReliableFetchSpider, named, base=mockserver.url("/"), count="5", delay="0")
    assert len(first.items) == 5
    assert late.items == []
    assert late.stats["finish_reason"] == "finished"
