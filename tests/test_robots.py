"""robots.txt per RFC 9309, seen from a crawl: 4xx allows, 5xx and unreachable disallow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import scrapy

from linkcrawler.middlewares.robots import RobotsDisallowed
from tests.crawling import run_spider
from tests.mockserver import MockServer


class PagesSpider(scrapy.Spider):
    name = "pages"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, errback=self.failed, meta={"handle_httpstatus_all": True})

    def parse(self, response: scrapy.http.Response) -> Any:
        yield {"url": response.url, "outcome": response.status}

    def failed(self, failure: Any) -> Any:
        yield {"url": failure.request.url, "outcome": failure.value}


def outcomes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["url"].rsplit("/", 1)[-1]: item["outcome"] for item in items}


def crawl(server: MockServer, names: list[str]) -> Any:
    return run_spider(PagesSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0},
                      urls=[server.url(f"/{name}") for name in names])


@pytest_twisted.inlineCallbacks
def test_every_request_waiting_for_robots_txt_obeys_it(site_dir: Path, mockserver: MockServer) -> None:
    # Scrapy 2.19's own middleware lets all but the first of the requests that
    # waited together for robots.txt through; ours must refuse every one.
    (site_dir / "robots.txt").write_text("User-agent: *\nDisallow: /p\n")
    names = [f"p{i}.html" for i in range(8)]
    for name in names:
        (site_dir / name).write_text("<html></html>")
    result = yield crawl(mockserver, names)
    found = outcomes(result.items)
    assert set(found) == set(names)
    assert all(isinstance(outcome, RobotsDisallowed) for outcome in found.values())
    assert not any(path.startswith("/p") for path in mockserver.hits())


@pytest.mark.parametrize(("robots_status", "allowed"), [(404, True), (410, True), (500, False), (503, False)])
@pytest_twisted.inlineCallbacks
def test_robots_txt_errors(site_dir: Path, mockserver: MockServer, robots_status: int, allowed: bool) -> None:
    (site_dir / "robots.txt.meta.json").write_text(f'{{"status": {robots_status}}}')
    (site_dir / "page.html").write_text("<html></html>")
    result = yield crawl(mockserver, ["page.html"])
    outcome = outcomes(result.items)["page.html"]
    if allowed:
        assert outcome == 200
    else:
        assert isinstance(outcome, RobotsDisallowed)
        assert f"HTTP {robots_status}" in outcome.reason


@pytest_twisted.inlineCallbacks
def test_unreachable_robots_txt_disallows_for_now(site_dir: Path, mockserver: MockServer) -> None:
    (site_dir / "robots.txt.meta.json").write_text('{"drop": true}')
    (site_dir / "page.html").write_text("<html></html>")
    result = yield crawl(mockserver, ["page.html"])
    outcome = outcomes(result.items)["page.html"]
    assert isinstance(outcome, RobotsDisallowed)
    assert "robots.txt unreachable" in outcome.reason
    assert "/page.html" not in mockserver.hits()
