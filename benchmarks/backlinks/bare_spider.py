"""The baseline: a bare Scrapy spider that fetches the same pages and does nothing with them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls_file = urls

    async def start(self) -> AsyncIterator[scrapy.Request]:
        with open(self.urls_file, encoding="utf-8") as urls:
            for line in urls:
                yield scrapy.Request(line.strip(), dont_filter=True)

    def parse(self, response: scrapy.http.Response) -> None:
        return None
