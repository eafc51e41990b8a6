"""The mentions spider against local pages, writing to SecantusDB."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pymongo
import pytest
import pytest_twisted

from linkcrawler.exceptions import ConfigurationError
from linkcrawler.mentions.items import mention_id
from linkcrawler.spiders.mentions import MentionsSpider
from tests.crawling import run_spider
from tests.mockserver import MockServer

OUR = "http://our.test"
FILLER = (
    "We spent three weeks testing every product in this category on real projects, with real "
    "deadlines and a team of five people who had never used any of them before. "
)


def page(article: str, footer: str = "", title: str = "A review") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/about">About</a></nav>'
        f"<main><article><h1>Tools we tried</h1><p>{FILLER * 2}</p>{article}<p>{FILLER}</p></article></main>"
        f"<footer><p>{footer} Copyright 2024.</p></footer></body></html>"
    )


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
    def __init__(self, root: Path, server: MockServer, db: pymongo.database.Database, uri: str, name: str) -> None:
        self.root, self.server, self.db = root, server, db
        self.settings: dict[str, Any] = {
            "MONGO_URI": uri, "MONGO_DATABASE": name,
            "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True,
            "LINKCRAWLER_DATA_DIR": str(root.parent / "data"),
            "LINKCRAWLER_OWN_DOMAINS": "our.test",
            "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": 800},
            "MONGO_FLUSH_INTERVAL": 0.2, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 5,
        }

    def url(self, path: str) -> str:
        return self.server.url(path)

    def crawl(self, settings: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("brand", "Acme,Acme Corp")
        return run_spider(MentionsSpider, {**self.settings, **(settings or {})}, **kwargs)

    def mention(self, path: str, term: str = "Acme") -> dict[str, Any]:
        doc = self.db.mentions.find_one({"_id": mention_id(self.url(path), term)})
        assert doc is not None, f"no mention of {term!r} on {path}"
        return doc

    def statuses(self) -> dict[tuple[str, str], str]:
        base = self.url("")
        return {(doc["page_url"].removeprefix(base), doc["term"]): doc["status"] for doc in self.db.mentions.find()}


@pytest.fixture
def site(site_dir: Path, mockserver: MockServer, mongo_db: pymongo.database.Database,
         mongo_uri: str, mongo_db_name: str) -> Site:
    return Site(site_dir, mockserver, mongo_db, mongo_uri, mongo_db_name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_twisted.inlineCallbacks
def test_candidates_from_a_list_each_page_once(site: Site) -> None:
    w = site.root
    write(w, "linked.html", page(f'<p>We use <a href="{OUR}/">Acme</a> every day. {FILLER}</p>'))
    write(w, "unlinked.html", page(f"<p>The Acme Corp suite won. {FILLER}</p>"))
    write(w, "nofollow.html", page(f'<p>Try <a rel="ugc" href="{OUR}/pricing">Acme</a> now. {FILLER}</p>'))
    write(w, "footer-only.html", page(f"<p>{FILLER}</p>", footer="Hosting by Acme."))
    write(w, "lookalike.html", page(f"<p>We drove through Acmeville and its Acmetown mall. {FILLER}</p>"))
    write(w, "gone.html", status=410)
    dead = f"http://127.0.0.1:{free_port()}/down.html"
    paths = ["/linked.html", "/unlinked.html", "/nofollow.html", "/footer-only.html", "/lookalike.html",
             "/gone.html", "/unlinked.html"]
    listing = w.parent / "urls.csv"
    listing.write_text("URL,Domain Rating\n" + "".join(f"{site.url(p)},{70 if 'unlinked' in p else ''}\n"
                                                         for p in paths) + f"{dead},\n{OUR}/blog/x,\nnot a url,\n")

    result = yield site.crawl(urls=str(listing))

    assert site.statuses() == {
        ("/linked.html", "Acme"): "linked",
        ("/unlinked.html", "Acme"): "unlinked",
        ("/unlinked.html", "Acme Corp"): "unlinked",
        ("/nofollow.html", "Acme"): "nofollow",
    }
    linked = site.mention("/linked.html")
    assert (linked["linked"], linked["link_url"], linked["context"]) == ("followed", f"{OUR}/", "We use Acme every day.")
    nofollow = site.mention("/nofollow.html")
    assert nofollow["rel"] == ["ugc"] and nofollow["link_url"] == f"{OUR}/pricing"
    unlinked = site.mention("/unlinked.html", "Acme Corp")
    assert unlinked["authority"] == 70 and unlinked["matched_text"] == "Acme Corp"
    assert unlinked["title"] == "Tools we tried" and unlinked["contact_ids"] == []
    assert unlinked["history"][0]["status"] == "unlinked" and unlinked["first_seen"] == unlinked["last_checked"]
    # Each page once (the repeated one too), our own domain never.
    hits = site.server.hits()
    assert all(hits.get(p, 0) == 1 for p in paths)
    assert result.stats["linkcrawler/mentions/own_pages_skipped"] == 1
    assert result.stats["linkcrawler/mentions/bad_rows"] == 1
    assert result.stats["linkcrawler/mentions/pages/error"] == 1  # the dead host: no mention known, nothing stored


@pytest_twisted.inlineCallbacks
def test_recheck_failure_policy_gone_and_removed(site: Site) -> None:
    w = site.root
    for name in ("a", "b", "c", "d", "e"):
        write(w, f"{name}.html", page(f"<p>We like Acme a lot. {FILLER}</p>"))
    urls = ",".join(site.url(f"/{n}.html") for n in "abcde")
    yield site.crawl(urls=urls, brand="Acme")
    assert set(site.statuses().values()) == {"unlinked"}

    write(w, "a.html", status=500)
    write(w, "b.html", status=404)
    write(w, "c.html", page(f"<p>No brand here any more. {FILLER}</p>"))
    write(w, "e.html", "<html><head><title>Page not found</title></head><body><h1>Oops</h1></body></html>")
    write(w, "d.html", status=301, headers={"Location": "/d2.html"})
    write(w, "d2.html", page(f"<p>Moved, still about Acme. {FILLER}</p>"))
    result = yield site.crawl(brand="Acme", all="1")

    assert site.statuses() == {("/a.html", "Acme"): "error", ("/b.html", "Acme"): "page_gone",
                               ("/c.html", "Acme"): "removed", ("/d.html", "Acme"): "unlinked",
                               ("/e.html", "Acme"): "page_gone"}
    assert site.mention("/e.html")["status_reason"] == "soft 404: title says 'Page not found'"
    assert site.mention("/a.html")["status_reason"] == "HTTP 500"
    assert site.mention("/a.html")["settled_status"] == "unlinked"
    assert site.mention("/d.html")["final_url"] == site.url("/d2.html")
    assert [h["status"] for h in site.mention("/c.html")["history"]] == ["unlinked", "removed"]
    assert result.stats["linkcrawler/mentions/due_pages"] == 5

    # Not due: nothing is fetched without all=1.
    site.server.reset_hits()
    result = yield site.crawl(brand="Acme")
    assert result.stats.get("linkcrawler/mentions/pages_checked", 0) == 0


@pytest_twisted.inlineCallbacks
def test_unlinked_mention_reclaimed_once(site: Site) -> None:
    w = site.root
    write(w, "post.html", page(f"<p>Acme is the tool we recommend. {FILLER}</p>"))
    yield site.crawl(urls=site.url("/post.html"), brand="Acme")
    assert site.mention("/post.html")["status"] == "unlinked"

    write(w, "post.html", page(f'<p><a href="{OUR}/">Acme</a> is the tool we recommend. {FILLER}</p>'))
    export = site.root.parent / "checked.csv"
    for _ in range(2):  # the second run finds it linked already: nothing more
        yield site.crawl({"FEEDS": {str(export): {"format": "csv", "overwrite": True}}}, brand="Acme", all="1")
    header, row = export.read_text().splitlines()
    assert header.startswith("record,page_url,term,status,previous_status,status_reason,matched_text,context")
    assert row.startswith(f"mentions,{site.url('/post.html')},Acme,linked,linked,")

    mention = site.mention("/post.html")
    assert mention["status"] == "linked" and mention["reclaimed_at"] is not None
    backlinks = list(site.db.backlinks.find())
    assert [(b["source_url"], b["target_url"]) for b in backlinks] == [(site.url("/post.html"), f"{OUR}/")]
    events = list(site.db.link_events.find())
    assert len(events) == 1 and events[0]["type"] == "new"
    assert "reclaimed mention" in events[0]["reason"]
    assert [h["status"] for h in mention["history"]] == ["unlinked", "linked"]


@pytest_twisted.inlineCallbacks
def test_conditional_recheck(site: Site) -> None:
    # The page names one of the two terms: a 304 still vouches for both, both were searched for.
    write(site.root, "tagged.html", page(f"<p>Acme is here. {FILLER}</p>"), etag='"v1"')
    yield site.crawl(urls=site.url("/tagged.html"))
    first = site.mention("/tagged.html")
    assert first["etag"] == '"v1"' and first["searched_terms"] == ["Acme", "Acme Corp"]
    result = yield site.crawl(all="1", settings={"LINKCRAWLER_NOW": "2030-01-01T00:00:00"})
    assert result.stats["linkcrawler/mentions/pages/not_modified"] == 1
    again = site.mention("/tagged.html")
    assert again["status"] == "unlinked" and again["last_checked"].year == 2030
    # A new term was never looked for on that version of the page: it is read whole.
    result = yield site.crawl(all="1", brand="Acme,Acme Corp,Acme Labs",
                              settings={"LINKCRAWLER_NOW": "2031-01-01T00:00:00"})
    assert result.stats["linkcrawler/mentions/pages_read"] == 1
    assert "linkcrawler/mentions/pages/not_modified" not in result.stats


@pytest_twisted.inlineCallbacks
def test_feed_file_with_google_alert_links(site: Site) -> None:
    write(site.root, "news.html", page(f"<p>Acme raised money. {FILLER}</p>"))
    target = site.url("/news.html")
    feed = site.root.parent / "alerts.xml"
    feed.write_text(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Google Alert - Acme</title>'
        f'<entry><link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url={target}&amp;ct=ga"/></entry>'
        "</feed>")
    result = yield site.crawl(feed=str(feed), brand="Acme")
    assert site.statuses() == {("/news.html", "Acme"): "unlinked"}
    assert result.stats["linkcrawler/mentions/candidates/feed"] == 1
    # The feed served over HTTP reads the same.
    write(site.root, "alerts.xml", feed.read_text())
    site.db.mentions.delete_many({})
    yield site.crawl(feed=site.url("/alerts.xml"), brand="Acme")
    assert site.statuses() == {("/news.html", "Acme"): "unlinked"}


def test_brand_terms_are_required() -> None:
    from scrapy.utils.test import get_crawler

    with pytest.raises(ConfigurationError, match="no brand terms: give -a brand=TERMS"):
        MentionsSpider.from_crawler(get_crawler(MentionsSpider, {"LINKCRAWLER_BRAND_TERMS": ""}))
    spider = MentionsSpider.from_crawler(get_crawler(MentionsSpider, {"LINKCRAWLER_BRAND_TERMS": "Acme, Acme Corp"}))
    assert spider.terms.terms == ("Acme", "Acme Corp")
    with pytest.raises(ConfigurationError, match="neither a file nor"):
        MentionsSpider(brand="Acme", feed="nowhere.xml")
    with pytest.raises(ConfigurationError, match="neither a file nor comma-separated"):
        MentionsSpider(brand="Acme", urls="missing-list.txt")


def test_a_feed_file_that_is_no_feed_is_one_clear_line(tmp_path: Path) -> None:
    not_a_feed = tmp_path / "notes.txt"
    not_a_feed.write_text("remember to buy milk\n")
    with pytest.raises(ConfigurationError, match=r"notes.txt': not an RSS or Atom feed \(no entry found\)"):
        MentionsSpider(brand="Acme", feed=str(not_a_feed))


@pytest_twisted.inlineCallbacks
def test_listing_best_first_with_contacts(site: Site, tmp_path: Path, mongo_uri: str, mongo_db_name: str) -> None:
    from tests.test_cli import scrapy

    w = site.root
    write(w, "low.html", page(f"<p>{FILLER}</p><p>In passing, Acme. {FILLER}</p>", title="Gardening"))
    write(w, "title.html", page(f"<p>Acme is great. {FILLER}</p>", title="Why Acme is great"))
    write(w, "strong.html", page(f"<p>Acme again. {FILLER}</p>"))
    write(w, "linked.html", page(f'<p><a href="{OUR}/">Acme</a> linked. {FILLER}</p>'))
    listing = tmp_path / "export.csv"
    listing.write_text("Link,Authority\n" + "\n".join(
        f"{site.url(p)},{a}" for p, a in [("/low.html", ""), ("/title.html", ""), ("/strong.html", "95"),
                                          ("/linked.html", "")]) + "\n")
    yield site.crawl(urls=str(listing), brand="Acme")
    site.db.contacts.insert_many([
        {"domain": "127.0.0.1", "key": "email:jo@blog.example", "name": "Jo Editor", "email": "jo@blog.example",
         "confidence": 0.9},
        {"domain": "127.0.0.1", "key": "email:x@blog.example", "name": "Someone", "email": "x@blog.example",
         "confidence": 0.2},
    ])

    out = tmp_path / "mentions.csv"
    done = scrapy("mentions", "--limit", "10", "-o", str(out),
                  env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name})
    assert done.returncode == 0, done.stderr
    order = [line.split()[3] for line in done.stdout.splitlines() if line.strip().startswith("priority")]
    assert order == [site.url("/strong.html"), site.url("/title.html"), site.url("/low.html")]
    assert "contact: jo@blog.example" in done.stdout
    rows = out.read_text().splitlines()
    assert rows[0].startswith("priority,status,page_url") and len(rows) == 4
    assert "jo@blog.example" in rows[1]

    wrong = scrapy("mentions", "--status", "lost", env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name})
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: mentions: unknown mention status 'lost'")


def test_crawl_without_brand_is_one_clear_line(mongo_uri: str, mongo_db_name: str) -> None:
    from tests.test_cli import scrapy

    done = scrapy("crawl", "mentions", "-a", "urls=https://example.com/",
                  env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_BRAND_TERMS": ""})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: mentions: no brand terms: give -a brand=TERMS (comma-separated) or set LINKCRAWLER_BRAND_TERMS")


@pytest_twisted.inlineCallbacks
def test_two_workers_share_the_crawl_through_redis(site: Site, redis_url: str) -> None:
    from twisted.internet.defer import gatherResults

    paths = [f"/shared/{i}.html" for i in range(30)]
    for path in paths:
        write(site.root, path, page(f"<p>Acme, page {path}. {FILLER}</p>"))
    urls = ",".join(site.url(p) for p in paths + paths[:10])  # repeats: still one fetch each
    shared = {"REDIS_URL": redis_url, "SCHEDULER_IDLE_BEFORE_CLOSE": 1, "SCHEDULER_RUN_ID": "mentions-test"}
    results = yield gatherResults([site.crawl(shared, urls=urls, brand="Acme"),
                                   site.crawl(shared, urls=urls, brand="Acme")])

    hits = site.server.hits()
    assert {p: hits.get(p) for p in paths} == dict.fromkeys(paths, 1)
    assert sum(r.stats.get("linkcrawler/mentions/pages_checked", 0) for r in results) == 30
    assert site.db.mentions.count_documents({"status": "unlinked"}) == 30

    # A re-check through Redis: the known mentions travel with their requests.
    write(site.root, paths[0], page(f'<p><a href="{OUR}/">Acme</a> now. {FILLER}</p>'))
    again = {**shared, "SCHEDULER_RUN_ID": "mentions-test-2"}
    yield gatherResults([site.crawl(again, brand="Acme", all="1"), site.crawl(again, brand="Acme", all="1")])
    assert site.db.mentions.count_documents({"status": "unlinked"}) == 29
    assert site.mention(paths[0])["reclaimed_at"] is not None
    assert site.db.link_events.count_documents({}) == 1


@pytest_twisted.inlineCallbacks
def test_a_long_list_is_read_as_pages_finish(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import linkcrawler.spiders.mentions as spider_module

    monkeypatch.setattr(spider_module, "MAX_PENDING", 6)
    monkeypatch.setattr(spider_module, "BATCH", 3)
    paths = [f"/many/{i}.html" for i in range(60)]
    for path in paths:
        write(site.root, path, page(f"<p>Acme {path}. {FILLER}</p>"))
    listing = site.root.parent / "many.txt"
    listing.write_text("".join(site.url(p) + "\n" for p in paths + paths[:5]))

    # Downloads slower than reading the list: without a bound the requests would pile up.
    result = yield site.crawl({"CONCURRENT_REQUESTS": 2, "DOWNLOAD_DELAY": 0.03}, urls=str(listing), brand="Acme")

    # Without the bound Scrapy takes them from start() as fast as they come (54 pending, measured).
    assert result.stats["linkcrawler/mentions/max_pending"] <= 6 + 3
    assert site.db.mentions.count_documents({}) == 60
    assert result.stats["linkcrawler/mentions/pages_checked"] == 60


def test_demo_step(tmp_path: Path, mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database,
                   capfd: pytest.CaptureFixture[str]) -> None:
    from linkcrawler.commands.demo import run, say
    from linkcrawler.demo.mentions import run_mentions_demo
    from linkcrawler.demo.server import DemoSite

    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name,
           "LINKCRAWLER_DATA_DIR": str(tmp_path / "data")}
    with DemoSite(tmp_path / "site") as demo:
        run_mentions_demo(demo, env, run, say)
    out = capfd.readouterr().out
    found = {doc["page_url"].rsplit("/", 1)[1]: doc["status"] for doc in mongo_db.mentions.find()}
    assert found == {"linked.html": "linked", "unlinked.html": "linked", "nofollow.html": "nofollow"}
    assert "3 mention(s), best first:" in out
    assert "reclaimed " in out and "now a monitored backlink" in out
    assert mongo_db.link_events.count_documents({"type": "new", "reason": {"$regex": "^reclaimed mention"}}) == 1


@pytest_twisted.inlineCallbacks
def test_limit_and_exclusions(site: Site) -> None:
    for i in range(5):
        write(site.root, f"l/{i}.html", page(f"<p>Acme page {i}. {FILLER}</p>"))
    write(site.root, "fruit.html", page(f"<p>An apple pie from the orchard. {FILLER}</p>"))
    write(site.root, "phone.html", page(f"<p>Apple released a phone. {FILLER}</p>"))
    urls = ",".join(site.url(f"/l/{i}.html") for i in range(5))
    result = yield site.crawl(urls=urls, brand="Acme", limit="2")
    assert result.stats["linkcrawler/mentions/pages_checked"] == 2
    assert site.db.mentions.count_documents({}) == 2

    yield site.crawl(urls=f"{site.url('/fruit.html')},{site.url('/phone.html')}", brand="Apple", exclude="pie,orchard")
    assert site.statuses() == {**{k: v for k, v in site.statuses().items() if k[1] == "Acme"},
                               ("/phone.html", "Apple"): "unlinked"}
