"""The scheduler: Scrapy's own for one process, scrapy-redis's when ``REDIS_URL`` is set.

The choice is made per crawl, from the crawl's settings, so ``-s REDIS_URL=...``
switches it as well as the environment variable does.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy.core.scheduler import BaseScheduler
from scrapy.core.scheduler import Scheduler as ScrapyScheduler
from scrapy.crawler import Crawler
from scrapy.utils.misc import build_from_crawler
from scrapy_redis.dupefilter import RFPDupeFilter as RedisDupeFilter
from scrapy_redis.scheduler import Scheduler as ScrapyRedisScheduler

from linkcrawler import defaults
from linkcrawler.exceptions import ConfigurationError

logger = logging.getLogger(__name__)


def connect_redis(url: str) -> redis.Redis:
    """A client for ``url`` that answers, or ``ConfigurationError`` naming the URL."""
    try:
        server = redis.Redis.from_url(url, socket_connect_timeout=10, health_check_interval=30)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigurationError(f"cannot reach Redis at REDIS_URL {_mask(url)}: {exc}") from exc
    return server


def _mask(url: str) -> str:
    from linkcrawler.store.connection import mask_uri  # same rules as for MongoDB URIs

    return mask_uri(url)


class RedisScheduler(ScrapyRedisScheduler):
    """scrapy-redis's scheduler, built from linkcrawler's settings.

    Requests and seen fingerprints live in Redis under
    ``LINKCRAWLER_REDIS_PREFIX:<spider>:...``, shared by every process that
    crawls the same spider. The queue is persisted (``SCHEDULER_PERSIST``) so
    one worker finishing never wipes what the others still have to do.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        settings = crawler.settings
        server = connect_redis(settings["REDIS_URL"])
        prefix = settings.get("LINKCRAWLER_REDIS_PREFIX", defaults.LINKCRAWLER_REDIS_PREFIX)
        scheduler = cls(
            server=server,
            persist=settings.getbool("SCHEDULER_PERSIST", True),
            flush_on_start=settings.getbool("SCHEDULER_FLUSH_ON_START"),
            queue_key=f"{prefix}:%(spider)s:requests",
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue"),
            dupefilter_key=f"{prefix}:%(spider)s:dupefilter",
            dupefilter_cls="scrapy_redis.dupefilter.RFPDupeFilter",
            idle_before_close=settings.getint("SCHEDULER_IDLE_BEFORE_CLOSE"),
        )
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider: Any) -> None:
        if not self.df:
            self.df = RedisDupeFilter(
                self.server,
                key=self.dupefilter_key % {"spider": spider.name},
                debug=spider.settings.getbool("DUPEFILTER_DEBUG"),
            )
        super().open(spider)
        logger.info("scheduler: shared through Redis, queue %s", self.queue.key)

    # scrapy-redis passes ``spider=`` to the stats collector, which Scrapy 2.19 no
    # longer takes; these two are otherwise scrapy-redis's own.
    def enqueue_request(self, request: Any) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Any:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class SchedulerSelector(BaseScheduler):
    """The ``SCHEDULER`` of the project: builds the right scheduler for the crawl."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BaseScheduler:  # type: ignore[override]
        if crawler.settings.get("REDIS_URL"):
            return RedisScheduler.from_crawler(crawler)
        return build_from_crawler(ScrapyScheduler, crawler)
