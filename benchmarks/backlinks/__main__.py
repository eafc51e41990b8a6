"""Benchmark: links verified per second by ``backlinks`` against a bare Scrapy spider.

    python -m benchmarks.backlinks [--pages 5000] [--links-per-page 4] [--rounds 2]

Generates ``pages`` linking pages (about 15 KB, 60 links each, ``links-per-page``
of them known backlinks: followed, nofollow, or gone), serves them with nginx on
127.0.0.1 (the test mock server without nginx), imports the known links into a
SecantusDB server, then alternates in each round a bare Scrapy spider fetching
the same pages and ``scrapy crawl backlinks`` with MongoDB writes on, a first check
and the re-check where nothing changed (``--project DIR``: also another checkout's,
in the same rounds). Prints links verified per second of each, their ratio to the
bare spider (targets: 0.5 on a first check, 0.6 on the re-check), each crawler's
peak memory and the CPU per link of the crawler and of the store.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pymongo

from benchmarks.common import (
    PROJECT_ROOT,
    Measured,
    SecantusServer,
    machine_note,
    process_cpu_seconds,
    run_measured,
    scrapy_stat,
    serve_directory,
    write_results,
)
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.store.embedded import server_options
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch

OUR = "http://our-site.test"
#: Both crawlers alike: 32 requests at once, all to the one host.
COMMON = {
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "ROBOTSTXT_OBEY": "False",
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": "3600",
    "TELNETCONSOLE_ENABLED": "False",
}


def generate(root: Path, pages: int, links_per_page: int) -> list[tuple[str, str]]:
    """Write the pages; return (path, target) of every known link."""
    rng = random.Random(7)
    filler = " ".join(rng.choice(["backlinks", "crawler", "anchor", "page", "site", "link", "search"])
                      for _ in range(1200))
    known = []
    for i in range(pages):
        section = root / f"s{i % 100}"
        section.mkdir(exist_ok=True)
        path = f"/s{i % 100}/p{i}.html"
        anchors = [f'<a href="/s{rng.randrange(100)}/p{rng.randrange(pages)}.html">related {j}</a>'
                   for j in range(60 - links_per_page)]
        for j in range(links_per_page):
            target = f"{OUR}/t{(i * links_per_page + j) % 997}"
            known.append((path, target))
            kind = (i + j) % 10
            if kind == 9:
                continue  # this one is gone from the page
            rel = ' rel="nofollow"' if kind == 8 else ""
            anchors.insert(rng.randrange(len(anchors)), f'<a href="{target}"{rel}>our page {j}</a>')
        body = "\n".join(f"<p>{filler[k * 150:(k + 1) * 150]} {a}</p>" for k, a in enumerate(anchors))
        (root / path.lstrip("/")).write_text(
            f"<!doctype html><html><head><title>Page {i}</title></head><body>{body}</body></html>"
        )
    return known


def import_links(uri: str, database: str, base: str, known: list[tuple[str, str]]) -> None:
    now = datetime.now(timezone.utc)
    with pymongo.MongoClient(uri) as client:
        db = client[database]
        ensure_indexes(db)
        ops = [op for path, target in known for op in new_backlink_ops(base + path, target, now, "benchmark")]
        for start in range(0, len(ops), 5000):
            _, failed = write_batch(db, ops[start:start + 5000])
            assert not failed, failed[:1]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU used by each crawl (the crawler process) and by the store server meanwhile.

    Wall times on a shared machine wander with the neighbours' load; CPU per link
    does not, and tells which side a change made cheaper.
    """

    def __init__(self, store_pid: int) -> None:
        self.store_pid = store_pid
        self.runs: dict[str, list[tuple[float, float]]] = {}

    def run(self, name: str, args: list[str], env: dict[str, str] | None = None,
            cwd: Path = PROJECT_ROOT) -> Measured:
        crawler, store = children_cpu_seconds(), process_cpu_seconds(self.store_pid)
        measured = run_measured(args, env=env, cwd=cwd)
        self.runs.setdefault(name, []).append(
            (children_cpu_seconds() - crawler, process_cpu_seconds(self.store_pid) - store))
        return measured

    def per_link_ms(self, name: str, links: int) -> tuple[float, float]:
        """Median (crawler, store) CPU milliseconds per link of the runs called ``name``."""
        runs = self.runs[name]
        return (statistics.median(c for c, _ in runs) * 1000 / links,
                statistics.median(s for _, s in runs) * 1000 / links)


def settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def crawl_seconds(run: Measured, what: str) -> float:
    """The crawl's time as Scrapy reports it (``elapsed_time_seconds``: open to close of the spider)."""
    if run.returncode != 0:
        sys.exit(f"{what} failed:\n{run.output[-3000:]}")
    return scrapy_stat(run.output, "elapsed_time_seconds") or run.seconds


def verified_states(uri: str, database: str, links: int) -> dict[str, int]:
    """The count of each status; exits unless every link got one (none left pending)."""
    with pymongo.MongoClient(uri) as client:
        states = {row["_id"]: row["n"] for row in client[database].backlinks.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}
    verified = sum(n for status, n in states.items() if status != "pending")
    if verified != links:
        sys.exit(f"backlinks verified {verified} of {links} links: {states}")
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--links-per-page", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-journal", action="store_true",
                        help="write without j=true (the embedded store's durability): what durability costs")
    parser.add_argument("--project", type=Path, action="append", default=[],
                        help="also measure the first check and re-check of this checkout of the project "
                             "(e.g. the code before a change, from git archive), in the same rounds")
    parser.add_argument("--replica-set", action="store_true",
                        help="run the server as a replica set (with an oplog), as the embedded store did before 2026-11-30")
    parser.add_argument("--no-store-run", action="store_true", default=False,
                        help="skip the crawl without store writes")
    opts = parser.parse_args()
    print(f"backlinks benchmark: {opts.pages} pages x {opts.links_per_page} known links; {machine_note()}")
    db = SecantusServer(journal=not opts.no_journal, options=server_options(change_streams=opts.replica_set))
    cpu = CpuMeter(db.process.pid)
    projects = [*(p.resolve() for p in opts.project), PROJECT_ROOT]
    label = {p: ("this checkout" if p == PROJECT_ROOT else str(p)) for p in projects}
    # Links per second of each crawl, per round; peak RSS of each crawler process.
    speed: dict[str, list[float]] = {"bare": [], "no_store": []}
    # The same, over the process's whole life (start to exit: start-up, and what runs
    # after the spider closed, such as the outreach sync and the alerts, included).
    exit_speed: dict[str, list[float]] = {"bare": []}
    rss: dict[str, list[float]] = {"bare": []}
    try:
        with tempfile.TemporaryDirectory(prefix="lc-bench-site-") as tmp:
            root = Path(tmp)
            known = generate(root, opts.pages, opts.links_per_page)
            links = len(known)
            with serve_directory(root) as base:
                urls = root / "urls.txt"
                urls.write_text("".join(f"{base}{path}\n" for path in dict.fromkeys(p for p, _ in known)))
                # Rendering off: a tenth of the links are gone from their pages, and the
                # browser would confirm each removal (benchmarks/render measures that).
                crawl_settings = {**COMMON, "MONGO_URI": db.uri, "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
                                  "LINKCRAWLER_OWN_DOMAINS": "our-site.test", "LINKCRAWLER_RENDER": "never"}
                for round_number in range(1, opts.rounds + 1):
                    bare = cpu.run(
                        "bare", [sys.executable, "-m", "scrapy", "runspider", str(Path(__file__).with_name("bare_spider.py")),
                         "-a", f"urls={urls}", *settings_args(COMMON)],
                        env={"SCRAPY_SETTINGS_MODULE": ""},
                    )
                    t_bare = crawl_seconds(bare, "bare spider")
                    speed["bare"].append(links / t_bare)
                    exit_speed["bare"].append(links / bare.seconds)
                    rss["bare"].append(bare.peak_rss_mb)
                    line = [f"round {round_number}: bare Scrapy {links / t_bare:,.0f} links/s ({t_bare:.1f}s)"]
                    # Each round in another order: a crawl run later in a round meets a bigger store.
                    turn = (round_number - 1) % len(projects)
                    for n, project in enumerate(projects[turn:] + projects[:turn]):
                        database = f"bench_{round_number}_{n}"
                        import_links(db.uri, database, base, known)
                        env = {"PYTHONPATH": str(project)}
                        args = [sys.executable, "-m", "scrapy", "crawl", "backlinks", "-a", "all=1"]
                        for kind in ("first check", "re-check"):
                            # The re-check is the daily case: the same links checked again,
                            # nothing changed (nginx answers 304 to the conditional requests).
                            name = f"{kind} [{label[project]}]"
                            run = cpu.run(name, [*args, *settings_args({**crawl_settings, "MONGO_DATABASE": database})],
                                          env=env, cwd=project)
                            seconds = crawl_seconds(run, name)
                            speed.setdefault(name, []).append(links / seconds)
                            exit_speed.setdefault(name, []).append(links / run.seconds)
                            rss.setdefault(name, []).append(run.peak_rss_mb)
                            states = verified_states(db.uri, database, links)
                            line.append(f"{name} {links / seconds:,.0f} links/s (ratio {t_bare / seconds:.2f}; "
                                        f"start to exit {bare.seconds / run.seconds:.2f}; {run.peak_rss_mb:.0f} MB)")
                    if not opts.no_store_run:
                        # The crawl with the state pipeline but no MongoDB writes: what the
                        # checking itself costs, apart from the store.
                        database = f"bench_{round_number}_nostore"
                        import_links(db.uri, database, base, known)
                        no_store = cpu.run(
                            "without store writes", [*args, *settings_args({
                                **crawl_settings, "MONGO_DATABASE": database,
                                "ITEM_PIPELINES": json.dumps({"pipelines.backlink_state.BacklinkStatePipeline": 300})})],
                        )
                        t_no_store = crawl_seconds(no_store, "backlinks without store writes")
                        speed["no_store"].append(links / t_no_store)
                        line.append(f"without store writes {links / t_no_store:,.0f} links/s "
                                    f"(ratio {t_bare / t_no_store:.2f})")
                    print("; ".join(line) + f"; states {states}", flush=True)
    finally:
        db.stop()
    bare_speed = statistics.median(speed["bare"])
    summary: dict[str, Any] = {"links": links, "bare_links_per_s": round(bare_speed),
                               "bare_peak_rss_mb": round(max(rss["bare"]))}
    for name, values in speed.items():
        if name != "bare" and values:
            summary[name] = {"links_per_s": round(statistics.median(values)),
                             "ratio": round(statistics.median(values) / bare_speed, 2)}
            if name in exit_speed:
                summary[name]["ratio_start_to_exit"] = round(
                    statistics.median(exit_speed[name]) / statistics.median(exit_speed["bare"]), 2)
            if name in rss:
                summary[name]["peak_rss_mb"] = round(max(rss[name]))
    summary["cpu_ms_per_link"] = {
        name: {"crawler": round(crawler, 3), "store": round(store, 3)}
        for name in cpu.runs
        for crawler, store in [cpu.per_link_ms(name, links)]
    }
    print(json.dumps(summary, indent=2))
    for project in projects:
        first, again = (summary[f"{kind} [{label[project]}]"] for kind in ("first check", "re-check"))
        print(f"[{label[project]}] first check: {first['ratio']:.2f} of bare "
              f"(start to exit {first['ratio_start_to_exit']:.2f}; target 0.5: {'met' if first['ratio'] >= 0.5 else 'NOT met'}); "
              f"re-check, nothing changed: {again['ratio']:.2f} of bare "
              f"(start to exit {again['ratio_start_to_exit']:.2f}; target 0.6: {'met' if again['ratio'] >= 0.6 else 'NOT met'})")
    write_results("backlinks", summary)


if __name__ == "__main__":
    main()
