"""``scrapy crawl prospects -a urls=FILE_OR_URLS``: broken outbound links on prospect pages.

For each prospect page (with ``-a depth=1`` also the same-site pages it links to,
at most ``max_pages_per_site`` per site), every outbound link (to another
registrable domain) is read with its anchor and the text around it, and each
distinct outbound URL is checked **once per run**, however many pages carry it:
HEAD first; GET when HEAD is refused, fails, or says 2xx HTML (the body decides
parked domains and soft 404s) or 404/410 (confirmed, since some servers answer
HEAD wrongly). Redirects are followed hop by hop, an immediate meta refresh as
one too (the one redirect model of :mod:`linkcrawler.web.redirects`); what an answer means is
:mod:`linkcrawler.prospects.verdict`. A DNS failure is asked of the resolver again
(:func:`linkcrawler.web.dns.lookup_failure`): only NXDOMAIN is a gone domain.
Every fetch goes through the address guard, robots.txt and per-host politeness
(``CONCURRENT_REQUESTS_PER_DOMAIN``, Retry-After).

Items: a :class:`~linkcrawler.prospects.items.ProspectPage` per page, an
:class:`~linkcrawler.prospects.items.OutboundCheck` per outbound URL, and at the
end the opportunities and the moves of known ones
(:func:`~linkcrawler.prospects.book.build_opportunities`).

Shared (``REDIS_URL``): every worker runs this spider on the same list; the
pages are enqueued once per run, each outbound URL's first request is
de-duplicated through Redis (``CHECK <url>``), so it is checked by one worker,
which follows its redirects and GET itself. When the shared crawl is over, one
worker builds the opportunities from what all of them stored
(:class:`~linkcrawler.crawl.shared_report.SharedReport`), checking any URL no
worker got to.

Arguments: ``urls`` (required: a file, text or CSV export, or comma-separated
URLs; an export's authority column is kept for the score), ``depth`` (0 or 1),
``max_pages_per_site`` (with depth=1), ``all=1`` (pages checked within
``LINKCRAWLER_RECHECK_HOURS`` too).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import Request, Response
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure as TwistedFailure

from linkcrawler import defaults
from linkcrawler import signals as linkcrawler_signals
from linkcrawler.audit.redirectmap import LivePage
from linkcrawler.clock import Clock
from linkcrawler.crawl.scope import SiteScope
from linkcrawler.crawl.shared_report import Built, SharedReport
from linkcrawler.distributed.scheduler import FINGERPRINT_META, LOCAL_META
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.handover import handover_request
from linkcrawler.imports import RowError
from linkcrawler.imports.urllist import read_url_list
from linkcrawler.prospects import store as prospects_store
from linkcrawler.prospects.book import OurSite, build_opportunities
from linkcrawler.prospects.inputs import entry_authority, page_date
from linkcrawler.prospects.items import (
    OpportunityChange,
    OpportunityItem,
    OutboundCheck,
    OutboundLink,
    ProspectPage,
)
from linkcrawler.prospects.verdict import CheckState, LinkVerdict, failure_verdict, page_verdict, status_verdict
from linkcrawler.spiders.arguments import Argument, SpiderArguments, flag, integer
from linkcrawler.store import Store, open_store
from linkcrawler.store.connection import writes_to_store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.context import link_contexts
from linkcrawler.web.dns import lookup_failure, resolver_vouches
from linkcrawler.web.outcome import DNS_NXDOMAIN, DNS_TEMPORARY, ErrorKind, Failure, classify_failure
from linkcrawler.web.page import PageAnalysis, analyze_page
from linkcrawler.web.parked import parked_reason
from linkcrawler.web.redirects import Hop, analyze_redirect_chain, redirect_location, refresh_location
from linkcrawler.web.softnotfound import PageFingerprint, fingerprint, probe_url, says_not_found
from linkcrawler.web.text import printable
from linkcrawler.web.urls import host_of, registrable_domain

logger = logging.getLogger(__name__)

#: Failures of a HEAD that GET would meet too: not asked again.
_HEAD_FINAL_FAILURES = frozenset({
    ErrorKind.ROBOTS_DISALLOWED, ErrorKind.REFUSED_ADDRESS, ErrorKind.DNS_ERROR, ErrorKind.CONNECTION_REFUSED,
    ErrorKind.TIMEOUT,
})
#: Largest outbound page read (bytes): a parking page or a "not found" page is small.
CHECK_MAXSIZE = 5 * 1024 * 1024
_HTML_TYPES = (b"text/html", b"application/xhtml")
#: Redirects a soft-404 probe follows (parking services send unknown paths to their lander).
PROBE_REDIRECTS = 5
#: Non-redirect statuses: a probe's redirects are followed by the spider, the rest reach it.
_NOT_REDIRECTS = [s for s in range(100, 600) if s not in (301, 302, 303, 307, 308)]


def _urls_argument(name: str) -> Argument:
    def convert(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError
        if "://" not in value and not os.path.isfile(value.strip()):
            raise ValueError  # a path to a file that is not there
        return value.strip()

    return Argument(name, convert, "an existing file (text, or a CSV export with a url column) or comma-separated URLs",
                    required=True)


class ProspectsSpider(scrapy.Spider):
    name = "prospects"
    stored_items = (ProspectPage, OutboundCheck, OpportunityItem, OpportunityChange)
    progress = ("linkcrawler/prospects/checked", None, "outbound URLs checked")
    custom_settings = {
        # Depth here is the prospects' own (0: the listed pages, 1: their same-site links).
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback output, however small:
        # a response gives one item or one request here (16 cost a fifth of the CPU, measured).
        "CONCURRENT_ITEMS": 2,
    }

    arguments = SpiderArguments(
        "prospects",
        _urls_argument("urls"),
        integer("depth", minimum=0, default=0, meaning="0: the listed pages; 1: also their same-site links"),
        integer("max_pages_per_site", minimum=1, default=None, meaning="pages read per site with depth=1"),
        flag("all"),
    )

    def __init__(self, **kwargs: Any) -> None:
        values = self.arguments.parse(kwargs)
        super().__init__(**self.arguments.internal(kwargs))
        if values["depth"] > 1:
            raise ConfigurationError("prospects: -a depth must be 0 or 1")
        self.urls_value: str = values["urls"]
        self.depth: int = values["depth"]
        self.max_pages_per_site: int = values["max_pages_per_site"] or defaults.LINKCRAWLER_PROSPECTS_MAX_PAGES_PER_SITE
        self.check_all: bool = values["all"]
        self.clock = Clock()
        self.recheck_after = timedelta(hours=defaults.LINKCRAWLER_RECHECK_HOURS)
        self.max_redirects = defaults.LINKCRAWLER_MAX_REDIRECTS
        self.refresh_max_delay = defaults.LINKCRAWLER_REFRESH_MAX_DELAY
        self.own_domains: list[str] = []
        self.store: Store | None = None
        #: Prospect page -> the authority its list gave (None: none).
        self.authority: dict[str, float | None] = {}
        self.pages: dict[str, ProspectPage] = {}
        self.pages_per_site: Counter[str] = Counter()
        self.scheduled_pages: set[str] = set()
        self.verdicts: dict[str, LinkVerdict] = {}
        self.scheduled_checks: set[str] = set()
        self.not_found_probes: dict[str, asyncio.Future[PageFingerprint | None]] = {}
        self.lookups: dict[str, asyncio.Future[Failure | None]] = {}
        self.dns_canaries: list[str] = list(defaults.LINKCRAWLER_DNS_CANARIES)
        #: Why the resolver's NXDOMAIN cannot be believed in this run (None: it can), asked once.
        self.resolver_doubt: asyncio.Future[str | None] | None = None
        self.stage = "crawl"
        self.shared = False
        self.run_id = ""
        self.report = SharedReport("prospects", self._build_report, self._fetch_missing, self._send_items)
        #: The crawl's name in Redis: one shared crawl per prospect list (workers are given the same ``-a urls``).
        self.shared_crawl_name = f"{self.name}:{hashlib.sha1(self.urls_value.encode()).hexdigest()[:12]}"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ProspectsSpider:
        spider: ProspectsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.clock = Clock.from_settings(settings)
        spider.recheck_after = timedelta(
            hours=settings.getfloat("LINKCRAWLER_RECHECK_HOURS", defaults.LINKCRAWLER_RECHECK_HOURS))
        spider.max_redirects = settings.getint("LINKCRAWLER_MAX_REDIRECTS", defaults.LINKCRAWLER_MAX_REDIRECTS)
        spider.refresh_max_delay = settings.getfloat(
            "LINKCRAWLER_REFRESH_MAX_DELAY", defaults.LINKCRAWLER_REFRESH_MAX_DELAY)
        spider.own_domains = [d.strip().lower() for d in settings.getlist("LINKCRAWLER_OWN_DOMAINS") if d.strip()]
        spider.dns_canaries = settings.getlist("LINKCRAWLER_DNS_CANARIES", defaults.LINKCRAWLER_DNS_CANARIES)
        spider.shared = bool(settings.get("REDIS_URL"))
        if spider.shared and not writes_to_store(settings):
            raise ConfigurationError(
                "prospects with REDIS_URL shares the crawl among workers through MongoDB: "
                "it needs the MongoDB writer pipeline (pipelines.mongo.MongoWriterPipeline) in ITEM_PIPELINES")
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.headers_received, signal=signals.headers_received)
        crawler.signals.connect(spider.spider_closed, signal=signals.spider_closed)
        if spider.shared:
            crawler.signals.connect(spider.shared_run_joined, signal=linkcrawler_signals.shared_run_joined)
            crawler.signals.connect(spider.shared_run_drained, signal=linkcrawler_signals.shared_run_drained)
            crawler.signals.connect(spider.report.items_stored, signal=linkcrawler_signals.items_stored)
        return spider

    def headers_received(self, headers: Any, body_length: int, request: Request, spider: scrapy.Spider) -> None:
        """Stop downloading an outbound GET that is not HTML: its status is the answer (a PDF, a zip...)."""
        if spider is not self or "check_url" not in request.meta or request.method != "GET":
            return
        content_type = (headers.get(b"Content-Type") or b"").lower()
        if content_type and not content_type.startswith(_HTML_TYPES) and b"html" not in content_type:
            raise StopDownload(fail=False)

    def _inc(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(f"linkcrawler/prospects/{key}", count)

    # --- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        try:
            entries = await run_in_thread(lambda: list(read_url_list(self.urls_value)))
        except OSError as exc:
            raise ConfigurationError(f"prospects: -a urls={self.urls_value!r}: {exc}") from exc
        for entry in entries:
            if isinstance(entry, RowError):
                logger.warning("prospects: %s line %d skipped: %s", printable(self.urls_value)[:200], entry.line,
                               printable(entry.reason))
                continue
            self.authority.setdefault(entry.url, entry_authority(entry.fields))
        if writes_to_store(self.crawler.settings):
            self.store = await run_in_thread(open_store, self.crawler.settings)
            await run_in_thread(ensure_indexes, self.store.db, prospects_store.COLLECTIONS)
            if not self.own_domains:
                self.own_domains = await run_in_thread(self.store.db.backlinks.distinct, "target_domain")
        urls = list(self.authority)
        if self.store is not None and not self.check_all:
            recent = await run_in_thread(prospects_store.recently_checked, self.store.db, urls, self.clock.now(),
                                         self.recheck_after)
            if recent:
                logger.info("prospects: %d of %d page(s) were checked less than %s ago: skipped (-a all=1 checks them)",
                            len(recent), len(urls), self.recheck_after)
                urls = [url for url in urls if url not in recent]
        logger.info("prospects: %d prospect page(s) to read", len(urls))
        self.crawler.stats.set_value("linkcrawler/prospects/listed_pages", len(urls))
        for url in urls:
            request = self._page_request(url, depth=0, authority=self.authority[url])
            if request is not None:
                yield request

    # --- prospect pages ------------------------------------------------------------------------

    def _page_request(self, url: str, depth: int, authority: float | None) -> Request | None:
        if url in self.scheduled_pages:
            return None
        site = urlsplit(url).netloc
        if self.pages_per_site[site] >= (self.max_pages_per_site if depth else 1 << 30):
            return None
        self.scheduled_pages.add(url)
        self.pages_per_site[site] += 1
        meta: dict[str, Any] = {"prospect_page": url, "prospect_depth": depth, "prospect_authority": authority}
        if self.shared:
            meta[FINGERPRINT_META] = f"PAGE {url}"
        return Request(url, callback=self.parse_page, errback=self.page_failed, meta=meta,
                       dont_filter=not self.shared or depth == 0)

    def parse_page(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        url, depth, authority = meta["prospect_page"], meta["prospect_depth"], meta["prospect_authority"]
        analysis = analyze_page(response.url, response.body, response.headers)
        page = self._read_page(url, response.status, analysis, depth, authority)
        self.pages[url] = page
        self._inc("pages")
        yield page
        for link in page.outbound:
            if link.url not in self.scheduled_checks:
                self.scheduled_checks.add(link.url)
                self._inc("outbound_urls")
                yield self._check_request(link.url, link.url, [], "HEAD")
        if depth == 0 and self.depth >= 1 and analysis.is_html:
            scope = SiteScope(url)  # the page's host and its www. twin, as site_audit's
            for same_site in analysis.links:
                if scope.is_internal(same_site.url) and same_site.url != url:
                    request = self._page_request(same_site.url, depth=1, authority=authority)
                    if request is not None:
                        yield request

    def _read_page(self, url: str, status: int, analysis: PageAnalysis, depth: int,
                   authority: float | None) -> ProspectPage:
        domain = registrable_domain(host_of(url))
        # A page that redirected to another domain (the site moved) links to its new home as its own.
        own_site = {domain, registrable_domain(host_of(analysis.url))}
        outbound: dict[str, str] = {}
        ours: dict[str, str] = {}
        for link in analysis.links if analysis.is_html else ():
            host = host_of(link.url)
            if self._is_ours(host):
                ours.setdefault(link.url, link.anchor_text)
            elif registrable_domain(host) not in own_site:
                if not outbound.get(link.url):
                    outbound[link.url] = link.anchor_text
        contexts = link_contexts(analysis, outbound) if outbound else {}
        return ProspectPage(
            url=url, domain=domain, checked_at=self.clock.now(), status=status, title=analysis.title,
            authority=authority,
            outbound=[OutboundLink(u, anchor, contexts.get(u, "")) for u, anchor in outbound.items()],
            our_links=[OutboundLink(u, anchor) for u, anchor in ours.items()],
            page_date=page_date(analysis, self.clock.now()) if analysis.is_html else None,
            depth=depth, run=self.run_id,
        )

    def _is_ours(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.own_domains)

    def page_failed(self, failure: TwistedFailure) -> Iterator[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        response = getattr(failure.value, "response", None)
        classified = classify_failure(failure)
        status: int | str = response.status if response is not None else classified.kind.value
        self._inc("pages_failed")
        logger.info("prospects: page %s could not be read: %s", printable(meta["prospect_page"]),
                    f"HTTP {status}" if response is not None else classified.reason)
        yield ProspectPage(
            url=meta["prospect_page"], domain=registrable_domain(host_of(meta["prospect_page"])),
            checked_at=self.clock.now(), status=status, authority=meta["prospect_authority"],
            depth=meta["prospect_depth"], error=None if response is not None else classified.reason, run=self.run_id,
        )

    # --- outbound checks -------------------------------------------------------------------------

    def _check_request(self, url: str, hop: str, chain: list[tuple[str, int]], method: str,
                       local: bool = False) -> Request:
        meta: dict[str, Any] = {
            "check_url": url, "check_chain": chain, "dont_redirect": True, "handle_httpstatus_all": True,
            "download_maxsize": CHECK_MAXSIZE,
        }
        first = hop == url and not chain and method == "HEAD" and not local
        if self.shared:
            if first:
                meta[FINGERPRINT_META] = f"CHECK {url}"
            else:
                meta[LOCAL_META] = True
        return Request(hop, method=method, callback=self.parse_check, errback=self.check_failed, meta=meta,
                       dont_filter=not (self.shared and first), priority=-1)

    async def parse_check(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        url, chain = meta["check_url"], list(meta["check_chain"])
        hop, status = response.url, response.status
        method = response.request.method if response.request is not None else "GET"
        location = redirect_location(hop, status, response.headers.get(b"Location"))
        page: PageAnalysis | None = None
        if location is None and method == "GET" and 200 <= status < 300:
            page = analyze_page(hop, response.body, response.headers)
            # An immediate refresh moves the reader as a redirect does (an expired domain's new owner
            # often sends old URLs home this way), unless the page itself says the domain or page is gone.
            location = refresh_location(hop, page.refresh_delay, page.refresh_url, self.refresh_max_delay)
            if location is not None and (page.challenge or parked_reason(page) or says_not_found(page)):
                location = None
        if location is not None:
            chain.append((hop, status))
            # In a chain a 2xx hop is always a refresh (as in backlinks' redirect_chain).
            followed = analyze_redirect_chain([Hop(u, s, refresh=200 <= s < 300) for u, s in chain],
                                              self.max_redirects, next_url=location)
            problem = followed.problem
            if problem is not None:
                for item in self._record(LinkVerdict(url, CheckState.UNVERIFIED, f"{problem[1]}: not checked",
                                                     http_status=status, final_url=hop,
                                                     redirect_chain=tuple(chain))):
                    yield item
                return
            yield self._check_request(url, location, chain, "HEAD", local=True)
            return
        if method == "HEAD":
            content_type = (response.headers.get(b"Content-Type") or b"").lower()
            if 200 <= status < 300 and content_type and not content_type.startswith(_HTML_TYPES) \
                    and b"html" not in content_type:
                verdict = LinkVerdict(url, CheckState.OK, f"HTTP {status} ({content_type.decode('latin-1')[:60]})",
                                      http_status=status, final_url=hop, redirect_chain=tuple(chain))
                for item in self._record(verdict):
                    yield item
                return
            if status >= 300 and status not in (404, 410):
                self._inc("head_refused")
            yield self._check_request(url, hop, chain, "GET", local=True)
            return
        final = hop if chain else None
        verdict_or_none = status_verdict(url, status, final, chain)
        if verdict_or_none is None:
            page = page or analyze_page(hop, response.body, response.headers)
            verdict_or_none = page_verdict(url, page, chain=chain, status=status)
            if verdict_or_none is None:
                not_found = await self.not_found_fingerprint(hop)
                verdict_or_none = page_verdict(url, page, chain=chain, status=status, not_found=not_found, probed=True)
        assert verdict_or_none is not None  # probed: every page has a verdict
        for item in self._record(verdict_or_none):
            yield item

    async def check_failed(self, failure: TwistedFailure) -> AsyncIterator[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        url, chain = meta["check_url"], list(meta["check_chain"])
        classified = classify_failure(failure)
        if request.method == "HEAD" and classified.kind not in _HEAD_FINAL_FAILURES:
            # Some servers drop the connection on HEAD.
            yield self._check_request(url, request.url, chain, "GET", local=True)
            return
        if classified.kind is ErrorKind.DNS_ERROR:
            classified = await self.dns_failure(host_of(request.url)) or classified
        verdict = failure_verdict(url, classified, request.url if chain else None, chain)
        for item in self._record(verdict):
            yield item

    def _record(self, verdict: LinkVerdict) -> list[OutboundCheck]:
        if verdict.url in self.verdicts:
            return []
        self.verdicts[verdict.url] = verdict
        self._inc("checked")
        self._inc(f"state/{verdict.state.value}")
        if verdict.broken_reason:
            self._inc(f"broken/{verdict.broken_reason}")
        return [OutboundCheck(verdict, self.clock.now(), self.run_id)]

    async def dns_failure(self, host: str) -> Failure | None:
        """Why ``host`` does not resolve, asked of the resolver once per host and run (in a thread)."""
        pending = self.lookups.get(host)
        if pending is None:
            pending = self.lookups[host] = asyncio.ensure_future(run_in_thread(lookup_failure, host))
        failure = await asyncio.shield(pending)
        if failure is None or failure.cause != DNS_NXDOMAIN:
            return failure
        if self.resolver_doubt is None:
            self.resolver_doubt = asyncio.ensure_future(run_in_thread(resolver_vouches, self.dns_canaries))
        doubt = await asyncio.shield(self.resolver_doubt)
        if doubt is None:
            return failure
        self._inc("dns_nxdomain_unbelieved")
        return Failure(ErrorKind.DNS_ERROR, DNS_TEMPORARY, f"NXDOMAIN not believed: {doubt}",
                       failure.exception, failure.message)

    async def not_found_fingerprint(self, page_url: str) -> PageFingerprint | None:
        """What the page's site (scheme, host, port) answers for a URL that cannot exist, once per run."""
        parts = urlsplit(page_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        pending = self.not_found_probes.get(origin)
        if pending is None:
            pending = self.not_found_probes[origin] = asyncio.ensure_future(self._probe(page_url))
        return await asyncio.shield(pending)

    async def _probe(self, page_url: str) -> PageFingerprint | None:
        url = probe_url(page_url)
        self._inc("soft_404_probes")
        for _ in range(PROBE_REDIRECTS + 1):
            request = Request(url, dont_filter=True, meta={
                "handle_httpstatus_all": True, "dont_redirect": True, "dont_retry": True,
                "download_maxsize": CHECK_MAXSIZE, LOCAL_META: True,
            })
            try:
                response = await self.crawler.engine.download_async(request)
            except Exception as exc:
                logger.debug("prospects: soft-404 probe %s failed: %s", printable(url), printable(repr(exc))[:200])
                return None
            location = redirect_location(url, response.status, response.headers.get(b"Location"))
            if location is None:
                break
            url = location
        else:
            return None
        if not 200 <= response.status < 300:
            return None
        return fingerprint(analyze_page(response.url, response.body, response.headers))

    # --- the end: opportunities ---------------------------------------------------------------------

    def spider_idle(self, spider: scrapy.Spider) -> None:
        if spider is not self or self.shared:
            return  # a shared crawl's end is the scheduler's (shared_run_drained)
        if self.stage == "crawl":
            self.stage = "building"
            deferred_from_coro(self._finish())
        if self.stage != "done":
            raise DontCloseSpider

    async def _finish(self) -> None:
        try:
            items = await run_in_thread(self._opportunities, list(self.pages.values()), dict(self.verdicts))
        except Exception:
            logger.exception("prospects: building the opportunities failed")
            items = []
        self._send_items(items)
        self.stage = "done"

    def _opportunities(self, pages: list[ProspectPage],
                       verdicts: dict[str, LinkVerdict]) -> list[OpportunityItem | OpportunityChange]:
        """Blocking (MongoDB reads): run in a thread."""
        previous: dict[str, dict[str, Any]] = {}
        our_pages: list[LivePage] = []
        if self.store is not None:
            db = self.store.db
            previous = prospects_store.previous_opportunities(db, [p.url for p in pages if p.fetched])
            our_pages = load_our_pages(db, self.own_domains)
        items = build_opportunities(pages, verdicts, previous, OurSite(our_pages), self.clock.now())
        opened = sum(isinstance(item, OpportunityItem) for item in items)
        moved = Counter(item.status for item in items if isinstance(item, OpportunityChange))
        self.crawler.stats.set_value("linkcrawler/prospects/opportunities", opened)
        for status, count in moved.items():
            self.crawler.stats.set_value(f"linkcrawler/prospects/opportunities_{status}", count)
        states = Counter(v.state.value for v in verdicts.values())
        logger.info("prospects: %d page(s) read, %d outbound URL(s) checked: %d broken, %d unverified, %d fine; "
                    "%d opportunit%s%s", sum(p.fetched for p in pages), len(verdicts), states["broken"],
                    states["unverified"], states["ok"], opened, "y" if opened == 1 else "ies",
                    "".join(f", {count} {status}" for status, count in sorted(moved.items())))
        return items

    def _send_items(self, items: list[Any]) -> None:
        self.crawler.engine.crawl(handover_request(items, meta={LOCAL_META: True}))

    async def spider_closed(self, spider: scrapy.Spider) -> None:
        if spider is not self or self.store is None:
            return
        store, self.store = self.store, None
        await run_in_thread(store.close)

    # --- a shared crawl ----------------------------------------------------------------------------

    def shared_run_joined(self, run_id: str, scheduler: Any) -> None:
        self.run_id = run_id

    def shared_run_drained(self, scheduler: Any) -> bool:
        more = self.report.drained(scheduler)
        if self.report.done:
            self.stage = "done"
        return more

    async def _build_report(self, passes: int, last_pass: bool) -> Built:
        assert self.store is not None
        pages, verdicts = await run_in_thread(prospects_store.load_run, self.store.db, self.run_id)
        verdicts.update(self.verdicts)
        missing = sorted({link.url for page in pages if page.fetched for link in page.outbound} - set(verdicts))
        if missing and not last_pass:
            logger.info("prospects: report: %d outbound URL(s) no worker checked; checking them", len(missing))
            return Built(missing=missing)
        items = await run_in_thread(self._opportunities, pages, verdicts)
        return Built(items=items)

    def _fetch_missing(self, urls: Sequence[str]) -> None:
        self._inc("report_checks", len(urls))
        for url in urls:
            self.scheduled_checks.add(url)
            self.crawler.engine.crawl(self._check_request(url, url, [], "HEAD", local=True))


def load_our_pages(db: Any, own_domains: Sequence[str]) -> list[LivePage]:
    """Our live audited pages (``pages`` answering 200), on our domains when they are known."""
    found = []
    for doc in db["pages"].find({"status": 200}, {"url": 1, "title": 1}):
        host = host_of(doc["url"])
        if own_domains and not any(host == d or host.endswith("." + d) for d in own_domains):
            continue
        found.append(LivePage(doc["url"], doc.get("title") or ""))
    return found
