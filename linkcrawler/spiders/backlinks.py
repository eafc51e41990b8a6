"""Spider ``backlinks``: re-verify known linking pages and say what state each link is in.

It reads the backlinks that are due from MongoDB, fetches each linking page once
(however many known links it carries), follows redirects itself so the whole
chain is recorded, and yields one :class:`~linkcrawler.backlinks.items.PageCheck` per
page, with a :class:`~linkcrawler.backlinks.items.BacklinkCheck` for each of its known
links. What a response means is decided by the pure functions of
:mod:`linkcrawler.backlinks` and :mod:`linkcrawler.web`; the state pipeline turns checks into state changes
and events.

Arguments: ``-a all=1`` checks every link, not only those due; ``-a limit=N``
stops after N linking pages.

Without ``all=1``, what is due is what the schedule says (``next_check``,
:mod:`linkcrawler.backlinks.schedule`), at most
``LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY`` links of one site in 24 hours.

No false alarms: before a link is recorded ``removed``, and on pages that look
script-built, the page is rendered in a real browser (``LINKCRAWLER_RENDER``,
:mod:`linkcrawler.render`); a link the rendered page carries is present,
"inserted by script". A lost link's reason says what happened to it, from the
context kept at its last live check (:mod:`linkcrawler.backlinks.proof`).

Every run also writes the ``expiring`` notices of links whose ``expires_at`` is
near (``LINKCRAWLER_EXPIRING_DAYS``: 7 and 2 days before, each once), whether
or not those links are due: a notice must not wait for a check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from linkcrawler import defaults
from linkcrawler.backlinks.events import expiring_event
from linkcrawler.backlinks.items import (
    BacklinkCheck,
    CheckedPage,
    DiscoveredBacklink,
    ExpiringNotices,
    KnownLink,
    PageCheck,
)
from linkcrawler.backlinks.proof import explain_removal
from linkcrawler.backlinks.status import LOST_STATUSES, PRESENT_STATUSES, Status
from linkcrawler.backlinks.store import due_filter
from linkcrawler.backlinks.verdict import (
    NOT_MODIFIED,
    Verdict,
    classify_backlink,
    classify_http_status,
    failure_verdict,
    redirect_failure,
    with_redirect_context,
)
from linkcrawler.clock import Clock
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.middlewares.robots import ROBOTS_SERVER_ERROR_AS_ABSENT
from linkcrawler.render.mode import CONTEXT as RENDER_CONTEXT
from linkcrawler.render.mode import RenderMode, context_kwargs, playwright_settings, render_mode
from linkcrawler.spiders.arguments import SpiderArguments, flag, integer
from linkcrawler.store import Store, open_store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.toxicity.items import LinkingPageFacts
from linkcrawler.toxicity.page import facts_due, page_facts
from linkcrawler.web.context import content_fingerprint, link_context, looks_script_built, main_text_bytes
from linkcrawler.web.headers import conditional_headers as validator_headers
from linkcrawler.web.headers import header_text, normalize_headers
from linkcrawler.web.page import PageAnalysis, analyze_page
from linkcrawler.web.redirects import Hop, analyze_redirect_chain, is_redirect_status, refresh_location
from linkcrawler.web.softnotfound import PageFingerprint, fingerprint, needs_probe, probe_url
from linkcrawler.web.text import printable
from linkcrawler.web.urls import host_of, normalize_url, registrable_domain

logger = logging.getLogger(__name__)

#: Fields of a backlink document the spider needs.
_PROJECTION = {
    "source_url": 1, "target_url": 1, "status": 1, "settled_status": 1, "state_version": 1, "consecutive_failures": 1,
    "anchor_text": 1, "rel": 1, "authority": 1, "final_url": 1, "etag": 1, "last_modified": 1,
    "context": 1, "page_fingerprint": 1, "page_changed_at": 1, "page_changes": 1, "last_checked": 1,
    "last_live": 1, "expires_at": 1, "source_domain": 1,
}
#: Linking pages read from MongoDB per trip to the reading thread.
_PAGES_PER_READ = 200


def group_by_page(docs: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[KnownLink]]]:
    """(source_url, its links) from backlink documents sorted by source_url."""
    for source_url, group in itertools.groupby(docs, key=lambda doc: doc["source_url"]):
        yield source_url, [KnownLink.from_document(doc) for doc in group]


class BacklinksSpider(scrapy.Spider):
    name = "backlinks"
    #: What reaches the MongoDB pipeline (BacklinkStatePipeline makes it of each PageCheck).
    stored_items = (CheckedPage, LinkingPageFacts, ExpiringNotices)
    #: What the progress lines count (linkcrawler/extensions/progress.py).
    progress = ("linkcrawler/backlinks/checked", "linkcrawler/backlinks/due", "links checked")
    custom_settings = {
        "ITEM_PIPELINES": {
            "pipelines.backlink_state.BacklinkStatePipeline": 300,
            "pipelines.mongo.MongoWriterPipeline": 800,
        },
        # Redirects are followed by the spider itself, so every hop is recorded
        # and none is swallowed by the duplicate filter.
        "REDIRECT_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for the output of every
        # response; a page gives one item (or one request), and 100 tasks a page
        # cost more CPU than checking its links.
        "CONCURRENT_ITEMS": 2,
    }

    #: ``-a all=1``: every link, not only the due ones; ``-a limit=N``: at most N linking pages.
    arguments = SpiderArguments(
        "backlinks", flag("all"), integer("limit", minimum=0, default=0, meaning="linking pages; 0: no limit"),
    )

    def __init__(self, **kwargs: Any) -> None:
        values = self.arguments.parse(kwargs)
        super().__init__(**self.arguments.internal(kwargs))
        self.check_all: bool = values["all"]
        self.page_limit: int | None = values["limit"] or None
        self.store: Store | None = None
        # Set from the settings in from_crawler.
        self.recheck_after = timedelta(hours=defaults.LINKCRAWLER_RECHECK_HOURS)
        self.max_redirects = defaults.LINKCRAWLER_MAX_REDIRECTS
        self.refresh_max_delay = defaults.LINKCRAWLER_REFRESH_MAX_DELAY
        self.lost_after = defaults.LINKCRAWLER_LOST_AFTER
        self.clock = Clock()
        self.own_domains: list[str] = []
        #: The toxic audit's page facts: read every this many days (and on a page's first check).
        self.page_facts_days = defaults.LINKCRAWLER_TOXIC_PAGE_FACTS_DAYS
        #: Per site (scheme://host:port), the one fetch of a URL that cannot exist (soft 404s).
        self.not_found_probes: dict[str, asyncio.Future[PageFingerprint | None]] = {}
        self.max_per_site_per_day = defaults.LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY
        self.expiring_days: list[int] = list(defaults.LINKCRAWLER_EXPIRING_DAYS)
        self.render_mode = RenderMode.NEVER
        self.render_max = defaults.LINKCRAWLER_RENDER_MAX_PER_RUN
        self.render_timeout = defaults.LINKCRAWLER_RENDER_TIMEOUT
        self.render_settle_ms = defaults.LINKCRAWLER_RENDER_SETTLE_MS
        self.renders = 0

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        # The browser's download handler only when this crawl renders: the other
        # spiders, and a crawl with rendering off, keep Scrapy's own handler.
        try:
            mode, _ = render_mode(settings)
        except ConfigurationError:
            return  # from_crawler reports it, as one line, through the crawl command
        if mode is not RenderMode.NEVER:
            settings.setdict(playwright_settings(settings), priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BacklinksSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.recheck_after = timedelta(
            hours=settings.getfloat("LINKCRAWLER_RECHECK_HOURS", defaults.LINKCRAWLER_RECHECK_HOURS)
        )
        spider.max_redirects = settings.getint("LINKCRAWLER_MAX_REDIRECTS", defaults.LINKCRAWLER_MAX_REDIRECTS)
        spider.refresh_max_delay = settings.getfloat(
            "LINKCRAWLER_REFRESH_MAX_DELAY", defaults.LINKCRAWLER_REFRESH_MAX_DELAY
        )
        spider.own_domains = settings.getlist("LINKCRAWLER_OWN_DOMAINS")
        spider.lost_after = settings.getint("LINKCRAWLER_LOST_AFTER", defaults.LINKCRAWLER_LOST_AFTER)
        spider.clock = Clock.from_settings(settings)
        spider.page_facts_days = settings.getint("LINKCRAWLER_TOXIC_PAGE_FACTS_DAYS",
                                                 defaults.LINKCRAWLER_TOXIC_PAGE_FACTS_DAYS)
        spider.max_per_site_per_day = settings.getint(
            "LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY", defaults.LINKCRAWLER_RECHECK_MAX_PER_SITE_PER_DAY
        )
        spider.expiring_days = sorted(
            {int(d) for d in settings.getlist("LINKCRAWLER_EXPIRING_DAYS", defaults.LINKCRAWLER_EXPIRING_DAYS)}
        )
        mode, why_off = render_mode(settings)
        spider.render_mode = mode
        if why_off:
            # Asked for and impossible is a warning; off by default on this machine, a note.
            asked = bool(settings.get("LINKCRAWLER_RENDER"))
            logger.log(logging.WARNING if asked else logging.INFO, "backlinks: %s", why_off)
        spider.render_max = settings.getint("LINKCRAWLER_RENDER_MAX_PER_RUN", defaults.LINKCRAWLER_RENDER_MAX_PER_RUN)
        spider.render_timeout = settings.getfloat("LINKCRAWLER_RENDER_TIMEOUT", defaults.LINKCRAWLER_RENDER_TIMEOUT)
        spider.render_settle_ms = settings.getint(
            "LINKCRAWLER_RENDER_SETTLE_MS", defaults.LINKCRAWLER_RENDER_SETTLE_MS
        )
        crawler.signals.connect(spider.spider_closed, signal=scrapy.signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.store = await run_in_thread(open_store, self.settings)
        await run_in_thread(ensure_indexes, self.store.db, ["backlinks", "link_events"])
        if await run_in_thread(self.store.db.backlinks.find_one, {}, {"_id": 1}) is None:
            logger.warning("no backlinks known yet: load an export first with scrapy importlinks FILE")
        if not self.own_domains:
            self.own_domains = await run_in_thread(self.store.db.backlinks.distinct, "target_domain")
        now = self.clock.now()
        checked_today: dict[str, int] = {}
        bounded = not self.check_all and self.max_per_site_per_day > 0
        if bounded:
            checked_today = await run_in_thread(self.checks_per_site, now)
        query = due_filter(now, None if self.check_all else self.recheck_after)
        if not self.page_limit:
            # Every link (-a all=1): the collection's size, which MongoDB keeps (count_documents scans).
            counting = (self.store.db.backlinks.estimated_document_count if not query
                        else partial(self.store.db.backlinks.count_documents, query))
            due = await run_in_thread(counting)
            self.crawler.stats.set_value("linkcrawler/backlinks/due", due)
            logger.info("backlinks: %d link(s) due for a check", due)
        # Sorted by the server (no index gives this order: each would cost every check's
        # update its entries), spilling to disk past its sort memory on MongoDB.
        cursor = self.store.db.backlinks.find(query, _PROJECTION).sort(
            [("source_url", 1), ("target_url", 1)]).allow_disk_use(True)
        pages = group_by_page(cursor)
        count = 0
        noticed = False
        while True:
            # Reading the cursor blocks: do it some pages at a time, in a thread.
            batch = await run_in_thread(lambda: list(itertools.islice(pages, _PAGES_PER_READ)))
            for source_url, links in batch:
                if bounded:
                    site = links[0].source_domain or registrable_domain(host_of(source_url))
                    used = checked_today.get(site, 0)
                    if used and used + len(links) > self.max_per_site_per_day:
                        self.crawler.stats.inc_value("linkcrawler/backlinks/deferred_site_bound", len(links))
                        continue
                    checked_today[site] = used + len(links)
                yield self.page_request(source_url, links)
                count += 1
                if self.page_limit and count >= self.page_limit:
                    break
            if not noticed:
                # The expiring notices read every link: once the first pages (if any) are on their way.
                noticed = True
                notices = await run_in_thread(self.expiring_notices, now)
                if notices.events:
                    self.crawler.stats.inc_value("linkcrawler/backlinks/events/expiring", len(notices.events))
                    yield notices  # type: ignore[misc]  # start() may yield items as well as requests
            if self.page_limit and count >= self.page_limit:
                return
            if not batch:
                break
        logger.info("backlinks: all %d due linking pages are scheduled", count)

    def expiring_notices(self, now: datetime) -> ExpiringNotices:
        """The ``expiring`` events due at ``now`` (blocking: run it in a thread).

        A link ``d`` days or less from its ``expires_at`` (``d`` in
        ``LINKCRAWLER_EXPIRING_DAYS``) gets the notice of the smallest such ``d``;
        its key makes a second run's copy no second event. No index serves it: one
        scan a run costs less than an index entry rewritten by every check of every link.
        """
        notices = ExpiringNotices()
        if not self.expiring_days or self.store is None:
            return notices
        horizon = now + timedelta(days=max(self.expiring_days))
        cursor = self.store.db.backlinks.find(
            {"expires_at": {"$gt": now, "$lte": horizon}},
            {"source_url": 1, "target_url": 1, "status": 1, "expires_at": 1, "authority": 1},
        )
        for doc in cursor:
            link = KnownLink.from_document(doc)
            assert link.expires_at is not None
            days = min(d for d in self.expiring_days if link.expires_at - now <= timedelta(days=d))
            notices.events.append(expiring_event(
                backlink_id=link.id, source_url=link.source_url, target_url=link.target_url, status=link.status,
                expires_at=link.expires_at, days=days, detected_at=now, authority=link.authority,
            ))
        return notices

    def checks_per_site(self, now: datetime) -> dict[str, int]:
        """Links of each linking site checked in the 24 hours before ``now`` (blocking)."""
        assert self.store is not None
        rows = self.store.db.backlinks.aggregate([
            {"$match": {"last_checked": {"$gt": now - timedelta(days=1), "$lte": now}}},
            {"$group": {"_id": "$source_domain", "links": {"$sum": 1}}},
        ])
        return {row["_id"]: int(row["links"]) for row in rows if row["_id"]}

    async def spider_closed(self) -> None:
        if self.store is not None:
            store, self.store = self.store, None
            await run_in_thread(store.close)

    # --- requests ---------------------------------------------------------------

    def page_request(
        self, url: str, links: list[KnownLink], chain: list[tuple[str, int]] | None = None
    ) -> scrapy.Request:
        headers = {}
        if chain is None:
            headers = conditional_headers(links)
        meta: dict[str, Any] = {
            "links": links,
            "chain": chain or [],
            "handle_httpstatus_all": True,
            "dont_redirect": True,
        }
        if self.deciding_check(links):
            # RFC 9309 2.3.1.4: a robots.txt failing with 5xx check after check may be
            # taken as absent; a link is declared lost on its own page's answer only.
            meta[ROBOTS_SERVER_ERROR_AS_ABSENT] = True
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.page_failed,
            headers=headers,
            dont_filter=True,
            meta=meta,
        )

    def deciding_check(self, links: list[KnownLink]) -> bool:
        """Whether a failure of this check would make one of ``links`` ``unreachable``."""
        return any(link.consecutive_failures + 1 >= self.lost_after for link in links)

    # --- responses --------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        links: list[KnownLink] = response.meta["links"]
        hops = [*response.meta["chain"], (response.url, response.status)]
        now = self.clock.now()
        if is_redirect_status(response.status):
            for item in self.follow_redirect(response, links, hops, now):
                yield item
            return
        chain = analyze_redirect_chain(chain_hops(hops), self.max_redirects) if len(hops) > 1 else None
        # The redirects; the final response is http_status.
        recorded = [{"url": url, "status": status} for url, status in hops[:-1]]
        result = PageCheck(source_url=links[0].source_url)
        headers = normalize_headers(response.headers)
        verdict = classify_http_status(response.status, _header(response, "Retry-After"), headers)
        if verdict is NOT_MODIFIED:
            result.checks = [self.check(link, link.status, "not modified since the last check", now,
                                        response, recorded, not_modified=True) for link in links]
        elif isinstance(verdict, Verdict):
            if chain is not None:
                verdict = with_redirect_context(verdict, chain)
            result.checks = [self.check(link, verdict.status, verdict.reason, now, response, recorded,
                                        failed=verdict.is_failure) for link in links]
        else:
            page = analyze_page(
                response.url, response.body, headers,
                targets=[link.target_url for link in links],
            )
            if page.links_truncated:
                # Links to our targets are kept beyond the cap; the others are not read. Never silently.
                self.crawler.stats.inc_value("linkcrawler/backlinks/links_truncated")
                logger.warning("backlinks: %s has %d distinct links; only the first %d were read",
                               printable(response.url), page.distinct_link_count, len(page.raw_links))
            carries_a_link = _carries_any(page, links)
            if not carries_a_link and not page.challenge:
                # A page without the link that moved by an immediate refresh is a redirect.
                refresh = refresh_location(page.url, page.refresh_delay, page.refresh_url, self.refresh_max_delay)
                if refresh is not None:
                    yield self.follow(response, links, hops, refresh, now)
                    return
            not_found = None
            if not carries_a_link and needs_probe(page):
                not_found = await self.not_found_fingerprint(response.url)
            content = main_text_bytes(page)
            page_fingerprint = content_fingerprint(page, content)
            verdicts = []
            for link in links:
                verdict = classify_backlink(page, link.target_url, link.source_url,
                                            not_found=not_found, soft_404=not carries_a_link)
                if "soft_404" in verdict.extra:
                    self.crawler.stats.inc_value("linkcrawler/backlinks/soft_404")
                verdicts.append(verdict)
                result.checks.append(self.page_verdict_check(
                    link, verdict, page, page_fingerprint, now, response, recorded,
                ))
            result.discovered = self.discover(page, links, now)
            # The toxic audit's facts of this page, from this same parse (linkcrawler/toxicity).
            if facts_due(result.source_url, any(link.settled_status is None for link in links), now,
                         self.page_facts_days):
                yield LinkingPageFacts(page_facts(result.source_url, page, [link.target_url for link in links]), now)
            if needs_render(self.render_mode, page.is_html, links, verdicts, now,
                            lambda: looks_script_built(page, content)):
                if self.renders < self.render_max:
                    self.renders += 1
                    self.crawler.stats.inc_value("linkcrawler/render/requests")
                    yield self.render_request(response, result)
                    return
                self.crawler.stats.inc_value("linkcrawler/render/over_budget")
                result.checks = [_noted(c, "not confirmed in a browser: LINKCRAWLER_RENDER_MAX_PER_RUN reached")
                                 for c in result.checks]
        yield result

    # --- rendering ---------------------------------------------------------------

    def render_request(self, response: Response, plain: PageCheck) -> scrapy.Request:
        """The request that renders ``response``'s page in the browser; ``plain`` is what the HTML said."""
        from scrapy_playwright.page import PageMethod

        timeout_ms = 1000 * self.render_timeout
        return scrapy.Request(
            response.url,
            callback=self.parse_rendered,
            errback=self.render_failed,
            dont_filter=True,
            meta={
                "plain": plain,
                "handle_httpstatus_all": True,
                "dont_redirect": True,
                "dont_retry": True,
                "download_timeout": self.render_timeout + self.render_settle_ms / 1000 + 5,
                "playwright": True,
                "playwright_context": RENDER_CONTEXT,
                "playwright_context_kwargs": context_kwargs(),
                "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": timeout_ms},
                "playwright_page_methods": [PageMethod("wait_for_timeout", self.render_settle_ms)],
                "playwright_page_event_handlers": {"popup": "close_popup"},
            },
        )

    async def close_popup(self, popup: Any) -> None:
        """A rendered page's window.open(): refused (closed at once)."""
        self.crawler.stats.inc_value("linkcrawler/render/popups_closed")
        await popup.close()

    def parse_rendered(self, response: Response) -> Iterator[PageCheck]:
        """The browser's version of a page: a link it carries is present ("inserted by script")."""
        plain: PageCheck = response.meta["plain"]
        if not 200 <= response.status < 300:
            yield self.unconfirmed(plain, f"the browser got HTTP {response.status}")
            return
        self.crawler.stats.inc_value("linkcrawler/render/rendered")
        page = analyze_page(response.url, response.body, normalize_headers(response.headers),
                            targets=[check.link.target_url for check in plain.checks])
        checks = []
        for check in plain.checks:
            link = check.link
            if as_present(check.status):
                checks.append(check)
                continue
            try:
                verdict = classify_backlink(page, link.target_url, None, soft_404=False)
            except ValueError:
                checks.append(check)
                continue
            if as_present(verdict.status):
                self.crawler.stats.inc_value("linkcrawler/render/inserted_by_script")
                context = link_context(page, link.target_url)
                checks.append(dataclasses.replace(
                    check, status=verdict.status.value, reason=f"inserted by script: {verdict.reason}",
                    anchor_text=verdict.anchor_text, rel=list(verdict.rel), failed=False,
                    context=context.as_document() if context is not None else None,
                ))
            elif check.status == Status.REMOVED:
                reason = explain_removal(link.context, page, link.target_url, check.reason) \
                    if link.context else check.reason
                checks.append(dataclasses.replace(check, reason=f"{reason} (confirmed in a browser)"))
            else:
                checks.append(_noted(check, "the browser found no link either"))
        yield PageCheck(source_url=plain.source_url, checks=checks, discovered=plain.discovered)

    def render_failed(self, failure: Failure) -> Iterator[PageCheck]:
        request = failure.request  # type: ignore[attr-defined]
        error = failure.value
        name = type(error).__name__
        if "Timeout" in name or "timeout" in str(error).lower()[:200]:
            why, kind = f"the browser timed out after {self.render_timeout:g} s", "timeout"
        else:
            why, kind = f"the browser failed: {printable(str(error).splitlines()[0] if str(error) else name)[:160]}", "error"
        self.crawler.stats.inc_value(f"linkcrawler/render/failed/{kind}")
        logger.info("backlinks: render of %s refused or failed: %s", printable(request.url)[:200], why)
        yield self.unconfirmed(request.meta["plain"], why)

    def unconfirmed(self, plain: PageCheck, why: str) -> PageCheck:
        """The HTML's checks of a page whose render gave nothing, saying so."""
        return PageCheck(source_url=plain.source_url, discovered=plain.discovered,
                         checks=[_noted(c, f"not confirmed in a browser: {why}") for c in plain.checks])

    def follow_redirect(
        self, response: Response, links: list[KnownLink], hops: list[tuple[str, int]], now: datetime
    ) -> Iterator[Any]:
        location = _header(response, "Location")
        if location:
            try:
                next_url = normalize_url(response.urljoin(location))
            except ValueError:
                problem = Verdict(Status.ERROR, f"redirects to an unusable URL: {printable(location)[:200]!r}")
            else:
                yield self.follow(response, links, hops, next_url, now)
                return
        else:
            problem = Verdict(Status.ERROR, f"HTTP {response.status} without a Location header")
        yield self.stopped(response, links, hops, problem, now)

    def follow(
        self, response: Response, links: list[KnownLink], hops: list[tuple[str, int]], next_url: str, now: datetime
    ) -> scrapy.Request | PageCheck:
        """The request for the next hop (a redirect's or a refresh's), or the check of a chain that must stop."""
        chain = analyze_redirect_chain(chain_hops(hops, moving=True), self.max_redirects, next_url)
        problem = redirect_failure(chain)
        if problem is None:
            return self.page_request(next_url, links, hops)
        return self.stopped(response, links, hops, problem, now)

    def stopped(
        self, response: Response, links: list[KnownLink], hops: list[tuple[str, int]], problem: Verdict,
        now: datetime,
    ) -> PageCheck:
        recorded = [{"url": url, "status": status} for url, status in hops]
        return PageCheck(source_url=links[0].source_url, checks=[
            self.check(link, problem.status, problem.reason, now, response, recorded, failed=True, final=False)
            for link in links
        ])

    async def not_found_fingerprint(self, page_url: str) -> PageFingerprint | None:
        """The fingerprint of what ``page_url``'s site answers (2xx) for a URL that cannot exist.

        Fetched once per site (scheme, host and port) and run, through the
        downloader middlewares (address guard, robots.txt); ``None`` when the site
        answers anything but 2xx, or nothing. Pages of a site checked meanwhile
        wait for the same fetch.
        """
        parts = urlsplit(page_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        pending = self.not_found_probes.get(origin)
        if pending is None:
            pending = self.not_found_probes[origin] = asyncio.ensure_future(self._probe(page_url))
        return await asyncio.shield(pending)

    async def _probe(self, page_url: str) -> PageFingerprint | None:
        request = scrapy.Request(
            probe_url(page_url), dont_filter=True,
            meta={"handle_httpstatus_all": True, "dont_redirect": True, "dont_retry": True},
        )
        self.crawler.stats.inc_value("linkcrawler/backlinks/soft_404_probes")
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            logger.debug("backlinks: soft-404 probe %s failed: %s", request.url, printable(repr(exc))[:200])
            return None
        if not 200 <= response.status < 300:
            return None
        return fingerprint(analyze_page(response.url, response.body, normalize_headers(response.headers)))

    def page_failed(self, failure: Failure) -> Iterator[PageCheck]:
        request = failure.request  # type: ignore[attr-defined]
        links: list[KnownLink] = request.meta["links"]
        chain = [{"url": url, "status": status} for url, status in request.meta["chain"]]
        now = self.clock.now()
        # The address guard's and robots.txt's refusals included: a refused host and a
        # robots.txt that answers and forbids are blocked, a robots.txt whose host does
        # not answer is the host's failure (error).
        verdict = failure_verdict(failure.value)
        status, reason, failed = verdict.status, verdict.reason, verdict.is_failure
        yield PageCheck(source_url=links[0].source_url, checks=[
            BacklinkCheck(link=link, status=status, reason=reason, checked_at=now, final_url=request.url,
                          redirect_chain=chain, failed=failed)
            for link in links
        ])

    def page_verdict_check(
        self, link: KnownLink, verdict: Verdict, page: PageAnalysis, page_fingerprint: str | None,
        now: datetime, response: Response, recorded: list[dict[str, Any]],
    ) -> BacklinkCheck:
        """The check of ``link`` on a page that answered, with its context or the cause of its loss."""
        reason, context = verdict.reason, None
        if verdict.status in PRESENT_STATUSES:
            if link.context and page_fingerprint is not None and page_fingerprint == link.page_fingerprint:
                context = link.context  # the same main text: the same surroundings, not read again
            else:
                found = link_context(page, link.target_url)
                context = found.as_document() if found is not None else None
        elif verdict.status is Status.REMOVED and link.context:
            reason = explain_removal(link.context, page, link.target_url, verdict.reason,
                                     keep_detail=bool(verdict.extra.get("seen_in")))
        check = self.check(
            link, verdict.status, reason, now, response, recorded,
            anchor_text=verdict.anchor_text, rel=list(verdict.rel), failed=verdict.is_failure,
        )
        check.context = context
        check.page_fingerprint = page_fingerprint
        return check

    def discover(self, page: PageAnalysis, links: list[KnownLink], now: datetime) -> list[DiscoveredBacklink]:
        """Links to our own domains on the page that are not known yet."""
        known = {link.target_url for link in links}
        found: dict[str, DiscoveredBacklink] = {}
        for link in page.links_to_domains(self.own_domains):
            if link.url in known or link.url in found:
                continue
            found[link.url] = DiscoveredBacklink(
                source_url=page.url, target_url=link.url, found_at=now,
                anchor_text=link.anchor_text or None, rel=list(link.rel),
            )
        return list(found.values())

    def check(
        self,
        link: KnownLink,
        status: str,
        reason: str,
        now: datetime,
        response: Response,
        chain: list[dict[str, Any]],
        *,
        anchor_text: str | None = None,
        rel: list[str] | None = None,
        failed: bool = False,
        not_modified: bool = False,
        final: bool = True,
    ) -> BacklinkCheck:
        return BacklinkCheck(
            link=link,
            status=status,
            reason=reason,
            checked_at=now,
            anchor_text=anchor_text,
            rel=rel or [],
            http_status=response.status,
            final_url=response.url if final else None,
            redirect_chain=chain,
            etag=_header(response, "ETag") if final else None,
            last_modified=_header(response, "Last-Modified") if final else None,
            not_modified=not_modified,
            failed=failed,
        )


def as_present(status: str) -> bool:
    return Status(status) in PRESENT_STATUSES


def needs_render(
    mode: RenderMode, is_html: bool, links: list[KnownLink], verdicts: list[Verdict], now: datetime,
    script_built: Any,
) -> bool:
    """Whether a page's verdicts must be confirmed in a browser before they are recorded.

    ``always``: every HTML page. ``confirm``: a link about to be recorded ``removed``
    (unless past its ``expires_at``: its end was agreed), or a page that looks
    script-built (``script_built()``, called only then) where a link is not found.
    """
    if mode is RenderMode.NEVER or not is_html:
        return False
    if mode is RenderMode.ALWAYS:
        return True
    removed = any(
        verdict.status is Status.REMOVED and (link.expires_at is None or now < link.expires_at)
        for link, verdict in zip(links, verdicts, strict=True)
    )
    if removed:
        return True
    missing = any(verdict.status in LOST_STATUSES for verdict in verdicts)
    return missing and bool(script_built())


def _noted(check: BacklinkCheck, note: str) -> BacklinkCheck:
    """``check`` with ``note`` after its reason, for a link not found (a present one needs none)."""
    if as_present(check.status):
        return check
    return dataclasses.replace(check, reason=f"{check.reason}; {note}")


def chain_hops(hops: list[tuple[str, int]], moving: bool = False) -> list[Hop]:
    """The hops of a chain so far, for the redirect model.

    A 2xx answer before the last one can only be a followed refresh; with
    ``moving``, the last answer is about to be followed too (a refresh when it is not a redirect).
    """
    last = len(hops) - 1
    return [
        Hop(url, status, refresh=(index < last or moving) and not is_redirect_status(status))
        for index, (url, status) in enumerate(hops)
    ]


def _carries_any(page: PageAnalysis, links: list[KnownLink]) -> bool:
    for link in links:
        try:
            if page.links_to(link.target_url):
                return True
        except ValueError:
            continue
    return False


def conditional_headers(links: list[KnownLink]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a page whose links were all checked with one validator.

    A page with a link never checked (or checked against another version of the
    page) must be fetched whole: a 304 would say nothing about that link.
    """
    if any(link.status == "pending" for link in links):
        return {}
    return validator_headers((link.etag, link.last_modified) for link in links)


def _header(response: Response, name: str) -> str | None:
    return header_text(response.headers, name)
