"""prospects against local web servers: every broken_reason, every not-broken outcome, one check
per outbound URL however many pages carry it, and fixed/won on a re-check, stored in a real SecantusDB.

Each "site" is a mock server on its own loopback address (127.0.0.x): different registrable
domains, so their links are outbound links of each other.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pymongo
import pytest
import pytest_twisted
from twisted.internet.defer import DeferredList

from linkcrawler.prospects.items import OpportunityItem, OutboundCheck, ProspectPage, opportunity_id
from linkcrawler.spiders.prospects import ProspectsSpider
from tests.crawling import run_spider
from tests.fixtures.services import free_port
from tests.fixtures.web import MockServerFactory
from tests.mockserver import MockServer

OUR = "http://our.test"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def page(body: str, title: str = "A page", head: str = "") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def write(site: Path, path: str, html: str | None = None, **meta: Any) -> None:
    file = site / path.lstrip("/")
    file.parent.mkdir(parents=True, exist_ok=True)
    if html is not None:
        file.write_text(html, encoding="utf-8")
    meta_file = file.with_name(file.name + ".meta.json")
    if meta:
        meta_file.write_text(json.dumps(meta))
    elif meta_file.exists():
        meta_file.unlink()


PARKED_LANDER = page(
    '<script src="https://www.google.com/adsense/domains/caf.js"></script>'
    "<h1>old-tools.example</h1><p>This domain may be for sale. Inquire now.</p>",
    title="old-tools.example",
)
# Weak signals only (a bare domain title, "Related searches"): parked because every path answers it.
QUIET_LANDER = page("<p>Related searches</p><ul><li>Tools</li><li>Guides</li></ul>", title="quiet-domain.example")
SOFT_404 = page("<h1>Page not found</h1><p>Sorry, we could not find that page.</p>", title="Page not found | Shop")
CHALLENGE = page("<p>Checking your browser before accessing the site.</p>", title="Just a moment...")


@dataclass
class World:
    prospects: MockServer
    prospects_dir: Path
    old_site: MockServer
    old_dir: Path
    parked: MockServer
    quiet: MockServer
    soft: MockServer
    newco: MockServer
    refused_url: str
    db: pymongo.database.Database
    settings: dict[str, Any]
    tmp: Path

    def crawl(self, urls: str, now: datetime = NOW, **arguments: Any) -> Any:
        settings = {**self.settings, "LINKCRAWLER_NOW": now.isoformat()}
        return run_spider(ProspectsSpider, settings, urls=urls, **arguments)

    def opportunities(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(doc["page_url"], doc["link_url"]): doc for doc in self.db.opportunities.find()}

    def checks(self) -> dict[str, dict[str, Any]]:
        return {doc["url"]: doc for doc in self.db.outbound_checks.find()}


@pytest.fixture
def world(tmp_path: Path, mockserver_factory: MockServerFactory, mongo_db: pymongo.database.Database,
          mongo_uri: str, mongo_db_name: str) -> Iterator[World]:
    dirs = {name: tmp_path / name for name in ("prospects", "old", "parked", "quiet", "soft", "newco")}
    for path in dirs.values():
        path.mkdir()
    write(dirs["parked"], "_missing.html", PARKED_LANDER)
    write(dirs["quiet"], "_missing.html", QUIET_LANDER)
    write(dirs["soft"], "_missing.html", SOFT_404)
    write(dirs["soft"], "index.html", page("<p>Welcome to the shop.</p>", title="Shop"))
    write(dirs["newco"], "index.html", page("<p>NewCo sells insurance. " + "Quotes and plans. " * 30 + "</p>",
                                            title="NewCo insurance"))
    write(dirs["old"], "robots.txt", "User-agent: *\nDisallow: /private/\n")
    servers = {
        "prospects": mockserver_factory("127.0.0.2", dirs["prospects"]),
        "old": mockserver_factory("127.0.0.3", dirs["old"]),
        "parked": mockserver_factory("127.0.0.4", dirs["parked"]),
        "quiet": mockserver_factory("127.0.0.5", dirs["quiet"]),
        "soft": mockserver_factory("127.0.0.6", dirs["soft"]),
        "newco": mockserver_factory("127.0.0.7", dirs["newco"]),
    }
    settings = {
        "MONGO_URI": mongo_uri,
        "MONGO_DATABASE": mongo_db_name,
        "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": 800},
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True,
        "LINKCRAWLER_DATA_DIR": str(tmp_path / "data"),
        "LINKCRAWLER_OWN_DOMAINS": "our.test",
        "MONGO_FLUSH_INTERVAL": 0.2,
        "RETRY_TIMES": 0,
        "DOWNLOAD_TIMEOUT": 2,
        # No internet here: the resolver is vouched for by a name it surely finds (/etc/hosts).
        "LINKCRAWLER_DNS_CANARIES": "localhost",
    }
    # Our audited site: what a dead link can be replaced with.
    mongo_db.pages.insert_many([
        {"url": f"{OUR}/guides/keyword-research-guide", "status": 200, "title": "Keyword research guide", "site": "our.test"},
        {"url": f"{OUR}/", "status": 200, "title": "Our tools for SEO", "site": "our.test"},
        {"url": f"{OUR}/gone", "status": 404, "title": "", "site": "our.test"},
    ])
    yield World(
        servers["prospects"], dirs["prospects"], servers["old"], dirs["old"], servers["parked"], servers["quiet"],
        servers["soft"], servers["newco"], f"http://127.0.0.8:{free_port()}/tool", mongo_db, settings, tmp_path,
    )


def links(*targets: tuple[str, str]) -> str:
    return "<ul>" + "".join(f'<li>A fine resource: <a href="{url}">{text}</a> for you.</li>' for url, text in targets) \
        + "</ul>"


@pytest_twisted.inlineCallbacks
def test_every_broken_reason_and_every_unverified_outcome(world: World) -> None:
    old, w = world.old_site, world.old_dir
    write(w, "removed.html", page("gone"), status=410)
    write(w, "moved-deep", status=301, headers={"Location": world.newco.url("/")})
    write(w, "moved-article", status=301, headers={"Location": world.newco.url("/articles/moved")})
    write(world.newco.site_dir or w, "articles/moved", page("<p>The article, moved.</p>", title="Moved article"))
    write(w, "chained-404", status=302, headers={"Location": old.url("/nothing-here")})
    write(w, "fine.html", page("<p>A real page about tools and guides.</p>", title="Tools"))
    write(w, "refreshing.html", page("<p>Moved.</p>", head=f'<meta http-equiv="refresh" content="0; url={world.newco.url("/")}">'))
    write(w, "refresh-to-fine.html", page("<p>Moved.</p>", head='<meta http-equiv="refresh" content="0; url=/fine.html">'))
    write(w, "challenge.html", CHALLENGE, headers={"cf-mitigated": "challenge"})
    write(w, "private/report.html", page("private"))
    broken = {
        old.url("/keyword-research-guide"): "http_404",
        old.url("/removed.html"): "http_410",
        old.url("/chained-404"): "http_404",
        "http://dead-site.invalid/tools/list": "dns_nxdomain",
        world.refused_url: "connection_refused",
        world.parked.url("/resources/guide.html"): "parked_domain",
        world.quiet.url("/old/page.html"): "parked_domain",
        world.soft.url("/products/widget-42"): "soft_404",
        old.url("/moved-deep"): "redirect_to_unrelated",
        old.url("/refreshing.html"): "redirect_to_unrelated",
    }
    unverified = {
        old.url("/status/503"): "HTTP 503",
        old.url("/status/500"): "HTTP 500",
        old.url("/status/403"): "HTTP 403",
        old.url("/status/401"): "HTTP 401",
        old.url("/status/429"): "HTTP 429",
        old.url("/delay?s=6"): "timed out",
        old.url("/challenge.html"): "bot challenge",
        old.url("/private/report.html"): "robots.txt",
        old.url("/loop/a"): "redirect loop",
    }
    fine = [old.url("/fine.html"), old.url("/moved-article"), world.soft.url("/"), old.url("/refresh-to-fine.html")]
    everything = [*broken, *unverified, *fine]
    write(world.prospects_dir, "resources.html", page(
        links(*[(url, f"Resource {i}") for i, url in enumerate(everything)])
        + f'<p>Also <a href="{world.prospects.url("/other.html")}">our other page</a>.</p>',
        title="Keyword research resources"))
    result = yield world.crawl(world.prospects.url("/resources.html"))

    checks = world.checks()
    assert set(checks) == set(everything)
    for url, reason in broken.items():
        assert (checks[url]["state"], checks[url]["broken_reason"]) == ("broken", reason), (url, checks[url])
    for url, words in unverified.items():
        assert checks[url]["state"] == "unverified", (url, checks[url])
        assert checks[url]["broken_reason"] is None
        assert words in checks[url]["reason"], (url, checks[url]["reason"])
    for url in fine:
        assert checks[url]["state"] == "ok", (url, checks[url])

    opportunities = world.opportunities()
    page_url = world.prospects.url("/resources.html")
    assert set(opportunities) == {(page_url, url) for url in broken}
    for url, reason in broken.items():
        doc = opportunities[(page_url, url)]
        assert doc["broken_reason"] == reason
        assert doc["status"] == "open"
        assert doc["_id"] == opportunity_id(page_url, url)
        assert doc["wayback_url"] == f"https://web.archive.org/web/*/{url}"
        assert doc["context"].startswith("A fine resource: Resource")
        assert 0 <= doc["score"] <= 100 and doc["score_reasons"]
        assert doc["contact_ids"] == [] and doc["first_seen"] and doc["last_checked"]
        assert doc["page_title"] == "Keyword research resources" and doc["page_domain"] == "127.0.0.2"
    guide = opportunities[(page_url, old.url("/keyword-research-guide"))]
    assert guide["suggested_target"] == f"{OUR}/guides/keyword-research-guide"
    assert guide["suggestion_score"] > 0.5
    assert guide["http_status"] == 404
    # 5xx, 403, 429, a timeout, a challenge, robots.txt: never an opportunity.
    assert not any(url in unverified for _, url in opportunities)
    assert result.stats["linkcrawler/prospects/checked"] == len(everything)
    assert [i for i in result.items if isinstance(i, OpportunityItem)]
    assert len([i for i in result.items if isinstance(i, ProspectPage)]) == 1


@pytest_twisted.inlineCallbacks
def test_nxdomain_from_a_resolver_that_finds_nothing_is_not_believed(world: World) -> None:
    # An offline or filtering resolver answers NXDOMAIN for every name: when it cannot find
    # the canary names either, a "gone domain" is the resolver's word, never an opportunity.
    dead = "http://dead-site.invalid/tools/list"
    write(world.prospects_dir, "dns.html", page(links((dead, "A tool list")), title="Tools"))
    world.settings = {**world.settings, "LINKCRAWLER_DNS_CANARIES": "no-such-canary.invalid"}
    result = yield world.crawl(world.prospects.url("/dns.html"))
    check = world.checks()[dead]
    assert (check["state"], check["broken_reason"]) == ("unverified", None)
    assert "NXDOMAIN not believed" in check["reason"] and "no-such-canary.invalid" in check["reason"]
    assert world.opportunities() == {}
    assert result.stats["linkcrawler/prospects/dns_nxdomain_unbelieved"] == 1


@pytest_twisted.inlineCallbacks
def test_an_outbound_url_on_many_pages_is_checked_once(world: World) -> None:
    dead, fine = world.old_site.url("/dead-resource"), world.old_site.url("/status/200")
    for n in range(25):
        write(world.prospects_dir, f"p{n}.html", page(links((dead, "The resource"), (fine, "Fine"))))
    listing = world.tmp / "prospects.csv"
    rows = ["Referring page URL,Domain rating"] + [f"{world.prospects.url(f'/p{n}.html')},{40 + n}" for n in range(25)]
    listing.write_text("\n".join(rows) + "\n")
    result = yield world.crawl(str(listing))
    hits = world.old_site.hits(by_method=True)
    assert hits.get("HEAD /dead-resource") == 1 and hits.get("GET /dead-resource") == 1
    assert sum(count for key, count in hits.items() if key.endswith("/status/200")) <= 2
    assert len([i for i in result.items if isinstance(i, OutboundCheck)]) == 2
    opportunities = world.opportunities()
    assert len(opportunities) == 25
    assert {doc["linked_from_pages"] for doc in opportunities.values()} == {25}
    by_page = {doc["page_url"]: doc for doc in opportunities.values()}
    best, least = by_page[world.prospects.url("/p24.html")], by_page[world.prospects.url("/p0.html")]
    assert best["score"] > least["score"]  # Domain rating 64 against 40, all else equal
    assert max(doc["score"] for doc in opportunities.values()) == best["score"]
    assert any("authority 64" in reason for reason in best["score_reasons"])
    assert any("25 prospect pages" in reason for reason in best["score_reasons"])


@pytest_twisted.inlineCallbacks
def test_a_recheck_marks_fixed_and_won_and_the_won_link_becomes_a_backlink(world: World) -> None:
    dead = world.old_site.url("/keyword-research-guide")
    for name in ("fixed", "won", "still"):
        write(world.prospects_dir, f"{name}.html", page(links((dead, "Keyword research guide"))))
    urls = ",".join(world.prospects.url(f"/{name}.html") for name in ("fixed", "won", "still"))
    yield world.crawl(urls)
    assert {doc["status"] for doc in world.opportunities().values()} == {"open"}

    write(world.prospects_dir, "fixed.html", page("<p>Nothing here any more.</p>"))
    write(world.prospects_dir, "won.html", page(links((f"{OUR}/guides/keyword-research-guide", "A better guide"))))
    # Not due yet: nothing is fetched again.
    result = yield world.crawl(urls, now=NOW + timedelta(hours=1))
    assert result.stats.get("linkcrawler/prospects/pages", 0) == 0
    yield world.crawl(urls, now=NOW + timedelta(hours=25))

    found = world.opportunities()
    status = {page_url.rsplit("/", 1)[-1]: doc["status"] for (page_url, _), doc in found.items()}
    assert status == {"fixed.html": "fixed", "won.html": "won", "still.html": "open"}
    won = found[(world.prospects.url("/won.html"), dead)]
    assert won["won_at"].replace(tzinfo=None) == (NOW + timedelta(hours=25)).replace(tzinfo=None)
    assert won["status_reason"].startswith("the page now links to us")
    backlink = world.db.backlinks.find_one({"source_url": world.prospects.url("/won.html")})
    assert backlink is not None and backlink["target_url"] == f"{OUR}/guides/keyword-research-guide"
    events = list(world.db.link_events.find({"backlink_id": backlink["_id"]}))
    assert [e["type"] for e in events] == ["new"]
    assert "won broken-link opportunity" in events[0]["reason"]

    # A third check changes nothing: won stays won, the event is not doubled.
    yield world.crawl(urls, now=NOW + timedelta(hours=50))
    assert world.opportunities()[(world.prospects.url("/won.html"), dead)]["status"] == "won"
    assert world.db.link_events.count_documents({"backlink_id": backlink["_id"]}) == 1


@pytest_twisted.inlineCallbacks
def test_depth_one_reads_same_site_pages_up_to_the_limit(world: World) -> None:
    dead = world.old_site.url("/dead")
    pages = [f"/list/{n}.html" for n in range(6)]
    write(world.prospects_dir, "list/index.html", page("".join(
        f'<a href="{path}">page {n}</a>' for n, path in enumerate(pages))))
    for path in pages:
        write(world.prospects_dir, path, page(links((dead, "dead"))))
    result = yield world.crawl(world.prospects.url("/list/"), depth="1", max_pages_per_site="4")
    assert result.stats["linkcrawler/prospects/pages"] == 4
    assert len(world.opportunities()) == 3
    assert world.old_site.hits(by_method=True).get("HEAD /dead") == 1


@pytest_twisted.inlineCallbacks
def test_two_workers_share_the_crawl_and_check_each_url_once(world: World, redis_url: str) -> None:
    dead = [world.old_site.url(f"/dead/{n}") for n in range(12)]
    for n in range(20):
        write(world.prospects_dir, f"s{n}.html", page(links(*[(url, f"Dead {i}") for i, url in enumerate(dead)],
                                                            (world.old_site.url(f"/only/{n}"), "Only here"))))
    urls = ",".join(world.prospects.url(f"/s{n}.html") for n in range(20))
    settings = {**world.settings, "REDIS_URL": redis_url, "SCHEDULER_RUN_ID": "prospects-1",
                "SCHEDULER_IDLE_BEFORE_CLOSE": 0.5, "SCHEDULER_WORKER_TTL": 3, "SCHEDULER_PREFETCH": 1,
                "CONCURRENT_REQUESTS": 2, "DOWNLOAD_DELAY": 0.01, "LINKCRAWLER_NOW": NOW.isoformat()}
    outcomes = yield DeferredList([run_spider(ProspectsSpider, settings, urls=urls) for _ in range(2)],
                                  fireOnOneErrback=True, consumeErrors=True)
    results = [result for _, result in outcomes]
    hits = world.old_site.hits(by_method=True)
    for url in dead:
        path = url.removeprefix(world.old_site.base_url)
        assert (hits.get(f"HEAD {path}"), hits.get(f"GET {path}")) == (1, 1), (path, hits)
    assert all(r.stats.get("linkcrawler/prospects/pages", 0) for r in results), "each worker read pages"
    assert sum(r.stats.get("linkcrawler/prospects/checked", 0) for r in results) == 12 + 20
    assert all(r.stats.get("linkcrawler/prospects/checked", 0) for r in results), "each worker checked links"
    reporters = [r for r in results if any(isinstance(i, OpportunityItem) for i in r.items)]
    assert len(reporters) == 1
    opportunities = world.opportunities()
    assert len(opportunities) == 20 * 13
    assert {doc["linked_from_pages"] for (_, url), doc in opportunities.items() if url in dead} == {20}


class _HeadLies(BaseHTTPRequestHandler):
    """HEAD: 405 on /refused-*, 200 everywhere else; GET: the truth (404 unless the path ends in -fine)."""

    def do_HEAD(self) -> None:
        self.send_response(405 if self.path.startswith("/refused") else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path.endswith(".zip"):  # a big file: its answer is its status, the body is not read
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(20 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(20 * 16):
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                self.server.stopped_early = True  # type: ignore[attr-defined]
            return
        fine = self.path.endswith("-fine")
        body = page("<p>" + ("A real page. " * 30 if fine else "Nothing.") + "</p>").encode()
        self.send_response(200 if fine or self.path == "/" else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest_twisted.inlineCallbacks
def test_get_where_head_is_refused_or_lies(world: World) -> None:
    server = ThreadingHTTPServer(("127.0.0.9", 0), _HeadLies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.9:{server.server_address[1]}"
        targets = {f"{base}/refused-gone": "broken", f"{base}/refused-fine": "ok",
                   f"{base}/lies-gone": "broken", f"{base}/lies-fine": "ok", f"{base}/refused-archive.zip": "ok"}
        write(world.prospects_dir, "h.html", page(links(*[(url, "x") for url in targets])))
        yield world.crawl(world.prospects.url("/h.html"))
    finally:
        server.shutdown()
        server.server_close()
    checks = world.checks()
    assert {url: checks[url]["state"] for url in targets} == targets
    assert checks[f"{base}/lies-gone"]["broken_reason"] == "http_404"
    assert getattr(server, "stopped_early", False)  # 20 MB were not downloaded


@pytest_twisted.inlineCallbacks
def test_a_moved_prospect_page_and_the_feed_export(world: World) -> None:
    # The prospect page moved to the newco site: links to newco are its own, not outbound.
    write(world.prospects_dir, "moved.html", status=301, headers={"Location": world.newco.url("/roundup.html")})
    assert world.newco.site_dir is not None
    write(world.newco.site_dir, "roundup.html", page(
        links((world.newco.url("/missing-own-page"), "own"), (world.old_site.url("/gone"), "=cmd|' /C calc'!A0"))))
    feed = world.tmp / "out.csv"
    yield world.crawl(world.prospects.url("/moved.html"))
    assert set(world.checks()) == {world.old_site.url("/gone")}
    [(page_url, link_url)] = list(world.opportunities())
    assert (page_url, link_url) == (world.prospects.url("/moved.html"), world.old_site.url("/gone"))

    settings = {**world.settings, "FEEDS": {str(feed): {"format": "csv"}}, "LINKCRAWLER_NOW": NOW.isoformat()}
    yield run_spider(ProspectsSpider, settings, urls=world.prospects.url("/moved.html"), all="1")
    rows = list(csv.DictReader(feed.read_text().splitlines()))
    records = {row["record"] for row in rows}
    assert records == {"prospect_pages", "outbound_checks", "opportunities"}
    [opportunity] = [row for row in rows if row["record"] == "opportunities"]
    assert opportunity["broken_reason"] == "http_404" and opportunity["anchor_text"].startswith("'=cmd")


@pytest_twisted.inlineCallbacks
def test_what_no_worker_checked_is_checked_for_the_report(world: World, redis_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dead = [world.old_site.url(f"/dead/{n}") for n in range(4)]
    for n in range(4):
        write(world.prospects_dir, f"r{n}.html", page(links(*[(url, f"Dead {i}") for i, url in enumerate(dead)])))
    left_out = set(dead[:2])
    parse_page = ProspectsSpider.parse_page

    def parse_but_some(self: ProspectsSpider, response: Any) -> Iterator[Any]:
        # As if the worker that took these checks died before storing them.
        for output in parse_page(self, response):
            if getattr(output, "meta", {}).get("check_url") not in left_out:
                yield output

    monkeypatch.setattr(ProspectsSpider, "parse_page", parse_but_some)
    settings = {**world.settings, "REDIS_URL": redis_url, "SCHEDULER_RUN_ID": "prospects-2",
                "SCHEDULER_IDLE_BEFORE_CLOSE": 0.5, "SCHEDULER_WORKER_TTL": 3, "LINKCRAWLER_NOW": NOW.isoformat()}
    outcomes = yield DeferredList(
        [run_spider(ProspectsSpider, settings, urls=",".join(world.prospects.url(f"/r{n}.html") for n in range(4)))
         for _ in range(2)], fireOnOneErrback=True, consumeErrors=True)
    results = [result for _, result in outcomes]
    assert sum(r.stats.get("linkcrawler/prospects/report_checks", 0) for r in results) == 2
    assert {url for _, url in world.opportunities()} == set(dead)
    assert len(world.opportunities()) == 16
