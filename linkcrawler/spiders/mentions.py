"""Spider ``mentions``: find pages that name the brand, say whether each mention links to us.

``scrapy crawl mentions -a brand=TERMS [-a exclude=WORDS] [-a urls=FILE_OR_URLS] [-a feed=FILE_OR_URL]``

It re-verifies the known mentions that are due (``LINKCRAWLER_RECHECK_HOURS``;
``-a all=1``: every one), then reads the candidate pages of ``urls`` (a text
file, comma-separated URLs, or a CSV export with a URL column: Brand24,
Mention...) and of ``feed`` (an RSS/Atom alert feed, file or URL; Google Alerts'
redirect links unwrapped offline). Lists and feeds stream, a batch at a time;
each page is fetched once per run (Scrapy's duplicate filter, in Redis with
``REDIS_URL`` so several processes share the crawl) whatever the number of terms.
Pages already known that are not due, and pages of our own domains, are not fetched.

What a page means is decided by pure functions
(:func:`linkcrawler.mentions.page.read_mentions`, :func:`linkcrawler.mentions.state.plan_page`);
the MongoDB pipeline writes the :class:`~linkcrawler.mentions.items.CheckedMentionPage` items.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from linkcrawler import defaults
from linkcrawler.backlinks.status import Status
from linkcrawler.backlinks.verdict import NOT_MODIFIED, Verdict, classify_http_status, failure_verdict
from linkcrawler.clock import Clock
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.imports.reader import RowError
from linkcrawler.imports.urllist import UrlEntry, read_url_list
from linkcrawler.mentions.feeds import FeedEntry, FeedError, read_feed
from linkcrawler.mentions.items import CheckedMentionPage, KnownMention, PageOutcome
from linkcrawler.mentions.match import BrandTerms
from linkcrawler.mentions.page import on_domains, read_mentions
from linkcrawler.mentions.state import plan_page
from linkcrawler.mentions.store import (
    KNOWN_PROJECTION,
    MENTIONS,
    due_mentions_filter,
    known_from,
    known_mentions,
)
from linkcrawler.spiders.arguments import Argument, SpiderArguments, flag, integer
from linkcrawler.store import Store, open_store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.content import load_extractors
from linkcrawler.web.headers import conditional_headers as validator_headers
from linkcrawler.web.headers import header_text
from linkcrawler.web.text import printable

logger = logging.getLogger(__name__)

#: Candidate pages read (and looked up in MongoDB) per trip to the reading thread.
BATCH = 200
#: Requests handed to Scrapy and not finished yet beyond which reading the candidates waits
#: (Scrapy's engine drains ``start()`` into the scheduler as fast as it yields: without this,
#: a 50,000-URL list would be 50,000 requests in memory). Not with REDIS_URL: the queue is in Redis.
MAX_PENDING = 1000
#: Seconds without a request finishing after which reading goes on anyway (a stuck count must not stall).
STALL_SECONDS = 60.0
#: Statuses other than 3xx that reach the callback (3xx: Scrapy's redirect middleware follows).
HANDLED_STATUSES = [304, *range(400, 600)]
#: Column names (compared lower-case, without spaces) of an export's authority-like score, 0-100.
AUTHORITY_COLUMNS = ("authority", "domainrating", "dr", "domainauthority", "da", "influencescore",
                     "authorityscore", "pageauthority")


def _text(name: str, meaning: str) -> Argument:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(name)
        return value

    return Argument(name, convert, meaning)


def authority_of(fields: dict[str, str]) -> float | None:
    """An export row's authority-like score (0-100), when it has one."""
    for name, value in fields.items():
        if "".join(name.lower().split()).replace("_", "") in AUTHORITY_COLUMNS:
            try:
                number = float(value.strip().rstrip("%"))
            except ValueError:
                continue
            if 0 <= number <= 100:
                return number
    return None


class MentionsSpider(scrapy.Spider):
    name = "mentions"
    stored_items = (CheckedMentionPage,)
    progress = ("linkcrawler/mentions/pages_checked", None, "pages checked")
    custom_settings = {
        "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": 800},
        "CONCURRENT_ITEMS": 2,
    }

    arguments = SpiderArguments(
        "mentions",
        _text("brand", "comma-separated brand terms, like 'Acme,Acme Corp'"),
        _text("exclude", "comma-separated context words that make an occurrence another sense of the term"),
        _text("urls", "a file (text, or a CSV export with a URL column) or comma-separated URLs"),
        _text("feed", "an RSS or Atom file, or its http(s) URL"),
        flag("all"),
        integer("limit", minimum=0, default=0, meaning="pages; 0: no limit"),
    )

    def __init__(self, **kwargs: Any) -> None:
        values = self.arguments.parse(kwargs)
        super().__init__(**self.arguments.internal(kwargs))
        self.brand_argument: str | None = values["brand"]
        self.exclude_argument: str = values["exclude"] or ""
        self.urls: str | None = values["urls"]
        self.feed: str | None = values["feed"]
        if self.feed is not None and not os.path.isfile(self.feed) and not self.feed.lower().startswith(
                ("http://", "https://")):
            raise ConfigurationError(f"mentions: -a feed={self.feed!r} is neither a file nor an http(s) URL")
        if self.feed is not None and os.path.isfile(self.feed):
            try:  # a file that is no feed is a mistake to say now, in one line (the first entry is enough)
                next(iter(read_feed(self.feed)), None)
            except FeedError as exc:
                raise ConfigurationError(f"mentions: -a feed={self.feed!r}: {exc}") from None
        if self.urls is not None and not os.path.isfile(self.urls) and "://" not in self.urls:
            raise ConfigurationError(
                f"mentions: -a urls={self.urls!r} is neither a file nor comma-separated http(s) URLs")
        self.check_all: bool = values["all"]
        self.page_limit: int = values["limit"]
        self.terms = BrandTerms(("",))
        self.store: Store | None = None
        self.recheck_after = timedelta(hours=defaults.LINKCRAWLER_RECHECK_HOURS)
        self.history_length = defaults.LINKCRAWLER_HISTORY_LENGTH
        self.clock = Clock()
        self.own_domains: list[str] = []
        self.scheduled = 0
        self.finished = 0
        self.bounded = True

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> MentionsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        load_extractors()  # now, not on the first page: the import would block the reactor
        settings = crawler.settings
        given = spider.brand_argument or ",".join(settings.getlist("LINKCRAWLER_BRAND_TERMS"))
        if not given.strip():
            raise ConfigurationError(
                "mentions: no brand terms: give -a brand=TERMS (comma-separated) or set LINKCRAWLER_BRAND_TERMS")
        try:
            spider.terms = BrandTerms.parse(given, spider.exclude_argument)
        except ValueError as exc:
            raise ConfigurationError(f"mentions: {exc}") from None
        spider.recheck_after = timedelta(
            hours=settings.getfloat("LINKCRAWLER_RECHECK_HOURS", defaults.LINKCRAWLER_RECHECK_HOURS))
        spider.history_length = settings.getint("LINKCRAWLER_HISTORY_LENGTH", defaults.LINKCRAWLER_HISTORY_LENGTH)
        spider.own_domains = settings.getlist("LINKCRAWLER_OWN_DOMAINS")
        spider.clock = Clock.from_settings(settings)
        spider.bounded = not settings.get("REDIS_URL")
        crawler.signals.connect(spider.spider_closed, signal=scrapy.signals.spider_closed)
        crawler.signals.connect(spider.request_dropped, signal=scrapy.signals.request_dropped)
        return spider

    def request_dropped(self, request: scrapy.Request) -> None:
        if "page_url" in request.meta:  # a page the duplicate filter already had: it is done
            self.finished += 1

    async def spider_closed(self) -> None:
        if self.store is not None:
            store, self.store = self.store, None
            await run_in_thread(store.close)

    # --- candidates ---------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.store = await run_in_thread(open_store, self.settings)
        await run_in_thread(ensure_indexes, self.store.db, [MENTIONS, "backlinks", "link_events"])
        if not self.own_domains:
            self.own_domains = await run_in_thread(self.store.db.backlinks.distinct, "target_domain")
        if not self.own_domains:
            logger.warning("mentions: no domain of ours is known (no LINKCRAWLER_OWN_DOMAINS, no backlinks): "
                           "no mention can be found linked")
        logger.info("mentions: terms %s; our domains: %s", printable(", ".join(self.terms.terms)),
                    printable(", ".join(self.own_domains)) or "none known")
        async for request in self.recheck_requests():
            yield request
        if self.urls:
            async for request in self.candidate_requests(self.url_entries(self.urls), "urls"):
                yield request
        if self.feed:
            if os.path.isfile(self.feed):
                async for request in self.candidate_requests(self.feed_entries(self.feed), "feed"):
                    yield request
            elif not self.limit_reached():
                yield scrapy.Request(self.feed, callback=self.parse_feed, errback=self.feed_failed,
                                     dont_filter=True, meta={"handle_httpstatus_all": True})

    async def recheck_requests(self) -> AsyncIterator[scrapy.Request]:
        """The pages of the known mentions that are due."""
        assert self.store is not None
        query = due_mentions_filter(self.terms.terms, self.clock.now(), None if self.check_all else self.recheck_after)
        cursor = self.store.db[MENTIONS].find(query, KNOWN_PROJECTION).sort([("page_url", 1), ("term", 1)])
        pages = ((url, known_from(docs)) for url, docs in itertools.groupby(cursor, key=lambda d: d["page_url"]))
        while not self.limit_reached():
            await self.backpressure()
            batch = await run_in_thread(lambda: list(itertools.islice(pages, BATCH)))
            if not batch:
                break
            for url, known in batch:
                self.crawler.stats.inc_value("linkcrawler/mentions/due_pages")
                request = self.page_request(url, known, "recheck")
                if request is not None:
                    yield request

    async def candidate_requests(
        self, entries: Iterator[tuple[str, float | None]], source: str
    ) -> AsyncIterator[scrapy.Request]:
        """Requests for candidate pages not known yet, a batch at a time (memory stays bounded)."""
        assert self.store is not None
        store = self.store
        while not self.limit_reached():
            await self.backpressure()
            batch = await run_in_thread(lambda: list(itertools.islice(entries, BATCH)))
            if not batch:
                break
            urls = [url for url, _ in batch]
            known = await run_in_thread(known_mentions, store.db, urls, self.terms.terms)
            for url, authority in batch:
                self.crawler.stats.inc_value(f"linkcrawler/mentions/candidates/{source}")
                if url in known:
                    # Known pages are re-checked when due (above), not on every run that lists them.
                    self.crawler.stats.inc_value("linkcrawler/mentions/candidates/known")
                    continue
                request = self.page_request(url, [], source, authority)
                if request is not None:
                    yield request

    def url_entries(self, value: str) -> Iterator[tuple[str, float | None]]:
        try:
            for entry in read_url_list(value):
                if isinstance(entry, RowError):
                    self.crawler.stats.inc_value("linkcrawler/mentions/bad_rows")
                    logger.warning("mentions: urls line %d skipped: %s (%s)", entry.line,
                                   printable(entry.reason), printable(entry.raw))
                    continue
                assert isinstance(entry, UrlEntry)
                yield entry.url, authority_of(entry.fields)
        except OSError as exc:
            raise ConfigurationError(f"mentions: cannot read -a urls={value!r}: {exc.strerror or exc}") from None

    def feed_entries(self, source: str | bytes) -> Iterator[tuple[str, float | None]]:
        try:
            for entry in read_feed(source):
                assert isinstance(entry, FeedEntry)
                yield entry.url, None
        except FeedError as exc:
            where = source if isinstance(source, str) else "the feed"
            raise ConfigurationError(f"mentions: {where}: {exc}") from None

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not 200 <= response.status < 300:
            logger.error("mentions: the feed %s answered HTTP %d", printable(response.url), response.status)
            self.crawler.stats.inc_value("linkcrawler/mentions/feed_errors")
            return
        try:
            async for request in self.candidate_requests(self.feed_entries(response.body), "feed"):
                yield request
        except ConfigurationError as exc:
            logger.error("%s (%s)", exc, printable(response.url))
            self.crawler.stats.inc_value("linkcrawler/mentions/feed_errors")

    def feed_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("linkcrawler/mentions/feed_errors")
        logger.error("mentions: the feed %s could not be fetched: %s", printable(self.feed or ""),
                     failure_verdict(failure.value).reason)

    async def backpressure(self) -> None:
        """Wait while more than :data:`MAX_PENDING` of our requests are unfinished (one process only)."""
        if not self.bounded:
            return
        last_progress, seen = time.monotonic(), self.finished
        while self.scheduled - self.finished > MAX_PENDING:
            if self.finished != seen:
                last_progress, seen = time.monotonic(), self.finished
            elif time.monotonic() - last_progress > STALL_SECONDS:
                logger.debug("mentions: no request finished for %.0f s; reading on", STALL_SECONDS)
                return
            await asyncio.sleep(0.05)

    def limit_reached(self) -> bool:
        return bool(self.page_limit) and self.scheduled >= self.page_limit

    def page_request(
        self, url: str, known: list[KnownMention], source: str, authority: float | None = None
    ) -> scrapy.Request | None:
        if on_domains(url, self.own_domains):
            self.crawler.stats.inc_value("linkcrawler/mentions/own_pages_skipped")
            return None
        if self.limit_reached():
            return None
        self.scheduled += 1
        self.crawler.stats.max_value("linkcrawler/mentions/max_pending", self.scheduled - self.finished)
        return scrapy.Request(
            url, callback=self.parse_page, errback=self.page_failed,
            headers=conditional_headers(known, self.terms.terms),
            meta={"page_url": url, "known": known, "source": source, "authority": authority,
                  "handle_httpstatus_list": HANDLED_STATUSES},
        )

    # --- pages --------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[CheckedMentionPage]:
        self.finished += 1
        meta = response.meta
        if on_domains(response.url, self.own_domains):
            self.crawler.stats.inc_value("linkcrawler/mentions/own_pages_skipped")
            return
        outcome = self.outcome(meta, "read", "", response)
        verdict = classify_http_status(response.status, _header(response, "Retry-After"), response.headers)
        if verdict is NOT_MODIFIED:
            outcome.kind, outcome.reason = "not_modified", "not modified since the last check"
        elif isinstance(verdict, Verdict):
            gone = verdict.status == Status.PAGE_GONE
            outcome.kind, outcome.reason = ("page_gone" if gone else "error"), verdict.reason
        else:
            # Reading a page (trafilatura: tens of ms) runs in a thread, off the reactor, so
            # downloads, Redis heartbeats and writes go on meanwhile.
            reading = await run_in_thread(read_mentions, response.url, response.body, response.headers,
                                          self.terms, self.own_domains)
            if reading.challenge:
                outcome.kind, outcome.reason = "error", f"bot challenge ({reading.challenge}): not read"
            elif reading.not_found:
                outcome.kind, outcome.reason = "page_gone", f"soft 404: {reading.not_found}"
            else:
                outcome.findings = reading.findings
                outcome.title = reading.metadata.title or None
                outcome.author = reading.metadata.author
                outcome.published = reading.metadata.published
                outcome.etag = _header(response, "ETag")
                outcome.last_modified = _header(response, "Last-Modified")
                self.crawler.stats.inc_value("linkcrawler/mentions/pages_read")
        for checked in self.checked(outcome):
            yield checked

    def page_failed(self, failure: Failure) -> Iterator[CheckedMentionPage]:
        self.finished += 1
        request = failure.request  # type: ignore[attr-defined]
        verdict = failure_verdict(failure.value)
        # The shared failure policy: whatever the fetch failure, a mention is never "removed" by it.
        kind = "page_gone" if verdict.status == Status.PAGE_GONE else "error"
        outcome = self.outcome(request.meta, kind, verdict.reason, None)
        outcome.final_url = request.url
        yield from self.checked(outcome)

    def outcome(self, meta: dict[str, Any], kind: str, reason: str, response: Response | None) -> PageOutcome:
        return PageOutcome(
            page_url=meta["page_url"], kind=kind, reason=reason, checked_at=self.clock.now(),
            terms=self.terms.terms, known=list(meta.get("known") or []),
            http_status=response.status if response is not None else None,
            final_url=response.url if response is not None else None,
            authority=meta.get("authority"), source=meta.get("source"),
        )

    def checked(self, outcome: PageOutcome) -> Iterable[CheckedMentionPage]:
        stats = self.crawler.stats
        stats.inc_value("linkcrawler/mentions/pages_checked")
        stats.inc_value(f"linkcrawler/mentions/pages/{outcome.kind}")
        updates = plan_page(outcome, self.history_length)
        for update in updates:
            stats.inc_value(f"linkcrawler/mentions/status/{update.to_status}")
            if update.reclaimed is not None:
                stats.inc_value("linkcrawler/mentions/reclaimed")
                logger.info("mentions: reclaimed: %s now links to %s", printable(update.page_url),
                            printable(update.reclaimed[0]))
        if updates:
            yield CheckedMentionPage(outcome.page_url, updates)


def conditional_headers(known: list[KnownMention], terms: Iterable[str]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since when every term was looked for in one version of the page.

    A term the page was never searched for must be looked for in the whole page: a 304
    would say nothing of it. The mentions of one page are read together, so they carry
    the same validators and the same searched terms unless a run was cut short.
    """
    searched = {term for mention in known for term in mention.searched_terms}
    if not known or not set(terms) <= searched:
        return {}
    return validator_headers((mention.etag, mention.last_modified) for mention in known)


def _header(response: Response, name: str) -> str | None:
    return header_text(response.headers, name)
