"""Retry-After on 429/503 slows the host down."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest_twisted
import scrapy

from linkcrawler.middlewares.retry_after import parse_retry_after
from tests.crawling import run_spider
from tests.mockserver import MockServer


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(b" 7 ") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


class TimedSpider(scrapy.Spider):
    name = "timed"

    def __init__(self, first: str, then: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.first, self.then = first, then

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.first, meta={"handle_httpstatus_all": True}, dont_filter=True)

    def parse(self, response: scrapy.http.Response) -> Any:
        yield {"url": response.url, "status": response.status, "at": time.monotonic()}
        if response.status == 429:
            for url in self.then:
                yield scrapy.Request(url, meta={"handle_httpstatus_all": True})


@pytest_twisted.inlineCallbacks
def test_a_host_that_says_retry_after_waits(mockserver: MockServer) -> None:
    result = yield run_spider(
        TimedSpider,
        {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0, "ROBOTSTXT_OBEY": False},
        first=mockserver.url("/status/429?retry_after=2"),
        then=[mockserver.url("/status/200?n=1"), mockserver.url("/status/200?n=2")],
    )
    assert result.stats["linkcrawler/retry_after/slowed"] == 1
    times = {item["url"].rsplit("/", 1)[-1]: item["at"] for item in result.items}
    assert times["200?n=1"] - times["429?retry_after=2"] >= 1.9
