"""Benchmark prospects against a bare Scrapy spider making the same fetches.

    python -m benchmarks.prospects [--pages 1000] [--links-per-page 20] [--pool 3000]

Generates ``--pages`` prospect pages on 127.0.0.1, each linking to ``--links-per-page``
URLs drawn from a pool of ``--pool`` outbound URLs on eight other loopback hosts
(127.0.0.2-9: other registrable domains): live pages, 404s, a parked domain that
answers every path with a for-sale page, and old deep URLs that redirect to another
site's home page. nginx serves all of it. Then, one after the other, each in its
own process: the bare spider (:mod:`benchmarks.prospects.bare_spider`) and
``scrapy crawl prospects`` writing to a SecantusDB started for the run. Prints
prospect pages/s and outbound URLs checked/s for each, the ratio (target 0.8),
and whether the crawl found exactly the planted dead links.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pymongo

from benchmarks.common import PROJECT_ROOT, SecantusServer, free_port, machine_note, stop_process, wait_for_port

HOSTS = [f"127.0.0.{n}" for n in range(2, 10)]
PARKED_HOST, NEW_OWNER_HOST = HOSTS[-1], HOSTS[-2]
COMMON = {
    "CONCURRENT_REQUESTS": "32", "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "RETRY_TIMES": "1",
    "DOWNLOAD_TIMEOUT": "10", "LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": "False",
    "REMOTE_CONTROL_ENABLED": "False", "ROBOTSTXT_OBEY": "True", "COOKIES_ENABLED": "False",
}
PARKED = ("<html><head><title>old-domain.example</title></head><body><h1>old-domain.example</h1>"
          "<p>This domain may be for sale. Make an offer on this domain.</p></body></html>")


def server_block(host: str, port: int, root: Path, extra: str = "") -> str:
    return (f"server {{ listen {host}:{port}; root {root}; charset utf-8; {extra}"
            f" index index.html; location / {{ try_files $uri $uri/ =404; }} }}\n")


def generate(root: Path, pages: int, links_per_page: int, pool: int, port: int) -> tuple[list[str], dict[str, set[str]]]:
    """The prospect pages' URLs and the planted dead links by reason."""
    rng = random.Random(7)
    filler = "<p>" + "Tools and guides for people who build links and care about their reputation. " * 12 + "</p>"
    urls: list[str] = []
    planted: dict[str, set[str]] = {"http_404": set(), "parked_domain": set(), "redirect_to_unrelated": set()}
    for host in HOSTS:
        (root / host / "p").mkdir(parents=True)
    (root / NEW_OWNER_HOST / "index.html").write_text("<html><title>New owner</title><body>" + filler + "</body></html>")
    (root / PARKED_HOST / "parked.html").write_text(PARKED)
    for n in range(pool):
        kind = rng.random()
        if kind < 0.05:
            url = f"http://{PARKED_HOST}:{port}/resources/{n}.html"
            planted["parked_domain"].add(url)
        elif kind < 0.08:
            url = f"http://{HOSTS[0]}:{port}/moved/{n}.html"
            planted["redirect_to_unrelated"].add(url)
        else:
            host = HOSTS[n % (len(HOSTS) - 2)]
            url = f"http://{host}:{port}/p/{n}.html"
            if kind < 0.25:
                planted["http_404"].add(url)
            else:
                (root / host / "p" / f"{n}.html").write_text(
                    f"<html><head><title>Resource {n}</title></head><body><h1>Resource {n}</h1>{filler}</body></html>")
        urls.append(url)
    (root / "prospects").mkdir()
    for n in range(pages):
        links = "".join(f'<li>See <a href="{url}">resource {i}</a> here.</li>'
                        for i, url in enumerate(rng.sample(urls, links_per_page)))
        (root / "prospects" / f"{n}.html").write_text(
            f"<html><head><title>Link roundup {n}</title></head><body>{filler}<ul>{links}</ul></body></html>")
    return [f"http://127.0.0.1:{port}/prospects/{n}.html" for n in range(pages)], planted


def nginx_conf(tmp: Path, root: Path, port: int) -> str:
    blocks = server_block("127.0.0.1", port, root)
    for host in HOSTS:
        extra = ""
        if host == PARKED_HOST:
            extra = "location /resources/ { try_files /parked.html =404; }"
        if host == HOSTS[0]:
            extra = f"location /moved/ {{ return 301 http://{NEW_OWNER_HOST}:{port}/; }}"
        blocks += server_block(host, port, root / host, extra)
    return (f"worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log warn;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{ access_log off; default_type text/html; types {{ text/html html; }}\n"
            f"client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;\n"
            f"uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi; keepalive_requests 100000;\n{blocks}}}\n")


def crawl(which: str, urls_file: Path, out: Path, env: dict[str, str], extra: dict[str, str]) -> dict[str, object]:
    args = [sys.executable, "-m", "benchmarks.prospects.run_crawl", which, str(urls_file), str(out),
            *(f"{k}={v}" for k, v in {**COMMON, **extra}.items())]
    done = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0 or not out.exists():
        sys.exit(f"{which} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    stats: dict[str, object] = json.loads(out.read_text())
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--links-per-page", type=int, default=20)
    parser.add_argument("--pool", type=int, default=3000)
    opts = parser.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    print(machine_note())
    with tempfile.TemporaryDirectory(prefix="lc-bench-prospects-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "www"
        port = free_port()
        urls, planted = generate(root, opts.pages, opts.links_per_page, opts.pool, port)
        for path in [tmp, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        urls_file = tmp / "prospects.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        conf = tmp / "nginx.conf"
        conf.write_text(nginx_conf(tmp, root, port))
        server = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
        db = SecantusServer()
        try:
            wait_for_port(port, server, "nginx")
            env = {**os.environ, "MONGO_URI": db.uri, "MONGO_DATABASE": "bench_prospects",
                   "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1", "LINKCRAWLER_DATA_DIR": str(tmp / "data")}
            bare = crawl("bare", urls_file, tmp / "bare.json", env, {})
            ours = crawl("prospects", urls_file, tmp / "prospects.json", env, {"LINKCRAWLER_RECORD_RUNS": "False"})
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(db.uri)
            found: dict[str, set[str]] = {}
            for doc in client["bench_prospects"]["outbound_checks"].find({"state": "broken"}):
                found.setdefault(str(doc["broken_reason"]), set()).add(str(doc["url"]))
            used = {str(doc["url"]) for doc in client["bench_prospects"]["outbound_checks"].find({}, {"url": 1})}
            opportunities = client["bench_prospects"]["opportunities"].count_documents({})
            client.close()
        finally:
            db.stop()
            stop_process(server, signal.SIGQUIT)
    bare_seconds = float(bare["elapsed_time_seconds"])  # type: ignore[arg-type]
    our_seconds = float(ours["elapsed_time_seconds"])  # type: ignore[arg-type]
    bare_pages, our_pages = int(bare.get("bare/pages", 0)), int(ours.get("linkcrawler/prospects/pages", 0))  # type: ignore[call-overload]
    bare_checked = int(bare.get("bare/checked", 0))  # type: ignore[call-overload]
    our_checked = int(ours.get("linkcrawler/prospects/checked", 0))  # type: ignore[call-overload]
    print(f"{opts.pages} prospect pages x {opts.links_per_page} links, pool of {opts.pool} outbound URLs "
          f"({len(used)} used) on {len(HOSTS)} hosts")
    print(f"{'':<10} {'seconds':>8} {'pages/s':>8} {'checked/s':>10} {'requests':>9}")
    for name, seconds, pages, checked, stats in (("bare", bare_seconds, bare_pages, bare_checked, bare),
                                                  ("prospects", our_seconds, our_pages, our_checked, ours)):
        print(f"{name:<10} {seconds:>8.1f} {pages / seconds:>8.1f} {checked / seconds:>10.1f} "
              f"{stats.get('downloader/request_count', 0):>9}")
    print(f"ratio (prospects / bare): pages/s {(our_pages / our_seconds) / (bare_pages / bare_seconds):.2f}, "
          f"checked/s {(our_checked / our_seconds) / (bare_checked / bare_seconds):.2f} (target 0.8)")
    exact = all(found.get(reason, set()) == (urls & used) for reason, urls in planted.items()) \
        and set(found) <= set(planted)
    print(f"found exactly the planted dead links: {exact} "
          + ", ".join(f"{reason} {len(found.get(reason, ()))}/{len(urls & used)}" for reason, urls in planted.items())
          + f"; {opportunities} opportunities")


if __name__ == "__main__":
    main()
