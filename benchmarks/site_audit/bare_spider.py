"""The baseline: the fastest honest Scrapy spider that follows a site's links.

Internal links are followed (GET, Scrapy's duplicate filter, redirects and
retries as Scrapy does them); every other http(s) link is requested once with
HEAD and not parsed, so it sends the same requests an audit does, without
recording anything. It is lean the way a Scrapy user would make it, with no
duplicate-filter tricks (no set of its own: every URL goes through Scrapy's
scheduler and ``RFPDupeFilter``):

- links are read with raw lxml (not a Selector per page nor a ``LinkExtractor``),
  each distinct target of a page yielded once (as ``LinkExtractor(unique=True)`` does);
- 32 concurrent requests, 32 per domain (set by the benchmark, as for the audit);
- ``CONCURRENT_ITEMS=16`` and no ``DepthMiddleware``, cookies or generator-source
  check: the settings ``site_audit`` runs with, which cost the default spider half
  its speed (Scrapy starts ``CONCURRENT_ITEMS`` asyncio tasks for every callback
  result; ``WARN_ON_GENERATOR_RETURN_VALUE`` re-parses the callback's source).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import lxml.html
import scrapy
from scrapy.http import HtmlResponse, Response


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings: ClassVar[dict[str, Any]] = {
        "CONCURRENT_ITEMS": 16,
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
        "COOKIES_ENABLED": False,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
    }

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
        targets = dict.fromkeys(urljoin(base, href.strip())
                                for href in lxml.html.fromstring(response.body).xpath("//a/@href"))
        for url in targets:
            if url.startswith(self.prefix):
                yield scrapy.Request(url, callback=self.parse)
            elif url.startswith(("http://", "https://")):
                yield scrapy.Request(url, method="HEAD", callback=self.checked)

    def checked(self, response: Response) -> None:
        self.crawler.stats.inc_value("bare/external_checked")
