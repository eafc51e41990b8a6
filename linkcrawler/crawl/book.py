"""The audit's bookkeeping, without Scrapy: what to fetch next, and what every answer means.

:class:`AuditBook` is the whole logic of a site audit between fetches. It is
given the answer to each :class:`Fetch` it asked for (an :class:`Answer`: a
status, where a redirect sends, the page's links...) and gives back the next
fetches and the report's items (:class:`~linkcrawler.audit.items.AuditedPage`,
:class:`~linkcrawler.audit.items.BrokenLink`, :class:`~linkcrawler.audit.items.RedirectedLink`,
:class:`~linkcrawler.audit.items.AuditTotals`). The ``site_audit`` spider turns
fetches into requests and responses into answers.

A distributed audit shares its fetching among workers, each storing the
answers it got (``audit_fetches``); one of them then writes the report with
:func:`replay`: the same book, fed the stored answers in the order a single
process would have met them, so the report of N workers is the report of one.

The book's state:

- every URL asked for (``scheduled``): each is fetched once;
- the answers (a :class:`RedirectGraph`), so chains keep every hop and loops are seen;
- links whose target has no verdict yet (``carriers``), reported once it has one;
- chains waiting for a hop to answer (``waiting``);
- distinct internal pages linking to each URL (``inlinks``);
- the fetches not handed out yet: the current level and the next (see below).

Breadth first, level by level: the internal pages one click deeper than the
current level are handed out only once every internal fetch of the current
level has answered (a redirect's next hop stays on its origin's level). So a
page's click depth is known when it is found, and each page is written once,
as it is answered, with its depth: the link graph need not be kept. Only what
needs the whole crawl is left for :meth:`AuditBook.totals`: ``inlinks`` (counted
as the crawl goes), sitemap membership of pages answered before the sitemap was
read, and ``found_by`` of the few pages first reached as a redirect's hop and
linked afterwards. ``window`` bounds the fetches handed out and not answered, so
the crawler's queue holds a few requests, not a level of the site.
"""

from __future__ import annotations

import heapq
import logging
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Union

from linkcrawler.audit.findings import AuditFindings, BrokenTarget
from linkcrawler.audit.items import AuditedPage, AuditTotals, BrokenLink, RedirectedLink
from linkcrawler.crawl.scope import ParamStripper, SiteScope
from linkcrawler.crawl.traps import TrapGuard
from linkcrawler.web.outcome import ErrorKind, FetchStatus, is_broken
from linkcrawler.web.redirects import DEFAULT_MAX_REDIRECTS, RedirectGraph, Resolution

logger = logging.getLogger(__name__)

#: The error of a URL no worker of a distributed audit could fetch (stored answers missing).
NOT_FETCHED = "no worker of the shared audit got an answer for it"

#: What the book gives back: the next fetches and the report's items.
Output = Union["Fetch", AuditedPage, BrokenLink, RedirectedLink]


@dataclass(frozen=True, slots=True)
class Fetch:
    """One URL to fetch: an internal page (GET, links followed) or an external link (checked, never parsed)."""

    url: str
    depth: int
    """Links (and sitemap entries) from the start URL; a redirect hop keeps its origin's."""
    hops: int = 0
    """Redirects before this URL, in the chain that led to it."""
    external: bool = False
    late: bool = False
    """Fetched after the link crawl (a sitemap URL): lowest priority."""

    @property
    def priority(self) -> int:
        """Scrapy's request priority: shallow pages first, sitemap URLs last."""
        return -(self.depth + 1_000_000) if self.late else -self.depth


@dataclass(slots=True)
class Answer:
    """What fetching a URL gave: a status (or an error kind) and, for pages, what is needed of the body."""

    url: str
    status: FetchStatus
    location: str | None = None
    """Where a redirect sends (normalized, tracking parameters stripped)."""
    details: dict[str, Any] | None = None
    """``content_type``, ``title``, ``canonical``, ``noindex`` of a page that did not redirect."""
    anchors: dict[str, str] | None = None
    """The page's links, target -> anchor text (see :func:`collect_anchors`)."""
    error: str | None = None
    """What failed, when the status is an error kind."""
    external: bool = False


def collect_anchors(page_url: str, links: Iterable[Any], strip: Callable[[str], str]) -> dict[str, str]:
    """The distinct link targets of a page (``strip`` applied), each with its first non-empty anchor text.

    ``links`` are objects with ``url`` and ``anchor_text`` (:class:`~linkcrawler.web.page.Link`);
    links to the page itself are left out.
    """
    anchors: dict[str, str] = {}
    for link in links:
        target = strip(link.url)
        if target == page_url:
            continue
        if target not in anchors or (not anchors[target] and link.anchor_text):
            # Interned: the texts of a site's links repeat (navigation), and the book keeps
            # one per link to a page not answered yet.
            anchors[target] = sys.intern(link.anchor_text)
    return anchors


class AuditBook:
    """The bookkeeping of one audit of one site (see the module docstring).

    ``inc(key, count)`` counts into the crawl's stats (keys under ``linkcrawler/site_audit/``).
    """

    def __init__(
        self,
        start_url: str,
        scope: SiteScope,
        guard: TrapGuard,
        strip: ParamStripper,
        *,
        max_pages: int = 0,
        check_external: bool = True,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        inc: Callable[[str, int], None] | None = None,
        now: Callable[[], datetime] | None = None,
        window: int = 0,
    ) -> None:
        self.start_url = start_url
        #: What time it is (``LINKCRAWLER_NOW`` or the clock): when pages were crawled and links seen.
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(timezone.utc))
        self.scope = scope
        self.site = scope.site
        self.guard = guard
        self.strip = strip
        self.max_pages = max_pages
        self.check_external = check_external
        self.max_redirects = max_redirects
        self._inc = inc or (lambda key, count: None)
        self.graph = RedirectGraph(max_redirects)
        #: Every URL asked for (or answered): each is fetched once.
        self.scheduled: set[str] = set()
        #: Fetches handed out and not answered at most (0: no limit).
        self.window = window
        #: Fetches of the current level not handed out yet.
        self._ready: deque[Fetch] = deque()
        #: Internal pages one click deeper than the current level, by URL (a redirect may pull one up).
        self._next_level: dict[str, Fetch] = {}
        #: Fetches handed out and not answered; internal ones of the current level, handed out or not.
        self._out = 0
        self._level_out = 0
        #: Pages recorded as found by a redirect, until a link to them is read.
        self._by_redirect: set[str] = set()
        #: ``found_by`` of recorded pages that changed after they were recorded.
        self._found_by_later: dict[str, str] = {}
        #: Recorded pages of the sitemap recorded before the sitemap was read.
        self._sitemap_later: list[str] = []
        #: Recorded pages linked again since they were recorded (with the count so far).
        self._inlinks_later: set[str] = set()
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
        self.recorded: set[str] = set()
        self.sitemap_urls: dict[str, None] = {}
        self.skipped: dict[str, str] = {}
        self.internal_fetches = 0
        self.truncated = False
        self.findings = AuditFindings(site=self.site)
        self._broken_targets: dict[str, BrokenTarget] = {}
        self._loops_seen: set[frozenset[str]] = set()

    # --- what to fetch -----------------------------------------------------------------

    def start(self) -> Fetch | None:
        """The start page's fetch."""
        fetch = self._page_fetch(self.start_url, depth=0, clicks=0, found_by="start")
        if fetch is None:
            return None
        self._queue(fetch)
        return next(self._release(), None)

    def add_sitemap_url(self, url: str) -> None:
        """A URL of the site listed in a sitemap (normalized and stripped)."""
        if self.scope.is_internal(url) and url not in self.sitemap_urls:
            self.sitemap_urls[url] = None
            if url in self.recorded:
                self._sitemap_later.append(url)

    def sitemap_fetches(self) -> Iterator[Fetch]:
        """Once the link crawl is over: the sitemap URLs it did not reach (``found_by: sitemap``)."""
        for url in list(self.sitemap_urls):
            if url in self.scheduled:
                continue
            reason = self.guard.refusal(url, 0)
            if reason is not None:
                self._skip(url, reason)
                continue
            fetch = self._page_fetch(url, depth=0, clicks=None, found_by="sitemap")
            if fetch is not None:
                self._queue(fetch)
        yield from self._release()

    @property
    def waiting_fetches(self) -> int:
        """Fetches the book holds, not handed out yet."""
        return len(self._ready) + len(self._next_level)

    def _queue(self, fetch: Fetch) -> None:
        self._ready.append(fetch)
        if not fetch.external:
            self._level_out += 1

    def _release(self) -> Iterator[Fetch]:
        """Hand out what the window allows; the next level once the current one has answered."""
        while True:
            if not self._ready and self._level_out == 0 and self._next_level:
                level, self._next_level = self._next_level, {}
                for fetch in level.values():
                    self._queue(fetch)
            if not self._ready or (self.window and self._out >= self.window):
                return
            self._out += 1
            yield self._ready.popleft()

    def _done(self, fetch: Fetch) -> None:
        self._out = max(0, self._out - 1)
        if not fetch.external:
            self._level_out = max(0, self._level_out - 1)

    def unanswered(self, fetch: Fetch) -> Iterator[Fetch]:
        """``fetch`` will get no answer (a replay without it): the crawl goes on without it."""
        self._done(fetch)
        yield from self._release()

    def release_all(self) -> Iterator[Fetch]:
        """Everything held, whatever is still out (the crawler lost track of some fetch)."""
        self._out = self._level_out = 0
        while self._ready or self._next_level:
            yield from self._release()
            self._out = self._level_out = 0

    def _page_fetch(
        self, url: str, depth: int, clicks: int | None, found_by: str, hops: int = 0, counted: bool = True,
        late: bool = False, record: bool = True,
    ) -> Fetch | None:
        """The fetch of an internal URL, or ``None`` when it was asked for already or max_pages is reached."""
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
        if record:
            self.page_meta[url] = (clicks, found_by)
        return Fetch(url, depth, hops, late=late)

    def _check_fetch(self, url: str, depth: int, hops: int = 0) -> Fetch:
        self.scheduled.add(url)
        return Fetch(url, depth, hops, external=True)

    def _skip(self, url: str, reason: str) -> None:
        if url not in self.skipped:
            self.skipped[url] = reason
            self._inc(f"linkcrawler/site_audit/skipped/{reason}", 1)

    # --- answers -----------------------------------------------------------------------

    def answered(self, fetch: Fetch, answer: Answer) -> Iterator[Output]:
        """``fetch`` got ``answer``: the fetches it leads to and the items it settles."""
        self._done(fetch)
        yield from self._settle_answer(fetch, answer)
        yield from self._release()

    def _settle_answer(self, fetch: Fetch, answer: Answer) -> Iterator[Output]:
        url = fetch.url
        if fetch.external:
            self._inc("linkcrawler/site_audit/external_checked", 1)
        if answer.error is not None:
            self.graph.record(url, answer.status)
            self.errors[url] = answer.error
            yield from self._answered(url)
            return
        self.graph.record(url, answer.status, answer.location)
        if answer.location is not None:
            yield from self._follow(answer.location, fetch)
            yield from self._answered(url)
            return
        if fetch.external:
            yield from self._answered(url)
            return
        if answer.anchors:
            yield from self._links(url, answer.anchors, fetch)
        yield from self._answered(url, answer.details or {})

    def explore(self, fetch: Fetch, answer: Answer) -> Iterator[Fetch]:
        """The fetches ``answer`` leads to, without settling anything (a worker of a distributed audit).

        Every URL the single-process audit would fetch is asked for, give or
        take the order: whatever is missing is fetched when the report is made.
        """
        if answer.error is not None:
            return
        if answer.location is not None:
            location = answer.location
            hops = fetch.hops + 1
            if location in self.scheduled or hops > self.max_redirects:
                return
            if self.scope.is_internal(location):
                follow = self._page_fetch(location, fetch.depth, None, "redirect", hops, counted=False, record=False)
                if follow is not None:
                    yield follow
            else:
                yield self._check_fetch(location, fetch.depth, hops)
            return
        if fetch.external or not answer.anchors:
            return
        depth = fetch.depth + 1
        for target in answer.anchors:
            if target in self.scheduled:
                continue
            if self.scope.is_internal(target):
                if self.guard.refusal(target, depth) is not None:
                    continue
                page = self._page_fetch(target, depth, None, "link", record=False)
                if page is not None:
                    yield page
            elif self.check_external:
                yield self._check_fetch(target, depth)

    def explore_sitemap(self, urls: Iterable[str]) -> Iterator[Fetch]:
        """A distributed audit fetches sitemap URLs as they are read, after the pages found by links."""
        for url in urls:
            if url in self.scheduled or not self.scope.is_internal(url) or self.guard.refusal(url, 0) is not None:
                continue
            fetch = self._page_fetch(url, 0, None, "sitemap", late=True, record=False)
            if fetch is not None:
                yield fetch

    def _follow(self, location: str, fetch: Fetch) -> Iterator[Output]:
        """Fetch the next hop of a redirect, unless it is known or the chain is already too long."""
        hops = fetch.hops + 1
        deeper = self._next_level.pop(location, None)
        if deeper is not None:
            # Linked from the level below, reached from this one: one click less.
            clicks, found_by = self.page_meta[location]
            origin_clicks = self.page_meta.get(fetch.url, (fetch.depth, "link"))[0]
            if origin_clicks is not None and (clicks is None or origin_clicks < clicks):
                self.page_meta[location] = (origin_clicks, found_by)
            self._queue(Fetch(location, fetch.depth, hops))
            return
        if location in self.scheduled or location in self.graph:
            return
        if hops > self.max_redirects:
            # Never fetched: chains that reach it end as too long.
            self.graph.record(location, ErrorKind.TOO_MANY_REDIRECTS.value)
            yield from self._answered(location, own=False)
            return
        if self.scope.is_internal(location):
            origin_clicks = self.page_meta.get(fetch.url, (fetch.depth, "link"))[0]
            follow = self._page_fetch(location, fetch.depth, origin_clicks, "redirect", hops=hops, counted=False)
            if follow is not None:
                self._queue(follow)
        else:
            self._queue(self._check_fetch(location, fetch.depth, hops))

    def _links(self, page_url: str, anchors: Mapping[str, str], fetch: Fetch) -> Iterator[Output]:
        depth = fetch.depth + 1
        clicks = self.page_meta.get(page_url, (None, ""))[0]
        clicks = clicks + 1 if clicks is not None else None
        reached = clicks is not None
        for target, anchor in anchors.items():
            internal = self.scope.is_internal(target)
            if internal:
                self.inlinks[target] += 1
                if target in self.recorded:
                    self._inlinks_later.add(target)
                if reached and target in self._by_redirect:
                    # Recorded as reached only through a redirect: a link reaches it too.
                    self._by_redirect.discard(target)
                    self._found_by_later[target] = "link"
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
                    page = self._page_fetch(target, depth, clicks, "link")
                    if page is None:
                        continue
                    self.skipped.pop(target, None)
                    if reached:
                        self._next_level[target] = page
                    else:  # below a sitemap URL: no click depth, no levels
                        self._queue(page)
                elif self.check_external:
                    self._queue(self._check_fetch(target, depth))
                else:
                    continue
            self.carriers.setdefault(target, []).append((page_url, anchor))

    # --- verdicts ----------------------------------------------------------------------

    def _answered(self, url: str, details: dict[str, Any] | None = None, own: bool = True) -> Iterator[Output]:
        """``url`` answered: settle it and every chain that waited for it."""
        origins = ([url] if own else []) + self.waiting.pop(url, [])
        for origin in origins:
            resolution = self.graph.resolve(origin)
            if isinstance(resolution, str):
                self.waiting.setdefault(resolution, []).append(origin)
                continue
            yield from self._settle(resolution, details if origin == url else None)

    def _settle(self, resolution: Resolution, details: dict[str, Any] | None) -> Iterator[Output]:
        url = resolution.url
        internal = self.scope.is_internal(url)
        verdict: tuple[Any, ...] | None = None
        if is_broken(resolution.final_status):
            final = resolution.final_url if resolution.redirects else None
            verdict = ("broken", resolution.final_status, final)
        elif resolution.redirects and isinstance(resolution.final_status, int):
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
        self.recorded.add(url)
        in_sitemap = url in self.sitemap_urls
        if url == self.start_url:
            found_by = "start"
        elif clicks is None:
            found_by = "sitemap"
            if in_sitemap:
                self.findings.sitemap_only.append(url)
        elif found_by == "redirect":
            self._by_redirect.add(url)
        status = resolution.status
        self._inc("linkcrawler/site_audit/pages", 1)
        self._inc(f"linkcrawler/site_audit/status/{status}", 1)
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
        if status in (ErrorKind.ROBOTS_DISALLOWED, ErrorKind.REFUSED_ADDRESS):
            findings.not_checked.append((url, status))
        return AuditedPage(
            url=url,
            site=self.site,
            status=status,
            crawled_at=self.now(),
            final_status=resolution.final_status,
            final_url=resolution.final_url,
            redirect_chain=chain,
            redirect_loop=resolution.loop,
            content_type=details.get("content_type"),
            title=details.get("title"),
            canonical=details.get("canonical"),
            noindex=bool(details.get("noindex")),
            links_truncated=bool(details.get("links_truncated")),
            depth=clicks,
            found_by=found_by,
            error=self.errors.pop(url, None) if isinstance(resolution.hops[0].status, str) else None,
            in_sitemap=in_sitemap,
            inlinks=self.inlinks.get(url, 0),
        )

    def _report(self, page_url: str, anchor: str, link_url: str, internal: bool,
                verdict: tuple[Any, ...]) -> Iterator[Output]:
        now = self.now()
        kind = "internal" if internal else "external"
        if verdict[0] == "broken":
            status: FetchStatus = verdict[1]
            self._inc(f"linkcrawler/site_audit/broken_links/{kind}", 1)
            target = self._broken_targets.get(link_url)
            if target is None:
                target = self._broken_targets[link_url] = BrokenTarget(link_url, status, kind)
                self.findings.broken.append(target)
            target.carriers.append((page_url, anchor))
            yield BrokenLink(page_url=page_url, link_url=link_url, status=status, kind=kind, site=self.site,
                             seen_at=now, anchor_text=anchor, final_url=verdict[2])
        elif verdict[0] == "redirected":
            self._inc(f"linkcrawler/site_audit/redirected_links/{kind}", 1)
            (self.findings.redirected_links if internal else self.findings.redirected_external_links).append(
                (page_url, link_url, verdict[1]))
            yield RedirectedLink(page_url=page_url, link_url=link_url, final_url=verdict[1], redirects=verdict[2],
                                 kind=kind, site=self.site, seen_at=now, anchor_text=anchor)

    def totals(self) -> AuditTotals:
        """What only the whole crawl tells of the recorded pages: inlinks, late sitemap membership and ``found_by``.

        The pages were recorded with their click depth (found breadth first),
        their inlinks so far (the totals hold the pages linked again since) and
        ``found_by`` as first found: ``start``, ``link`` (reached through
        links), ``redirect`` (reached only as the next hop of a redirect; ``link``
        here when a link to it was read afterwards) or ``sitemap`` (not reached
        from the start page at all: a sitemap URL, or a page only they link to).
        """
        inlinks = self.inlinks
        return AuditTotals(
            site=self.site, counted_at=self.now(),
            inlinks={url: inlinks[url] for url in self._inlinks_later},
            in_sitemap=list(self._sitemap_later),
            found_by=dict(self._found_by_later),
        )


def click_depths(
    start: str, links_from: Mapping[str, Iterable[str]], next_hop: Callable[[str], str | None],
) -> dict[str, int]:
    """Clicks from ``start`` to every URL it reaches: a link is one click, a redirect (to ``next_hop(url)``) none.

    A breadth-first search with 0 and 1 weights.
    """
    depths = {start: 0}
    queue: deque[str] = deque([start])
    while queue:
        url = queue.popleft()
        depth = depths[url]
        location = next_hop(url)
        if location is not None and depths.get(location, depth + 1) > depth:
            depths[location] = depth
            queue.appendleft(location)
        for target in links_from.get(url, ()):
            if depths.get(target, depth + 2) > depth + 1:
                depths[target] = depth + 1
                queue.append(target)
    return depths


# --- the report of a distributed audit ----------------------------------------------


@dataclass
class Replay:
    """What :func:`replay` made of the stored answers."""

    items: list[Any] = field(default_factory=list)
    """The report (pages with their totals, broken and redirected links): complete only when nothing is missing."""
    missing: list[Fetch] = field(default_factory=list)
    """Fetches the book asked for that no worker made: fetch them, then replay again."""


def replay(
    book: AuditBook, answers: Mapping[tuple[bool, str], Answer], sitemap_urls: Iterable[str],
    fill_missing: bool = False,
) -> Replay:
    """Feed ``book`` the stored ``answers`` (keyed by ``(external, url)``) in a single process's order.

    The order is Scrapy's: highest priority first (shallow pages), last in
    first out among equals; the link crawl, then the sitemap URLs it did not
    reach, then the totals (folded into the pages: :func:`fold_totals`). A fetch without an answer is listed in ``missing``
    and the replay goes on without it, to find every missing answer in one pass;
    with ``fill_missing`` it is answered as a download error instead (the last
    pass, when fetching it again did not give an answer).
    """
    result = Replay()
    queue: list[tuple[int, int, Fetch]] = []
    sequence = 0

    def push(fetch: Fetch) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(queue, (-fetch.priority, -sequence, fetch))

    def run() -> None:
        while queue:
            fetch = heapq.heappop(queue)[2]
            answer = answers.get((fetch.external, fetch.url))
            if answer is None:
                if not fill_missing:
                    result.missing.append(fetch)
                    for released in book.unanswered(fetch):
                        push(released)
                    continue
                answer = Answer(fetch.url, ErrorKind.DOWNLOAD_ERROR.value, error=NOT_FETCHED, external=fetch.external)
            for output in book.answered(fetch, answer):
                if isinstance(output, Fetch):
                    push(output)
                else:
                    result.items.append(output)

    first = book.start()
    if first is not None:
        push(first)
    run()
    for url in sitemap_urls:
        book.add_sitemap_url(url)
    for fetch in book.sitemap_fetches():
        push(fetch)
    run()
    result.items = fold_totals(result.items, book.totals())
    return result


def fold_totals(items: list[Any], totals: AuditTotals) -> list[Any]:
    """``items`` with what ``totals`` says of each page written into its :class:`AuditedPage`.

    A report made once the crawl is over can say everything of a page in one
    item (one write per page instead of two).
    """
    in_sitemap = set(totals.in_sitemap)
    for item in items:
        if isinstance(item, AuditedPage):
            item.inlinks = totals.inlinks.get(item.url, item.inlinks)
            item.in_sitemap = bool(item.in_sitemap) or item.url in in_sitemap
            item.found_by = totals.found_by.get(item.url, item.found_by)
    return items


__all__ = [
    "Answer", "AuditBook", "Fetch", "Output", "Replay", "click_depths", "collect_anchors", "fold_totals", "replay",
]
