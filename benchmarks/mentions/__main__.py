"""Benchmark of the mentions capability: memory of 50,000-URL candidate lists, and pages read per second.

    .venv/bin/python -m benchmarks.mentions [--entries 50000] [--pages 200]

1. Reading a 50,000-entry Google-Alerts-shaped Atom feed and a 50,000-row
   Brand24-shaped CSV export, each in a child process: the peak resident memory
   the reading adds (``ru_maxrss`` after reading minus after imports) and the
   time; feedparser on the same feed as the baseline.
3. ``scrapy crawl mentions`` over the same pages served by nginx, writing to
   SecantusDB, against the bare Scrapy spider of benchmarks/backlinks fetching them:
   pages per second end to end, and peak memory.
2. Reading pages for mentions (``read_mentions``: one lxml parse + one trafilatura
   extraction + matching + linkage) against ``analyze_page`` alone (what a
   backlink check costs) on the same generated article pages: pages per second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import PROJECT_ROOT, SecantusServer, machine_note, run_measured, serve_directory

MEASURE = """
import json, resource, sys, time
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
count = {count}
print(json.dumps({{"seconds": time.perf_counter() - start, "count": count,
                  "added_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

CASES = {
    "read_feed (lxml iterparse)": ("from linkcrawler.mentions.feeds import read_feed",
                                   "sum(1 for _ in read_feed(sys.argv[1]))", "feed"),
    "feedparser.parse (baseline)": ("import feedparser", "len(feedparser.parse(sys.argv[1]).entries)", "feed"),
    "read_url_list (CSV export)": ("from linkcrawler.imports.urllist import read_url_list",
                                   "sum(1 for _ in read_url_list(sys.argv[1]))", "csv"),
}

VERBOSE = False

FILLER = ("We spent three weeks testing every product in this category on real projects, with real "
          "deadlines and a team of five people who had never used any of them before. ")


def write_feed(path: Path, entries: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                  "<title>Google Alert - Acme</title>\n")
        for i in range(entries):
            out.write(
                f"<entry><id>tag:google.com,2013:googlealerts/feed:{i}</id>"
                f'<title type="html">Post {i} about &lt;b&gt;Acme&lt;/b&gt;</title>'
                f'<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://site{i % 500}.example/'
                f'post-{i}&amp;ct=ga&amp;cd=CAIyHDQ&amp;usg=AOvVaw0"/><published>2026-11-01T10:00:00Z</published>'
                f'<content type="html">A snippet about &lt;b&gt;Acme&lt;/b&gt; number {i}</content></entry>\n')
        out.write("</feed>\n")


def write_export(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("Date,Title,URL,Domain,Influence Score,Sentiment,Text\n")
        for i in range(rows):
            out.write(f'2026-11-01,"Post {i}",https://site{i % 500}.example/post-{i},site{i % 500}.example,'
                      f'{i % 10},neutral,"Someone wrote about Acme, number {i}"\n')


def article(i: int) -> str:
    nav = "".join(f'<li><a href="/section/{n}">Section {n}</a></li>' for n in range(40))
    paragraphs = "".join(
        f"<p>{FILLER} Paragraph {n} of post {i}. " + ("We liked <a href='https://acme.example/'>Acme</a>. "
                                                      if n == 3 else "The Acme Corp suite is fine. " if n == 5 else "")
        + FILLER + "</p>" for n in range(12))
    return (f"<!doctype html><html><head><title>Post {i}</title><meta name='author' content='Jo'></head><body>"
            f"<header><nav><ul>{nav}</ul></nav></header><main><article><h1>Post {i}</h1>{paragraphs}</article></main>"
            f"<aside>{nav}</aside><footer><p>Copyright Acme hosting</p></footer></body></html>")


def measure_reader(name: str, path: Path) -> dict[str, float]:
    imports, count, _ = CASES[name]
    code = MEASURE.format(imports=imports, count=count)
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_pages(pages: int) -> dict[str, float]:
    from linkcrawler.mentions.match import BrandTerms
    from linkcrawler.mentions.page import read_mentions
    from linkcrawler.web.page import analyze_page

    bodies = [article(i).encode() for i in range(pages)]
    headers = {"Content-Type": "text/html; charset=utf-8"}
    terms = BrandTerms.parse("Acme,Acme Corp")
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        analyze_page(f"https://blog{i}.example/post", body, headers)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    found = 0
    for i, body in enumerate(bodies):
        found += len(read_mentions(f"https://blog{i}.example/post", body, headers, terms, ["acme.example"]).findings)
    reading = time.perf_counter() - start
    assert found == 2 * pages, found
    return {"page_kb": len(bodies[0]) / 1024, "analyze_page_per_s": pages / baseline,
            "read_mentions_per_s": pages / reading, "ms_per_page": reading / pages * 1000}


def measure_crawl(pages: int) -> dict[str, float]:
    """``scrapy crawl mentions`` against the bare spider, on ``pages`` article pages served by nginx."""
    db = SecantusServer()
    try:
        with tempfile.TemporaryDirectory(prefix="lc-bench-mentions-") as tmp:
            root = Path(tmp)  # served by nginx, whose workers must be able to enter it
            (root / "posts").mkdir()
            for i in range(pages):
                (root / "posts" / f"{i}.html").write_text(article(i), encoding="utf-8")
            with serve_directory(root) as base:
                urls = root / "urls.txt"
                urls.write_text("".join(f"{base}/posts/{i}.html\n" for i in range(pages)))
                common = ["-s", "LOG_LEVEL=INFO", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "ROBOTSTXT_OBEY=0"]
                bare = run_measured(
                    [sys.executable, "-m", "scrapy", "runspider",
                     str(PROJECT_ROOT / "benchmarks" / "backlinks" / "bare_spider.py"), "-a", f"urls={urls}", *common],
                    env={"SCRAPY_SETTINGS_MODULE": ""})
                crawl = run_measured(
                    [sys.executable, "-m", "scrapy", "crawl", "mentions", "-a", f"urls={urls}",
                     "-a", "brand=Acme,Acme Corp", *common, "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1",
                     "-s", "LINKCRAWLER_OWN_DOMAINS=acme.example"],
                    env={"MONGO_URI": db.uri, "MONGO_DATABASE": "bench_mentions"})
        for name, run in (("bare", bare), ("mentions", crawl)):
            if run.returncode != 0:
                sys.exit(f"{name} crawl failed:\n{run.output[-3000:]}")
        import pymongo

        if VERBOSE:
            print(crawl.output[-4000:])

        with pymongo.MongoClient(db.uri) as client:
            stored = client["bench_mentions"]["mentions"].count_documents({})
        return {"bare_per_s": pages / bare.seconds, "bare_rss": bare.peak_rss_mb,
                "mentions_per_s": pages / crawl.seconds, "mentions_rss": crawl.peak_rss_mb, "stored": stored}
    finally:
        db.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--skip-feedparser", action="store_true")
    parser.add_argument("--crawl-pages", type=int, default=1000, help="pages of the crawl part (0: skip it)")
    parser.add_argument("--verbose", action="store_true", help="print the crawl's log")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    print(machine_note())
    with tempfile.TemporaryDirectory() as tmp:
        feed, export = Path(tmp) / "alerts.xml", Path(tmp) / "brand24.csv"
        write_feed(feed, args.entries)
        write_export(export, args.entries)
        print(f"feed: {feed.stat().st_size / 1e6:.1f} MB, export: {export.stat().st_size / 1e6:.1f} MB, "
              f"{args.entries} entries each")
        for name, (_, _, kind) in CASES.items():
            if args.skip_feedparser and "feedparser" in name:
                continue
            result = measure_reader(name, feed if kind == "feed" else export)
            print(f"  {name:<30} {result['count']:>7} entries  {result['seconds']:6.1f} s  "
                  f"+{result['added_mb']:6.1f} MB over the imports' peak (peak RSS {result['peak_mb']:.0f} MB)")
    pages = measure_pages(args.pages)
    print(f"pages ({pages['page_kb']:.0f} KB articles): analyze_page {pages['analyze_page_per_s']:.0f}/s, "
          f"read_mentions {pages['read_mentions_per_s']:.0f}/s ({pages['ms_per_page']:.1f} ms a page)")
    if args.crawl_pages:
        crawl = measure_crawl(args.crawl_pages)
        print(f"crawl of {args.crawl_pages} pages: bare spider {crawl['bare_per_s']:.0f} pages/s "
              f"({crawl['bare_rss']:.0f} MB), scrapy crawl mentions {crawl['mentions_per_s']:.0f} pages/s "
              f"({crawl['mentions_rss']:.0f} MB), {crawl['stored']:.0f} mentions stored")


if __name__ == "__main__":
    main()
