"""A crawl killed half-way and run again: every link checked, every event exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pymongo

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.mockserver import MockServer
from tests.waiting import wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LINKS = 400


def crawl(mongo_uri: str, db_name: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    settings = {
        "MONGO_URI": mongo_uri, "MONGO_DATABASE": db_name, "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
        "MONGO_BATCH_SIZE": "10", "MONGO_FLUSH_INTERVAL": "0.1", "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
        "LOG_LEVEL": "WARNING",
    }
    args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "backlinks", *args], cwd=PROJECT_ROOT,
                            env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=stderr)


def test_killed_crawl_rerun_checks_everything_once(site_dir: Path, mockserver: MockServer, mongo_uri: str,
                                                   mongo_db_name: str, mongo_db: pymongo.database.Database) -> None:
    # Every linking page is slow and gone: each link must end page_gone with one "lost" event.
    for i in range(LINKS):
        (site_dir / f"p{i}.html.meta.json").write_text('{"status": 404, "delay": 0.02}')
    now = datetime.now(timezone.utc)
    ensure_indexes(mongo_db)
    ops = [op for i in range(LINKS)
           for op in new_backlink_ops(mockserver.url(f"/p{i}.html"), "http://our.test/", now, "test import")]
    assert not write_batch(mongo_db, ops)[1]

    def checked() -> int:
        return mongo_db.backlinks.count_documents({"last_checked": {"$ne": None}})

    first = crawl(mongo_uri, mongo_db_name)
    wait_until(lambda: checked() >= LINKS // 4 or first.poll() is not None, timeout=120)
    assert first.poll() is None, "the crawl ended before it got going"
    first.send_signal(signal.SIGKILL)
    first.wait()
    # A batch the crawl sent just before it died may still be being written: on a busy
    # machine the server can take a while. Count once the count holds still.
    counts = [checked()]

    def settled() -> bool:
        time.sleep(0.5)
        counts.append(checked())
        return counts[-1] == counts[-2]

    wait_until(settled, timeout=60)
    checked_before = counts[-1]
    assert checked_before < LINKS, "the crawl finished before it could be killed"

    mockserver.reset_hits()
    second = crawl(mongo_uri, mongo_db_name, stderr=subprocess.PIPE)
    _, errors = second.communicate(timeout=120)
    assert second.returncode == 0, errors.decode()[-2000:]

    assert mongo_db.backlinks.count_documents({"status": "page_gone"}) == LINKS
    events = list(mongo_db.link_events.find({}, {"backlink_id": 1, "type": 1}))
    per_link: dict[str, list[str]] = {}
    for event in events:
        per_link.setdefault(event["backlink_id"], []).append(event["type"])
    assert len(per_link) == LINKS
    assert all(sorted(types) == ["lost", "new"] for types in per_link.values())
    # What the killed crawl had recorded was not due any more; the rest was checked once.
    pages = {path: n for path, n in mockserver.hits().items() if path.startswith("/p")}
    assert len(pages) == LINKS - checked_before and set(pages.values()) == {1}
