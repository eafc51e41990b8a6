"""The contacts spider against local sites, writing to SecantusDB; the queue moved by real crawls."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pymongo
import pytest
import pytest_twisted

from linkcrawler.backlinks.items import backlink_id
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.contacts.store import contact_id
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.extensions.outreach import OutreachSync
from linkcrawler.spiders.backlinks import BacklinksSpider
from linkcrawler.spiders.contacts import ContactsSpider
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.aio import asyncio_test
from tests.crawling import crawl_settings, run_spider
from tests.fixtures.web import MockServerFactory
from tests.mockserver import MockServer

PIPELINES = {"pipelines.mongo.MongoWriterPipeline": 800}
BACKLINK_PIPELINES = {
    "pipelines.backlink_state.BacklinkStatePipeline": 300,
    "pipelines.mongo.MongoWriterPipeline": 800,
}
OUR = "http://our.test/"


def page(body: str, head: str = "", title: str = "A page") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def write(site: Path, path: str, html: str, **meta: Any) -> None:
    file = site / path.lstrip("/")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(html, encoding="utf-8")
    if meta:
        file.with_name(file.name + ".meta.json").write_text(json.dumps(meta))


def hits(server: MockServer) -> dict[str, int]:
    with urllib.request.urlopen(server.url("/_hits")) as answer:
        return dict(json.load(answer))


@pytest.fixture
def settings(mongo_uri: str, mongo_db_name: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "ITEM_PIPELINES": PIPELINES,
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "LINKCRAWLER_DATA_DIR": str(tmp_path / "data"),
        "MONGO_FLUSH_INTERVAL": 0.2, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 5,
    }


def blog(site: Path) -> None:
    """A linking page with a byline, linking to its contact and team pages."""
    write(site, "robots.txt", "User-agent: *\nDisallow: /private/\n")
    write(site, "post.html", page(
        '<p class="byline">By Jane Doe</p><p>Great tools: <a href="http://our.test/">Acme</a>.</p>'
        '<nav><a href="/kontakt.html">Kontakt</a> <a href="/team.html">Unser Team</a>'
        ' <a href="/private/staff.html">Staff</a> <a href="/shop.html">Shop</a></nav>',
        head='<meta name="author" content="Jane Doe">'))
    write(site, "kontakt.html", page(
        '<p>Schreiben Sie an <a href="mailto:redaktion@janedoe.org">die Redaktion</a> '
        'oder jane [at] janedoe [dot] org.</p>'))
    write(site, "team.html", page(
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Person",'
        ' "name": "Jane Doe", "email": "jane@janedoe.org", "jobTitle": "Editor",'
        ' "sameAs": ["https://twitter.com/janedoe"]}</script><h1>Team</h1>'))
    write(site, "private/staff.html", page('<a href="mailto:secret@janedoe.org">x</a>'))


@pytest_twisted.inlineCallbacks
def test_a_site_read_from_its_page_and_its_contact_pages(site_dir: Path, mockserver: MockServer,
                                                         mongo_db: pymongo.database.Database,
                                                         settings: dict[str, Any]) -> None:
    blog(site_dir)
    result = yield run_spider(ContactsSpider, settings, urls=mockserver.url("/post.html"))
    contacts = {doc["key"]: doc for doc in mongo_db.contacts.find()}
    assert set(contacts) == {"email:jane@janedoe.org", "name:jane doe", "email:redaktion@janedoe.org"}
    desk = contacts["email:redaktion@janedoe.org"]
    assert desk["role_address"] is True and desk["role"] == "redaktion"
    assert desk["sources"] == [{"url": mockserver.url("/kontakt.html"), "method": "mailto"}]
    jane = contacts["email:jane@janedoe.org"]
    assert jane["domain"] == "127.0.0.1" and jane["name"] == "Jane Doe" and jane["role"] == "Editor"
    assert {s["method"] for s in jane["sources"]} == {"json_ld", "obfuscated"}
    assert {s["url"] for s in jane["sources"]} == {mockserver.url("/team.html"), mockserver.url("/kontakt.html")}
    assert jane["profiles"] == ["https://twitter.com/janedoe"]
    byline = contacts["name:jane doe"]
    assert {s["method"] for s in byline["sources"]} == {"byline", "meta_author"}
    assert jane["_id"] == contact_id("127.0.0.1", "email:jane@janedoe.org")
    # robots.txt kept the staff page out; the shop page says nothing about contacts.
    seen = hits(mockserver)
    assert "/private/staff.html" not in seen and "/shop.html" not in seen
    assert result.stats["linkcrawler/contacts/sites"] == 1
    assert result.stats["linkcrawler/contacts/sites_done"] == 1


@pytest_twisted.inlineCallbacks
def test_contacts_merge_across_runs_without_doubling(site_dir: Path, mockserver: MockServer,
                                                     mongo_db: pymongo.database.Database,
                                                     settings: dict[str, Any]) -> None:
    blog(site_dir)
    yield run_spider(ContactsSpider, settings, urls=mockserver.url("/post.html"))
    first = {doc["_id"]: doc for doc in mongo_db.contacts.find()}
    yield run_spider(ContactsSpider, settings, urls=mockserver.url("/post.html"))
    second = {doc["_id"]: doc for doc in mongo_db.contacts.find()}
    assert set(first) == set(second)
    for key, doc in second.items():
        assert doc["sources"] == first[key]["sources"] and doc["confidence"] == first[key]["confidence"]
    # A new page showing Jane's address by mailto adds a source and raises the confidence.
    write(site_dir, "kontakt.html", page('<a href="mailto:jane@janedoe.org">Jane Doe</a>'))
    yield run_spider(ContactsSpider, settings, urls=mockserver.url("/post.html"))
    jane = mongo_db.contacts.find_one({"key": "email:jane@janedoe.org"})
    assert jane is not None
    assert {s["method"] for s in jane["sources"]} == {"json_ld", "obfuscated", "mailto"}
    assert jane["confidence"] >= first[contact_id("127.0.0.1", "email:jane@janedoe.org")]["confidence"]


@pytest_twisted.inlineCallbacks
def test_the_pages_per_site_are_bounded_and_usual_paths_fill_in(site_dir: Path, mockserver: MockServer,
                                                                mongo_db: pymongo.database.Database,
                                                                settings: dict[str, Any]) -> None:
    write(site_dir, "post.html", page("<p>no contact links here</p>"))
    write(site_dir, "index.html", page("<p>Run by <b>Max Mustermann</b>, max@firma.de</p>"))
    write(site_dir, "impressum", page("<p>Verantwortlich: max.mustermann@firma.de</p>"),
          headers={"Content-Type": "text/html; charset=utf-8"})
    yield run_spider(ContactsSpider, {**settings, "LINKCRAWLER_CONTACTS_MAX_PAGES": 4},
                     urls=mockserver.url("/post.html"))
    seen = hits(mockserver)
    pages = [path for path in seen if path not in ("/robots.txt",)]
    # The page, the home page, then /contact and /about (404) fill the budget of 4: /impressum is not reached.
    assert sorted(pages) == ["/", "/about", "/contact", "/post.html"]
    # The home page is no contact page: its address is a text match.
    (home,) = mongo_db.contacts.find()
    assert home["email"] == "max@firma.de" and home["sources"] == [{"url": mockserver.url("/"), "method": "text"}]
    yield run_spider(ContactsSpider, settings, urls=mockserver.url("/post.html"), max_pages="6")
    found = mongo_db.contacts.find_one({"email": "max.mustermann@firma.de"})
    assert found is not None
    assert found["sources"] == [{"url": mockserver.url("/impressum"), "method": "contact_page"}]


@pytest_twisted.inlineCallbacks
def test_a_gone_page_still_leads_to_the_sites_contact_page(site_dir: Path, mockserver: MockServer,
                                                           mongo_db: pymongo.database.Database,
                                                           settings: dict[str, Any]) -> None:
    write(site_dir, "contact", page('<a href="mailto:owner@shop.co.uk">Owner</a>'),
          headers={"Content-Type": "text/html"})
    result = yield run_spider(ContactsSpider, settings, urls=mockserver.url("/gone.html"))
    assert result.stats["linkcrawler/contacts/failed/http_404"] >= 1
    (found,) = mongo_db.contacts.find()
    assert found["email"] == "owner@shop.co.uk" and found["domain"] == "127.0.0.1"


def test_domains_and_urls_name_the_sites(tmp_path: Path) -> None:
    sites = ContactsSpider._domain_sites("Blog.Example.co.uk, http://127.0.0.1:8080/start,")
    assert [(s.domain, s.start_url) for s in sites] == [
        ("example.co.uk", "https://blog.example.co.uk/"), ("127.0.0.1", "http://127.0.0.1:8080/start")]
    with pytest.raises(ConfigurationError, match=r"'exa mple\.com' is not a domain"):
        ContactsSpider._domain_sites("exa mple.com")
    listing = tmp_path / "links.csv"
    listing.write_text("Referring page URL,Domain rating\nhttps://www.site.org/post,50\nnot a url,1\n")
    spider = ContactsSpider(urls=str(listing))
    assert [(s.domain, s.start_url) for s in spider._read_urls(str(listing))] == [
        ("site.org", "https://www.site.org/post")]


def test_arguments_are_checked_before_the_crawl() -> None:
    with pytest.raises(ConfigurationError, match="give -a from="):
        ContactsSpider()
    with pytest.raises(ConfigurationError, match="-a from='links' is not valid: expected one of backlinks"):
        ContactsSpider(**{"from": "links"})
    with pytest.raises(ConfigurationError, match="max_pages"):
        ContactsSpider(domains="a.com", max_pages="0")


@pytest_twisted.inlineCallbacks
def test_from_backlinks_reads_the_sites_of_valuable_links(mockserver_factory: MockServerFactory, tmp_path: Path,
                                                          mongo_db: pymongo.database.Database,
                                                          settings: dict[str, Any]) -> None:
    valuable, weak = tmp_path / "valuable", tmp_path / "weak"
    valuable.mkdir()
    weak.mkdir()
    write(valuable, "post.html", page('<a href="mailto:me@valuable.org">Val Able</a>'))
    write(weak, "post.html", page('<a href="mailto:me@weak.org">Weak Link</a>'))
    one = mockserver_factory("127.0.0.2", valuable)
    two = mockserver_factory("127.0.0.3", weak)
    ensure_indexes(mongo_db)
    now = datetime.now(timezone.utc)
    for server, authority in ((one, 90), (two, 0)):
        url = server.url("/post.html")
        write_batch(mongo_db, new_backlink_ops(url, OUR, now, "test", authority=authority))
        mongo_db.backlinks.update_one({"_id": backlink_id(url, OUR)}, {"$set": {"status": "live"}})
    yield run_spider(ContactsSpider, settings, **{"from": "backlinks"})
    assert [doc["email"] for doc in mongo_db.contacts.find()] == ["me@valuable.org"]


@pytest_twisted.inlineCallbacks
def test_a_reclaim_task_is_won_when_the_real_crawl_sees_the_link_come_back(
        site_dir: Path, mockserver: MockServer, mongo_db: pymongo.database.Database,
        settings: dict[str, Any]) -> None:
    """lost -> task (made by the extension when the backlinks crawl closes) -> recovered -> won."""
    crawl = {**settings, "ITEM_PIPELINES": BACKLINK_PIPELINES}
    url = mockserver.url("/post.html")
    ensure_indexes(mongo_db)
    write_batch(mongo_db, new_backlink_ops(url, OUR, datetime.now(timezone.utc), "test", authority=90))
    link = backlink_id(url, OUR)
    write(site_dir, "post.html", page(f'<a href="{OUR}">Acme</a><a href="mailto:ed@valuable.org">Ed Itor</a>'))
    yield run_spider(BacklinksSpider, crawl, all="1")
    assert mongo_db.backlinks.find_one({"_id": link})["status"] == "live"
    write(site_dir, "post.html", page('<p>link removed</p><a href="mailto:ed@valuable.org">Ed Itor</a>'))
    yield run_spider(BacklinksSpider, crawl, all="1")
    assert mongo_db.backlinks.find_one({"_id": link})["status"] == "removed"
    tasks = list(mongo_db.outreach.find({"ref": link}))
    # The thank-you the first crawl made (nobody sent it) turned into the reclaim.
    assert [(t["kind"], t["status"]) for t in tasks] == [("reclaim_lost_link", "todo")]
    assert tasks[0]["contact_id"] is None
    yield run_spider(ContactsSpider, settings, **{"from": "backlinks"})
    task = mongo_db.outreach.find_one({"ref": link})
    assert task["contact_id"] == contact_id("127.0.0.1", "email:ed@valuable.org")
    write(site_dir, "post.html", page(f'<a href="{OUR}">Acme</a>'))
    yield run_spider(BacklinksSpider, crawl, all="1")
    won = mongo_db.outreach.find_one({"ref": link})
    assert won["status"] == "won"
    recovered = mongo_db.link_events.find_one({"backlink_id": link, "type": "recovered"})
    assert [h["cause"]["id"] for h in won["history"] if h["to"] == "won"] == [recovered["_id"]]
    # A replayed crawl (nothing changed) moves nothing again.
    yield run_spider(BacklinksSpider, crawl, all="1")
    assert mongo_db.outreach.find_one({"ref": link})["history"] == won["history"]


@pytest_twisted.inlineCallbacks
def test_the_sync_can_be_turned_off(site_dir: Path, mockserver: MockServer, mongo_db: pymongo.database.Database,
                                    settings: dict[str, Any]) -> None:
    url = mockserver.url("/post.html")
    ensure_indexes(mongo_db)
    write_batch(mongo_db, new_backlink_ops(url, OUR, datetime.now(timezone.utc), "test", authority=90))
    write(site_dir, "post.html", page("<p>no link</p>"))
    yield run_spider(BacklinksSpider, {**settings, "ITEM_PIPELINES": BACKLINK_PIPELINES,
                                       "LINKCRAWLER_OUTREACH_SYNC": False}, all="1")
    assert mongo_db.link_events.count_documents({"type": "lost"}) == 1
    assert mongo_db.outreach.count_documents({}) == 0


@asyncio_test
async def test_a_sync_that_fails_never_fails_the_crawl(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    settings = crawl_settings({"MONGO_URI": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200",
                               "MONGO_CONNECT_TIMEOUT": 0.3, "LINKCRAWLER_DATA_DIR": str(tmp_path)})
    extension = OutreachSync(settings)
    await extension.spider_closed(BacklinksSpider(), "finished")
    assert "outreach: the queue was not updated (the next sync will do it)" in caplog.text
