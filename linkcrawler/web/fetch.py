"""The one-off fetcher for commands: a URL's redirect chain, fetched as the spiders fetch.

``scrapy redirectmap --verify`` and ``scrapy toplinked --check`` ask a few URLs
what they answer now. They used to ask with a client of their own, which
followed ``Location`` to any host: a rule file or a backlink pointing at
``http://169.254.169.254/`` was a way into the machine, robots.txt was not read
and the project's ``USER_AGENT`` not sent. There is now one way to fetch.

:func:`fetch_chains` runs a small internal spider in the command's crawler
process, so every request goes through the project's own downloader stack:
``DOWNLOADER_MIDDLEWARES`` (the address guard, robots.txt per RFC 9309, retries),
``USER_AGENT``, ``DOWNLOAD_TIMEOUT``, proxies, TLS settings. Scrapy does not
follow redirects for it (``dont_redirect``, ``handle_httpstatus_all``): each hop
is a new request, so the address guard and robots.txt judge every hop, and
the chain stops by the redirect model of :mod:`linkcrawler.web.redirects`
(the loop rule and ``LINKCRAWLER_MAX_REDIRECTS``). A download that gives no
response is named by :func:`linkcrawler.web.outcome.classify_failure`, as in
every spider: ``refused_address``, ``robots_disallowed``, ``dns_error``...

A crawler process runs the Twisted reactor, which cannot be started twice:
call :func:`fetch_chains` once per process (once per command run), with every
URL at once. In a reactor that already runs (tests), use :func:`crawl_chains`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Request, Response

from linkcrawler import defaults
from linkcrawler.web.outcome import ErrorKind, FetchStatus, classify_failure
from linkcrawler.web.redirects import Hop, analyze_redirect_chain, redirect_location
from linkcrawler.web.text import printable, squash

if TYPE_CHECKING:
    from scrapy.crawler import CrawlerProcessBase, CrawlerRunner
    from scrapy.settings import BaseSettings
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

__all__ = ["Answer", "FetchedChain", "crawl_chains", "fetch_chains"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request got: an HTTP status, or the kind of failure (an :class:`ErrorKind` value)."""

    url: str
    status: FetchStatus
    location: str | None = None
    """The ``Location`` header as the server sent it, for a redirect."""
    reason: str = ""
    """For a failure, what happened in words (the address guard's and robots.txt's own message)."""


@dataclass(frozen=True, slots=True)
class FetchedChain:
    """A URL's answers, from its own to the last one fetched, and why the chain stopped there."""

    answers: tuple[Answer, ...]
    problem: ErrorKind | None = None
    """``redirect_loop`` or ``too_many_redirects`` when the chain was not followed to its end."""
    problem_reason: str = ""

    @property
    def url(self) -> str:
        return self.answers[0].url

    @property
    def status(self) -> FetchStatus:
        """The URL's own answer."""
        return self.answers[0].status

    @property
    def location(self) -> str | None:
        """Where the URL's own answer sends, as the server wrote it."""
        return self.answers[0].location

    @property
    def final_url(self) -> str:
        """The last URL fetched."""
        return self.answers[-1].url

    @property
    def final_status(self) -> FetchStatus:
        """The last answer, or the loop / too-many verdict when the chain was cut."""
        return self.problem.value if self.problem is not None else self.answers[-1].status

    @property
    def hops(self) -> tuple[Hop, ...]:
        return tuple(Hop(answer.url, answer.status) for answer in self.answers)

    @property
    def reason(self) -> str:
        """Why the chain did not end in an HTTP answer, in words; empty when it did."""
        if self.problem is not None:
            return self.problem_reason
        return self.answers[-1].reason


# Spider settings: the fetch must not do what a crawl of the project does besides
# fetching (write runs and items to MongoDB, share a Redis queue with other workers).
_FETCH_ONLY_SETTINGS: dict[str, Any] = {
    "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": None},
    "EXTENSIONS": {"linkcrawler.extensions.runs.RunRecorder": None},
    "LINKCRAWLER_RECORD_RUNS": False,
    "SCHEDULER": "scrapy.core.scheduler.Scheduler",
}
_OWN_HANDLING = {"dont_redirect": True, "handle_httpstatus_all": True}


class ChainSpider(scrapy.Spider):
    """Fetches each URL and follows its redirects one request per hop; fills ``results``.

    Internal to :func:`fetch_chains`: not in ``SPIDER_MODULES``, so ``scrapy list``
    and Scrapyd never see it.
    """

    name = "linkcrawler_fetch"
    custom_settings = _FETCH_ONLY_SETTINGS

    def __init__(self, urls: Iterable[str], results: dict[str, FetchedChain], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = list(dict.fromkeys(urls))
        self.results = results
        self.max_redirects = defaults.LINKCRAWLER_MAX_REDIRECTS

    async def start(self) -> AsyncIterator[Request]:
        self.max_redirects = self.settings.getint("LINKCRAWLER_MAX_REDIRECTS", defaults.LINKCRAWLER_MAX_REDIRECTS)
        for url in self.urls:
            request = self._request(url, url, ())
            if request is not None:
                yield request

    def _request(self, start: str, url: str, answers: tuple[Answer, ...]) -> Request | None:
        try:
            return Request(url, callback=self.answered, errback=self.failed, dont_filter=True,
                           meta={**_OWN_HANDLING, "fetch_start": start, "fetch_answers": answers})
        except ValueError as exc:  # not a URL Scrapy can request
            self._finish(start, (*answers, _failed_answer(url, exc)))
            return None

    def answered(self, response: Response) -> Iterator[Request]:
        start: str = response.meta["fetch_start"]
        raw_location = response.headers.get(b"Location")
        location = raw_location.decode("latin-1") if raw_location else None
        answers = (*response.meta["fetch_answers"], Answer(response.url, response.status, location))
        next_url = redirect_location(response.url, response.status, raw_location)
        if next_url is None:
            self._finish(start, answers)
            return
        chain = analyze_redirect_chain([(a.url, a.status) for a in answers], self.max_redirects, next_url)
        if chain.problem is not None:
            kind, reason = chain.problem
            self._finish(start, answers, kind, reason)
            return
        request = self._request(start, next_url, answers)
        if request is not None:
            yield request

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        exc = failure.value if failure.value is not None else RuntimeError("download failed")
        answers = (*request.meta["fetch_answers"], _failed_answer(request.url, exc))
        self._finish(request.meta["fetch_start"], answers)

    def _finish(self, start: str, answers: tuple[Answer, ...], problem: ErrorKind | None = None,
                reason: str = "") -> None:
        self.results[start] = FetchedChain(answers, problem, reason)


def _failed_answer(url: str, exc: BaseException) -> Answer:
    failure = classify_failure(exc)
    # The address guard's and robots.txt's refusals carry their own message as the
    # reason (which address or rule, and how to allow it).
    return Answer(url, failure.kind.value, None, squash(printable(failure.reason), 300))


def crawl_chains(runner: CrawlerRunner | CrawlerProcessBase, urls: Iterable[str]) -> Deferred[dict[str, FetchedChain]]:
    """Fetch ``urls`` with ``runner`` (a reactor that runs); fires with :func:`fetch_chains`' result."""
    urls = list(dict.fromkeys(urls))
    results: dict[str, FetchedChain] = {}
    deferred: Deferred[Any] = runner.crawl(ChainSpider, urls=urls, results=results)  # type: ignore[assignment]
    return deferred.addCallback(lambda _: _complete(urls, results))


def fetch_chains(
    urls: Iterable[str], settings: BaseSettings, process: CrawlerProcessBase | None = None
) -> dict[str, FetchedChain]:
    """What each URL answers now, redirects followed hop by hop, as the project's spiders fetch.

    Blocks until every chain ended. ``process`` is the command's crawler process
    (``requires_crawler_process``); without one, one is made from ``settings``.
    The reactor runs then stops: once per process.
    """
    urls = list(dict.fromkeys(urls))
    if not urls:
        return {}
    if process is None:
        process = _crawler_process(settings)
    results: dict[str, FetchedChain] = {}
    process.crawl(ChainSpider, urls=urls, results=results)
    process.start()
    return _complete(urls, results)


def _complete(urls: list[str], results: dict[str, FetchedChain]) -> dict[str, FetchedChain]:
    # A URL with no result: the crawl stopped before it was fetched (Ctrl-C, a
    # bootstrap failure). Say so rather than drop it.
    return {
        url: results.get(url) or FetchedChain((Answer(url, ErrorKind.DOWNLOAD_ERROR.value, None, "not fetched"),))
        for url in urls
    }


def _crawler_process(settings: BaseSettings) -> CrawlerProcessBase:
    # As scrapy.cmdline chooses for a command.
    from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess

    asyncio_reactor = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
    if not settings.getbool("TWISTED_REACTOR_ENABLED", True) or (
        settings.get("TWISTED_REACTOR") == asyncio_reactor and not settings.getbool("FORCE_CRAWLER_PROCESS")
    ):
        return AsyncCrawlerProcess(settings)  # type: ignore[arg-type]  # a BaseSettings works as well
    return CrawlerProcess(settings)  # type: ignore[arg-type]
