"""A page with more links than are read says so, on the page and in the log (never silently)."""

from __future__ import annotations

from pathlib import Path

import pymongo

from linkcrawler.web.links import MAX_LINKS
from tests.mockserver import MockServer
from tests.test_cli import scrapy
from tests.test_feed_exports import _env


def test_site_audit_records_a_page_whose_links_were_cut(site_dir: Path, mockserver: MockServer, mongo_uri: str,
                                                        mongo_db_name: str, mongo_db: pymongo.database.Database) -> None:
    links = "".join(f'<a href="/list?n={n}">{n}</a>\n' for n in range(MAX_LINKS + 10))
    (site_dir / "index.html").write_text(f"<html><head><title>All</title></head><body>{links}</body></html>")
    (site_dir / "small.html").write_text('<html><body><a href="/index.html">home</a></body></html>')
    env = _env(mongo_uri, mongo_db_name)
    done = scrapy("crawl", "site_audit", "-a", f"start_url={mockserver.url('/index.html')}",
                  "-s", "LINKCRAWLER_AUDIT_MAX_QUERY_VARIANTS=3", "-s", "LINKCRAWLER_AUDIT_CHECK_EXTERNAL=0", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    index = mongo_db.pages.find_one({"url": mockserver.url("/index.html")})
    assert index is not None and index["links_truncated"] is True
    assert f"has {MAX_LINKS + 10} distinct links; only the first {MAX_LINKS} were read" in done.stderr
    assert "'linkcrawler/site_audit/links_truncated': 1" in done.stderr
    listed = mongo_db.pages.find_one({"url": mockserver.url("/list?n=0")})
    assert listed is not None and listed["links_truncated"] is False
