"""What the embedded store acknowledged survives a crash of its server (``kill -9``)."""

from __future__ import annotations

import os
import signal
from datetime import datetime, timezone
from pathlib import Path

from scrapy.settings import Settings

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.store import WriteOp, open_store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.fixtures.services import embedded_server_pids, wait_for_server_stopped
from tests.waiting import wait_until

LINKS = [(f"http://blog{n}.example/post", "http://our-site.example/") for n in range(12)]


def test_acknowledged_writes_survive_a_killed_embedded_server(data_dir: Path) -> None:
    settings = Settings({"LINKCRAWLER_DATA_DIR": str(data_dir)})
    store = open_store(settings)
    try:
        db = store.db
        ensure_indexes(db, ["backlinks", "link_events"])
        now = datetime.now(timezone.utc)
        _, failed = write_batch(db, [op for source, target in LINKS
                                     for op in new_backlink_ops(source, target, now, "test import")])
        assert not failed
        # The check of each link, written as the crawl writes it: small batches, acknowledged one by one.
        for source, target in LINKS:
            _, failed = write_batch(db, [WriteOp.update_if(
                "backlinks", {"source_url": source, "target_url": target},
                {"$set": {"status": "live", "status_reason": "checked", "last_checked": now}},
            )])
            assert not failed
        assert db.backlinks.count_documents({"status": "live"}) == len(LINKS)

        [pid] = embedded_server_pids(data_dir)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: pid not in embedded_server_pids(data_dir), timeout=30)
    finally:
        store.close()

    # The next command finds the server gone and starts a new one on the same data.
    store = open_store(settings)
    try:
        assert embedded_server_pids(data_dir) != [pid]
        statuses = {doc["source_url"]: doc["status"] for doc in store.db.backlinks.find()}
        assert statuses == {source: "live" for source, _ in LINKS}
    finally:
        store.close()
    wait_for_server_stopped(data_dir)
