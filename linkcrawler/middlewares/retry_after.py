"""Slow a host down when it says so: ``Retry-After`` on 429 and 503.

A host that answers "too many requests, retry after 30 s" gets a download delay
of 30 s on its slot (capped by ``LINKCRAWLER_RETRY_AFTER_MAX``), so the retry and
every later request to it wait. The delay then decays back towards the
configured one with each answer that is not a 429/503.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from linkcrawler import defaults

logger = logging.getLogger(__name__)


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware:
    """Downloader middleware: honour ``Retry-After`` per download slot (host)."""

    STATUSES = (429, 503)

    def __init__(self, crawler: Crawler, max_delay: float = defaults.LINKCRAWLER_RETRY_AFTER_MAX) -> None:
        self.crawler = crawler
        self.max_delay = max_delay
        self.base_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler, crawler.settings.getfloat("LINKCRAWLER_RETRY_AFTER_MAX", defaults.LINKCRAWLER_RETRY_AFTER_MAX))

    def process_response(self, request: Request, response: Response) -> Response:
        downloader: Any = self.crawler.engine.downloader if self.crawler.engine else None
        if downloader is None:
            return response
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:
            return response
        if response.status in self.STATUSES:
            wait = parse_retry_after(response.headers.get(b"Retry-After"))
            if wait is not None:
                wait = min(wait, self.max_delay)
                if wait > slot.delay:
                    logger.info("%s asks to retry after %.0fs: slowing that host down", request.url, wait)
                    slot.delay = wait
                    self.crawler.stats.inc_value("linkcrawler/retry_after/slowed")
        elif slot.delay > self.base_delay:
            slot.delay = max(self.base_delay, slot.delay / 2)
        return response
