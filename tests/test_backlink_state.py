"""The state pipeline's writes on a real store: a transition gives one event, however replayed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pymongo
import pytest

from linkcrawler.backlinks.items import BacklinkCheck, KnownLink, backlink_id
from linkcrawler.backlinks.store import new_backlink_ops, update_ops
from linkcrawler.backlinks.update import plan_update
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import WriteOp, write_batch

SOURCE, TARGET = "http://blog.test/post", "http://our.test/"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(mongo_db: pymongo.database.Database) -> pymongo.database.Database:
    ensure_indexes(mongo_db)
    assert not write_batch(mongo_db, new_backlink_ops(SOURCE, TARGET, T0, "test import", authority=60))[1]
    return mongo_db


def read(db: pymongo.database.Database) -> KnownLink:
    doc = db.backlinks.find_one({"_id": backlink_id(SOURCE, TARGET)})
    assert doc is not None
    return KnownLink.from_document(doc)


def check(link: KnownLink, status: str, at: datetime, **kwargs: object) -> list[WriteOp]:
    present = status in {"live", "nofollow", "noindex", "canonicalized"}
    item = BacklinkCheck(link=link, status=status, reason=f"test: {status}", checked_at=at,
                         anchor_text="Our site" if present else None, failed=status == "error", **kwargs)
    return update_ops(plan_update(item, lost_after=3, history_length=20))


def write(db: pymongo.database.Database, ops: list[WriteOp]) -> None:
    assert not write_batch(db, ops)[1]


def events(db: pymongo.database.Database) -> list[tuple[str, str, str | None, str]]:
    return [(e["_id"].split(":")[1], e["type"], e["from_status"], e["to_status"])
            for e in db.link_events.find().sort("_id", 1)]


def test_a_crash_between_event_and_state_and_stale_replays_give_one_event(db: pymongo.database.Database) -> None:
    write(db, check(read(db), "live", T0))
    before = read(db)
    ops = check(before, "removed", T0 + timedelta(days=1))
    assert [op.phase for op in ops] == [0, 1]  # the event goes first
    write(db, ops[:1])  # the process dies after writing the event, before the state
    assert read(db).status == "live"

    write(db, check(read(db), "removed", T0 + timedelta(days=1)))  # the crawl runs again
    write(db, ops)  # a retried batch
    write(db, check(before, "page_gone", T0 + timedelta(days=1)))  # a worker that read before all this
    assert read(db).status == "removed"
    assert events(db) == [("0", "new", None, "pending"), ("2", "lost", "live", "removed")]

    # Real back-and-forth afterwards: each transition its own event.
    write(db, check(read(db), "live", T0 + timedelta(days=2)))
    write(db, check(read(db), "removed", T0 + timedelta(days=3)))
    assert events(db)[2:] == [("3", "recovered", "removed", "live"), ("4", "lost", "live", "removed")]
    assert [h["status"] for h in db.backlinks.find_one()["history"]] == ["pending", "live", "removed", "live", "removed"]


def test_an_unchanged_recheck_writes_no_event_and_keeps_the_version(db: pymongo.database.Database) -> None:
    write(db, check(read(db), "live", T0))
    version = read(db).state_version
    for day in range(1, 4):
        write(db, check(read(db), "live", T0 + timedelta(days=day)))
    assert read(db).state_version == version
    assert db.backlinks.find_one()["last_checked"] == T0 + timedelta(days=3)
    assert len(events(db)) == 1


def test_errors_between_settled_states_are_silent(db: pymongo.database.Database) -> None:
    write(db, check(read(db), "live", T0))
    write(db, check(read(db), "error", T0 + timedelta(days=1)))
    assert read(db).consecutive_failures == 1
    write(db, check(read(db), "nofollow", T0 + timedelta(days=2)))
    assert read(db).consecutive_failures == 0
    assert [e[1:] for e in events(db)] == [("new", None, "pending"), ("degraded", "live", "nofollow")]


def test_a_not_modified_recheck_marks_the_check_and_a_late_replay_never_moves_it_back(
    db: pymongo.database.Database,
) -> None:
    write(db, check(read(db), "live", T0, http_status=200, etag='"v1"'))
    version = read(db).state_version
    day1 = check(read(db), "live", T0 + timedelta(days=1), http_status=304, not_modified=True)
    write(db, day1)
    write(db, check(read(db), "live", T0 + timedelta(days=2), http_status=304, not_modified=True))
    write(db, day1)  # a retried or spilled batch of the day before, written late
    doc = db.backlinks.find_one()
    assert doc["last_checked"] == T0 + timedelta(days=2)
    assert doc["http_status"] == 304
    assert (doc["status"], doc["state_version"], doc["etag"]) == ("live", version, '"v1"')
    assert len(events(db)) == 1  # only "new": nothing changed since


def test_a_not_modified_answer_after_failures_resets_them(db: pymongo.database.Database) -> None:
    write(db, check(read(db), "live", T0, http_status=200, etag='"v1"'))
    write(db, check(read(db), "error", T0 + timedelta(days=1), http_status=503))
    assert read(db).consecutive_failures == 1
    write(db, check(read(db), "live", T0 + timedelta(days=2), http_status=304, not_modified=True))
    doc = db.backlinks.find_one()
    assert (doc["consecutive_failures"], doc["http_status"]) == (0, 304)
    assert doc["last_checked"] == T0 + timedelta(days=2)
    # The unchanged page's link is live again, not left in the error of the check before.
    assert doc["status"] == "live"
    # pending -> live -> error -> live: error is transient (never an event), so the
    # return to live is no event either.
    assert [(kind, to) for _, kind, _, to in events(db)] == [("new", "pending")]


def test_backlinks_keep_only_the_indexes_a_query_uses(mongo_db: pymongo.database.Database) -> None:
    # A database from before: the domain indexes no query uses are dropped.
    mongo_db.backlinks.create_index("target_domain", name="target_domain")
    mongo_db.backlinks.create_index("source_domain", name="source_domain")
    # ... and the due index of before the schedule (last_checked alone).
    mongo_db.backlinks.create_index("last_checked", name="due")
    # ... and the status index (linkstatus scans for its counts anyway).
    mongo_db.backlinks.create_index("status", name="status")
    # ... and the pair's unique index (_id is derived from the pair) and target_url's.
    mongo_db.backlinks.create_index([("source_url", 1), ("target_url", 1)], unique=True, name="source_target")
    mongo_db.backlinks.create_index("target_url", name="target")
    ensure_indexes(mongo_db)
    ensure_indexes(mongo_db)  # idempotent
    assert set(mongo_db.backlinks.index_information()) == {"_id_", "due_next_check"}


def test_link_events_are_found_by_id_not_by_a_backlink_index(mongo_db: pymongo.database.Database) -> None:
    # A database from before: the backlink_id index every event insert paid for goes.
    mongo_db.link_events.create_index("backlink_id", name="backlink")
    ensure_indexes(mongo_db)
    assert set(mongo_db.link_events.index_information()) == {"_id_", "detected_at", "type_detected_at"}
