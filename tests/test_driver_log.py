"""The MongoDB driver in a crawl's log: quiet by default, one client per process."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pymongo
import pytest
import pytest_twisted

from linkcrawler.spiders.site_audit import SiteAuditSpider
from tests.crawling import run_spider
from tests.mockserver import MockServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def small_site(site_dir: Path) -> None:
    (site_dir / "index.html").write_text('<html><body><a href="/a.html">A</a> <a href="/gone.html">B</a></body></html>')
    (site_dir / "a.html").write_text('<html><head><title>A</title></head><body><a href="/">Home</a></body></html>')


def crawl(site: MockServer, mongo_uri: str, database: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "site_audit", "-a", f"start_url={site.url('/')}",
         "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1", "-s", "LINKCRAWLER_AUDIT_CHECK_EXTERNAL=0"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180,
        env={**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, **env},
    )


def test_a_crawl_log_has_no_driver_lines_at_the_default_level(site_dir: Path, mockserver: MockServer,
                                                              mongo_uri: str, mongo_db_name: str,
                                                              mongo_db: pymongo.database.Database) -> None:
    small_site(site_dir)
    done = crawl(mockserver, mongo_uri, mongo_db_name)
    assert done.returncode == 0, done.stderr[-3000:]
    assert mongo_db.pages.count_documents({}) >= 2  # the crawl did write through the driver
    assert "DEBUG: Crawled (200)" in done.stderr  # Scrapy's own DEBUG lines are still there
    assert "[pymongo" not in done.stderr


def test_the_driver_log_level_setting_shows_one_client(site_dir: Path, mockserver: MockServer,
                                                       mongo_uri: str, mongo_db_name: str) -> None:
    small_site(site_dir)
    done = crawl(mockserver, mongo_uri, mongo_db_name, LINKCRAWLER_DRIVER_LOG_LEVEL="DEBUG")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[pymongo.command] DEBUG" in done.stderr
    # Every pymongo line names its client: the pipeline, the runs extension and the
    # spider all wrote through one.
    clients = set(re.findall(r'"clientId": \{"\$oid": "([0-9a-f]+)"\}', done.stderr))
    assert len(clients) == 1, clients


@pytest_twisted.inlineCallbacks
def test_components_share_one_client_in_a_crawl_run_by_a_script(site_dir: Path, mockserver: MockServer,
                                                                mongo_uri: str, mongo_db_name: str,
                                                                mongo_db: pymongo.database.Database,
                                                                caplog: pytest.LogCaptureFixture):
    # No crawl command holds the store here: each component opens it for itself.
    small_site(site_dir)
    caplog.set_level(logging.DEBUG, logger="pymongo")
    result = yield run_spider(SiteAuditSpider, {
        "MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_DRIVER_LOG_LEVEL": "DEBUG",
        "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": 800},
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "LINKCRAWLER_AUDIT_CHECK_EXTERNAL": False,
    }, start_url=mockserver.url("/"))
    assert result.stats["finish_reason"] == "finished"
    assert mongo_db.runs.count_documents({}) == 1
    started = [json.loads(r.getMessage())["topologyId"]["$oid"] for r in caplog.records
               if r.name == "pymongo.topology" and "Starting topology monitoring" in r.getMessage()]
    assert len(started) == 1, started
