"""Benchmark: what rendered confirmation (``LINKCRAWLER_RENDER=confirm``) costs over the plain crawl.

    python -m benchmarks.render [--pages 1000] [--removed 0.05] [--rounds 1]

Generates ``pages`` linking pages (about 15 KB, 60 links, one known backlink
each); on ``removed`` of them (5%) the link is gone, so ``confirm`` renders
those pages in chromium before recording them ``removed``. Serves them with
nginx on 127.0.0.1 (the mock server without it), imports the links into a
SecantusDB server, and runs ``scrapy crawl backlinks -a all=1`` with
``LINKCRAWLER_RENDER=never``, then ``confirm``, each on a fresh copy of the links.
A second pair runs on pages that all carry their link: ``confirm`` installs the
browser's download handler but renders nothing, which shows what the handler
costs the plain requests it passes to Scrapy's HTTP/1.1 handler.
Prints wall time, links per second and the crawler's CPU per link of each.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.backlinks.__main__ import CpuMeter, crawl_seconds, import_links, settings_args
from benchmarks.common import SecantusServer, machine_note, scrapy_stat, serve_directory, write_results

OUR = "http://our-site.test"
COMMON = {
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "ROBOTSTXT_OBEY": "False",
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": "3600",
    "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
    "LINKCRAWLER_OWN_DOMAINS": "our-site.test",
    "LINKCRAWLER_RENDER_MAX_PER_RUN": "100000",
}


def generate(root: Path, pages: int, removed: float, prefix: str) -> list[tuple[str, str]]:
    """Write the pages under ``prefix``; return (path, target) of every known link."""
    rng = random.Random(11)
    words = ["backlinks", "crawler", "anchor", "page", "site", "link", "search"]
    filler = " ".join(rng.choice(words) for _ in range(1200))
    gone = set(rng.sample(range(pages), round(pages * removed)))
    (root / prefix).mkdir()
    known = []
    for i in range(pages):
        path = f"/{prefix}/p{i}.html"
        target = f"{OUR}/t{i % 997}"
        known.append((path, target))
        anchors = [f'<a href="/{prefix}/p{rng.randrange(pages)}.html">related {j}</a>' for j in range(59)]
        if i not in gone:
            anchors.insert(rng.randrange(len(anchors)), f'<a href="{target}">our page</a>')
        body = "\n".join(f"<p>{filler[k * 150:(k + 1) * 150]} {a}</p>" for k, a in enumerate(anchors))
        (root / path.lstrip("/")).write_text(
            f"<!doctype html><html><head><title>Page {i}</title></head><body>{body}</body></html>"
        )
    return known


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--removed", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=1)
    opts = parser.parse_args()
    print(f"render benchmark: {opts.pages} pages, {opts.removed:.0%} of the links removed; {machine_note()}")
    db = SecantusServer()
    cpu = CpuMeter(db.process.pid)
    seconds: dict[str, list[float]] = {}
    renders: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="lc-bench-render-") as tmp:
            root = Path(tmp)
            sets = {"removed": generate(root, opts.pages, opts.removed, "r"),
                    "all_present": generate(root, opts.pages, 0.0, "k")}
            with serve_directory(root) as base:
                run = 0
                for round_number in range(1, opts.rounds + 1):
                    for set_name, known in sets.items():
                        for mode in ("never", "confirm"):
                            run += 1
                            database = f"bench_render_{run}"
                            import_links(db.uri, database, base, known)
                            name = f"{set_name}/{mode}"
                            measured = cpu.run(name, [
                                sys.executable, "-m", "scrapy", "crawl", "backlinks", "-a", "all=1",
                                *settings_args({**COMMON, "MONGO_URI": db.uri, "MONGO_DATABASE": database,
                                                "LINKCRAWLER_RENDER": mode})])
                            took = crawl_seconds(measured, name)
                            seconds.setdefault(name, []).append(took)
                            renders[name] = scrapy_stat(measured.output, "linkcrawler/render/rendered") or 0
                            removed = scrapy_stat(measured.output, "linkcrawler/backlinks/status/removed") or 0
                            print(f"round {round_number} {name}: {took:.1f}s, {len(known) / took:,.0f} links/s, "
                                  f"{renders[name]:.0f} rendered, {removed:.0f} removed, "
                                  f"peak RSS {measured.peak_rss_mb:.0f} MB (crawler; chromium not counted)")
    finally:
        db.stop()
    links = opts.pages
    summary: dict[str, object] = {"pages": links, "removed_share": opts.removed}
    for name, values in seconds.items():
        crawler_ms, store_ms = cpu.per_link_ms(name, links)
        summary[name] = {"seconds": round(statistics.median(values), 2),
                         "links_per_s": round(links / statistics.median(values)),
                         "rendered": renders[name],
                         "crawler_cpu_ms_per_link": round(crawler_ms, 3), "store_cpu_ms_per_link": round(store_ms, 3)}
    print(json.dumps(summary, indent=2))

    def median(name: str) -> float:
        return statistics.median(seconds[name])

    extra = median("removed/confirm") - median("removed/never")
    rendered = renders["removed/confirm"] or 1
    print(f"confirm costs {extra:+.1f}s over the plain crawl of {links} links with {opts.removed:.0%} removed "
          f"({median('removed/confirm') / median('removed/never'):.2f}x; {extra / rendered:.2f}s per rendered page); "
          f"with nothing to render: {median('all_present/confirm') / median('all_present/never'):.2f}x")
    write_results("render", summary)


if __name__ == "__main__":
    main()
