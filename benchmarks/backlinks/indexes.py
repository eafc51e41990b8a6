"""What each index of ``backlinks`` costs the embedded store's server, per written document.

    .venv/bin/python -m benchmarks.backlinks.indexes            # 5,000 backlinks, 2 rounds

For each set of indexes (the four ``backlinks`` had until 2026-11-30, without
``target``, and the two it has now), on one SecantusDB server with the embedded
store's options: inserts of backlink-shaped documents, the
re-check's mark (an update on ``_id`` alone) and a change of state (an update on
``_id`` and ``state_version``), each as the writer sends them (``bulk_write`` of
1,000, unordered). Prints the server's CPU milliseconds per document, the figure
the load of a shared machine skews least.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, InsertOne, MongoClient, UpdateOne

from benchmarks.common import SecantusServer, machine_note, process_cpu_seconds
from linkcrawler.store.indexes import INDEXES

DUE = INDEXES["backlinks"][0]
SOURCE_TARGET = IndexModel([("source_url", ASCENDING), ("target_url", ASCENDING)], unique=True, name="source_target")
TARGET = IndexModel([("target_url", ASCENDING)], name="target")
SETS = {
    "_id, source_target, due_next_check, target (until 2026-11-30)": [SOURCE_TARGET, DUE, TARGET],
    "_id, source_target, due_next_check": [SOURCE_TARGET, DUE],
    "_id, due_next_check (now)": [DUE],
}
T0 = datetime(2026, 11, 30)
BATCH = 1000


def backlink(n: int) -> dict[str, Any]:
    return {"_id": f"id{n:08d}", "source_url": f"https://s{n % 500}.example/p{n}",
            "target_url": f"https://ours.example/t{n % 3600}", "status": "live", "state_version": 1,
            "last_checked": T0, "next_check": T0, "authority": 30, "http_status": 200,
            "anchor_text": "some anchor", "rel": [], "history": [{"status": "new", "at": T0}]}


def server_ms(server: SecantusServer, collection: Any, ops: list[Any]) -> float:
    """The server's CPU milliseconds per operation, for ``ops`` sent in bulk writes of :data:`BATCH`."""
    before = process_cpu_seconds(server.process.pid)
    for start in range(0, len(ops), BATCH):
        collection.bulk_write(ops[start:start + BATCH], ordered=False)
    return 1000 * (process_cpu_seconds(server.process.pid) - before) / len(ops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    opts = parser.parse_args()
    print(f"backlinks index costs: {opts.links:,} backlinks, {opts.rounds} round(s); {machine_note()}")
    server = SecantusServer()
    try:
        db: Any = MongoClient(server.uri)["bench_indexes"]
        docs = [backlink(n) for n in range(opts.links)]
        for round_number in range(1, opts.rounds + 1):
            for number, (label, indexes) in enumerate(SETS.items()):
                collection = db[f"backlinks_{round_number}_{number}"]
                collection.create_indexes(indexes)
                insert = server_ms(server, collection, [InsertOne(d) for d in docs])
                mark = server_ms(server, collection, [UpdateOne({"_id": d["_id"]}, {
                    "$max": {"last_checked": T0 + timedelta(days=1, seconds=n)},
                    "$set": {"next_check": T0 + timedelta(days=7, seconds=n), "http_status": 304}})
                    for n, d in enumerate(docs)])
                change = server_ms(server, collection, [UpdateOne({"_id": d["_id"], "state_version": 1}, {
                    "$set": {"last_checked": T0 + timedelta(days=2, seconds=n), "status": "removed",
                             "next_check": T0 + timedelta(days=9, seconds=n), "state_version": 2},
                    "$push": {"history": {"$each": [{"status": "removed", "at": T0}], "$slice": -20}}})
                    for n, d in enumerate(docs)])
                print(f"round {round_number}  {label:<62} insert {insert:.2f}  mark {mark:.2f}  "
                      f"change of state {change:.2f}  (server CPU ms per document)", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
