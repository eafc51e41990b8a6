"""Benchmark site_audit against a bare Scrapy spider and linkchecker on a 20,000-page site.

    python -m benchmarks.site_audit [--pages 20000] [--linkchecker-seconds 60] [--write-readme]

Generates a static site with planted broken links, redirect chains and a loop,
serves it with nginx (Debian's ``nginx-light``) on 127.0.0.1, then runs, one
after the other, each in its own process: a bare Scrapy spider that only
follows links, ``scrapy crawl site_audit`` writing to a SecantusDB started for
the run, and linkchecker (PyPI, installed into the virtualenv when missing).
Prints pages/s and links checked/s, their ratios to the bare spider of the same
run, peak memory, and whether the audit found exactly what was planted.
Everything is on 127.0.0.1; every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.common import free_port, secantus_command, stop_process, wait_for_port
from benchmarks.site_audit.sitegen import Truth, generate, nginx_config

PROJECT = Path(__file__).resolve().parents[2]
README = Path(__file__).resolve().parent / "README.md"
#: The same for both Scrapy crawls.
COMMON_SETTINGS = {
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "RETRY_TIMES": "1",
    "DOWNLOAD_TIMEOUT": "10",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "False",
    "REMOTE_CONTROL_ENABLED": "False",
    "ROBOTSTXT_OBEY": "True",
}
#: A whole run stops by itself after this long, whatever happens.
CRAWL_TIMEOUT = 3600


def find_nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("nginx is missing: installing Debian's nginx-light", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True, env=env)
        return shutil.which("nginx") or "/usr/sbin/nginx"
    sys.exit("nginx is needed: apt-get install nginx-light")


def find_linkchecker() -> str:
    binary = Path(sys.executable).with_name("linkchecker")
    if not binary.exists():
        print("linkchecker is missing: installing it into the virtualenv (pip)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "linkchecker"], check=True)
    return str(binary)


@dataclass
class Run:
    name: str
    seconds: float
    pages: int
    links: int
    peak_mb: float
    note: str = ""

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def links_per_s(self) -> float:
        return self.links / self.seconds if self.seconds else 0.0


def run_measured(command: list[str], timeout: float, cwd: Path, stdout: Any = subprocess.DEVNULL,
                 interrupt_after: float | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of ``command``; SIGINT after ``interrupt_after`` s."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT)
    deadline = started + timeout
    interrupted = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            break
        now = time.monotonic()
        if interrupt_after is not None and not interrupted and now - started > interrupt_after:
            process.send_signal(signal.SIGINT)
            interrupted = True
        if now > deadline:
            process.kill()
        time.sleep(0.1)
    return time.monotonic() - started, usage.ru_maxrss / 1024, process.returncode


def scrapy_crawl(which: str, start_url: str, work: Path, extra: dict[str, str]) -> tuple[dict[str, Any], float, float]:
    """(the crawl's stats, wall seconds from start to exit, peak RSS in MB)."""
    out = work / f"{which}-stats.json"
    settings = {**COMMON_SETTINGS, "LOG_FILE": str(work / f"{which}.log"), **extra}
    command = [sys.executable, "-m", "benchmarks.site_audit.run_crawl", which, start_url, str(out),
               *(f"{k}={v}" for k, v in settings.items())]
    wall, peak, code = run_measured(command, CRAWL_TIMEOUT, PROJECT)
    if code != 0 or not out.exists():
        raise RuntimeError(f"{which} crawl failed (exit {code}); see {work / (which + '.log')}")
    return json.loads(out.read_text()), wall, peak


def after_last_response(stats: dict[str, Any]) -> float:
    """Seconds from the crawl's last response to its end (what writing after the crawl costs)."""
    last, finish = stats.get("linkcrawler/bench/last_response_time"), stats.get("finish_time")
    if not last or not finish:
        return 0.0
    return max(0.0, (datetime.fromisoformat(finish) - datetime.fromisoformat(last)).total_seconds())


def check_findings(mongo_uri: str, database: str, truth: Truth) -> dict[str, tuple[int, int, int]]:
    """Per finding: (planted, found and planted, found but not planted)."""
    import pymongo

    with pymongo.MongoClient(mongo_uri) as client:
        db = client[database]
        broken = {(d["page_url"], d["link_url"]) for d in db.broken_links.find({}, {"page_url": 1, "link_url": 1})}
        chains = {d["url"] for d in db.pages.find({"redirect_loop": False, "redirect_chain.2": {"$exists": True}})}
        loops = {d["url"] for d in db.pages.find({"redirect_loop": True})}
    return {
        "broken links": (len(truth.broken), len(broken & truth.broken), len(broken - truth.broken)),
        "chains (2+ redirects)": (len(truth.chains), len(chains & truth.chains), len(chains - truth.chains)),
        "loop": (len(truth.loop), len(loops & truth.loop), len(loops - truth.loop)),
    }


def linkchecker_run(binary: str, start_url: str, work: Path, seconds: float) -> Run:
    config = work / "linkcheckerrc"
    # Its default of 10 requests per second per host would measure the throttle, not the checker.
    config.write_text("[checking]\nmaxrequestspersecond=1000\nthreads=16\ntimeout=10\n[output]\nstatus=0\n")
    config.chmod(0o644)  # run as root, linkchecker drops to nobody
    output = work / "linkchecker.out"
    with output.open("wb") as out:
        wall, peak, _ = run_measured(
            [binary, "--config", str(config), "--check-extern", "--no-warnings", "-o", "text", start_url],
            timeout=seconds + 120, cwd=work, stdout=out, interrupt_after=seconds)
    text = output.read_text(errors="replace")
    done = re.search(r"That's it\. ([\d,]+) links? in ([\d,]+) URLs? checked", text)
    types = re.search(r"Content types: (\d+) image, (\d+) text", text)
    links = int(done.group(1).replace(",", "")) if done else 0
    pages = int(types.group(2)) if types else 0
    note = "interrupted after the time budget" if "has been interrupted" in text else "complete"
    return Run("linkchecker", wall, pages, links, peak, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--linkchecker-seconds", type=float, default=60.0,
                        help="time budget of linkchecker (it is measured over that budget)")
    parser.add_argument("--write-readme", action="store_true", help="write the figures into README.md")
    parser.add_argument("--keep", action="store_true", help="keep the generated site and logs")
    parser.add_argument("--no-linkchecker", action="store_true", help="compare with the bare spider only")
    parser.add_argument("--no-bare", action="store_true",
                        help="site_audit alone (its time, memory and findings; no ratio)")
    args = parser.parse_args()

    nginx = find_nginx()
    linkchecker = None if args.no_linkchecker else find_linkchecker()
    work = Path(tempfile.mkdtemp(prefix="bench-site-audit-"))
    work.chmod(0o755)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        port, closed = free_port(), free_port()
        root = work / "site"
        root.mkdir()
        started = time.monotonic()
        truth, locations = generate(root, port, closed, pages=args.pages)
        print(f"site: {truth.pages:,} pages generated in {time.monotonic() - started:.1f}s; "
              f"planted {len(truth.broken)} broken links, {len(truth.chains)} chain URLs, a loop")
        conf_dir = work / "nginx"
        conf_dir.mkdir()
        conf = nginx_config(conf_dir, root, port, locations, as_root=os.geteuid() == 0)
        nginx_process = subprocess.Popen([nginx, "-p", str(conf_dir), "-c", str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(nginx_process)
        wait_for_port(port, nginx_process, "nginx")
        mongo_port = free_port()
        secantus = subprocess.Popen(
            secantus_command(mongo_port, ":memory:"),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(secantus)
        wait_for_port(mongo_port, secantus, "secantusd")
        mongo_uri = f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true"
        start_url = f"http://127.0.0.1:{port}/"

        bare = None
        if not args.no_bare:
            print("bare Scrapy spider...", flush=True)
            stats, wall, peak = scrapy_crawl("bare", start_url, work, {})
            bare = Run("bare Scrapy", wall, stats.get("bare/pages", 0),
                       stats.get("bare/pages", 0) + stats.get("bare/external_checked", 0), peak,
                       f"{after_last_response(stats):.1f}s after the last response")
        print("site_audit...", flush=True)
        stats, wall, peak = scrapy_crawl("audit", start_url, work, {
            "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "True", "MONGO_URI": mongo_uri, "MONGO_DATABASE": "bench",
            "LINKCRAWLER_DATA_DIR": str(work / "data"),
        })
        audit = Run("site_audit", wall, stats.get("linkcrawler/site_audit/status/200", 0),
                    stats.get("linkcrawler/site_audit/pages", 0) + stats.get("linkcrawler/site_audit/external_checked", 0),
                    peak, f"{stats.get('linkcrawler/mongo/written', 0):,} writes to SecantusDB; "
                          f"{after_last_response(stats):.1f}s after the last response")
        findings = check_findings(mongo_uri, "bench", truth)
        checker = None
        if linkchecker is not None:
            print(f"linkchecker ({args.linkchecker_seconds:.0f}s budget)...", flush=True)
            checker = linkchecker_run(linkchecker, start_url, work, args.linkchecker_seconds)
    finally:
        for process in reversed(processes):
            stop_process(process)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept in {work}")

    report = format_report(args.pages, bare, audit, checker, findings)
    print()
    print(report)
    if args.write_readme:
        write_readme(report)


def format_report(pages: int, bare: Run | None, audit: Run, checker: Run | None,
                  findings: dict[str, tuple[int, int, int]]) -> str:
    lines = [
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {pages:,}-page site on nginx (127.0.0.1)",
        "",
        f"{'crawler':<14}{'seconds':>9}{'pages':>8}{'pages/s':>9}{'links':>8}{'links/s':>9}{'peak MB':>9}"
        f"{'pages/s vs bare':>17}{'links/s vs bare':>17}",
    ]
    for run in (*([bare] if bare else []), audit, *([checker] if checker else [])):
        ratios = (f"{run.pages_per_s / bare.pages_per_s:>17.2f}{run.links_per_s / bare.links_per_s:>17.2f}"
                  if bare else f"{'-':>17}{'-':>17}")
        lines.append(
            f"{run.name:<14}{run.seconds:>9.1f}{run.pages:>8}{run.pages_per_s:>9.1f}{run.links:>8}{run.links_per_s:>9.1f}"
            f"{run.peak_mb:>9.0f}{ratios}" + (f"   ({run.note})" if run.note else ""))
    lines += ["", "seconds: wall time of the process, start to exit (writes and the store's flush included)"]
    if bare is not None:
        vs_bare = audit.pages_per_s / bare.pages_per_s
        lines.append(f"site_audit / bare Scrapy, pages/s: {vs_bare:.2f} "
                     f"(target >= 1.0: {'met' if vs_bare >= 1.0 else 'NOT met'})")
    lines.append(f"site_audit peak RSS {audit.peak_mb:.0f} MB (target at 80,000 pages: <= 250 MB)")
    if checker is not None and bare is not None:
        vs_checker = audit.links_per_s / checker.links_per_s if checker.links_per_s else float("inf")
        lines.append(f"site_audit / linkchecker, links checked/s: {vs_checker:.1f}x "
                     f"(target >= 2x: {'met' if vs_checker >= 2 else 'NOT met'})")
    lines += [
        "",
        "site_audit findings against what was planted:",
    ]
    exact = True
    for name, (planted, found, extra) in findings.items():
        ok = found == planted and extra == 0
        exact &= ok
        lines.append(f"  {name:<22} planted {planted:>4}  found {found:>4}  not planted {extra:>3}  {'exact' if ok else 'WRONG'}")
    lines.append(f"  exactly the planted findings: {'yes' if exact else 'NO'}")
    return "\n".join(lines)


def write_readme(report: str) -> None:
    text = README.read_text()
    marker = "## Last figures"
    head = text.split(marker, 1)[0]
    README.write_text(f"{head}{marker}\n\n```\n{report}\n```\n")


if __name__ == "__main__":
    main()
