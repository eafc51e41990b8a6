"""Benchmark: pages audited per second by ``site_audit`` in one process and in N workers sharing Redis.

    python -m benchmarks.site_audit_distributed [--pages 4000] [--latency 0.25] [--workers 2] [--rounds 1]

The generated site of ``benchmarks/site_audit`` (``--pages`` pages, planted broken
links, external links), served on 127.0.0.1 by the test mock server with every
HTML page answering after ``--latency`` seconds, as remote sites do (waiting
costs the server no CPU). Each worker keeps 16 requests in flight, so the crawl
is bound by the requests in flight, which is what adding workers adds.

In each round: ``single``, one ``scrapy crawl site_audit`` with Scrapy's own
scheduler (no Redis), the reference; then N processes started together with
``REDIS_URL``, sharing the audit. It checks that the shared audit wrote exactly
the single process's report (pages with status, depth, inlinks...; broken and
redirected links), then prints pages per second over the wall time (start to the
last exit, the report included) and how long the report took (from the end of
the shared crawl to the report stored: ``linkcrawler/site_audit/report_seconds``).

The machine is shared and every process runs on the same cores: compare ratios
within one run, never figures across runs.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import pymongo

from benchmarks.common import (
    PROJECT_ROOT,
    SecantusServer,
    machine_note,
    run_workers,
    scrapy_stat,
)
from benchmarks.distributed.__main__ import Redis
from benchmarks.site_audit.sitegen import generate

#: Requests each worker keeps in flight.
CONCURRENCY = 16
#: What is compared between the single process's report and the shared one's.
PAGE_FIELDS = ("status", "final_status", "final_url", "redirect_loop", "depth", "found_by", "inlinks", "in_sitemap",
               "title")


def report(db: pymongo.database.Database) -> dict[str, Any]:
    return {
        "pages": {d["url"]: tuple(d.get(f) for f in PAGE_FIELDS) for d in db.pages.find()},
        "broken_links": {(d["page_url"], d["link_url"]): d["status"] for d in db.broken_links.find()},
        "redirected_links": {(d["page_url"], d["link_url"]): d["final_url"] for d in db.redirected_links.find()},
    }


def audit(workers: int, start_url: str, settings: dict[str, str], log_dir: Path) -> tuple[float, list[str]]:
    """Run ``workers`` site_audit processes together: the wall time until the last exits, and their logs."""
    command = [sys.executable, "-m", "scrapy", "crawl", "site_audit", "-a", f"start_url={start_url}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return run_workers(command, workers, log_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=4000)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    opts = parser.parse_args()
    print(f"site_audit shared by {opts.workers} workers vs one process; {machine_note()}", flush=True)
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.mockserver import MockServer

    db_server, redis_server = SecantusServer(), Redis()
    rates: dict[str, list[float]] = {"single": [], "shared": []}
    report_seconds: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="lc-bench-audit-dist-") as tmp:
            root = Path(tmp) / "site"
            root.mkdir()
            with MockServer(site_dir=root) as server:
                base = server.url("/").rstrip("/")
                port = int(base.rsplit(":", 1)[1])
                _truth, _ = generate(root, port, closed_port=1, pages=opts.pages)
                for page in root.rglob("*.html"):
                    page.with_name(page.name + ".meta.json").write_text(json.dumps({"delay": opts.latency}))
                client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(db_server.uri, tz_aware=True)
                common = {
                    "MONGO_URI": db_server.uri, "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
                    "LINKCRAWLER_DATA_DIR": str(Path(tmp) / "data"), "LOG_LEVEL": "INFO",
                    "CONCURRENT_REQUESTS": str(CONCURRENCY), "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENCY),
                    "DOWNLOAD_TIMEOUT": "60", "RETRY_TIMES": "1",
                }
                for round_number in range(1, opts.rounds + 1):
                    outcome = {}
                    for kind in ("single", "shared"):
                        database = f"bench_{round_number}_{kind}"
                        settings = {**common, "MONGO_DATABASE": database}
                        workers = 1
                        if kind == "shared":
                            workers = opts.workers
                            redis_server.flush()
                            settings |= {"REDIS_URL": redis_server.url, "SCHEDULER_IDLE_BEFORE_CLOSE": "1"}
                        log_dir = Path(tmp) / database
                        log_dir.mkdir()
                        wall, logs = audit(workers, base + "/", settings, log_dir)
                        outcome[kind] = report(client[database])
                        pages = len(outcome[kind]["pages"])
                        rates[kind].append(pages / wall)
                        line = f"  round {round_number}, {kind}: {pages} pages in {wall:.1f}s, {pages / wall:,.1f} pages/s"
                        if kind == "shared":
                            seconds = [s for s in (scrapy_stat(log, "linkcrawler/site_audit/report_seconds")
                                                   for log in logs) if s is not None]
                            if len(seconds) != 1:
                                sys.exit(f"expected one worker to make the report, got {len(seconds)}")
                            report_seconds.append(seconds[0])
                            fetched = [scrapy_stat(log, "linkcrawler/site_audit/facts/page") or 0 for log in logs]
                            line += f" (pages fetched per worker: {[int(f) for f in fetched]}; report {seconds[0]:.1f}s)"
                            line += "".join(f"\n    {found}" for log in logs
                                            for found in re.findall(r"site_audit: report of .*", log))
                        print(line, flush=True)
                        client.drop_database(database)
                    for name in outcome["single"]:
                        if outcome["shared"][name] != outcome["single"][name]:
                            sys.exit(f"the shared audit's {name} differ from the single process's")
                    print(f"  round {round_number}: the shared report is the single process's "
                          f"({len(outcome['single']['broken_links'])} broken links)", flush=True)
                client.close()
    finally:
        db_server.stop()
        redis_server.stop()
    single, shared = statistics.median(rates["single"]), statistics.median(rates["shared"])
    print(json.dumps({
        "pages": opts.pages, "latency_s": opts.latency, "workers": opts.workers,
        "single_pages_per_s": round(single, 1), "shared_pages_per_s": round(shared, 1),
        "shared_vs_single": round(shared / single, 2), "report_seconds": statistics.median(report_seconds),
    }, indent=2))


if __name__ == "__main__":
    main()
