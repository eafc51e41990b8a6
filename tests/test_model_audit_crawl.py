"""The audit's bookkeeping without Scrapy: a crawl driven by hand, and the replay of stored answers."""

from __future__ import annotations

from typing import Any

from linkcrawler.audit.items import AuditedPage, AuditTotals, BrokenLink, RedirectedLink
from linkcrawler.crawl.book import (
    NOT_FETCHED,
    Answer,
    AuditBook,
    Fetch,
    click_depths,
    collect_anchors,
    fold_totals,
    replay,
)
from linkcrawler.crawl.scope import ParamStripper, SiteScope
from linkcrawler.crawl.traps import TrapGuard, TrapLimits

BASE = "http://site.test"
EXT = "http://other.test"


def book(**limits: Any) -> AuditBook:
    max_pages = limits.pop("max_pages", 0)
    return AuditBook(f"{BASE}/", SiteScope(f"{BASE}/"), TrapGuard(TrapLimits(**limits)), ParamStripper(),
                     max_pages=max_pages)


def page(url: str, *links: str) -> Answer:
    return Answer(url, 200, details={"content_type": "text/html", "title": url.rsplit("/", 1)[-1]},
                  anchors={link: f"to {link.rsplit('/', 1)[-1]}" for link in links})


#: A small site: a chain (a -> b -> c), a loop, a 404 linked twice, an external 404, a sitemap-only page.
SITE: dict[tuple[bool, str], Answer] = {
    (False, f"{BASE}/"): page(f"{BASE}/", f"{BASE}/one", f"{BASE}/a", f"{BASE}/missing", f"{EXT}/dead",
                              f"{BASE}/loop1"),
    (False, f"{BASE}/one"): page(f"{BASE}/one", f"{BASE}/", f"{BASE}/missing", f"{BASE}/two"),
    (False, f"{BASE}/two"): page(f"{BASE}/two", f"{BASE}/one"),
    (False, f"{BASE}/a"): Answer(f"{BASE}/a", 301, location=f"{BASE}/b"),
    (False, f"{BASE}/b"): Answer(f"{BASE}/b", 302, location=f"{BASE}/c"),
    (False, f"{BASE}/c"): page(f"{BASE}/c"),
    (False, f"{BASE}/loop1"): Answer(f"{BASE}/loop1", 302, location=f"{BASE}/loop2"),
    (False, f"{BASE}/loop2"): Answer(f"{BASE}/loop2", 302, location=f"{BASE}/loop1"),
    (False, f"{BASE}/missing"): Answer(f"{BASE}/missing", 404, details={"content_type": "text/html"}),
    (True, f"{EXT}/dead"): Answer(f"{EXT}/dead", 404, external=True),
    (False, f"{BASE}/orphan"): page(f"{BASE}/orphan", f"{BASE}/two"),
}
SITEMAP = [f"{BASE}/", f"{BASE}/orphan", f"{EXT}/not-ours"]


def by_type(items: list[Any]) -> dict[type, list[Any]]:
    grouped: dict[type, list[Any]] = {}
    for item in items:
        grouped.setdefault(type(item), []).append(item)
    return grouped


def test_collect_anchors_keeps_the_first_text_and_drops_self_links() -> None:
    class Link:
        def __init__(self, url: str, anchor_text: str) -> None:
            self.url, self.anchor_text = url, anchor_text

    links = [Link(f"{BASE}/p", ""), Link(f"{BASE}/x?utm_source=a", ""), Link(f"{BASE}/x", "X"),
             Link(f"{BASE}/x", "later"), Link(f"{BASE}/", "home")]
    assert collect_anchors(f"{BASE}/p", links, ParamStripper()) == {f"{BASE}/x": "X", f"{BASE}/": "home"}


def test_replay_reports_the_site() -> None:
    result = replay(book(), SITE, SITEMAP)
    assert result.missing == []
    items = by_type(result.items)
    pages = {item.url.removeprefix(BASE): item for item in items[AuditedPage]}
    assert set(pages) == {"/", "/one", "/two", "/a", "/b", "/c", "/loop1", "/loop2", "/missing", "/orphan"}
    assert (pages["/"].depth, pages["/"].found_by) == (0, "start")
    assert (pages["/two"].depth, pages["/two"].found_by) == (2, "link")
    assert (pages["/orphan"].depth, pages["/orphan"].found_by) == (None, "sitemap")
    assert (pages["/c"].found_by, pages["/a"].final_url, pages["/a"].final_status) == ("redirect", f"{BASE}/c", 200)
    assert [hop["status"] for hop in pages["/a"].redirect_chain] == [301, 302, 200]
    assert pages["/loop1"].redirect_loop and pages["/loop1"].status == "redirect_loop"
    broken = {(item.page_url.removeprefix(BASE), item.link_url): (item.status, item.kind)
              for item in items[BrokenLink]}
    assert broken == {
        ("/", f"{BASE}/missing"): (404, "internal"),
        ("/one", f"{BASE}/missing"): (404, "internal"),
        ("/", f"{EXT}/dead"): (404, "external"),
        ("/", f"{BASE}/loop1"): ("redirect_loop", "internal"),
    }
    [redirected] = items[RedirectedLink]
    assert (redirected.link_url, redirected.final_url, redirected.redirects) == (f"{BASE}/a", f"{BASE}/c", 2)
    assert AuditTotals not in items  # folded into the pages
    counted = {url.removeprefix(BASE): (page.inlinks, page.in_sitemap) for url, page in pages.items()}
    assert counted["/one"] == (2, False) and counted["/two"] == (2, False)
    assert counted["/"] == (1, True) and counted["/orphan"] == (0, True)


def test_replay_is_the_live_crawl() -> None:
    """Driving the book by hand, fetches answered in any order, gives the replay's report."""

    def key(item: Any) -> str:
        fields = {n: getattr(item, n) for n in item.__slots__ if n not in ("crawled_at", "seen_at", "counted_at")}
        return f"{type(item).__name__}{sorted(fields.items(), key=lambda kv: kv[0])!r}"

    live = book()
    items: list[Any] = []
    pending = [live.start()]
    while pending:
        fetch = pending.pop(0)  # first in, first out: not the replay's order
        for output in live.answered(fetch, SITE[fetch.external, fetch.url]):
            (pending if isinstance(output, Fetch) else items).append(output)
    for url in SITEMAP:
        live.add_sitemap_url(url)
    pending = list(live.sitemap_fetches())
    while pending:
        fetch = pending.pop()
        for output in live.answered(fetch, SITE[fetch.external, fetch.url]):
            (pending if isinstance(output, Fetch) else items).append(output)
    items = fold_totals(items, live.totals())

    replayed = replay(book(), SITE, SITEMAP).items
    assert sorted(map(key, items)) == sorted(map(key, replayed))


def test_missing_answers_are_listed_then_filled() -> None:
    answers = dict(SITE)
    del answers[False, f"{BASE}/two"]
    del answers[False, f"{BASE}/b"]
    result = replay(book(), answers, SITEMAP)
    assert sorted(fetch.url for fetch in result.missing) == [f"{BASE}/b", f"{BASE}/two"]
    two = next(fetch for fetch in result.missing if fetch.url.endswith("/two"))
    assert (two.depth, two.hops, two.external) == (2, 0, False)

    filled = replay(book(), answers, SITEMAP, fill_missing=True)
    assert filled.missing == []
    pages = {item.url.removeprefix(BASE): item for item in filled.items if isinstance(item, AuditedPage)}
    assert (pages["/two"].status, pages["/two"].error) == ("download_error", NOT_FETCHED)
    assert pages["/a"].final_status == "download_error"


def test_exploring_asks_for_every_url_once() -> None:
    """What a worker of a shared audit fetches next: no settling, each URL once, limits applied."""
    worker = book(max_depth=1)
    start = worker.start()
    assert start is not None
    first = list(worker.explore(start, SITE[False, f"{BASE}/"]))
    assert sorted((f.url, f.external, f.depth) for f in first) == sorted([
        (f"{BASE}/a", False, 1), (f"{BASE}/loop1", False, 1), (f"{BASE}/missing", False, 1),
        (f"{BASE}/one", False, 1), (f"{EXT}/dead", True, 1),
    ])
    one = next(f for f in first if f.url.endswith("/one"))
    # /two is at depth 2, over max_depth; / and /missing were asked for already.
    assert list(worker.explore(one, SITE[False, f"{BASE}/one"])) == []
    a = next(f for f in first if f.url.endswith("/a"))
    [hop] = worker.explore(a, SITE[False, f"{BASE}/a"])
    assert (hop.url, hop.hops, hop.depth) == (f"{BASE}/b", 1, 1)
    assert list(worker.explore_sitemap(SITEMAP)) == [Fetch(f"{BASE}/orphan", 0, late=True)]
    assert set(worker.page_meta) == {f"{BASE}/"} and not worker.recorded  # (the start page only)


def test_click_depths_count_links_not_redirects() -> None:
    links = {"/": ["/a", "/b"], "/a": ["/deep"], "/deep": ["/r"], "/b": ["/moved"], "/x": ["/y"]}
    hops = {"/moved": "/r", "/r": "/final"}
    assert click_depths("/", links, hops.get) == {
        "/": 0, "/a": 1, "/b": 1, "/deep": 2, "/moved": 2, "/r": 2, "/final": 2,
    }


def test_pages_get_the_shortest_click_depth_whatever_the_order() -> None:
    """Answered depth first among what the book hands out, every page still gets its shortest depth
    when it is recorded: the book hands out one level at a time."""
    site = {
        (False, f"{BASE}/"): page(f"{BASE}/", f"{BASE}/p2", f"{BASE}/p1", f"{BASE}/old"),
        (False, f"{BASE}/p1"): page(f"{BASE}/p1", f"{BASE}/q"),
        (False, f"{BASE}/q"): page(f"{BASE}/q", f"{BASE}/r"),
        (False, f"{BASE}/p2"): page(f"{BASE}/p2", f"{BASE}/r"),
        (False, f"{BASE}/r"): page(f"{BASE}/r"),
        (False, f"{BASE}/old"): Answer(f"{BASE}/old", 301, location=f"{BASE}/new"),
        (False, f"{BASE}/new"): page(f"{BASE}/new"),
        (False, f"{BASE}/orphan"): page(f"{BASE}/orphan", f"{BASE}/orphan2"),
        (False, f"{BASE}/orphan2"): page(f"{BASE}/orphan2"),
    }
    live = book()
    pages: dict[str, AuditedPage] = {}
    pending = [live.start()]
    while pending:
        fetch = pending.pop()  # last in, first out: depth first
        for output in live.answered(fetch, site[fetch.external, fetch.url]):
            if isinstance(output, Fetch):
                pending.append(output)
            elif isinstance(output, AuditedPage):
                pages[output.url.removeprefix(BASE)] = output
    live.add_sitemap_url(f"{BASE}/orphan")
    pending = list(live.sitemap_fetches())
    while pending:
        fetch = pending.pop()
        for output in live.answered(fetch, site[fetch.external, fetch.url]):
            if isinstance(output, Fetch):
                pending.append(output)
            elif isinstance(output, AuditedPage):
                pages[output.url.removeprefix(BASE)] = output
    assert pages["/r"].depth == 2  # / -> p2 -> r, though / -> p1 -> q was answered first
    totals = live.totals()
    assert totals.found_by == {}
    # Recorded with their inlinks so far; the totals have those linked again afterwards.
    assert totals.inlinks == {f"{BASE}/r": 2}
    folded = fold_totals(list(pages.values()), totals)
    assert {page.url.removeprefix(BASE): page.inlinks for page in folded} == {
        "/": 0, "/p1": 1, "/p2": 1, "/q": 1, "/r": 2, "/old": 1, "/new": 0, "/orphan": 0, "/orphan2": 1}
    assert {url: (page.depth, page.found_by) for url, page in pages.items()} == {
        "/": (0, "start"), "/p1": (1, "link"), "/p2": (1, "link"), "/q": (2, "link"), "/r": (2, "link"),
        "/old": (1, "link"), "/new": (1, "redirect"), "/orphan": (None, "sitemap"), "/orphan2": (None, "sitemap"),
    }
    assert live.findings.sitemap_only == [f"{BASE}/orphan"]  # (in the sitemap; orphan2 is only linked from it)


def crawl(live: AuditBook, site: dict[tuple[bool, str], Answer], order: list[str]) -> dict[str, AuditedPage]:
    """Answer what the book hands out, the URLs of ``order`` first (in that order), then the rest."""
    pages: dict[str, AuditedPage] = {}
    out = [live.start()]
    while out:
        fetch = next((f for path in order for f in out if f and f.url == f"{BASE}{path}"), out[0])
        out.remove(fetch)
        assert fetch is not None
        for output in live.answered(fetch, site[fetch.external, fetch.url]):
            if isinstance(output, Fetch):
                out.append(output)
            elif isinstance(output, AuditedPage):
                pages[output.url.removeprefix(BASE)] = output
    return pages


def test_a_redirect_pulls_a_linked_page_up_a_level() -> None:
    """Linked from level 1 (so queued for level 2), then reached from level 1 by a redirect: depth 1."""
    site = {
        (False, f"{BASE}/"): page(f"{BASE}/", f"{BASE}/x", f"{BASE}/r"),
        (False, f"{BASE}/x"): page(f"{BASE}/x", f"{BASE}/deep"),
        (False, f"{BASE}/r"): Answer(f"{BASE}/r", 301, location=f"{BASE}/deep"),
        (False, f"{BASE}/deep"): page(f"{BASE}/deep"),
    }
    pages = crawl(book(), site, ["/x", "/r"])
    assert (pages["/deep"].depth, pages["/deep"].found_by) == (1, "link")
    assert pages["/r"].final_url == f"{BASE}/deep"


def test_a_redirect_hop_linked_afterwards_is_found_by_link_in_the_totals() -> None:
    site = {
        (False, f"{BASE}/"): page(f"{BASE}/", f"{BASE}/r", f"{BASE}/x"),
        (False, f"{BASE}/r"): Answer(f"{BASE}/r", 301, location=f"{BASE}/target"),
        (False, f"{BASE}/target"): page(f"{BASE}/target"),
        (False, f"{BASE}/x"): page(f"{BASE}/x", f"{BASE}/target"),
    }
    live = book()
    pages = crawl(live, site, ["/r", "/target", "/x"])
    assert (pages["/target"].depth, pages["/target"].found_by) == (1, "redirect")  # as recorded
    totals = live.totals()
    assert totals.found_by == {f"{BASE}/target": "link"}
    assert fold_totals([pages["/target"]], totals)[0].found_by == "link"
    assert totals.inlinks == {f"{BASE}/target": 1}  # linked after it was recorded (with 0 inlinks)


def test_the_window_bounds_the_fetches_handed_out() -> None:
    links = [f"{BASE}/p{n}" for n in range(6)]
    site = {(False, f"{BASE}/"): page(f"{BASE}/", *links), **{(False, url): page(url) for url in links}}
    live = AuditBook(f"{BASE}/", SiteScope(f"{BASE}/"), TrapGuard(TrapLimits()), ParamStripper(), window=2)
    start = live.start()
    assert start is not None
    out = [o for o in live.answered(start, site[False, start.url]) if isinstance(o, Fetch)]
    assert len(out) == 2 and live.waiting_fetches == 4
    answered = 0
    while out:
        fetch = out.pop()
        answered += 1
        out += [o for o in live.answered(fetch, site[False, fetch.url]) if isinstance(o, Fetch)]
        assert len(out) <= 2
    assert answered == 6 and live.waiting_fetches == 0


def test_totals_are_written_as_a_few_grouped_updates() -> None:
    from datetime import datetime, timezone

    from linkcrawler.audit.store import totals_ops

    inlinks = {f"{BASE}/p{n}": n % 3 for n in range(120)}
    totals = AuditTotals(site="site.test", counted_at=datetime.now(timezone.utc), inlinks=inlinks,
                         in_sitemap=[f"{BASE}/p1"], found_by={f"{BASE}/p2": "link"})
    ops = totals_ops(totals)
    assert all(op.kind == "update_many" and op.phase == 2 and not op.upsert for op in ops)
    assert len(ops) == 3 + 1 + 1  # one per inlink count (40 URLs each, under the chunk), sitemap, found_by
    set_to = {}
    for op in ops[:3]:
        assert isinstance(op.filter, dict) and isinstance(op.update, dict)
        for url in op.filter["url"]["$in"]:
            set_to[url] = op.update["$set"]["inlinks"]
    assert set_to == inlinks


def test_what_the_book_holds_can_be_handed_out_at_once() -> None:
    """The spider's safety net when the crawl is idle while the book still holds fetches (one got no answer)."""
    links = [f"{BASE}/p{n}" for n in range(5)]
    live = AuditBook(f"{BASE}/", SiteScope(f"{BASE}/"), TrapGuard(TrapLimits()), ParamStripper(), window=2)
    start = live.start()
    assert start is not None
    out = [o for o in live.answered(start, page(f"{BASE}/", *links)) if isinstance(o, Fetch)]
    assert len(out) == 2  # and two are never answered
    rest = list(live.release_all())
    assert sorted(f.url for f in out + rest) == sorted(links) and live.waiting_fetches == 0
