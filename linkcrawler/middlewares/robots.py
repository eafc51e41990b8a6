"""robots.txt handled as RFC 9309 says, with a refusal a spider can tell apart.

Scrapy's own middleware allows everything when robots.txt cannot be fetched or
answers a server error, and reads a redirected robots.txt as empty when the
spider turned redirects off. RFC 9309 says otherwise, and this middleware
follows it:

- **Redirects** (2.3.1.2): robots.txt's own redirects are followed, up to
  :data:`MAX_ROBOTS_REDIRECTS` (5), whatever the spider's redirect settings
  (``REDIRECT_ENABLED``, ``dont_redirect``): each hop is a new request through
  the downloader, so the address guard judges it. A sixth redirect or a
  redirect loop (the loop rule of :mod:`linkcrawler.web.redirects`) means
  robots.txt is *unavailable*, which the RFC treats as a 4xx: no rules, all
  allowed. So does a hop the address guard refuses: a public host's robots.txt
  that sends us to a private address gives us no robots.txt we may read.
- **4xx** (2.3.1.3): no robots.txt, everything allowed.
- **Unreachable** (2.3.1.4): the host does not answer (DNS failure, connection
  refused or reset, timeout, TLS failure...). The crawler must assume complete
  disallow: the page is not fetched, and the request fails with
  :class:`RobotsUnavailable`, which carries the classified failure of robots.txt
  itself (:func:`linkcrawler.web.outcome.classify_failure`). Every spider thus
  sees *what happened to the host* (``connection_refused``, ``dns_error``...),
  not a robots decision: a site that went offline is a failed fetch, and the
  backlink checker counts it toward ``unreachable``.
- **5xx** (2.3.1.4): the server answers but cannot serve robots.txt; complete
  disallow for now, as :class:`RobotsUnavailable` with the cause
  ``robots_server_error`` (kind ``robots_disallowed``: the site audit records
  the page as not checked). The backlink checker records it ``error`` (a server
  failing with 5xx fails the page as often as robots.txt) and, on the check
  that would make the link ``unreachable``, uses the RFC's leave to treat a
  robots.txt that stays unreachable as unavailable: it sets
  :data:`ROBOTS_SERVER_ERROR_AS_ABSENT` in the request's meta and the page is
  fetched, so a link is only ever declared lost on its own page's answer.
- A robots.txt that answers and forbids the page: :class:`RobotsDisallowed`.

The outcome is decided once per host and crawl. A failure of robots.txt is
retried (``RETRY_TIMES``, ``RETRY_HTTP_CODES``) here, not by Scrapy's
RetryMiddleware, and logged in one WARNING line with the classifier's reason
(no traceback, no "Gave up retrying" ERROR).
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
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.web import outcome
from linkcrawler.web.redirects import analyze_redirect_chain, is_redirect_status, redirect_location
from linkcrawler.web.text import printable

logger = logging.getLogger(__name__)

#: Redirects of robots.txt followed (RFC 9309 2.3.1.2: "at least five").
MAX_ROBOTS_REDIRECTS = 5
#: Request meta key: a robots.txt answering 5xx counts as absent for this request
#: (RFC 9309 2.3.1.4, for a robots.txt that stayed unreachable long enough).
ROBOTS_SERVER_ERROR_AS_ABSENT = "linkcrawler_robots_server_error_as_absent"


class RobotsDisallowed(IgnoreRequest, LinkcrawlerError):
    """robots.txt does not let us fetch the URL (or could not be read: disallowed for now).

    ``classified_failure`` is what :func:`linkcrawler.web.outcome.classify_failure`
    returns for it.
    """

    def __init__(self, url: str, reason: str, classified_failure: outcome.Failure | None = None) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason
        self.classified_failure = classified_failure or outcome.Failure(
            outcome.ErrorKind.ROBOTS_DISALLOWED, "robots_disallowed", reason, f"{__name__}.{type(self).__qualname__}"
        )


class RobotsUnavailable(RobotsDisallowed):
    """robots.txt could not be read (host unreachable, or 5xx): the page is not fetched for now.

    ``classified_failure`` is the failure of robots.txt itself: for an
    unreachable host its kind is the network failure's (``connection_refused``,
    ``dns_error``, ``timeout``...); for a 5xx its cause is ``robots_server_error``.
    """


class _Unavailable:
    """A parser for a robots.txt that could not be read: nothing is allowed."""

    def __init__(self, failure: outcome.Failure, server_error: bool = False) -> None:
        self.failure = failure
        self.server_error = server_error

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309's redirects and error handling."""

    async def robot_parser(self, request: Request) -> Any:
        url = urlparse_cached(request)
        if url.scheme not in ("http", "https"):
            return None  # no robots.txt to ask: the download handler refuses the scheme
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            parser = await self._read_robots(f"{url.scheme}://{netloc}/robots.txt", request)
            self._stats.inc_value("robotstxt/request_count")
            self._resolve(netloc, parser)
        waiting = self._parsers[netloc]
        if isinstance(waiting, Deferred):
            # An awaited Deferred passes None down its chain to the next awaiter
            # (Scrapy 2.19 lets those requests through): read the settled parser.
            await maybe_deferred_to_future(waiting)
            return self._parsers[netloc]
        return waiting

    async def _read_robots(self, robots_url: str, request: Request) -> Any:
        """The parser for a host's robots.txt, its redirects followed (module docstring)."""
        hops: list[tuple[str, int]] = []
        url = robots_url
        # Retried here rather than by RetryMiddleware, whose give-up message is an
        # ERROR line per robots.txt: a host that does not answer gets one WARNING.
        retries = self.crawler.settings.getint("RETRY_TIMES") if self.crawler.settings.getbool("RETRY_ENABLED") else 0
        retry_codes = {int(code) for code in self.crawler.settings.getlist("RETRY_HTTP_CODES")}
        attempt = 0
        while True:
            robots_request = Request(
                url,
                priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True, "dont_redirect": True, "dont_retry": True},
                callback=NO_CALLBACK,
            )
            attempt += 1
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except IgnoreRequest as exc:
                # The address guard: on the first hop the page is refused too;
                # on a later one the host sent us where we may not go.
                if hops:
                    self._stats.inc_value("robotstxt/redirect_refused")
                    logger.info("%s redirects to %s, which is refused (%s): no robots.txt, all allowed",
                                printable(robots_url), printable(url), printable(str(exc)))
                return None
            except Exception as exc:
                if attempt <= retries:
                    self._stats.inc_value("robotstxt/retry_count")
                    continue
                return self._unreachable(robots_url, exc)
            if response.status in retry_codes and attempt <= retries:
                self._stats.inc_value("robotstxt/retry_count")
                continue
            attempt = 0
            location = redirect_location(response.url, response.status, response.headers.get(b"Location"))
            if location is None:
                return await self._parser_for(response, request)
            hops.append((response.url, response.status))
            chain = analyze_redirect_chain(hops, MAX_ROBOTS_REDIRECTS, location)
            if chain.should_stop:
                problem = chain.problem
                self._stats.inc_value("robotstxt/redirect_limit")
                logger.info("%s: %s: robots.txt unavailable, all allowed (RFC 9309 2.3.1.2)",
                            printable(robots_url), printable(problem[1] if problem else "too many redirects"))
                return None
            url = location

    def _unreachable(self, robots_url: str, exc: BaseException) -> _Unavailable:
        found = outcome.classify_failure(exc)
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc).__name__}")
        # One line, no traceback: a host that does not answer is news, not a bug.
        logger.warning("%s unreachable (%s): the host's pages are not fetched in this crawl",
                       printable(robots_url), found.reason)
        reason = f"robots.txt unreachable ({found.reason}): page not fetched"
        return _Unavailable(outcome.Failure(found.kind, found.cause, reason, found.exception, found.message))

    async def _parser_for(self, response: Response, request: Request) -> Any:
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status >= 500:
            logger.info("%s answered HTTP %d: the host's pages are not fetched for now",
                        printable(response.url), response.status)
            reason = f"robots.txt answered HTTP {response.status}: page not fetched for now"
            failure = outcome.Failure(outcome.ErrorKind.ROBOTS_DISALLOWED, outcome.ROBOTS_SERVER_ERROR, reason)
            return _Unavailable(failure, server_error=True)
        if response.status >= 400 or is_redirect_status(response.status) or response.status < 200:
            return None  # no robots.txt (or a redirect without a usable Location): all allowed
        parser = build_from_crawler(self._parserimpl, self.crawler, response.body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        return parser

    def _resolve(self, netloc: str, parser: Any) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    def process_request_2(self, rp: Any, request: Request) -> None:
        if rp is None:
            return
        if isinstance(rp, _Unavailable):
            if rp.server_error and request.meta.get(ROBOTS_SERVER_ERROR_AS_ABSENT):
                self._stats.inc_value("robotstxt/server_error_as_absent")
                return
            self._stats.inc_value("robotstxt/forbidden")
            raise RobotsUnavailable(request.url, rp.failure.reason, rp.failure)
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            raise RobotsDisallowed(request.url, "robots.txt disallows this page") from None
