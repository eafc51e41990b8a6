"""Progress: what a long crawl has done, out of how much, how fast, and how long it has left.

Scrapy's own log line counts pages and items; a user re-checking 200,000
backlinks wants "37,410 of 200,000 links checked (61/s), about 44 min left".
A spider says what it counts with ``progress = (done_stat, total_stat, noun)``:
two stats keys and what they count; the total (``None``) may be unknown (a site audit
discovers its pages as it goes), and the line then gives the count and the rate.
Every ``LINKCRAWLER_PROGRESS_INTERVAL`` seconds (0: off), and once at the end.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall

from linkcrawler import defaults

logger = logging.getLogger(__name__)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_line(noun: str, done: int, total: int | None, rate: float) -> str:
    """One progress line: ``1,234 of 20,000 links checked (41.2/s), about 7m35s left``."""
    line = f"{done:,} of {total:,} {noun}" if total is not None else f"{done:,} {noun}"
    line += f" ({rate:.1f}/s)"
    if total is not None and done < total and rate > 0:
        line += f", about {_duration((total - done) / rate)} left"
    return line


class Progress:
    """Extension: logs the spider's ``progress`` every interval (see the module docstring)."""

    def __init__(self, crawler: Crawler, interval: float, clock: Any = time.monotonic) -> None:
        self.crawler = crawler
        self.interval = interval
        self.clock = clock
        self.keys: tuple[str, str | None, str] | None = None
        self._task: AsyncioLoopingCall | LoopingCall | None = None
        self._last: tuple[float, int] = (0.0, 0)
        self._started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("LINKCRAWLER_PROGRESS_INTERVAL", defaults.LINKCRAWLER_PROGRESS_INTERVAL)
        if interval <= 0:
            raise NotConfigured("LINKCRAWLER_PROGRESS_INTERVAL is 0")
        progress = cls(crawler, interval)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self, spider: Spider) -> None:
        self.keys = getattr(spider, "progress", None)
        if self.keys is None:
            return
        self._started = self.clock()
        self._last = (self._started, 0)
        self._task = create_looping_call(self.log_progress, spider.name)
        self._task.start(self.interval, now=False)

    def log_progress(self, name: str) -> None:
        """The line of the last interval: its rate, and the time left at that rate."""
        done, total = self._counts()
        now = self.clock()
        since, done_then = self._last
        rate = (done - done_then) / (now - since) if now > since else 0.0
        self._last = (now, done)
        logger.info("%s: %s", name, progress_line(self._noun(), done, total, rate))

    def _noun(self) -> str:
        assert self.keys is not None
        return self.keys[2]

    def _counts(self) -> tuple[int, int | None]:
        assert self.keys is not None and self.crawler.stats is not None
        done_key, total_key, _ = self.keys
        total = self.crawler.stats.get_value(total_key) if total_key else None
        return int(self.crawler.stats.get_value(done_key, 0)), (int(total) if total is not None else None)

    def spider_closed(self, spider: Spider) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        self._task = None
        if self.keys is not None:
            done, total = self._counts()
            elapsed = self.clock() - self._started
            rate = done / elapsed if elapsed > 0 else 0.0
            logger.info("%s: %s in %s", spider.name, progress_line(self._noun(), done, total, rate), _duration(elapsed))
