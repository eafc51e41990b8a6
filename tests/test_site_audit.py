"""site_audit against local web servers: every finding of the audit, stored in a real SecantusDB."""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
from collections.abc import Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pymongo
import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from linkcrawler.audit.findings import format_findings
from linkcrawler.audit.store import load_findings
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.spiders.site_audit import SiteAuditSpider
from tests.crawling import CrawlResult, run_spider
from tests.fixtures.web import MockServerFactory
from tests.mockserver import MockServer

# --- a resolver without DNS: only the names of the table resolve ----------------------------


@implementer(IResolverSimple)
class NoDnsResolver:
    """Resolves nothing but IP literals: ``no-such-host.invalid`` fails without any DNS server."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> NoDnsResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:
        if name.replace(".", "").isdigit():
            return succeed(name)
        return fail(DNSLookupError(name))


# --- a server refusing HEAD (405), as some CDNs and frameworks do ------------------------------


class _HeadRefusing(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.server.hits.append(("HEAD", self.path))  # type: ignore[attr-defined]
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.hits.append(("GET", self.path))  # type: ignore[attr-defined]
        body = b"<html><title>fine</title></html>"
        self.send_response(200 if self.path == "/fine" else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def head_refusing_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.3", 0), _HeadRefusing)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page(title: str, *links: tuple[str, str]) -> str:
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><ul>{anchors}</ul></body></html>"


def write(site: Path, path: str, text: str | bytes, meta: dict[str, Any] | None = None) -> None:
    target = site / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        target.write_bytes(text if isinstance(text, bytes) else text.encode())
    if meta is not None:
        target.with_name(target.name + ".meta.json").write_text(json.dumps(meta))


def meta_only(site: Path, path: str, meta: dict[str, Any]) -> None:
    target = site / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_name(target.name + ".meta.json").write_text(json.dumps(meta))


class Site:
    """The audited site (127.0.0.1), an external site (127.0.0.2) and a HEAD-refusing one (127.0.0.3)."""

    def __init__(self, server: MockServer, external: MockServer, head: ThreadingHTTPServer, site: Path) -> None:
        self.server = server
        self.external = external
        self.head = head
        self.dir = site
        self.base = server.url("")
        self.ext = external.url("")
        self.head_base = f"http://127.0.0.3:{head.server_address[1]}"
        self.refused = f"http://127.0.0.1:{closed_port()}/"

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def audited_site(
    mockserver: MockServer, site_dir: Path, mockserver_factory: MockServerFactory, tmp_path: Path,
    head_refusing_server: ThreadingHTTPServer,
) -> Site:
    ext_dir = tmp_path / "external"
    ext_dir.mkdir()
    external = mockserver_factory(host="127.0.0.2", site_dir=ext_dir)
    site = Site(mockserver, external, head_refusing_server, site_dir)
    write(ext_dir, "ok.html", page("External fine"))
    meta_only(ext_dir, "moved.html", {"status": 301, "headers": {"Location": "/ok.html"}})
    # Two redirects, the second one shared with the link to /moved.html.
    meta_only(ext_dir, "twice.html", {"status": 302, "headers": {"Location": "/moved.html"}})

    write(site_dir, "robots.txt", f"User-agent: *\nDisallow: /private/\nSitemap: {site.url('/sitemap_index.xml')}\n")
    write(site_dir, "sitemap_index.xml", (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/sitemap-pages.xml.gz')}</loc></sitemap></sitemapindex>"
    ))
    urlset = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in ["/", "/about.html", "/orphan.html"])
        + f"<url><loc>{site.ext}/ok.html</loc></url></urlset>"
    )
    write(site_dir, "sitemap-pages.xml.gz", gzip.compress(urlset.encode()))
    write(site_dir, "index.html", page(
        "Home",
        ("/about.html", "About us"),
        ("/about.html?jsessionid=ABC123&utm_source=news", "About (tracked)"),
        ("/missing.html", "Missing page"),
        ("/gone.html", "Gone page"),
        ("/error.html", "Broken server"),
        ("/old.html", "Old page"),
        ("/chain/3", "Long chain"),
        ("/loop/a", "Loop"),
        ("/private/secret.html", "Secret"),
        ("/trap/", "Trap"),
        (f"{site.ext}/ok.html", "External fine"),
        (f"{site.ext}/dead.html", "Dead external"),
        (f"{site.ext}/moved.html", "Moved external"),
        (f"{site.ext}/twice.html", "Moved twice external"),
        (f"{site.ext}/status/503", "Failing external"),
        (site.refused, "Nobody listens"),
        ("http://no-such-host.invalid/page", "No such host"),
        (f"{site.head_base}/fine", "HEAD refused but fine"),
        (f"{site.head_base}/broken", "HEAD refused and broken"),
        ("mailto:someone@example.com", "Mail"),
    ))
    write(site_dir, "about.html", page(
        "About us", ("/", "Home"), ("/missing.html", "Missing again"), (f"{site.ext}/dead.html", "Dead again"),
    ))
    write(site_dir, "new.html", page("New page", ("/", "Home")))
    write(site_dir, "orphan.html", page("Orphan", ("/about.html", "About")))
    write(site_dir, "private/secret.html", page("Secret"))
    write(site_dir, "gone.html", page("Gone"), {"status": 410})
    write(site_dir, "error.html", page("Oops"), {"status": 500})
    meta_only(site_dir, "old.html", {"status": 301, "headers": {"Location": "/new.html"}})
    # A relative-link trap: /trap/next/ is /trap/ again, so /trap/next/next/... never ends.
    write(site_dir, "trap/index.html", page("Trap", ("next/", "Next")))
    (site_dir / "trap" / "next").symlink_to(site_dir / "trap", target_is_directory=True)
    return site


def audit_settings(mongo_uri: str, mongo_db_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True,
        "MONGO_URI": mongo_uri,
        "MONGO_DATABASE": mongo_db_name,
        "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": 800},
        "TWISTED_DNS_RESOLVER": f"{__name__}.NoDnsResolver",
        "RETRY_TIMES": 1,
        **extra,
    }


def pages_by_path(db: pymongo.database.Database, site: Site) -> dict[str, dict[str, Any]]:
    return {doc["url"].removeprefix(site.base): doc for doc in db.pages.find({}, {"_id": 0})}


def broken_pairs(db: pymongo.database.Database, site: Site) -> dict[tuple[str, str], dict[str, Any]]:
    def short(url: str) -> str:
        return url.removeprefix(site.base)

    return {(short(d["page_url"]), short(d["link_url"])): d for d in db.broken_links.find({}, {"_id": 0})}


@pytest.fixture
def audit(audited_site: Site, mongo_uri: str, mongo_db_name: str) -> Any:
    def run(**extra: Any) -> Deferred[CrawlResult]:
        settings = audit_settings(mongo_uri, mongo_db_name, **extra.pop("settings", {}))
        return run_spider(SiteAuditSpider, settings, start_url=audited_site.url("/"), **extra)

    return run


@pytest_twisted.inlineCallbacks
def test_pages_record_every_status_chain_and_loop(
    audit: Any, audited_site: Site, mongo_db: pymongo.database.Database, caplog: pytest.LogCaptureFixture,
) -> Generator[Deferred[Any], Any, None]:
    caplog.set_level("INFO", logger="linkcrawler.spiders.site_audit")
    result = yield audit()
    site = audited_site
    pages = pages_by_path(mongo_db, site)

    home = pages["/"]
    assert (home["status"], home["title"], home["depth"], home["found_by"]) == (200, "Home", 0, "start")
    assert home["content_type"] == "text/html" and home["site"] == site.base.removeprefix("http://")
    assert pages["/missing.html"]["status"] == 404
    assert pages["/gone.html"]["status"] == 410
    assert pages["/error.html"]["status"] == 500
    about = pages["/about.html"]
    assert (about["status"], about["title"], about["depth"], about["inlinks"], about["in_sitemap"]) == (
        200, "About us", 1, 2, True)

    old = pages["/old.html"]
    assert (old["status"], old["final_url"], old["final_status"]) == (301, site.url("/new.html"), 200)
    assert old["redirect_chain"] == [{"url": site.url("/old.html"), "status": 301},
                                     {"url": site.url("/new.html"), "status": 200}]
    assert pages["/new.html"]["found_by"] == "redirect"

    chain = pages["/chain/3"]
    assert chain["status"] == 302 and chain["final_url"] == site.url("/chain/0")
    assert [hop["url"].removeprefix(site.base) for hop in chain["redirect_chain"]] == [
        "/chain/3", "/chain/2", "/chain/1", "/chain/0"]
    assert [hop["status"] for hop in chain["redirect_chain"]] == [302, 302, 302, 200]

    loop = pages["/loop/a"]
    assert (loop["status"], loop["redirect_loop"], loop["final_url"]) == ("redirect_loop", True, None)
    assert [hop["url"].removeprefix(site.base) for hop in loop["redirect_chain"]] == ["/loop/a", "/loop/b", "/loop/a"]
    assert pages["/loop/b"]["redirect_loop"] is True

    secret = pages["/private/secret.html"]
    assert secret["status"] == "robots_disallowed"
    assert "robots.txt" in secret["error"]

    orphan = pages["/orphan.html"]
    assert (orphan["status"], orphan["depth"], orphan["found_by"], orphan["in_sitemap"], orphan["inlinks"]) == (
        200, None, "sitemap", True, 0)

    # Never recorded: external URLs, the tracked spelling of /about.html.
    assert not [path for path in pages if not path.startswith("/")]
    assert "/about.html?jsessionid=ABC123&utm_source=news" not in pages
    assert result.stats["linkcrawler/site_audit/pages"] == len(pages)
    # What is left once every page is answered is said: /about.html, for one, was linked again after
    # it was written (by /orphan.html, a sitemap page fetched last).
    told = [r.getMessage() for r in caplog.records if "writing what needed the whole crawl" in r.getMessage()]
    assert len(told) == 1
    later = int(re.search(r"the inlinks of (\d+) page", told[0]).group(1))  # type: ignore[union-attr]
    assert 2 <= later < len(pages)


@pytest_twisted.inlineCallbacks
def test_broken_links_with_their_pages_and_anchors(
    audit: Any, audited_site: Site, mongo_db: pymongo.database.Database,
) -> Generator[Deferred[Any], Any, None]:
    yield audit()
    site = audited_site
    broken = broken_pairs(mongo_db, site)
    expected = {
        ("/", "/missing.html"): (404, "internal", "Missing page"),
        ("/about.html", "/missing.html"): (404, "internal", "Missing again"),
        ("/", "/gone.html"): (410, "internal", "Gone page"),
        ("/", "/error.html"): (500, "internal", "Broken server"),
        ("/", "/loop/a"): ("redirect_loop", "internal", "Loop"),
        ("/", f"{site.ext}/dead.html"): (404, "external", "Dead external"),
        ("/about.html", f"{site.ext}/dead.html"): (404, "external", "Dead again"),
        ("/", f"{site.ext}/status/503"): (503, "external", "Failing external"),
        ("/", site.refused): ("connection_refused", "external", "Nobody listens"),
        ("/", "http://no-such-host.invalid/page"): ("dns_error", "external", "No such host"),
        ("/", f"{site.head_base}/broken"): (404, "external", "HEAD refused and broken"),
    }
    assert {key: (doc["status"], doc["kind"], doc["anchor_text"]) for key, doc in broken.items()} == expected
    assert all(doc["site"] == site.base.removeprefix("http://") and doc["last_seen"] for doc in broken.values())

    redirected = {(d["page_url"].removeprefix(site.base), d["link_url"].removeprefix(site.base)): d
                  for d in mongo_db.redirected_links.find()}
    assert {key: (d["final_url"], d["redirects"], d["kind"], d["anchor_text"]) for key, d in redirected.items()} == {
        ("/", "/old.html"): (site.url("/new.html"), 1, "internal", "Old page"),
        ("/", "/chain/3"): (site.url("/chain/0"), 3, "internal", "Long chain"),
        # External links that redirect: one hop is enough to be worth updating.
        ("/", f"{site.ext}/moved.html"): (f"{site.ext}/ok.html", 1, "external", "Moved external"),
        ("/", f"{site.ext}/twice.html"): (f"{site.ext}/ok.html", 2, "external", "Moved twice external"),
    }


@pytest_twisted.inlineCallbacks
def test_each_page_fetched_once_and_each_external_link_checked_once(
    audit: Any, audited_site: Site,
) -> Generator[Deferred[Any], Any, None]:
    yield audit()
    site = audited_site
    hits = site.server.hits(by_method=True)
    assert hits["GET /about.html"] == 1  # also linked with a session id and from two pages
    assert hits["GET /missing.html"] == 1
    assert hits["GET /chain/1"] == 1 and hits["GET /loop/a"] == 1 and hits["GET /loop/b"] == 1
    assert "GET /private/secret.html" not in hits
    assert hits["GET /error.html"] == 2  # one retry of the 500, as RETRY_TIMES says
    assert not any(key.startswith("GET /about.html?") for key in hits)
    external = site.external.hits(by_method=True)
    # HEAD, once per distinct URL (the hop of the redirect too); a 5xx answer to HEAD is
    # asked again with GET (each retried once, as RETRY_TIMES says).
    assert external == {"HEAD /ok.html": 1, "HEAD /dead.html": 1, "HEAD /moved.html": 1, "HEAD /twice.html": 1,
                        "HEAD /status/503": 2, "GET /status/503": 2}
    # HEAD refused: asked again with GET, once.
    assert sorted(site.head.hits) == [("GET", "/broken"), ("GET", "/fine"), ("HEAD", "/broken"), ("HEAD", "/fine")]


@pytest_twisted.inlineCallbacks
def test_trap_stays_bounded(audit: Any, audited_site: Site) -> Generator[Deferred[Any], Any, None]:
    result = yield audit()
    hits = audited_site.server.hits()
    trap_pages = [path for path in hits if path.startswith("/trap/")]
    # /trap/, /trap/next/ ... up to three repeats of "next", then the limit.
    assert trap_pages == ["/trap/", "/trap/next/", "/trap/next/next/", "/trap/next/next/next/"]
    assert result.stats["linkcrawler/site_audit/skipped/repeated_segments"] == 1

    # Without the segment rule, the depth limit bounds it.
    audited_site.server.reset_hits()
    result = yield audit(max_depth="4", settings={"LINKCRAWLER_AUDIT_MAX_SEGMENT_REPEATS": 0})
    trap_pages = [path for path in audited_site.server.hits() if path.startswith("/trap/")]
    assert len(trap_pages) == 4  # depth 1 (/trap/) to depth 4
    assert result.stats["linkcrawler/site_audit/skipped/depth"] >= 1


@pytest_twisted.inlineCallbacks
def test_query_variants_and_deny_patterns_are_limited(
    audited_site: Site, mongo_uri: str, mongo_db_name: str,
) -> Generator[Deferred[Any], Any, None]:
    site = audited_site
    write(site.dir, "calendar/index.html", page("Calendar", *[(f"/calendar/?month={m}", f"Month {m}") for m in range(1, 30)]))
    write(site.dir, "index.html", page("Home", ("/calendar/", "Calendar"), ("/logout", "Log out")))
    settings = audit_settings(mongo_uri, mongo_db_name, LINKCRAWLER_AUDIT_MAX_QUERY_VARIANTS=5,
                              LINKCRAWLER_AUDIT_DENY=[r"/logout\b"])
    result = yield run_spider(SiteAuditSpider, settings, start_url=site.url("/"))
    months = [path for path in site.server.hits() if path.startswith("/calendar/?")]
    assert len(months) == 5
    assert result.stats["linkcrawler/site_audit/skipped/query_variants"] == 24
    assert result.stats["linkcrawler/site_audit/skipped/deny"] == 1
    assert "/logout" not in site.server.hits()


@pytest_twisted.inlineCallbacks
def test_a_site_that_does_not_answer_is_its_failure_not_a_robots_refusal(
    mongo_db: pymongo.database.Database, mongo_uri: str, mongo_db_name: str,
) -> Generator[Deferred[Any], Any, None]:
    # robots.txt cannot be fetched, so the page is not either (RFC 9309); what is
    # recorded is what happened to the host.
    start = f"http://127.0.0.1:{closed_port()}/"
    yield run_spider(SiteAuditSpider, audit_settings(mongo_uri, mongo_db_name), start_url=start)
    assert {doc["url"]: doc["status"] for doc in mongo_db.pages.find()} == {start: "connection_refused"}


@pytest_twisted.inlineCallbacks
def test_robots_can_be_ignored_on_the_own_site(
    audit: Any, audited_site: Site, mongo_db: pymongo.database.Database,
) -> Generator[Deferred[Any], Any, None]:
    yield audit(obey_robots="0")
    pages = pages_by_path(mongo_db, audited_site)
    assert pages["/private/secret.html"]["status"] == 200


@pytest_twisted.inlineCallbacks
def test_max_pages_bounds_the_crawl(
    audit: Any, audited_site: Site, mongo_db: pymongo.database.Database,
) -> Generator[Deferred[Any], Any, None]:
    result = yield audit(max_pages="3")
    fetched = [key for key in audited_site.server.hits(by_method=True) if key.startswith("GET /")
               and not key.startswith(("GET /robots.txt", "GET /sitemap"))]
    assert len(fetched) == 3
    assert result.stats["linkcrawler/site_audit/skipped/max_pages"] >= 1


@pytest_twisted.inlineCallbacks
def test_rerun_refreshes_instead_of_adding(
    audit: Any, audited_site: Site, mongo_db: pymongo.database.Database,
) -> Generator[Deferred[Any], Any, None]:
    yield audit()
    first_pages = pages_by_path(mongo_db, audited_site)
    first_broken = set(broken_pairs(mongo_db, audited_site))
    # The page is fixed between the two audits: its broken link goes away.
    write(audited_site.dir, "missing.html", page("Found again"))
    yield audit()
    pages = pages_by_path(mongo_db, audited_site)
    assert set(pages) == set(first_pages)
    assert {p: d["inlinks"] for p, d in pages.items()} == {p: d["inlinks"] for p, d in first_pages.items()}
    assert pages["/missing.html"]["status"] == 200
    broken = set(broken_pairs(mongo_db, audited_site))
    assert broken == first_broken - {("/", "/missing.html"), ("/about.html", "/missing.html")}
    assert mongo_db.pages.count_documents({}) == len(pages)


@pytest_twisted.inlineCallbacks
def test_retry_after_slows_the_host_down(
    audited_site: Site, mongo_uri: str, mongo_db_name: str,
) -> Generator[Deferred[Any], Any, None]:
    site = audited_site
    write(site.dir, "index.html", page("Home", ("/busy.html", "Busy")))
    write(site.dir, "busy.html", page("Busy"), {"status": 503, "headers": {"Retry-After": "1"}})
    result = yield run_spider(SiteAuditSpider, audit_settings(mongo_uri, mongo_db_name), start_url=site.url("/"))
    assert result.stats["linkcrawler/retry_after/slowed"] >= 1
    assert site.server.hits()["/busy.html"] == 2


def test_start_url_is_required() -> None:
    with pytest.raises(ConfigurationError, match="start_url"):
        SiteAuditSpider()
    with pytest.raises(ConfigurationError, match=r"start_url=.ftp://example.com/. is not valid: expected an absolute http\(s\) URL"):
        SiteAuditSpider(start_url="ftp://example.com/")


@pytest_twisted.inlineCallbacks
def test_findings_read_back_for_the_report(
    audit: Any, audited_site: Site, mongo_db: pymongo.database.Database,
) -> Generator[Deferred[Any], Any, None]:
    yield audit()
    site = audited_site
    findings = load_findings(mongo_db, site.base.removeprefix("http://"))
    report = format_findings(findings)
    assert f"{site.url('/missing.html')} [404] (internal), linked from:" in report
    assert f'      {site.url("/about.html")}  "Missing again"' in report
    assert f"{site.url('/chain/3')} [302] -> {site.url('/chain/2')} [302]" in report
    assert "Redirect loops (2)" in report  # both URLs of the loop, each with its hops
    assert f"{site.url('/')}: {site.url('/old.html')} -> {site.url('/new.html')}" in report
    assert (f"External links to a redirect (point them at the final URL) (2)\n"
            f"  {site.url('/')}: {site.ext}/moved.html -> {site.ext}/ok.html\n"
            f"  {site.url('/')}: {site.ext}/twice.html -> {site.ext}/ok.html\n") in report
    assert f"Pages found only in the sitemap (1)\n  {site.url('/orphan.html')}" in report
    assert f"{site.url('/private/secret.html')} [robots_disallowed]" in report
