"""The baseline: a bare Scrapy spider making the fetches the prospects spider makes, recording nothing.

Each prospect page is fetched (GET) and its links read with lxml; every distinct
link to another host is requested once with HEAD; a 2xx HTML or a 4xx/5xx answer
is asked again with GET (the body is what tells a parked domain or a soft 404),
a redirect is followed with HEAD, and each site that answers 2xx HTML gets one
GET of a URL that cannot exist (the soft-404 probe). Same requests, same
concurrency, Scrapy's own machinery, nothing classified, nothing stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import scrapy
from scrapy.http import Response

_META = {"dont_redirect": True, "handle_httpstatus_all": True}


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with open(urls, encoding="utf-8") as listing:
            self.pages = [line.strip() for line in listing if line.startswith("http")]
        self.seen: set[str] = set()
        self.probed: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.pages:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("bare/pages")
        host = urlsplit(response.url).netloc
        for href in lxml.html.fromstring(response.body).xpath("//a/@href"):
            url = urljoin(response.url, href.strip())
            if url.startswith(("http://", "https://")) and urlsplit(url).netloc != host and url not in self.seen:
                self.seen.add(url)
                yield scrapy.Request(url, method="HEAD", callback=self.checked, meta={**_META, "url": url},
                                     dont_filter=True)

    def checked(self, response: Response) -> Iterator[scrapy.Request]:
        location = response.headers.get(b"Location")
        if response.status in (301, 302, 303, 307, 308) and location:
            yield response.request.replace(url=urljoin(response.url, location.decode()), method="HEAD")  # type: ignore[union-attr]
            return
        html = b"html" in (response.headers.get(b"Content-Type") or b"")
        if response.request is not None and response.request.method == "HEAD" and (
                response.status >= 300 or (200 <= response.status < 300 and html)):
            yield response.request.replace(method="GET")
            return
        self.crawler.stats.inc_value("bare/checked")
        origin = f"{urlsplit(response.url).scheme}://{urlsplit(response.url).netloc}"
        if 200 <= response.status < 300 and html and origin not in self.probed:
            self.probed.add(origin)
            yield scrapy.Request(f"{origin}/0123456789abcdef-linkcrawler-probe", callback=self.probe,
                                 meta=dict(_META), dont_filter=True)
        self.crawler.stats.inc_value("bare/outbound_checked_" + str(response.status))

    def probe(self, response: Response) -> None:
        self.crawler.stats.inc_value("bare/probes")
