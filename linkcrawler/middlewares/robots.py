"""robots.txt handled as RFC 9309 says, with a refusal a spider can tell apart.

Scrapy's own middleware allows everything when robots.txt cannot be fetched or
answers a server error. RFC 9309 (section 2.3.1.3-4) says otherwise: a 4xx means
"no rules, all allowed", but a 5xx or an unreachable robots.txt means the crawler
must assume complete disallow for now. A link checker that followed Scrapy's
default would report pages it had no right to fetch; this one reports them
``blocked`` and checks them again next time.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import (
    RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from linkcrawler.exceptions import LinkcrawlerError

logger = logging.getLogger(__name__)


class RobotsDisallowed(IgnoreRequest, LinkcrawlerError):
    """robots.txt does not let us fetch the URL (or could not be read: disallowed for now)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


class _Unavailable:
    """A parser for a robots.txt that could not be read: nothing is allowed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309's error handling."""

    async def robot_parser(self, request: Request) -> Any:
        # Scrapy 2.19 hands the parser to the first request that waited for
        # robots.txt and None (allow all) to the others that waited with it: an
        # awaited Deferred passes None down its chain. Read the settled parser.
        if urlparse_cached(request).scheme not in ("http", "https"):
            return None  # no robots.txt to ask: the download handler refuses the scheme
        parser = await super().robot_parser(request)
        settled = self._parsers.get(urlparse_cached(request).netloc, parser)
        return parser if isinstance(settled, Deferred) else settled

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status >= 500:
            parser: Any = _Unavailable(f"robots.txt answered HTTP {response.status}: all disallowed for now")
        elif response.status >= 400:
            parser = None  # no robots.txt: no rules, everything allowed
        else:
            parser = build_from_crawler(self._parserimpl, self.crawler, response.body)
            await self.crawler.signals.send_catch_log_async(
                signal=signals.robots_parsed, robotparser=parser, request=request
            )
        self._resolve(netloc, parser)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):
            # Refused before any fetch (the address guard): the page will be refused too.
            self._resolve(netloc, None)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc).__name__}")
        self._resolve(netloc, _Unavailable(f"robots.txt unreachable ({type(exc).__name__}): all disallowed for now"))

    def _resolve(self, netloc: str, parser: Any) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    def process_request_2(self, rp: Any, request: Request) -> None:
        if rp is None:
            return
        if isinstance(rp, _Unavailable):
            self._stats.inc_value("robotstxt/forbidden")
            raise RobotsDisallowed(request.url, rp.reason)
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            raise RobotsDisallowed(request.url, "robots.txt disallows this page") from None
