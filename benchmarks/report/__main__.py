"""Benchmark: ``scrapy linkreport`` over 200,000 backlinks and 1,000,000 events on the embedded store's server.

    python -m benchmarks.report [--backlinks 200000] [--events 1000000]

Fills a fresh SecantusDB server (data on disk, as the embedded store runs it) with
the generator the report's tests use (``tests/report_data.py``: histories, events
over a year, an audit, mentions, opportunities, toxicity, outreach), inserted with
``insert_many`` in batches of 5,000; then runs ``scrapy linkreport -o FILE`` in a
child process, as a user does, and prints its wall time, the CPU time of the server
during it, and the size of the file. It also times each query of the report alone.
Generating a million events takes a while: run it once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pymongo

from benchmarks.common import (
    PROJECT_ROOT,
    SecantusServer,
    free_port,
    machine_note,
    process_cpu_seconds,
    secantus_command,
    stop_process,
    wait_for_port,
)
from linkcrawler.report import queries
from tests.report_data import populate

DATABASE = "bench_report"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


class KeptServer:
    """A SecantusDB server over a data directory that outlives the run (``--data-dir``)."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = subprocess.Popen(
            secantus_command(self.port, str(path / "db")),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "secantusd")
        self.uri = f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def stop(self) -> None:
        stop_process(self.process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlinks", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, help="keep the generated store here, and reuse it when it is there")
    args = parser.parse_args()
    print(f"machine: {machine_note()}", flush=True)
    server: SecantusServer | KeptServer = KeptServer(args.data_dir) if args.data_dir else SecantusServer(journal=False)
    try:
        with pymongo.MongoClient(server.uri, tz_aware=True) as client:
            db = client[DATABASE]
            if (db.backlinks.estimated_document_count(), db.link_events.estimated_document_count()) != (
                    args.backlinks, args.events):
                client.drop_database(DATABASE)
                started = time.monotonic()
                populate(db, NOW, backlinks=args.backlinks, events=args.events)
                print(f"generated {db.backlinks.estimated_document_count():,} backlinks and "
                      f"{db.link_events.estimated_document_count():,} events in {time.monotonic() - started:.0f} s",
                      flush=True)
            for name, query in (
                ("status_counts", lambda: queries.status_counts(db)),
                ("status_over_time", lambda: queries.status_over_time(db)),
                ("events_per_week", lambda: queries.events_per_week(db)),
                ("lost_reasons", lambda: queries.lost_reasons(db)),
                ("most_valuable_lost", lambda: queries.most_valuable_lost(db)),
                ("referring_domain_counts", lambda: queries.referring_domain_counts(db)),
                ("most_linked_pages", lambda: queries.most_linked_pages(db)),
                ("site_audit", lambda: queries.site_audit(db)),
                ("other_ways", lambda: queries.other_ways(db)),
            ):
                began = time.monotonic()
                query()
                print(f"  {name:<24} {time.monotonic() - began:6.2f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="lc-bench-report-") as tmp:
            report = Path(tmp) / "report.html"
            server_cpu = process_cpu_seconds(server.process.pid)
            began = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "scrapy", "linkreport", "-o", str(report)], cwd=PROJECT_ROOT,
                env={**os.environ, "MONGO_URI": server.uri, "MONGO_DATABASE": DATABASE,
                     "LINKCRAWLER_NOW": NOW.isoformat()},
                capture_output=True, text=True, timeout=3600)
            wall = time.monotonic() - began
            if done.returncode != 0:
                sys.exit(done.stderr[-3000:])
            size = report.stat().st_size
            print(f"scrapy linkreport: {wall:.1f} s wall (process start included), "
                  f"server CPU {process_cpu_seconds(server.process.pid) - server_cpu:.1f} s, "
                  f"file {size / 1024:,.0f} KB ({size:,} bytes)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
