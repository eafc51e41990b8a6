"""``scrapy crawl site_audit -a start_url=URL``: audit the owned site.

Every internal page is fetched once (GET), every distinct external link checked
once (HEAD, GET when HEAD is refused) and never crawled beyond. What each answer
means lives in :mod:`linkcrawler.web` (outcomes, redirects) and :mod:`linkcrawler.audit`, and the crawl's bookkeeping (what
to fetch next, which chains wait for which hop, which links are broken) in
:class:`~linkcrawler.crawl.book.AuditBook`; this spider turns the book's
fetches into requests and responses into answers. The items:

- :class:`~linkcrawler.audit.items.AuditedPage` per internal URL (``pages``),
- :class:`~linkcrawler.audit.items.BrokenLink` per (page, link) whose target is broken,
- :class:`~linkcrawler.audit.items.RedirectedLink` per (page, link to a redirect), internal or external,
- one :class:`~linkcrawler.audit.items.AuditTotals` at the end (``inlinks``, and the few
  pages whose ``in_sitemap`` or ``found_by`` changed after they were written).

Each page is written once, as it is answered, with its click depth: the book
hands out the pages level by level (breadth first), at most ``window`` fetches
at a time (four times ``CONCURRENT_REQUESTS``), so Scrapy's queue stays short
and the depth of a page is known when it is found.

Redirects are followed by the spider, not by Scrapy (``dont_redirect``): each hop
is a URL fetched once and recorded in a :class:`~linkcrawler.web.redirects.RedirectGraph`,
so chains keep every hop and loops are seen. The book's set of URLs replaces the
duplicate filter (``dont_filter``), which would otherwise swallow a redirect to a
URL already fetched.

Order of the crawl: robots.txt (for its ``Sitemap:`` lines), the start page and
``/sitemap.xml``; then links breadth first, level by level. When the link crawl is over, the
sitemap URLs it did not reach are fetched (``found_by: sitemap``, ``depth: null``),
then the totals are written.

Shared (``REDIS_URL``): every worker runs this spider on the same start URL;
Redis de-duplicates on the URL and method (``linkcrawler_fingerprint``), each
worker stores what it fetched (:class:`~linkcrawler.audit.items.AuditFact`, in
``audit_fetches``) and explores from it without settling anything
(:meth:`AuditBook.explore`). When the shared crawl is over, one worker replays
the stored answers through a fresh book (:func:`~linkcrawler.crawl.book.replay`),
fetching what it misses, and sends the report: the items of a single process.

Arguments: ``start_url`` (required), ``max_pages``, ``max_depth``,
``obey_robots`` (``0`` to ignore robots.txt on the own site).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from linkcrawler import defaults
from linkcrawler import signals as linkcrawler_signals
from linkcrawler.audit import store as audit_store
from linkcrawler.audit.findings import AuditFindings, format_findings
from linkcrawler.audit.items import (
    AuditedPage,
    AuditFact,
    AuditTotals,
    BrokenLink,
    RedirectedLink,
)
from linkcrawler.clock import Clock
from linkcrawler.crawl.book import Answer, AuditBook, Fetch, collect_anchors, replay
from linkcrawler.crawl.scope import ParamStripper, SiteScope
from linkcrawler.crawl.shared_report import Built, SharedReport
from linkcrawler.crawl.traps import TrapGuard, TrapLimits
from linkcrawler.distributed.scheduler import FINGERPRINT_META, LOCAL_META
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.handover import handover_request
from linkcrawler.spiders.arguments import SpiderArguments, flag, http_url, integer
from linkcrawler.store import Store, open_store
from linkcrawler.store.connection import writes_to_store
from linkcrawler.web.outcome import ErrorKind, error_kind
from linkcrawler.web.page import analyze_page
from linkcrawler.web.redirects import redirect_location
from linkcrawler.web.sitemaps import parse_sitemap, sitemap_urls_in_robots
from linkcrawler.web.text import printable
from linkcrawler.web.urls import normalize_url

logger = logging.getLogger(__name__)

#: Sitemaps read per audit (an index can name many).
MAX_SITEMAPS = 1000
#: Sitemap URLs per stored fact of a shared audit (a document stays far below MongoDB's 16 MB).
SITEMAP_FACT_URLS = 5000
#: HEAD answers trusted as they are; any other 4xx/5xx is asked again with GET.
HEAD_FINAL_STATUSES = frozenset({404, 410})
_HTML_TYPES = (b"text/html", b"application/xhtml", b"application/xml", b"text/xml")

#: Meta of every fetch the audit handles itself: all statuses reach the callback, redirects too.
_OWN_HANDLING = {"dont_redirect": True, "handle_httpstatus_all": True}


class SiteAuditSpider(scrapy.Spider):
    name = "site_audit"
    #: What reaches the MongoDB pipeline.
    stored_items = (AuditedPage, BrokenLink, RedirectedLink, AuditTotals, AuditFact)
    #: What the progress lines count: URLs answered (how many there are is found as the crawl goes).
    progress = ("response_received_count", None, "URLs fetched")
    custom_settings = {
        # Depth is the audit's own (clicks from the start URL, not Scrapy's
        # request depth, which counts redirect hops and sitemap fetches).
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback result, however
        # few objects it holds: the default 100 was a third of the crawl's CPU time.
        "CONCURRENT_ITEMS": 16,
    }

    #: ``-a start_url=URL`` (required), ``-a max_pages=N``, ``-a max_depth=N`` (both
    #: default to their LINKCRAWLER_AUDIT_* setting), ``-a obey_robots=0``.
    arguments = SpiderArguments(
        "site_audit",
        http_url("start_url", required=True),
        integer("max_pages", minimum=0, meaning="internal pages; 0: no limit"),
        integer("max_depth", minimum=0, meaning="clicks from start_url; 0: no limit"),
        flag("obey_robots", default=True),
    )

    def __init__(self, **kwargs: Any) -> None:
        values = self.arguments.parse(kwargs)
        super().__init__(**self.arguments.internal(kwargs))
        self.start_url: str = values["start_url"]
        self._max_pages_arg: int | None = values["max_pages"]
        self._max_depth_arg: int | None = values["max_depth"]
        self.obey_robots: bool = values["obey_robots"]
        self.scope = SiteScope(self.start_url)
        self.site = self.scope.site
        #: The crawl's name in Redis: one shared crawl per audited site.
        self.shared_crawl_name = f"{self.name}:{self.site}"
        self.sitemaps: set[str] = set()
        self.stage = "links"
        self.clock = Clock()
        self.started_at = self.clock.now()
        self.store: Store | None = None
        #: Distributed (``REDIS_URL``): workers store what they fetch, one of them makes the report.
        self.shared = False
        self.run_id: str | None = None
        self.report = SharedReport(f"site_audit of {self.site}", self._build_report, self._fetch_missing,
                                   self._send_report)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteAuditSpider:
        spider: SiteAuditSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider.headers_received, signal=signals.headers_received)
        if spider.shared:
            crawler.signals.connect(spider.shared_run_joined, signal=linkcrawler_signals.shared_run_joined)
            crawler.signals.connect(spider.shared_run_drained, signal=linkcrawler_signals.shared_run_drained)
            crawler.signals.connect(spider.items_stored, signal=linkcrawler_signals.items_stored)
        return spider

    def configure(self, settings: BaseSettings) -> None:
        """Read the audit's settings (spider arguments win over them)."""
        self.clock = Clock.from_settings(settings)
        self.started_at = self.clock.now()
        self.limits = TrapLimits(
            max_depth=self._max_depth_arg if self._max_depth_arg is not None
            else settings.getint("LINKCRAWLER_AUDIT_MAX_DEPTH", defaults.LINKCRAWLER_AUDIT_MAX_DEPTH),
            max_url_length=settings.getint("LINKCRAWLER_AUDIT_MAX_URL_LENGTH", defaults.LINKCRAWLER_AUDIT_MAX_URL_LENGTH),
            max_query_variants=settings.getint(
                "LINKCRAWLER_AUDIT_MAX_QUERY_VARIANTS", defaults.LINKCRAWLER_AUDIT_MAX_QUERY_VARIANTS),
            max_segment_repeats=settings.getint(
                "LINKCRAWLER_AUDIT_MAX_SEGMENT_REPEATS", defaults.LINKCRAWLER_AUDIT_MAX_SEGMENT_REPEATS),
            deny=tuple(settings.getlist("LINKCRAWLER_AUDIT_DENY", defaults.LINKCRAWLER_AUDIT_DENY)),
        )
        self.max_pages = self._max_pages_arg if self._max_pages_arg is not None else settings.getint(
            "LINKCRAWLER_AUDIT_MAX_PAGES", defaults.LINKCRAWLER_AUDIT_MAX_PAGES)
        self.strip = ParamStripper(settings.getlist("LINKCRAWLER_AUDIT_STRIP_PARAMS", defaults.LINKCRAWLER_AUDIT_STRIP_PARAMS))
        self.check_external = settings.getbool("LINKCRAWLER_AUDIT_CHECK_EXTERNAL", defaults.LINKCRAWLER_AUDIT_CHECK_EXTERNAL)
        self.report_lines = settings.getint("LINKCRAWLER_AUDIT_REPORT_LINES", defaults.LINKCRAWLER_AUDIT_REPORT_LINES)
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self.start_url = self.strip(self.start_url)
        self.shared = bool(settings.get("REDIS_URL"))
        if self.shared and not writes_to_store(settings):
            raise ConfigurationError(
                "site_audit with REDIS_URL shares the crawl among workers through MongoDB: "
                "it needs the MongoDB writer pipeline (pipelines.mongo.MongoWriterPipeline) in ITEM_PIPELINES"
            )
        # Fetches handed to Scrapy at a time: enough to keep every download slot busy.
        self.window = 4 * max(1, settings.getint("CONCURRENT_REQUESTS"))
        try:
            self.book = self.new_book(window=self.window)
        except Exception as exc:  # re.error: a bad pattern
            raise ConfigurationError(f"LINKCRAWLER_AUDIT_DENY: {exc}") from exc

    def new_book(self, inc: Any = None, window: int = 0) -> AuditBook:
        """A fresh bookkeeping of this audit (see :class:`~linkcrawler.crawl.book.AuditBook`)."""
        return AuditBook(
            self.start_url, self.scope, TrapGuard(self.limits), self.strip,
            max_pages=self.max_pages, check_external=self.check_external, inc=inc or self._inc, now=self.clock,
            window=window,
        )

    @property
    def findings(self) -> AuditFindings:
        return self.book.findings

    def _inc(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(key, count)

    # --- signals -------------------------------------------------------------------

    async def spider_opened(self, spider: scrapy.Spider) -> None:
        if spider is self and writes_to_store(self.crawler.settings):
            # Held until the end, after the writer pipeline has flushed, to remove
            # the links fixed since the last audit (and to read a shared audit's facts).
            self.store = await run_in_thread(open_store, self.crawler.settings)

    def spider_idle(self, spider: scrapy.Spider) -> None:
        if spider is not self or self.shared:
            return  # a shared audit's end is the scheduler's (shared_run_drained)
        if self.book.waiting_fetches:
            # Idle while the book holds fetches: some fetch got no answer at all. Never stall on it.
            logger.warning("site_audit: %d fetch(es) were still held while the crawl was idle; handing them out",
                           self.book.waiting_fetches)
            for fetch in self.book.release_all():
                self.crawler.engine.crawl(self._request(fetch))
            raise DontCloseSpider
        if self.stage == "links":
            self.stage = "sitemap"
            requests = [self._request(fetch) for fetch in self.book.sitemap_fetches()]
            if requests:
                logger.info("site_audit: %d URL(s) of the sitemaps were not reached by links; fetching them", len(requests))
                for request in requests:
                    self.crawler.engine.crawl(request)
                raise DontCloseSpider
        if self.stage == "sitemap":
            self.stage = "totals"
            totals = self.book.totals()
            logger.info("site_audit: every page answered; writing what needed the whole crawl: "
                        "the inlinks of %d page(s) linked after they were written", len(totals.inlinks))
            self._send_items_later([totals])
            raise DontCloseSpider

    async def spider_closed(self, spider: scrapy.Spider, reason: str) -> None:
        if spider is not self:
            return
        reported = not self.shared or self.report.done
        if reported:
            findings = self.findings
            findings.skipped = Counter(self.book.skipped.values())
            logger.info("%s", format_findings(findings, self.report_lines))
        else:
            logger.info("site_audit: shared audit of %s (run %s): this worker fetched its share; "
                        "another worker writes the report", self.site, self.run_id)
        store, self.store = self.store, None
        if store is None:
            return
        try:
            if not reported:
                return
            if reason == "finished" and not self.book.truncated and self.stage == "totals":
                removed = await run_in_thread(
                    audit_store.purge_fixed_links, store.db, self.site, self.started_at)
                if any(removed.values()):
                    logger.info("site_audit: removed links fixed since the last audit: %s", removed)
            else:
                logger.info("site_audit: incomplete audit (%s): links found broken before are kept", reason)
            if self.shared:
                await run_in_thread(audit_store.purge_facts, store.db, self.site)
        finally:
            await run_in_thread(store.close)

    def headers_received(self, headers: Any, body_length: int, request: Request, spider: scrapy.Spider) -> None:
        """Stop downloading bodies the audit does not read (external GETs, non-HTML pages)."""
        meta = request.meta
        if "audit_url" not in meta or request.method == "HEAD":
            return
        if meta.get("audit_external"):
            raise StopDownload(fail=False)
        content_type = (headers.get(b"Content-Type") or b"").lower()
        if content_type and not content_type.startswith(_HTML_TYPES) and b"html" not in content_type:
            raise StopDownload(fail=False)

    # --- requests --------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        parts = urlsplit(self.start_url)
        root = f"{parts.scheme}://{parts.netloc}"
        yield Request(
            f"{root}/robots.txt", callback=self.parse_robots, errback=self.aside, dont_filter=True,
            meta={"dont_obey_robotstxt": True}, priority=10,
        )
        fetch = self.book.start()
        if fetch is not None:
            yield self._request(fetch)
        sitemap = self._sitemap_request(f"{root}/sitemap.xml", nesting=0)
        if sitemap is not None:
            yield sitemap

    def _request(self, fetch: Fetch, method: str | None = None, meta: dict[str, Any] | None = None) -> Request:
        """The request of a fetch: GET for a page, HEAD (then GET if refused) for an external link.

        Redirects and every status reach the callbacks (the audit follows
        redirects itself); robots.txt is not consulted for external links (one
        request, as a click). Alone, the spider's book de-duplicates
        (``dont_filter``); shared, Redis does, on the URL and method.
        """
        meta = {**_OWN_HANDLING, **(meta or {}), "audit_url": fetch.url, "audit_depth": fetch.depth,
                "audit_hops": fetch.hops}
        if fetch.external:
            method = method or "HEAD"
            meta.update(audit_external=True, dont_obey_robotstxt=True)
            callback = self.parse_external
        else:
            method = "GET"
            if not self.obey_robots:
                meta["dont_obey_robotstxt"] = True
            callback = self.parse_page
        if self.shared and not meta.get(LOCAL_META):
            meta[FINGERPRINT_META] = f"{method} {fetch.url}"
        return Request(fetch.url, method=method, callback=callback, errback=self.fetch_failed,
                       dont_filter=not self.shared or bool(meta.get(LOCAL_META)), priority=fetch.priority, meta=meta)

    def _requests(self, outputs: Iterable[Any]) -> Iterator[Any]:
        """The book's outputs as the spider's: fetches become requests, items stay items."""
        for output in outputs:
            yield self._request(output) if isinstance(output, Fetch) else output

    def _sitemap_request(self, url: str, nesting: int) -> Request | None:
        if url in self.sitemaps or len(self.sitemaps) >= MAX_SITEMAPS or nesting > 3:
            return None
        self.sitemaps.add(url)
        meta: dict[str, Any] = {"audit_sitemap_nesting": nesting}
        if self.shared:
            meta[FINGERPRINT_META] = f"SITEMAP {url}"
        return Request(url, callback=self.parse_sitemap, errback=self.aside, dont_filter=not self.shared,
                       meta=meta, priority=5)

    def _send_items_later(self, items: list[Any]) -> None:
        """Hand ``items`` to the engine (items leave a spider through a callback): see :mod:`linkcrawler.handover`.

        A request rather than a coroutine: the engine would wait for its next
        heartbeat (5 s) to notice the crawl is over.
        """
        self.crawler.engine.crawl(handover_request(items, meta={LOCAL_META: True}))

    # --- robots.txt and sitemaps ------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_in_robots(response.body, response.url):
            request = self._sitemap_request(url, nesting=0)
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        content = parse_sitemap(response.body, max_size=self.maxsize or 50 * 1024 * 1024)
        nesting = response.meta.get("audit_sitemap_nesting", 0)
        if content.kind == "sitemapindex":
            for location in content.locations:
                request = self._sitemap_request(response.urljoin(location), nesting + 1)
                if request is not None:
                    yield request
        elif content.kind == "urlset":
            urls = []
            for location in content.locations:
                try:
                    urls.append(self.strip(normalize_url(response.urljoin(location))))
                except ValueError:
                    continue
            for url in urls:
                self.book.add_sitemap_url(url)
            self._inc("linkcrawler/site_audit/sitemap_urls", len(content.locations))
            if self.shared:
                internal = [url for url in urls if self.scope.is_internal(url)]
                for number, start in enumerate(range(0, len(internal), SITEMAP_FACT_URLS)):
                    part = internal[start:start + SITEMAP_FACT_URLS]
                    yield self._fact("sitemap", f"{response.url}#{number:06d}", anchors=[(url, "") for url in part])
                yield from self._requests(self.book.explore_sitemap(internal))

    def aside(self, failure: Failure) -> None:
        """robots.txt or a sitemap could not be read: the crawl goes on without it."""
        logger.debug("site_audit: %s", printable(str(failure.value)))

    # --- answers -------------------------------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[Any]:
        fetch = _fetch_of(response.meta)
        status = response.status
        answer = Answer(fetch.url, status, self._location(fetch.url, status, response))
        if answer.location is None:
            details: dict[str, Any] = {"content_type": _media_type(response)}
            if 200 <= status < 300 and response.body:
                analysis = analyze_page(fetch.url, response.body, response.headers)
                details.update(
                    content_type=analysis.content_type or details["content_type"],
                    title=analysis.title or None,
                    canonical=analysis.canonical,
                    noindex=analysis.noindex,
                )
                if analysis.links_truncated:
                    # Never silently: the page says so, and so does the log.
                    details["links_truncated"] = True
                    self._inc("linkcrawler/site_audit/links_truncated")
                    logger.warning("site_audit: %s has %d distinct links; only the first %d were read",
                                   printable(fetch.url), analysis.distinct_link_count, len(analysis.raw_links))
                if analysis.is_html:
                    answer.anchors = collect_anchors(fetch.url, analysis.links, self.strip)
            answer.details = details
        yield from self._answered(fetch, answer, response.meta)

    def parse_external(self, response: Response) -> Iterator[Any]:
        fetch = _fetch_of(response.meta)
        status = response.status
        if response.request is not None and response.request.method == "HEAD" and status >= 400 \
                and status not in HEAD_FINAL_STATUSES:
            # HEAD refused or unsupported (405, 501, a 403 from a CDN...): ask with GET.
            self._inc("linkcrawler/site_audit/head_refused")
            yield self._request(fetch, method="GET", meta=_carried(response.meta))
            return
        answer = Answer(fetch.url, status, self._location(fetch.url, status, response), external=True)
        yield from self._answered(fetch, answer, response.meta)

    def fetch_failed(self, failure: Failure) -> Iterator[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        fetch = _fetch_of(request.meta)
        kind = error_kind(failure.value)
        if fetch.external and request.method == "HEAD" and kind not in (
            ErrorKind.ROBOTS_DISALLOWED, ErrorKind.REFUSED_ADDRESS, ErrorKind.DNS_ERROR, ErrorKind.CONNECTION_REFUSED, ErrorKind.TIMEOUT,
        ):
            # Some servers drop the connection on HEAD.
            yield self._request(fetch, method="GET", meta=_carried(request.meta))
            return
        message = printable(str(failure.value) or type(failure.value).__name__)[:300]
        yield from self._answered(fetch, Answer(fetch.url, kind, error=message, external=fetch.external), request.meta)

    def _location(self, url: str, status: int, response: Response) -> str | None:
        location = redirect_location(url, status, response.headers.get(b"Location"))
        return self.strip(location) if location is not None else None

    def _answered(self, fetch: Fetch, answer: Answer, meta: dict[str, Any]) -> Iterator[Any]:
        if not self.shared:
            yield from self._requests(self.book.answered(fetch, answer))
            return
        # Shared: store what was fetched; the report is made from it at the end.
        yield self._fact(
            "external" if fetch.external else "page", fetch.url, status=answer.status, location=answer.location,
            details=answer.details, anchors=list((answer.anchors or {}).items()), error=answer.error,
        )
        if not meta.get(LOCAL_META):  # (a fetch the report asked for: the report decides what follows)
            yield from self._requests(self.book.explore(fetch, answer))

    def _fact(self, kind: str, url: str, **fields: Any) -> AuditFact:
        self._inc(f"linkcrawler/site_audit/facts/{kind}")
        return AuditFact(site=self.site, run=self.run_id or "", kind=kind, url=url,
                         fetched_at=self.clock.now(), **fields)

    # --- the report of a shared audit ------------------------------------------------------

    def shared_run_joined(self, run_id: str, scheduler: Any) -> None:
        self.run_id = run_id

    def items_stored(self, upto: float) -> None:
        self.report.items_stored(upto)

    def shared_run_drained(self, scheduler: Any) -> bool:
        """The shared crawl is over: one worker makes the report (:class:`~linkcrawler.crawl.shared_report.SharedReport`)."""
        more = self.report.drained(scheduler)
        if self.report.done and self.report.seconds is not None and self.stage != "totals":
            self.stage = "totals"
            # From the end of the shared crawl to the report stored: what sharing adds.
            self.crawler.stats.set_value(
                "linkcrawler/site_audit/report_seconds", round(self.report.seconds, 2))
        return more

    async def _build_report(self, passes: int, last_pass: bool) -> Built:
        """Replay the stored facts through a fresh book: the report's items, or what no worker fetched."""
        assert self.store is not None
        counts: Counter[str] = Counter()
        started = time.monotonic()
        answers, sitemap_urls = await run_in_thread(
            audit_store.load_facts, self.store.db, self.site, self.run_id or "")
        loaded = time.monotonic()
        book = self.new_book(inc=lambda key, count: counts.update({key: count}))
        result = await run_in_thread(replay, book, answers, sitemap_urls, last_pass)
        replayed = time.monotonic()
        if result.missing:
            logger.info("site_audit: report: %d URL(s) no worker fetched (found by another path); fetching them",
                        len(result.missing))
            self._inc("linkcrawler/site_audit/report_fetches", len(result.missing))
            return Built(missing=result.missing)
        for key, count in counts.items():
            self._inc(key, count)
        self.book = book
        logger.info("site_audit: report of %s made from %d stored answers (%d pass(es); %.1fs after the crawl, "
                    "%.1fs to read them, %.1fs to replay them): %d items", self.site, len(answers), passes,
                    started - self.report.started, loaded - started, replayed - loaded, len(result.items))
        return Built(items=result.items)

    def _fetch_missing(self, fetches: Any) -> None:
        for fetch in fetches:
            self.crawler.engine.crawl(self._request(fetch, meta={LOCAL_META: True}))

    def _send_report(self, items: list[Any]) -> None:
        self._send_items_later(items)


def _fetch_of(meta: dict[str, Any]) -> Fetch:
    return Fetch(meta["audit_url"], meta["audit_depth"], meta["audit_hops"], external=bool(meta.get("audit_external")))


def _carried(meta: dict[str, Any]) -> dict[str, Any]:
    """What a request's retry with GET keeps of its meta."""
    return {LOCAL_META: True} if meta.get(LOCAL_META) else {}


def _media_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    if not value:
        return None
    return value.decode("latin-1").split(";", 1)[0].strip().lower() or None
