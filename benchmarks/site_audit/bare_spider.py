"""The baseline: the fastest honest Scrapy spider that follows a site's links.

Internal links are followed (GET, Scrapy's duplicate filter, redirects and
retries as Scrapy does them); every other http(s) link is requested once with
HEAD and not parsed, so it sends the same requests an audit does, without
recording anything. Links are read with lxml, the fast path (not a Selector per
page nor a ``LinkExtractor``), and the benchmark runs it with the audit's
concurrency (32 requests, 32 per domain).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import scrapy
from scrapy.http import HtmlResponse, Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url
        self.prefix = f"{urlsplit(start_url).scheme}://{urlsplit(start_url).netloc}/"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.start_url, callback=self.parse)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, HtmlResponse):
            return
        self.crawler.stats.inc_value("bare/pages")
        base = response.url
        for href in lxml.html.fromstring(response.body).xpath("//a/@href"):
            url = urljoin(base, href.strip())
            if url.startswith(self.prefix):
                yield scrapy.Request(url, callback=self.parse)
            elif url.startswith(("http://", "https://")):
                yield scrapy.Request(url, method="HEAD", callback=self.checked)

    def checked(self, response: Response) -> None:
        self.crawler.stats.inc_value("bare/external_checked")
