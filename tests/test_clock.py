"""LINKCRAWLER_NOW: every command takes it as now (tests, replays)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymongo
import pytest

from linkcrawler.clock import Clock, parse_now
from linkcrawler.exceptions import ConfigurationError
from tests.mockserver import MockServer
from tests.test_cli import scrapy
from tests.test_feed_exports import _env

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_parse_now() -> None:
    assert parse_now("2026-06-01T12:00:00Z") == T0
    assert parse_now("2026-06-01T14:00:00+02:00") == T0
    assert parse_now("2026-06-01 12:00") == T0  # no zone: UTC
    with pytest.raises(ConfigurationError, match="LINKCRAWLER_NOW='yesterday' is not an ISO 8601 time"):
        parse_now("yesterday")
    assert Clock.from_settings({"LINKCRAWLER_NOW": "2026-06-01T12:00:00Z"}).now() == T0
    assert abs(Clock.from_settings({}).now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_links_are_due_again_a_recheck_interval_after_the_now_they_were_checked(
    tmp_path: Path, site_dir: Path, mockserver: MockServer, mongo_uri: str, mongo_db_name: str,
    mongo_db: pymongo.database.Database,
) -> None:
    (site_dir / "page.html").write_text('<html><body><a href="http://our.test/">Our site</a></body></html>')
    export = tmp_path / "export.csv"
    export.write_text(f"source_url,target_url\n{mockserver.url('/page.html')},http://our.test/\n")
    env = _env(mongo_uri, mongo_db_name)

    def at(when: datetime, *args: str) -> str:
        done = scrapy(*args, env={**env, "LINKCRAWLER_NOW": when.isoformat()})
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stderr

    at(T0, "importlinks", str(export))
    assert mongo_db.backlinks.find_one()["first_seen"] == T0
    assert "1 link(s) due" in at(T0, "crawl", "backlinks")
    assert mongo_db.backlinks.find_one()["last_checked"] == T0
    # Due again at its next_check: unknown authority, no change seen: 132 hours
    # (linkcrawler/backlinks/schedule.py).
    assert mongo_db.backlinks.find_one()["next_check"] == T0 + timedelta(hours=132)
    assert "0 link(s) due" in at(T0 + timedelta(hours=131), "crawl", "backlinks")
    assert "1 link(s) due" in at(T0 + timedelta(hours=133), "crawl", "backlinks")
    assert mongo_db.backlinks.find_one()["last_checked"] == T0 + timedelta(hours=133)


def test_a_bad_now_is_one_line() -> None:
    done = scrapy("crawl", "backlinks", env={"LINKCRAWLER_NOW": "yesterday", "MONGO_URI": "mongodb://127.0.0.1:1/",
                                             "MONGO_CONNECT_TIMEOUT": "1"})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
