"""The backlinks spider against a local site, with the state pipeline writing to SecantusDB."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pymongo
import pytest
import pytest_twisted

from linkcrawler.backlinks.items import backlink_id
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.spiders.backlinks import BacklinksSpider
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.crawling import run_spider
from tests.fixtures.web import MockServerFactory
from tests.mockserver import MockServer

OUR = "http://our.test"
PIPELINES = {
    "pipelines.backlink_state.BacklinkStatePipeline": 300,
    "pipelines.mongo.MongoWriterPipeline": 800,
}


def page(body: str, head: str = "", title: str = "A page") -> str:
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


class Site:
    """The linking pages of one test, their known links, and the crawl around them."""

    def __init__(self, root: Path, server: MockServer, db: pymongo.database.Database, uri: str, name: str) -> None:
        self.root, self.server, self.db = root, server, db
        self.settings = {
            "MONGO_URI": uri,
            "MONGO_DATABASE": name,
            "ITEM_PIPELINES": PIPELINES,
            "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True,
            "LINKCRAWLER_DATA_DIR": str(root.parent / "data"),
            "MONGO_FLUSH_INTERVAL": 0.2,
            "RETRY_TIMES": 0,
            "DOWNLOAD_TIMEOUT": 5,
        }
        write(root, "robots.txt", "User-agent: *\nDisallow: /private/\n")

    def url(self, path: str) -> str:
        return self.server.url(path)

    def know(self, path: str, target: str, authority: float | None = None) -> str:
        """Import a backlink from the page at ``path`` (or a full URL) to ``target``; return its id."""
        url = path if path.startswith("http") else self.url(path)
        now = datetime.now(timezone.utc)
        ensure_indexes(self.db)
        _, failed = write_batch(self.db, new_backlink_ops(url, target, now, "test import",
                                                          authority=authority))
        assert not failed
        return backlink_id(url, target)

    def crawl(self, **overrides: Any) -> Any:
        return run_spider(BacklinksSpider, {**self.settings, **overrides}, all="1")

    def status(self, link_id: str) -> dict[str, Any]:
        doc = self.db.backlinks.find_one({"_id": link_id})
        assert doc is not None
        return doc

    def events(self, link_id: str | None = None) -> list[dict[str, Any]]:
        query = {"backlink_id": link_id} if link_id else {}
        return list(self.db.link_events.find(query).sort("_id", 1))

    def event_types(self, link_id: str) -> list[str]:
        return [e["type"] for e in self.events(link_id)]


@pytest.fixture
def site(site_dir: Path, mockserver: MockServer, mongo_db: pymongo.database.Database,
         mongo_uri: str, mongo_db_name: str) -> Site:
    return Site(site_dir, mockserver, mongo_db, mongo_uri, mongo_db_name)


def link(target: str = f"{OUR}/a", text: str = "Our page", rel: str = "") -> str:
    rel_attr = f' rel="{rel}"' if rel else ""
    return f'<a href="{target}"{rel_attr}>{text}</a>'


@pytest_twisted.inlineCallbacks
def test_first_check_reaches_every_status(site: Site) -> None:
    w = site.root
    write(w, "live.html", page("<p>See " + link() + "</p>"))
    write(w, "nofollow.html", page(link(rel="nofollow")))
    write(w, "sponsored.html", page(link(rel="ugc sponsored")))
    write(w, "noindex.html", page(link(), head='<meta name="robots" content="noindex, follow">'))
    write(w, "xrobots.html", page(link()), headers={"X-Robots-Tag": "noindex"})
    write(w, "canonical.html", page(link(), head=f'<link rel="canonical" href="{site.url("/other.html")}">'))
    write(w, "script-only.html", page(f"<script>var u = '{OUR}/a';</script><p>no link here</p>"))
    write(w, "gone410.html", headers={}, status=410)
    write(w, "moved.html", status=301, headers={"Location": "/live2.html"})
    write(w, "live2.html", page(link(text="Moved but here")))
    write(w, "moved-away.html", status=302, headers={"Location": "/nolink.html"})
    write(w, "nolink.html", page("<p>nothing</p>"))
    write(w, "loop-a.html", status=301, headers={"Location": "/loop-b.html"})
    write(w, "loop-b.html", status=301, headers={"Location": "/loop-a.html"})
    write(w, "forbidden.html", status=403)
    write(w, "private/page.html", page(link()))
    write(w, "broken.html", status=500)
    write(w, "base.html", page('<a href="a">relative to base</a>', head=f'<base href="{OUR}/">'))
    write(w, "protocol-relative.html", page('<a href="//our.test/a#top">protocol relative</a>'))

    ids = {name: site.know(path, f"{OUR}/a", authority=70) for name, path in {
        "live": "/live.html", "nofollow": "/nofollow.html", "sponsored": "/sponsored.html",
        "noindex": "/noindex.html", "xrobots": "/xrobots.html", "canonical": "/canonical.html",
        "script": "/script-only.html", "gone404": "/missing.html", "gone410": "/gone410.html",
        "moved": "/moved.html", "moved_away": "/moved-away.html", "loop": "/loop-a.html",
        "forbidden": "/forbidden.html", "robots": "/private/page.html", "broken": "/broken.html",
        "base": "/base.html", "protocol_relative": "/protocol-relative.html",
    }.items()}
    ids["dropped"] = site.know("/drop", f"{OUR}/a")
    write(w, "moved-to-gone.html", status=301, headers={"Location": "/nowhere.html"})
    ids["moved_to_gone"] = site.know("/moved-to-gone.html", f"{OUR}/a")
    ids["long_chain"] = site.know("/chain/12", f"{OUR}/a")

    result = yield site.crawl()

    expected = {
        "live": "live", "nofollow": "nofollow", "sponsored": "nofollow", "noindex": "noindex",
        "xrobots": "noindex", "canonical": "canonicalized", "script": "removed", "gone404": "page_gone",
        "gone410": "page_gone", "moved": "live", "moved_away": "redirected", "loop": "error",
        "forbidden": "blocked", "robots": "blocked", "broken": "error", "dropped": "error",
        "base": "live", "protocol_relative": "live", "moved_to_gone": "page_gone", "long_chain": "error",
    }
    found = {name: site.status(link_id)["status"] for name, link_id in ids.items()}
    assert found == expected
    moved = site.status(ids["moved"])
    assert moved["final_url"] == site.url("/live2.html")
    assert moved["redirect_chain"] == [{"url": site.url("/moved.html"), "status": 301}]
    assert moved["anchor_text"] == "Moved but here"
    assert "loop" in site.status(ids["loop"])["status_reason"]
    assert site.status(ids["moved_to_gone"])["status_reason"] == f"redirects to {site.url('/nowhere.html')}, which answers HTTP 404"
    long_chain = site.status(ids["long_chain"])
    assert long_chain["status_reason"] == "too many redirects (more than 10)"
    assert len(long_chain["redirect_chain"]) == 11
    assert "script" in site.status(ids["script"])["status_reason"]
    assert site.status(ids["robots"])["status_reason"].startswith("robots.txt")
    assert site.status(ids["sponsored"])["rel"] == ["ugc", "sponsored"]
    # First checks: lost ones are events; unknown -> live or degraded is silent.
    for name in ("script", "gone404", "gone410", "moved_away"):
        assert site.event_types(ids[name]) == ["new", "lost"], name
    lost = site.events(ids["gone404"])[1]
    assert lost["priority"] > 0 and lost["wayback_url"].endswith(site.url("/missing.html"))
    for name in ("live", "nofollow", "noindex", "moved", "forbidden", "broken", "loop"):
        assert site.event_types(ids[name]) == ["new"], name
    assert result.stats["linkcrawler/backlinks/status/live"] == 4


@pytest_twisted.inlineCallbacks
def test_changes_between_checks_make_each_event_once(site: Site) -> None:
    w = site.root
    write(w, "a.html", page(link(text="Great tool")))
    write(w, "b.html", page(link()))
    write(w, "c.html", page("<p>nothing yet</p>"))
    write(w, "d.html", page(link(text="old words")))
    a, b, c, d = (site.know(f"/{n}.html", f"{OUR}/a") for n in "abcd")
    yield site.crawl()
    assert [site.status(x)["status"] for x in (a, b, c, d)] == ["live", "live", "removed", "live"]

    # A re-check that finds nothing changed writes no event.
    before = len(site.events())
    yield site.crawl()
    assert len(site.events()) == before

    write(w, "a.html", page("<p>link removed</p>"))           # live -> removed: lost
    write(w, "b.html", page(link(rel="nofollow")))             # live -> nofollow: degraded
    write(w, "c.html", page(link()))                           # removed -> live: recovered
    write(w, "d.html", page(link(text="new words")))           # anchor changed: changed
    yield site.crawl()
    assert site.event_types(a) == ["new", "lost"]
    assert site.event_types(b) == ["new", "degraded"]
    assert site.event_types(c) == ["new", "lost", "recovered"]
    assert site.event_types(d) == ["new", "changed"]
    assert site.status(d)["anchor_text"] == "new words"
    history = [h["status"] for h in site.status(c)["history"]]
    assert history == ["pending", "removed", "live"]

    # Running again changes nothing.
    before = len(site.events())
    yield site.crawl()
    assert len(site.events()) == before


@pytest_twisted.inlineCallbacks
def test_failures_become_unreachable_after_lost_after_checks(site: Site) -> None:
    write(site.root, "flaky.html", status=503)
    flaky = site.know("/flaky.html", f"{OUR}/a")
    write(site.root, "ok.html", page(link()))
    ok = site.know("/ok.html", f"{OUR}/a")
    yield site.crawl()
    write(site.root, "ok.html", status=503)
    for expected_failures in (1, 2):
        doc = site.status(ok)
        yield site.crawl(LINKCRAWLER_LOST_AFTER=3)
        doc = site.status(ok)
        assert doc["status"] == "error" and doc["consecutive_failures"] == expected_failures
        assert site.event_types(ok) == ["new"]
    yield site.crawl(LINKCRAWLER_LOST_AFTER=3)
    doc = site.status(ok)
    assert doc["status"] == "unreachable" and doc["consecutive_failures"] == 3
    assert site.event_types(ok) == ["new", "lost"]
    assert site.events(ok)[1]["from_status"] == "live"
    assert site.status(flaky)["status"] == "unreachable"

    write(site.root, "ok.html", page(link()))
    yield site.crawl()
    assert site.status(ok)["status"] == "live"
    assert site.status(ok)["consecutive_failures"] == 0
    assert site.event_types(ok) == ["new", "lost", "recovered"]


@pytest_twisted.inlineCallbacks
def test_not_modified_page_keeps_states(site: Site) -> None:
    write(site.root, "cached.html", page(link()), etag="v1")
    cached = site.know("/cached.html", f"{OUR}/a")
    yield site.crawl()
    assert site.status(cached)["status"] == "live"
    assert site.status(cached)["etag"] == '"v1"'

    # The page changes but keeps its ETag: the server answers 304, the state stands.
    write(site.root, "cached.html", page("<p>gone</p>"), etag="v1")
    yield site.crawl()
    assert site.status(cached)["status"] == "live"
    assert site.status(cached)["http_status"] == 304
    assert site.event_types(cached) == ["new"]


@pytest_twisted.inlineCallbacks
def test_links_to_our_domains_found_on_a_checked_page_become_new_backlinks(site: Site) -> None:
    write(site.root, "hub.html", page(link() + f'<a href="{OUR}/fresh">fresh</a><a href="http://other.test/">x</a>'))
    site.know("/hub.html", f"{OUR}/a")
    result = yield site.crawl()
    discovered = site.db.backlinks.find_one({"target_url": f"{OUR}/fresh"})
    assert discovered is not None and discovered["status"] == "pending"
    assert discovered["anchor_text"] == "fresh"
    assert site.event_types(discovered["_id"]) == ["new"]
    assert result.stats["linkcrawler/backlinks/discovered"] == 1
    assert site.db.backlinks.count_documents({}) == 2

    # The next check verifies it like any other link, and finds nothing new.
    result = yield site.crawl()
    assert site.status(discovered["_id"])["status"] == "live"
    assert "linkcrawler/backlinks/discovered" not in result.stats


@pytest_twisted.inlineCallbacks
def test_oversized_binary_and_broken_pages_get_an_outcome(site: Site) -> None:
    write(site.root, "broken-html.html", "<html><body><a href='http://our.test/a'>ok</a><div><<<>>\x00</p></td>")
    ids = {
        "huge": site.know("/body?size=300000", f"{OUR}/a"),
        "binary": site.know("/binary", f"{OUR}/a"),
        "broken_html": site.know("/broken-html.html", f"{OUR}/a"),
        "partial": site.know("/partial", f"{OUR}/a"),
    }
    yield site.crawl(DOWNLOAD_MAXSIZE=100_000)
    found = {name: (site.status(i)["status"], site.status(i)["status_reason"]) for name, i in ids.items()}
    assert found["huge"][0] == "blocked" and "larger than DOWNLOAD_MAXSIZE" in found["huge"][1]
    assert found["binary"][0] == "removed"
    assert found["broken_html"][0] == "live"
    assert found["partial"][0] == "error"


@pytest_twisted.inlineCallbacks
def test_each_run_is_recorded_with_its_stats(site: Site) -> None:
    write(site.root, "live.html", page(link()))
    site.know("/live.html", f"{OUR}/a")
    yield site.crawl()
    yield site.crawl()
    runs = list(site.db.runs.find().sort("started_at", 1))
    assert [run["spider"] for run in runs] == ["backlinks", "backlinks"]
    assert runs[0]["finish_reason"] == "finished"
    assert runs[0]["stats"]["linkcrawler/backlinks/status/live"] == 1
    assert runs[0]["arguments"]["check_all"] is True


# --- robots.txt and hosts that do not answer ---------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest_twisted.inlineCallbacks
def test_a_host_that_went_offline_becomes_unreachable(site: Site) -> None:
    # Nothing listens: robots.txt cannot be fetched, which is the host's failure,
    # not a robots decision.
    offline = site.know(f"http://127.0.0.1:{closed_port()}/page.html", f"{OUR}/a")
    for expected_failures in (1, 2):
        yield site.crawl(LINKCRAWLER_LOST_AFTER=3)
        doc = site.status(offline)
        assert doc["status"] == "error" and doc["consecutive_failures"] == expected_failures
        assert "connection refused" in doc["status_reason"]
    yield site.crawl(LINKCRAWLER_LOST_AFTER=3)
    doc = site.status(offline)
    assert doc["status"] == "unreachable" and doc["consecutive_failures"] == 3
    assert doc["status_reason"].startswith("robots.txt unreachable (connection refused)")
    assert site.event_types(offline) == ["new", "lost"]


@pytest_twisted.inlineCallbacks
def test_robots_txt_answering_5xx_defers_to_the_page_on_the_deciding_check(
    site: Site, mockserver_factory: MockServerFactory, tmp_path: Path
) -> None:
    # Host 1: robots.txt fails with 503, the page is fine. Host 2: both fail.
    write(site.root, "robots.txt", status=503)
    write(site.root, "page.html", page(link()))
    fine = site.know("/page.html", f"{OUR}/a")
    down_dir = tmp_path / "down"
    down_dir.mkdir()
    write(down_dir, "robots.txt", status=503)
    write(down_dir, "page.html", status=503)
    down_server = mockserver_factory(host="127.0.0.2", site_dir=down_dir)
    down = site.know(down_server.url("/page.html"), f"{OUR}/a")
    for expected_failures in (1, 2):
        yield site.crawl(LINKCRAWLER_LOST_AFTER=3)
        for link_id in (fine, down):
            doc = site.status(link_id)
            assert doc["status"] == "error" and doc["consecutive_failures"] == expected_failures
            assert doc["status_reason"] == "robots.txt answered HTTP 503: page not fetched for now"
    assert "/page.html" not in site.server.hits()
    assert "/page.html" not in down_server.hits()
    # The check that would make them lost asks the page itself (RFC 9309 2.3.1.4).
    yield site.crawl(LINKCRAWLER_LOST_AFTER=3)
    assert site.status(fine)["status"] == "live" and site.status(fine)["consecutive_failures"] == 0
    assert site.event_types(fine) == ["new"]
    doc = site.status(down)
    assert doc["status"] == "unreachable" and doc["status_reason"] == "HTTP 503 (3 checks in a row)"
    assert site.event_types(down) == ["new", "lost"]
    assert site.server.hits()["/page.html"] == 1


@pytest_twisted.inlineCallbacks
def test_robots_txt_redirected_to_another_host_that_disallows_blocks(
    site: Site, mockserver_factory: MockServerFactory, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    write(other_dir, "robots.txt", "User-agent: *\nDisallow: /\n")
    other = mockserver_factory(host="127.0.0.2", site_dir=other_dir)
    write(site.root, "robots.txt", status=301, headers={"Location": other.url("/robots.txt")})
    write(site.root, "page.html", page(link()))
    forbidden = site.know("/page.html", f"{OUR}/a")
    yield site.crawl()
    doc = site.status(forbidden)
    assert doc["status"] == "blocked" and doc["status_reason"] == "robots.txt disallows this page"
    assert "/page.html" not in site.server.hits()
    assert other.hits() == {"/robots.txt": 1}


@pytest_twisted.inlineCallbacks
def test_a_page_always_over_download_maxsize_is_never_lost(site: Site) -> None:
    huge = site.know("/body?size=300000", f"{OUR}/a")
    for _ in range(3):
        yield site.crawl(DOWNLOAD_MAXSIZE=100_000, LINKCRAWLER_LOST_AFTER=3)
        doc = site.status(huge)
        assert doc["status"] == "blocked" and doc["consecutive_failures"] == 0
        assert doc["status_reason"] == (
            "cannot be verified: page larger than DOWNLOAD_MAXSIZE (100,000 bytes); it has 300,000 bytes"
        )
    assert site.event_types(huge) == ["new"]
