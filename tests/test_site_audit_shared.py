"""site_audit shared through Redis, in this process: workers split the fetching, one writes the report.

The report of a shared audit is the report of a single process: the same pages,
broken links and redirected links, found by fetching each URL once in all.
(``tests/test_site_audit_distributed.py`` does it with worker processes, one of
them killed.)
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pymongo
import pytest
import pytest_twisted
import redis
from twisted.internet.defer import Deferred, DeferredList

from linkcrawler.audit.items import AuditFact, AuditTotals
from linkcrawler.crawl.book import AuditBook, fold_totals
from linkcrawler.spiders.site_audit import SiteAuditSpider
from linkcrawler.web.urls import normalize_url
from tests.crawling import CrawlResult, run_spider
from tests.test_site_audit import (
    Site,
    audit_settings,
    audited_site,
    head_refusing_server,
)

TIMESTAMPS = {"_id", "first_crawled", "last_crawled", "first_seen", "last_seen"}


def snapshot(db: pymongo.database.Database) -> dict[str, Any]:
    def clean(doc: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in doc.items() if key not in TIMESTAMPS}

    return {
        "pages": {doc["url"]: clean(doc) for doc in db.pages.find()},
        "broken_links": {(doc["page_url"], doc["link_url"]): clean(doc) for doc in db.broken_links.find()},
        "redirected_links": {(doc["page_url"], doc["link_url"]): clean(doc) for doc in db.redirected_links.find()},
    }


def shared_settings(mongo_uri: str, database: str, redis_url: str, **extra: Any) -> dict[str, Any]:
    # One request at a time per worker, a little apart: both workers get a share of a small site.
    return audit_settings(mongo_uri, database, REDIS_URL=redis_url, SCHEDULER_RUN_ID="audit-1",
                          SCHEDULER_IDLE_BEFORE_CLOSE=0.5, SCHEDULER_WORKER_TTL=3, MONGO_FLUSH_INTERVAL=0.2,
                          SCHEDULER_PREFETCH=1, CONCURRENT_REQUESTS=1, DOWNLOAD_DELAY=0.02, **extra)


def repr_item(item: Any) -> str:
    """An item without its timestamps, comparable across runs."""
    fields = {name: getattr(item, name) for name in item.__slots__
              if name not in ("crawled_at", "seen_at", "counted_at")}
    return f"{type(item).__name__}{sorted(fields.items())}"


def assert_same_report(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for name in expected:
        assert set(actual[name]) == set(expected[name]), f"{name}: keys differ"
        differing = {key: (actual[name][key], value) for key, value in expected[name].items()
                     if actual[name][key] != value}
        assert not differing, f"{name}: {differing}"


def single_process_report(audited_site: Site, mongo_uri: str, mongo_db: pymongo.database.Database,
                          mongo_db_name: str) -> Generator[Deferred[Any], Any, tuple[CrawlResult, dict[str, Any]]]:
    single_db = mongo_db.client[mongo_db_name + "_single"]
    try:
        single: CrawlResult = yield run_spider(
            SiteAuditSpider, audit_settings(mongo_uri, single_db.name), start_url=audited_site.url("/"))
        return single, snapshot(single_db)
    finally:
        mongo_db.client.drop_database(single_db.name)


def two_workers(site: Site, settings: dict[str, Any]) -> Generator[Deferred[Any], Any, list[CrawlResult]]:
    """Two workers of one shared audit, run at the same time in this process."""
    outcomes = yield DeferredList([
        run_spider(SiteAuditSpider, settings, start_url=site.url("/")) for _ in range(2)
    ], fireOnOneErrback=True, consumeErrors=True)
    return [result for _, result in outcomes]


@pytest_twisted.inlineCallbacks
def test_two_workers_make_the_report_of_one(
    audited_site: Site, mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database, redis_url: str,
) -> Generator[Deferred[Any], Any, None]:
    single, expected = yield from single_process_report(audited_site, mongo_uri, mongo_db, mongo_db_name)
    hits_before = audited_site.server.hits()

    results = yield from two_workers(audited_site, shared_settings(mongo_uri, mongo_db_name, redis_url))

    assert_same_report(snapshot(mongo_db), expected)
    assert expected["pages"] and expected["broken_links"] and expected["redirected_links"]
    # Both fetched; one made the report (its items went through its pipelines).
    fetched_by = [r.stats.get("linkcrawler/site_audit/facts/page", 0) for r in results]
    assert all(fetched_by), f"pages fetched by each worker: {fetched_by}"
    reports = [[item for item in r.items if not isinstance(item, AuditFact)] for r in results]
    reporters = [r for r, report in zip(results, reports, strict=True) if report]
    assert len(reporters) == 1
    assert reporters[0].stats["linkcrawler/site_audit/pages"] == len(expected["pages"])
    # The items of one process, the totals written into the pages (one write per page).
    [totals] = [item for item in single.items if isinstance(item, AuditTotals)]
    expected_items = fold_totals([item for item in single.items if item is not totals], totals)
    assert sorted(map(repr_item, reports[0] + reports[1])) == sorted(map(repr_item, expected_items))
    # The two workers together made the requests a single process made (each URL
    # once, plus a retry of the 500), but robots.txt, which each worker's robots
    # middleware reads.
    hits = audited_site.server.hits()
    fetched = {path: hits[path] - hits_before.get(path, 0) for path in hits if path != "/robots.txt"}
    assert fetched == {path: n for path, n in hits_before.items() if path != "/robots.txt"}
    assert max(fetched.values()) == 2 and fetched["/error.html"] == 2
    # The facts were removed with the report; the run's task is done.
    assert mongo_db.audit_fetches.count_documents({}) == 0
    server = redis.Redis.from_url(redis_url)
    site = audited_site.base.removeprefix("http://").rstrip("/")
    assert server.get(f"linkcrawler:site_audit:{site}:run:audit-1:task:report") == b"/done"


@pytest_twisted.inlineCallbacks
def test_what_no_worker_fetched_is_fetched_for_the_report(
    audited_site: Site, mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database, redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Generator[Deferred[Any], Any, None]:
    """A URL the report needs and no worker fetched (in real crawls: reached first by a longer path,
    so left beyond max_depth) is fetched by the reporting worker, then the report is made again."""
    _, expected = yield from single_process_report(audited_site, mongo_uri, mongo_db, mongo_db_name)
    left_out = {normalize_url(url) for url in (
        audited_site.url("/missing.html"), audited_site.url("/new.html"), f"{audited_site.ext}/dead.html")}
    explore = AuditBook.explore

    def explore_but_some(self: AuditBook, *args: Any) -> Any:
        return (fetch for fetch in explore(self, *args) if fetch.url not in left_out)

    monkeypatch.setattr(AuditBook, "explore", explore_but_some)
    results = yield from two_workers(audited_site, shared_settings(mongo_uri, mongo_db_name, redis_url))

    assert_same_report(snapshot(mongo_db), expected)
    # A linked page, a redirect's next hop, an external link: fetched for the report.
    assert sum(r.stats.get("linkcrawler/site_audit/report_fetches", 0) for r in results) == 3
