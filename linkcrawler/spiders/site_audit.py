"""``scrapy crawl site_audit -a start_url=URL``: audit the owned site.

Every internal page is fetched once (GET), every distinct external link checked
once (HEAD, GET when HEAD is refused) and never crawled beyond. What each answer
means lives in :mod:`linkcrawler.model.audit`; this spider only fetches, keeps
the crawl's bookkeeping and turns verdicts into items:

- :class:`~linkcrawler.items.AuditedPage` per internal URL (``pages``),
- :class:`~linkcrawler.items.BrokenLink` per (page, link) whose target is broken,
- :class:`~linkcrawler.items.RedirectedLink` per (page, internal link to a redirect),
- one :class:`~linkcrawler.items.AuditTotals` at the end (``inlinks``, ``in_sitemap``).

Redirects are followed by the spider, not by Scrapy (``dont_redirect``): each hop
is a URL fetched once and recorded in a :class:`~linkcrawler.model.audit.RedirectGraph`,
so chains keep every hop and loops are seen. The spider's own set of normalized
URLs replaces the duplicate filter (``dont_filter``), which would otherwise
swallow a redirect to a URL already fetched.

Order of the crawl: robots.txt (for its ``Sitemap:`` lines), the start page and
``/sitemap.xml``; then links breadth first. When the link crawl is over, the
sitemap URLs it did not reach are fetched (``found_by: sitemap``, ``depth: null``),
then the totals are written.

Arguments: ``start_url`` (required), ``max_pages``, ``max_depth``,
``obey_robots`` (``0`` to ignore robots.txt on the own site).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

import linkcrawler.store.audit  # noqa: F401  (registers how audit items are written)
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.items import AuditedPage, AuditTotals, BrokenLink, RedirectedLink
from linkcrawler.middlewares.address_guard import printable
from linkcrawler.model.audit import (
    MAX_REDIRECTS,
    REFUSED_ADDRESS,
    ROBOTS_DISALLOWED,
    TOO_MANY_REDIRECTS,
    AuditFindings,
    BrokenTarget,
    ParamStripper,
    RedirectGraph,
    Resolution,
    SiteScope,
    Status,
    TrapGuard,
    TrapLimits,
    error_kind,
    format_findings,
    is_broken,
    parse_sitemap,
    redirect_location,
    sitemap_urls_in_robots,
)
from linkcrawler.model.page import analyze_page
from linkcrawler import defaults
from linkcrawler.model.urls import normalize_url
from linkcrawler.store import Store, open_store

logger = logging.getLogger(__name__)

#: Sitemaps read per audit (an index can name many).
MAX_SITEMAPS = 1000
#: HEAD answers trusted as they are; any other 4xx/5xx is asked again with GET.
HEAD_FINAL_STATUSES = frozenset({404, 410})
_HTML_TYPES = (b"text/html", b"application/xhtml", b"application/xml", b"text/xml")
_FALSE = frozenset({"0", "false", "no", "off"})

#: Meta of every fetch the audit handles itself: all statuses reach the callback, redirects too.
_OWN_HANDLING = {"dont_redirect": True, "handle_httpstatus_all": True}


def _writes_to_store(settings: BaseSettings) -> bool:
    """True when the crawl's items go to MongoDB (the writer pipeline is enabled)."""
    from pipelines.mongo import MongoWriterPipeline

    for component in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
        cls = load_object(component) if isinstance(component, str) else component
        if isinstance(cls, type) and issubclass(cls, MongoWriterPipeline):
            return True
    return False


class SiteAuditSpider(scrapy.Spider):
    name = "site_audit"
    custom_settings = {
        # Depth is the audit's own (clicks from the start URL, not Scrapy's
        # request depth, which counts redirect hops and sitemap fetches).
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback result, however
        # few objects it holds: the default 100 was a third of the crawl's CPU time.
        "CONCURRENT_ITEMS": 16,
    }

    def __init__(
        self,
        start_url: str | None = None,
        max_pages: str | int | None = None,
        max_depth: str | int | None = None,
        obey_robots: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not start_url:
            raise ConfigurationError("site_audit needs the site to audit: -a start_url=URL")
        try:
            self.start_url = normalize_url(start_url)
        except ValueError as exc:
            raise ConfigurationError(f"site_audit: start_url {start_url!r} is not an http(s) URL") from exc
        self._max_pages_arg = int(max_pages) if max_pages not in (None, "") else None
        self._max_depth_arg = int(max_depth) if max_depth not in (None, "") else None
        self.obey_robots = str(obey_robots).strip().lower() not in _FALSE if obey_robots is not None else True
        self.scope = SiteScope(self.start_url)
        self.site = self.scope.site
        self.graph = RedirectGraph(MAX_REDIRECTS)
        #: Every URL requested (or answered) in this crawl: each is fetched once.
        self.scheduled: set[str] = set()
        #: Distinct internal pages linking to each URL.
        self.inlinks: Counter[str] = Counter()
        #: (page, anchor) of the links to a URL whose verdict is not known yet.
        self.carriers: dict[str, list[tuple[str, str]]] = {}
        #: URL -> what a link to it is: None (fine), or ("broken", status, final) / ("redirected", final, n).
        self.verdicts: dict[str, tuple[Any, ...] | None] = {}
        #: URL not answered yet -> URLs whose chain waits for it.
        self.waiting: dict[str, list[str]] = {}
        #: Internal URLs waiting to be settled: (clicks, found_by).
        self.page_meta: dict[str, tuple[int | None, str]] = {}
        self.errors: dict[str, str] = {}
        self.recorded: list[str] = []
        self.sitemap_urls: dict[str, None] = {}
        self.sitemaps: set[str] = set()
        self.skipped: dict[str, str] = {}
        self.internal_fetches = 0
        self.truncated = False
        self.stage = "links"
        self.started_at = datetime.now(timezone.utc)
        self.findings = AuditFindings(site=self.site)
        self._broken_targets: dict[str, BrokenTarget] = {}
        self._loops_seen: set[frozenset[str]] = set()
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteAuditSpider:
        spider: SiteAuditSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider.headers_received, signal=signals.headers_received)
        return spider

    def configure(self, settings: BaseSettings) -> None:
        """Read the audit's settings (spider arguments win over them)."""
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
        try:
            self.guard = TrapGuard(self.limits)
        except Exception as exc:  # re.error: a bad pattern
            raise ConfigurationError(f"LINKCRAWLER_AUDIT_DENY: {exc}") from exc
        self.max_pages = self._max_pages_arg if self._max_pages_arg is not None else settings.getint(
            "LINKCRAWLER_AUDIT_MAX_PAGES", defaults.LINKCRAWLER_AUDIT_MAX_PAGES)
        self.strip = ParamStripper(settings.getlist("LINKCRAWLER_AUDIT_STRIP_PARAMS", defaults.LINKCRAWLER_AUDIT_STRIP_PARAMS))
        self.check_external = settings.getbool("LINKCRAWLER_AUDIT_CHECK_EXTERNAL", defaults.LINKCRAWLER_AUDIT_CHECK_EXTERNAL)
        self.report_lines = settings.getint("LINKCRAWLER_AUDIT_REPORT_LINES", defaults.LINKCRAWLER_AUDIT_REPORT_LINES)
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self.start_url = self.strip(self.start_url)

    # --- signals -------------------------------------------------------------------

    async def spider_opened(self, spider: scrapy.Spider) -> None:
        if spider is self and _writes_to_store(self.crawler.settings):
            # Held until the end, after the writer pipeline has flushed, to remove
            # the links fixed since the last audit.
            self.store = await run_in_thread(open_store, self.crawler.settings)

    def spider_idle(self, spider: scrapy.Spider) -> None:
        if spider is not self:
            return
        if self.stage == "links":
            self.stage = "sitemap"
            requests = list(self._sitemap_requests())
            if requests:
                logger.info("site_audit: %d URL(s) of the sitemaps were not reached by links; fetching them", len(requests))
                for request in requests:
                    self.crawler.engine.crawl(request)  # type: ignore[union-attr]
                raise DontCloseSpider
        if self.stage == "sitemap":
            self.stage = "totals"
            # Items leave a spider through a callback: one last small request
            # carries the totals (a coroutine sending them would leave the engine
            # waiting for its next heartbeat, 5 s, to notice the crawl is over).
            parts = urlsplit(self.start_url)
            self.crawler.engine.crawl(Request(  # type: ignore[union-attr]
                f"{parts.scheme}://{parts.netloc}/robots.txt", method="HEAD", callback=self.send_totals,
                errback=self.send_totals, dont_filter=True,
                meta={**_OWN_HANDLING, "dont_obey_robotstxt": True, "dont_retry": True},
            ))
            raise DontCloseSpider

    async def spider_closed(self, spider: scrapy.Spider, reason: str) -> None:
        if spider is not self:
            return
        self.findings.skipped = Counter(self.skipped.values())
        logger.info("%s", format_findings(self.findings, self.report_lines))
        store, self.store = self.store, None
        if store is None:
            return
        try:
            if reason == "finished" and not self.truncated and self.stage == "totals":
                removed = await run_in_thread(linkcrawler.store.audit.purge_fixed_links, store.db, self.site, self.started_at)
                if any(removed.values()):
                    logger.info("site_audit: removed links fixed since the last audit: %s", removed)
            else:
                logger.info("site_audit: incomplete audit (%s): links found broken before are kept", reason)
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
        request = self._page_request(self.start_url, depth=0, clicks=0, found_by="start")
        if request is not None:
            yield request
        sitemap = self._sitemap_request(f"{root}/sitemap.xml", nesting=0)
        if sitemap is not None:
            yield sitemap

    def _page_request(
        self, url: str, depth: int, clicks: int | None, found_by: str, hops: int = 0, counted: bool = True
    ) -> Request | None:
        """The GET of an internal URL, or ``None`` when it was requested already or max_pages is reached."""
        if url in self.scheduled:
            return None
        if counted and self.max_pages and self.internal_fetches >= self.max_pages:
            if not self.truncated:
                logger.info("site_audit: max_pages (%d) reached: no new pages are crawled", self.max_pages)
            self.truncated = True
            self._skip(url, "max_pages")
            return None
        self.scheduled.add(url)
        self.internal_fetches += 1
        self.page_meta[url] = (clicks, found_by)
        meta = {
            **_OWN_HANDLING, "audit_url": url, "audit_depth": depth, "audit_hops": hops,
        }
        if not self.obey_robots:
            meta["dont_obey_robotstxt"] = True
        return Request(url, callback=self.parse_page, errback=self.fetch_failed, dont_filter=True,
                       priority=-depth, meta=meta)

    def _check_request(self, url: str, depth: int, hops: int = 0, method: str = "HEAD") -> Request:
        """The check of an external URL: HEAD, never parsed, robots.txt not consulted (one request, as a click)."""
        self.scheduled.add(url)
        meta = {
            **_OWN_HANDLING, "audit_url": url, "audit_external": True, "audit_depth": depth,
            "audit_hops": hops, "dont_obey_robotstxt": True,
        }
        return Request(url, method=method, callback=self.parse_external, errback=self.fetch_failed,
                       dont_filter=True, priority=-depth, meta=meta)

    def _sitemap_request(self, url: str, nesting: int) -> Request | None:
        if url in self.sitemaps or len(self.sitemaps) >= MAX_SITEMAPS or nesting > 3:
            return None
        self.sitemaps.add(url)
        return Request(url, callback=self.parse_sitemap, errback=self.aside, dont_filter=True,
                       meta={"audit_sitemap_nesting": nesting}, priority=5)

    def _sitemap_requests(self) -> Iterator[Request]:
        for url in self.sitemap_urls:
            if url in self.scheduled:
                continue
            reason = self.guard.refusal(url, 0)
            if reason is not None:
                self._skip(url, reason)
                continue
            request = self._page_request(url, depth=0, clicks=None, found_by="sitemap")
            if request is not None:
                yield request

    def _skip(self, url: str, reason: str) -> None:
        if url not in self.skipped:
            self.skipped[url] = reason
            self.crawler.stats.inc_value(f"linkcrawler/site_audit/skipped/{reason}")  # type: ignore[union-attr]

    # --- robots.txt and sitemaps ------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_in_robots(response.body, response.url):
            request = self._sitemap_request(url, nesting=0)
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        content = parse_sitemap(response.body, max_size=self.maxsize or 50 * 1024 * 1024)
        nesting = response.meta.get("audit_sitemap_nesting", 0)
        if content.kind == "sitemapindex":
            for location in content.locations:
                request = self._sitemap_request(response.urljoin(location), nesting + 1)
                if request is not None:
                    yield request
        elif content.kind == "urlset":
            for location in content.locations:
                try:
                    url = self.strip(normalize_url(response.urljoin(location)))
                except ValueError:
                    continue
                if self.scope.is_internal(url):
                    self.sitemap_urls[url] = None
            self.crawler.stats.inc_value("linkcrawler/site_audit/sitemap_urls", len(content.locations))  # type: ignore[union-attr]

    def aside(self, failure: Failure) -> None:
        """robots.txt or a sitemap could not be read: the crawl goes on without it."""
        logger.debug("site_audit: %s", printable(str(failure.value)))

    # --- answers -------------------------------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        url: str = meta["audit_url"]
        status = response.status
        location = self._location(url, status, response)
        self.graph.record(url, status, location)
        if location is not None:
            yield from self._follow(location, meta)
            yield from self._answered(url)
            return
        details: dict[str, Any] = {"content_type": _media_type(response)}
        if 200 <= status < 300 and response.body:
            analysis = analyze_page(url, response.body, response.headers)
            details.update(
                content_type=analysis.content_type or details["content_type"],
                title=analysis.title or None,
                canonical=analysis.canonical,
                noindex=analysis.noindex,
            )
            if analysis.is_html:
                yield from self._links(url, analysis.links, meta)
        yield from self._answered(url, details)

    def parse_external(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        url: str = meta["audit_url"]
        status = response.status
        if response.request is not None and response.request.method == "HEAD" and status >= 400 \
                and status not in HEAD_FINAL_STATUSES:
            # HEAD refused or unsupported (405, 501, a 403 from a CDN...): ask with GET.
            self.crawler.stats.inc_value("linkcrawler/site_audit/head_refused")  # type: ignore[union-attr]
            self.scheduled.discard(url)
            yield self._check_request(url, meta["audit_depth"], meta["audit_hops"], method="GET")
            return
        location = self._location(url, status, response)
        self.graph.record(url, status, location)
        self.crawler.stats.inc_value("linkcrawler/site_audit/external_checked")  # type: ignore[union-attr]
        if location is not None:
            yield from self._follow(location, meta)
        yield from self._answered(url)

    def fetch_failed(self, failure: Failure) -> Iterator[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        url: str = meta["audit_url"]
        kind = error_kind(failure.value)
        if meta.get("audit_external") and request.method == "HEAD" and kind not in (
            ROBOTS_DISALLOWED, REFUSED_ADDRESS, "dns_error", "connection_refused", "timeout",
        ):
            # Some servers drop the connection on HEAD.
            self.scheduled.discard(url)
            yield self._check_request(url, meta["audit_depth"], meta["audit_hops"], method="GET")
            return
        self.graph.record(url, kind)
        self.errors[url] = printable(str(failure.value) or type(failure.value).__name__)[:300]
        if meta.get("audit_external"):
            self.crawler.stats.inc_value("linkcrawler/site_audit/external_checked")  # type: ignore[union-attr]
        yield from self._answered(url)

    def _location(self, url: str, status: int, response: Response) -> str | None:
        location = redirect_location(url, status, response.headers.get(b"Location"))
        return self.strip(location) if location is not None else None

    def _follow(self, location: str, meta: dict[str, Any]) -> Iterator[Request]:
        """Fetch the next hop of a redirect, unless it is known or the chain is already too long."""
        if location in self.scheduled or location in self.graph:
            return
        hops = meta["audit_hops"] + 1
        if hops > MAX_REDIRECTS:
            # Never fetched: chains that reach it end as too long.
            self.graph.record(location, TOO_MANY_REDIRECTS)
            yield from self._answered(location, own=False)
            return
        depth = meta["audit_depth"]
        if self.scope.is_internal(location):
            origin_clicks = self.page_meta.get(meta["audit_url"], (depth, "link"))[0]
            request = self._page_request(location, depth, origin_clicks, "redirect", hops=hops, counted=False)
            if request is not None:
                yield request
        else:
            yield self._check_request(location, depth, hops)

    def _links(self, page_url: str, links: Iterable[Any], meta: dict[str, Any]) -> Iterator[Any]:
        anchors: dict[str, str] = {}
        for link in links:
            target = self.strip(link.url)
            if target == page_url:
                continue
            if target not in anchors or (not anchors[target] and link.anchor_text):
                anchors[target] = link.anchor_text
        depth = meta["audit_depth"] + 1
        clicks = self.page_meta.get(page_url, (None, ""))[0]
        clicks = clicks + 1 if clicks is not None else None
        for target, anchor in anchors.items():
            internal = self.scope.is_internal(target)
            if internal:
                self.inlinks[target] += 1
            if target in self.verdicts:
                verdict = self.verdicts[target]
                if verdict is not None:
                    yield from self._report(page_url, anchor, target, internal, verdict)
                continue
            if target not in self.scheduled:
                if internal:
                    reason = self.guard.refusal(target, depth)
                    if reason is not None:
                        self._skip(target, reason)
                        continue
                    request = self._page_request(target, depth, clicks, "link")
                    if request is None:
                        continue
                    self.skipped.pop(target, None)
                    yield request
                elif self.check_external:
                    yield self._check_request(target, depth)
                else:
                    continue
            self.carriers.setdefault(target, []).append((page_url, anchor))

    # --- verdicts -----------------------------------------------------------------------

    def _answered(self, url: str, details: dict[str, Any] | None = None, own: bool = True) -> Iterator[Any]:
        """``url`` answered: settle it and every chain that waited for it."""
        origins = ([url] if own else []) + self.waiting.pop(url, [])
        for origin in origins:
            resolution = self.graph.resolve(origin)
            if isinstance(resolution, str):
                self.waiting.setdefault(resolution, []).append(origin)
                continue
            yield from self._settle(resolution, details if origin == url else None)

    def _settle(self, resolution: Resolution, details: dict[str, Any] | None) -> Iterator[Any]:
        url = resolution.url
        internal = self.scope.is_internal(url)
        verdict: tuple[Any, ...] | None = None
        if is_broken(resolution.final_status):
            final = resolution.final_url if resolution.redirects else None
            verdict = ("broken", resolution.final_status, final)
        elif internal and resolution.redirects and isinstance(resolution.final_status, int):
            verdict = ("redirected", resolution.final_url, resolution.redirects)
        self.verdicts[url] = verdict
        if internal and url in self.page_meta:
            yield self._page_item(resolution, details or {})
        for page_url, anchor in self.carriers.pop(url, ()):
            if verdict is not None:
                yield from self._report(page_url, anchor, url, internal, verdict)

    def _page_item(self, resolution: Resolution, details: dict[str, Any]) -> AuditedPage:
        url = resolution.url
        clicks, found_by = self.page_meta.pop(url)
        self.recorded.append(url)
        status = resolution.status
        stats = self.crawler.stats
        stats.inc_value("linkcrawler/site_audit/pages")  # type: ignore[union-attr]
        stats.inc_value(f"linkcrawler/site_audit/status/{status}")  # type: ignore[union-attr]
        findings = self.findings
        findings.pages += 1
        findings.statuses[str(status)] += 1
        chain = resolution.chain
        if resolution.loop:
            cycle = frozenset(hop.url for hop in resolution.hops)
            if cycle not in self._loops_seen:
                self._loops_seen.add(cycle)
                findings.loops.append(chain)
        elif resolution.redirects >= 2:
            findings.chains.append(chain)
        if found_by == "sitemap":
            findings.sitemap_only.append(url)
        if status in (ROBOTS_DISALLOWED, REFUSED_ADDRESS):
            findings.not_checked.append((url, status))
        return AuditedPage(
            url=url,
            site=self.site,
            status=status,
            crawled_at=datetime.now(timezone.utc),
            final_status=resolution.final_status,
            final_url=resolution.final_url,
            redirect_chain=chain,
            redirect_loop=resolution.loop,
            content_type=details.get("content_type"),
            title=details.get("title"),
            canonical=details.get("canonical"),
            noindex=bool(details.get("noindex")),
            depth=clicks,
            found_by=found_by,
            error=self.errors.pop(url, None) if isinstance(resolution.hops[0].status, str) else None,
        )

    def _report(self, page_url: str, anchor: str, link_url: str, internal: bool, verdict: tuple[Any, ...]) -> Iterator[Any]:
        now = datetime.now(timezone.utc)
        kind = "internal" if internal else "external"
        if verdict[0] == "broken":
            status: Status = verdict[1]
            self.crawler.stats.inc_value(f"linkcrawler/site_audit/broken_links/{kind}")  # type: ignore[union-attr]
            target = self._broken_targets.get(link_url)
            if target is None:
                target = self._broken_targets[link_url] = BrokenTarget(link_url, status, kind)
                self.findings.broken.append(target)
            target.carriers.append((page_url, anchor))
            yield BrokenLink(page_url=page_url, link_url=link_url, status=status, kind=kind, site=self.site,
                             seen_at=now, anchor_text=anchor, final_url=verdict[2])
        elif verdict[0] == "redirected" and internal:
            self.crawler.stats.inc_value("linkcrawler/site_audit/redirected_links")  # type: ignore[union-attr]
            self.findings.redirected_links.append((page_url, link_url, verdict[1]))
            yield RedirectedLink(page_url=page_url, link_url=link_url, final_url=verdict[1], redirects=verdict[2],
                                 site=self.site, seen_at=now, anchor_text=anchor)

    def send_totals(self, response_or_failure: Any) -> Iterator[AuditTotals]:
        """The inlinks and sitemap membership of every recorded page, once the crawl is over."""
        sitemap = self.sitemap_urls
        yield AuditTotals(
            site=self.site,
            counted_at=datetime.now(timezone.utc),
            pages=[(url, self.inlinks.get(url, 0), url in sitemap) for url in self.recorded],
        )


def _media_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    if not value:
        return None
    return value.decode("latin-1").split(";", 1)[0].strip().lower() or None
