"""The store: the embedded default, a real MONGO_URI, and the batched writer."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pymongo
import pytest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from linkcrawler.exceptions import StoreUnavailable
from linkcrawler.store import BulkWriter, WriteOp, mask_uri, open_store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import at_version, replay_spill, write_batch
from tests.aio import asyncio_test
from tests.fixtures.services import embedded_server_pids, free_port, wait_for_server_stopped

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, data_dir: Path) -> str:
    """Run ``code`` in a fresh interpreter (a separate command), return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "LINKCRAWLER_DATA_DIR": str(data_dir)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_embedded_store_keeps_data_for_the_next_command(data_dir: Path) -> None:
    run_python(
        """
        from scrapy.utils.project import get_project_settings
        from linkcrawler.store import open_store
        store = open_store(get_project_settings())
        store.db.notes.insert_one({"_id": "first", "text": "written by command one"})
        print(store.display_uri)
        store.close()
        """,
        data_dir,
    )
    wait_for_server_stopped(data_dir)  # the first command's server stops once it left
    out = run_python(
        """
        from scrapy.utils.project import get_project_settings
        from linkcrawler.store import open_store
        store = open_store(get_project_settings())
        print(store.db.notes.find_one({"_id": "first"})["text"])
        store.close()
        """,
        data_dir,
    )
    assert out.strip() == "written by command one"
    wait_for_server_stopped(data_dir)


def test_embedded_store_is_shared_by_concurrent_users(data_dir: Path) -> None:
    settings = Settings({"LINKCRAWLER_DATA_DIR": str(data_dir)})
    first = open_store(settings)
    first.db.items.insert_one({"_id": 1})
    # Another process joins while the first one still uses the server.
    out = run_python(
        """
        from scrapy.utils.project import get_project_settings
        from linkcrawler.store import open_store
        store = open_store(get_project_settings())
        print(store.db.items.count_documents({}))
        store.db.items.insert_one({"_id": 2})
        store.close()
        """,
        data_dir,
    )
    assert out.strip() == "1"
    # The other process left; the server must still be up for this one.
    assert first.db.items.count_documents({}) == 2
    assert len(embedded_server_pids(data_dir)) == 1
    first.close()
    wait_for_server_stopped(data_dir)


OPEN_AND_CLOSE = """
    import time
    from scrapy.utils.project import get_project_settings
    from linkcrawler.store import open_store
    started = time.monotonic()
    store = open_store(get_project_settings())
    store.db.notes.insert_one({})
    store.close()
    print(time.monotonic() - started)
    """


def test_embedded_store_lingers_for_the_next_command_then_stops(data_dir: Path) -> None:
    run_python(OPEN_AND_CLOSE, data_dir)
    [pid] = embedded_server_pids(data_dir)  # still up after its only user left
    seconds = float(run_python(OPEN_AND_CLOSE, data_dir))
    assert embedded_server_pids(data_dir) == [pid]  # the second command reused it
    assert seconds < 1.0  # no start, no stop (about 0.02 s here; starting one is 0.4 s or more)
    # Nobody comes back: its watcher stops it after LINKCRAWLER_STORE_LINGER (5 s).
    wait_for_server_stopped(data_dir)
    store = open_store(Settings({"LINKCRAWLER_DATA_DIR": str(data_dir), "LINKCRAWLER_STORE_LINGER": 0}))
    try:
        assert store.db.notes.count_documents({}) == 2  # a new server on the same data
        assert embedded_server_pids(data_dir) not in ([], [pid])
    finally:
        store.close()
    wait_for_server_stopped(data_dir)


def test_embedded_store_without_linger_stops_with_its_last_user(data_dir: Path) -> None:
    store = open_store(Settings({"LINKCRAWLER_DATA_DIR": str(data_dir), "LINKCRAWLER_STORE_LINGER": 0}))
    store.db.notes.insert_one({})
    store.close()
    assert not (data_dir / "server.json").exists()  # asked to stop at once, not left to a watcher
    wait_for_server_stopped(data_dir, timeout=10)


def test_embedded_store_has_change_streams_only_when_asked(data_dir: Path) -> None:
    # Default: no replica set, so no oplog to feed (and pay for) on every write.
    store = open_store(Settings({"LINKCRAWLER_DATA_DIR": str(data_dir), "LINKCRAWLER_STORE_LINGER": 0}))
    try:
        assert "setName" not in store.db.command("hello")
        with pytest.raises(pymongo.errors.OperationFailure):
            store.db.events.watch()
    finally:
        store.close()
    wait_for_server_stopped(data_dir, timeout=10)
    # Asked for: a downstream tool can watch() a collection and sees the writes.
    store = open_store(Settings({"LINKCRAWLER_DATA_DIR": str(data_dir), "LINKCRAWLER_STORE_LINGER": 0,
                                 "LINKCRAWLER_STORE_CHANGE_STREAMS": True}))
    try:
        with store.db.events.watch(max_await_time_ms=2000) as stream:
            store.db.events.insert_one({"_id": "b1:1", "type": "lost"})
            change = stream.try_next() or stream.try_next()
        assert change is not None and change["documentKey"] == {"_id": "b1:1"}
    finally:
        store.close()
    wait_for_server_stopped(data_dir, timeout=10)


def test_unreachable_mongo_uri_fails_with_masked_uri() -> None:
    uri = f"mongodb://alice:s3cret@127.0.0.1:{free_port()}/linkcrawler"
    with pytest.raises(StoreUnavailable) as raised:
        open_store(Settings({"MONGO_URI": uri, "MONGO_CONNECT_TIMEOUT": 1}))
    message = str(raised.value)
    assert "s3cret" not in message
    assert "mongodb://alice:***@127.0.0.1" in message
    assert "Connection refused" in message


def test_mask_uri_leaves_uris_without_password_alone() -> None:
    assert mask_uri("mongodb://db1:27017,db2:27017/?replicaSet=rs0") == "mongodb://db1:27017,db2:27017/?replicaSet=rs0"
    assert mask_uri("mongodb+srv://u:p%40ss@cluster.example/db") == "mongodb+srv://u:***@cluster.example/db"


def _ops(n: int, value: str) -> list[WriteOp]:
    ops = []
    for i in range(n):
        ops.append(WriteOp.upsert_on(
            "backlinks",
            {"source_url": f"http://src.test/{i}", "target_url": "http://own.test/"},
            {"$set": {"status": value}, "$setOnInsert": {"first_seen": "t0"}},
        ))
        ops.append(WriteOp.insert_once("link_events", {"_id": f"bl{i}:1", "type": "new"}))
    return ops


def _snapshot(db: pymongo.database.Database) -> dict[str, list[dict]]:
    return {
        name: sorted((({k: v for k, v in doc.items() if k != "_id"} | {"id": str(doc["_id"])})
                      for doc in db[name].find()), key=lambda d: d["id"] if name == "link_events"
                     else d["source_url"])
        for name in ("backlinks", "link_events")
    }


def _writer(db: pymongo.database.Database, tmp_path: Path, **kwargs: object) -> tuple[BulkWriter, MemoryStatsCollector]:
    stats = MemoryStatsCollector.__new__(MemoryStatsCollector)
    stats._stats = {}
    ensure_indexes(db)
    return BulkWriter(db, spill_dir=tmp_path, stats=stats, **kwargs), stats


@asyncio_test
async def test_writer_is_batched_and_idempotent(mongo_db: pymongo.database.Database, tmp_path: Path) -> None:
    writer, stats = _writer(mongo_db, tmp_path, batch_size=10)
    for op in _ops(25, "live"):  # 50 operations
        await writer.add([op])
    await writer.close()
    assert stats.get_value("linkcrawler/mongo/batches") == 5
    first = _snapshot(mongo_db)
    assert len(first["backlinks"]) == 25 and len(first["link_events"]) == 25

    # The same items again: the same documents, the events recognised as already written.
    writer, stats = _writer(mongo_db, tmp_path, batch_size=10)
    await writer.add(_ops(25, "live"))
    await writer.close()
    assert _snapshot(mongo_db) == first
    assert stats.get_value("linkcrawler/mongo/already_written") == 25


def test_a_versioned_update_applies_only_at_its_version(mongo_db: pymongo.database.Database) -> None:
    """``at_version`` selects what ``{"_id": ..., "state_version": v}`` selects, on the real server."""
    docs = [{"_id": "at", "state_version": 3}, {"_id": "before", "state_version": 2}, {"_id": "after", "state_version": 4},
            {"_id": "missing"}, {"_id": "null", "state_version": None}, {"_id": "text", "state_version": "3"},
            {"_id": "float", "state_version": 3.0}, {"_id": "array", "state_version": [1, 3]}]
    mongo_db.versions.insert_many(docs)
    for doc in docs:
        for version in (0, 3):
            plain = mongo_db.versions.count_documents({"_id": doc["_id"], "state_version": version})
            assert mongo_db.versions.count_documents(at_version(doc["_id"], version)) == plain, (doc, version)
    # The compare-and-set: of two writers that read version 3, only the first lands.
    first = mongo_db.versions.update_one(at_version("at", 3), {"$set": {"status": "lost", "state_version": 4}})
    second = mongo_db.versions.update_one(at_version("at", 3), {"$set": {"status": "live", "state_version": 4}})
    assert (first.modified_count, second.matched_count) == (1, 0)
    assert mongo_db.versions.find_one({"_id": "at"}) == {"_id": "at", "state_version": 4, "status": "lost"}


def test_insert_else_set_inserts_a_new_document_and_sets_the_fields_of_one_already_there(
    mongo_db: pymongo.database.Database,
) -> None:
    """What an upsert that ``$set`` the fields on ``_id`` leaves, by an insert first."""
    mongo_db.facts.insert_one({"_id": "old", "words": 1, "kept": "a field no write names"})
    ops = [
        WriteOp.insert_else_set("facts", {"_id": "new", "words": 10, "title": "New"}),
        WriteOp.insert_else_set("facts", {"_id": "old", "words": 20, "title": "Old"}),
        # The same page twice in one batch: the later write wins, as with upserts.
        WriteOp.insert_else_set("facts", {"_id": "twice", "words": 1}),
        WriteOp.insert_else_set("facts", {"_id": "twice", "words": 2}),
        WriteOp.insert_once("other", {"_id": "next phase"}, phase=2),
    ]
    result, failed = write_batch(mongo_db, ops)
    assert not failed
    assert (result.written, result.already_there) == (5, 0)
    assert list(mongo_db.facts.find().sort("_id", 1)) == [
        {"_id": "new", "words": 10, "title": "New"},
        {"_id": "old", "words": 20, "kept": "a field no write names", "title": "Old"},
        {"_id": "twice", "words": 2},
    ]
    # Written again: the same documents (idempotent), every insert_else_set an update now.
    result, failed = write_batch(mongo_db, ops)
    assert not failed and (result.written, result.already_there) == (4, 1)
    assert mongo_db.facts.count_documents({}) == 3 and mongo_db.facts.find_one({"_id": "twice"}) == {"_id": "twice", "words": 2}
    # A spilled one is written by a replay the same way.
    assert WriteOp.from_json(ops[1].to_json()) == ops[1]
    with pytest.raises(ValueError):
        WriteOp.insert_else_set("facts", {"words": 1})


def test_a_batch_is_written_in_slices_phase_after_phase_telling_its_progress(
    mongo_db: pymongo.database.Database,
) -> None:
    """A batch far bigger than a bulk write (a site audit's totals) goes in slices, in phase order."""
    pages = [WriteOp.insert_once("pages", {"_id": i, "url": f"/{i}", "inlinks": 0}) for i in range(10)]
    # Phase 2 updates documents the phase-1 inserts of the same batch write: they must come after.
    totals = [WriteOp.update_all("pages", {"_id": {"$in": ids}}, {"$set": {"inlinks": count}}, phase=2)
              for count, ids in ((3, [0, 1, 2, 3, 4]), (7, [5, 6, 7, 8, 9]))]
    seen: list[tuple[int, int]] = []
    _fail_point(mongo_db, {"times": 1}, {"failCommands": ["insert"], "errorCode": 112})
    try:
        result, failed = write_batch(mongo_db, totals + pages, backoff=0.01, max_reach=3,
                                     progress=lambda done, total: seen.append((done, total)))
    finally:
        _fail_point(mongo_db, "off", {})
    assert not failed
    # Slices of at most 3 documents: the inserts three by three, each update of 5 pages alone.
    assert [op.reach for op in totals] == [5, 5] and pages[0].reach == 1
    assert seen == [(3, 12), (6, 12), (9, 12), (10, 12), (11, 12), (12, 12)]
    # Four slices of inserts (one of them sent twice: the failed insert) and two of updates.
    assert (result.attempts, result.retries, result.written) == (7, 1, 12)
    assert {doc["_id"]: doc["inlinks"] for doc in mongo_db.pages.find()} == {i: 3 if i < 5 else 7 for i in range(10)}


@asyncio_test
async def test_the_writer_tells_how_far_a_long_batch_is(
    mongo_db: pymongo.database.Database, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    writer, stats = _writer(mongo_db, tmp_path, batch_size=100_000, progress_interval=1e-9)
    caplog.set_level("INFO", logger="linkcrawler.store.writer")
    await writer.add(_ops(600, "live"))  # 1,200 operations: backlinks, then events, in bulk writes of 500
    await writer.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "linkcrawler.store.writer"]
    # The backlinks in two bulk writes (500, 100), then the events likewise: a line after each but the last.
    assert [line.split(" in ")[0] for line in lines[:-1]] == [
        f"MongoDB: writing a batch of 1,200 operation(s): {done}" for done in ("500 done (41%)", "600 done (50%)",
                                                                                "1,100 done (91%)")
    ]
    assert lines[-1].startswith("MongoDB: wrote a batch of 1,200 operation(s) in ")
    assert stats.get_value("linkcrawler/mongo/batches") == 1 and stats.get_value("linkcrawler/mongo/retries") is None
    assert mongo_db.backlinks.count_documents({}) == 600 and mongo_db.link_events.count_documents({}) == 600


def _fail_point(db: pymongo.database.Database, mode: object, data: dict) -> None:
    db.client.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)


@asyncio_test
async def test_writer_retries_a_failed_bulk_write(mongo_db: pymongo.database.Database, tmp_path: Path) -> None:
    writer, stats = _writer(mongo_db, tmp_path, batch_size=1000, backoff=0.01)
    # WriteConflict is not retried by pymongo itself: only the writer's own retry saves the batch.
    _fail_point(mongo_db, {"times": 2}, {"failCommands": ["update", "insert"], "errorCode": 112})
    try:
        await writer.add(_ops(20, "live"))
        await writer.close()
    finally:
        _fail_point(mongo_db, "off", {})
    assert stats.get_value("linkcrawler/mongo/retries") >= 2
    assert mongo_db.backlinks.count_documents({}) == 20
    assert mongo_db.link_events.count_documents({}) == 20
    assert not list(tmp_path.glob("unwritten-*"))


@asyncio_test
async def test_writer_survives_dropped_connections(mongo_db: pymongo.database.Database, tmp_path: Path) -> None:
    writer, stats = _writer(mongo_db, tmp_path, batch_size=1000, backoff=0.01)
    # pymongo retries a dropped connection once by itself; three drops reach the writer.
    _fail_point(mongo_db, {"times": 3}, {"failCommands": ["update"], "closeConnection": True})
    try:
        await writer.add(_ops(10, "live"))
        await writer.close()
    finally:
        _fail_point(mongo_db, "off", {})
    assert stats.get_value("linkcrawler/mongo/retries") >= 1
    assert mongo_db.backlinks.count_documents({}) == 10


@asyncio_test
async def test_writer_spills_what_it_cannot_write_and_replay_writes_it(
    mongo_db: pymongo.database.Database, tmp_path: Path
) -> None:
    writer, stats = _writer(mongo_db, tmp_path, batch_size=1000, retries=2, backoff=0.01)
    _fail_point(mongo_db, "alwaysOn", {"failCommands": ["update"], "errorCode": 112})
    try:
        await writer.add(_ops(5, "removed"))
        await writer.close()
    finally:
        _fail_point(mongo_db, "off", {})
    assert stats.get_value("linkcrawler/mongo/spilled") == 5
    assert mongo_db.backlinks.count_documents({}) == 0
    assert mongo_db.link_events.count_documents({}) == 5  # inserts were not failing
    spill = writer.spill_file
    assert spill is not None and len(spill.read_text().splitlines()) == 5

    result = replay_spill(mongo_db, spill)
    assert result.written == 5
    assert not spill.exists()
    assert {d["status"] for d in mongo_db.backlinks.find()} == {"removed"}
