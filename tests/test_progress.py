"""A long crawl says how far it is: done, of how many, how fast, how long is left."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pymongo

from linkcrawler.extensions.progress import progress_line
from tests.mockserver import MockServer
from tests.test_cli import scrapy
from tests.test_feed_exports import LINKING_PAGE, _env


def test_progress_line() -> None:
    assert progress_line("links checked", 1234, 20000, 41.2) == \
        "1,234 of 20,000 links checked (41.2/s), about 7m35s left"
    assert progress_line("links checked", 20000, 20000, 50.0) == "20,000 of 20,000 links checked (50.0/s)"
    assert progress_line("URLs fetched", 512, None, 12.5) == "512 URLs fetched (12.5/s)"
    assert progress_line("links checked", 10, 5000, 0.0) == "10 of 5,000 links checked (0.0/s)"
    assert progress_line("links checked", 0, 720_000, 50.0).endswith("about 4h00m left")


def test_a_backlinks_crawl_logs_its_progress(tmp_path: Path, site_dir: Path, mockserver: MockServer,
                                             mongo_uri: str, mongo_db_name: str,
                                             mongo_db: pymongo.database.Database) -> None:
    (site_dir / "page.html").write_text(LINKING_PAGE)
    export = tmp_path / "export.csv"
    export.write_text("source_url,target_url\n" + "".join(
        f"{mockserver.url('/page.html')}?n={n},http://our.test/\n" for n in range(12)))
    env = _env(mongo_uri, mongo_db_name)
    assert scrapy("importlinks", str(export), env=env).returncode == 0
    done = scrapy("crawl", "backlinks", "-s", "LINKCRAWLER_PROGRESS_INTERVAL=0.05", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "backlinks: 12 link(s) due for a check" in done.stderr
    assert "backlinks: 12 of 12 links checked" in done.stderr
    assert " links checked (" in done.stderr
    # None due until 2100; every one of them with -a all=1 (counted from the collection's size).
    mongo_db.backlinks.update_many({}, {"$set": {"next_check": datetime(2100, 1, 1, tzinfo=timezone.utc)}})
    links = mongo_db.backlinks.count_documents({})
    again = scrapy("crawl", "backlinks", env=env)
    assert "backlinks: 0 link(s) due for a check" in again.stderr, again.stderr[-3000:]
    every = scrapy("crawl", "backlinks", "-a", "all=1", env=env)
    assert f"backlinks: {links} link(s) due for a check" in every.stderr, every.stderr[-3000:]
    assert f"backlinks: {links} of {links} links checked" in every.stderr
