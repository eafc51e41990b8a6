"""The one use of Scrapy's private engine API: present in the Scrapy checked, refused clearly otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
import scrapy
from scrapy import Request, Spider
from scrapy.http import Response

from linkcrawler.distributed.engine import CHECKED_AGAINST, EngineAccess
from linkcrawler.exceptions import ConfigurationError
from tests.crawling import CrawlResult, run_spider
from tests.mockserver import MockServer


def test_the_scrapy_installed_is_the_one_checked() -> None:
    # On a Scrapy upgrade this fails first: read engine.py's docstring, check, update CHECKED_AGAINST.
    assert scrapy.__version__ == CHECKED_AGAINST


@pytest.mark.parametrize("engine", [None, object()], ids=["no engine", "no private slot"])
def test_an_engine_without_the_private_api_is_refused_with_the_version_checked(engine: Any) -> None:
    with pytest.raises(ConfigurationError, match=f"checked against Scrapy {CHECKED_AGAINST}"):
        EngineAccess(engine).check()
    assert EngineAccess(engine).in_progress() == set()
    EngineAccess(engine).wake()  # (nothing to wake: no error)


class InProgressSpider(Spider):
    name = "in_progress"

    def __init__(self, url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url

    async def start(self) -> AsyncIterator[Request]:
        yield Request(self.url)

    def parse(self, response: Response) -> Any:
        engine = EngineAccess(self.crawler.engine)
        engine.check()
        engine.wake()
        yield {"in_progress": response.request in engine.in_progress(), "count": len(engine.in_progress())}


@pytest_twisted.inlineCallbacks
def test_a_request_is_in_progress_while_its_callback_runs(mockserver: MockServer) -> Any:
    result: CrawlResult = yield run_spider(
        InProgressSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True}, url=mockserver.url("/delay?s=0")
    )
    assert result.items == [{"in_progress": True, "count": 1}]
    assert EngineAccess(result.crawler.engine).in_progress() == set()  # the spider is closed
