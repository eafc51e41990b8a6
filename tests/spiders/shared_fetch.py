"""A spider for the shared-queue test: fetches N slow pages and says which process did."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import scrapy


class SharedFetchSpider(scrapy.Spider):
    name = "shared_fetch"
    # Its items are plain dicts the store has no writer for: keep them out of MongoDB.
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, base: str, count: str = "40", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base.rstrip("/")
        self.count = int(count)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for i in range(self.count):
            yield scrapy.Request(f"{self.base}/delay?s=0.1&page={i}")

    def parse(self, response: scrapy.http.Response) -> Any:
        yield {"url": response.url, "pid": os.getpid()}
