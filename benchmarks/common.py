"""What the benchmarks share: a fast static server, child processes measured, a store.

Every benchmark compares against a baseline measured in the same run, on the same
machine, because the machine is shared and noisy: only ratios are meaningful.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkcrawler.store.embedded import SERVER_OPTIONS
from tests.fixtures.services import free_port, secantus_command, stop_process, wait_for_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
__all__ = ["PROJECT_ROOT", "free_port", "secantus_command", "stop_process", "wait_for_port"]

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    types {{ text/html html; text/plain txt; }}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        charset utf-8;
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1: nginx when installed (fast), else the test mock server."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        print("(nginx not found: serving with the test mock server, slower)", file=sys.stderr)
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.mockserver import MockServer

        with MockServer(site_dir=root) as server:
            yield server.url("/").rstrip("/")
        return
    # nginx's workers run as an unprivileged user: the tree must be readable by all.
    root.chmod(0o755)
    with tempfile.TemporaryDirectory(prefix="lc-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, root=root))
        process = subprocess.Popen([nginx, "-c", str(conf), "-p", tmp], stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, process, "nginx")
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(process, signal.SIGQUIT)


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_measured(args: list[str], env: dict[str, str] | None = None, timeout: float = 1800,
                 cwd: Path = PROJECT_ROOT) -> Measured:
    """Run a child process; its wall time and its own peak resident memory."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(args, cwd=cwd, env={**os.environ, **(env or {})},
                                   stdout=out, stderr=subprocess.STDOUT)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    return Measured(seconds, usage.ru_maxrss / 1024, process.returncode, output)


class SecantusServer:
    """A SecantusDB daemon (the embedded default's server) on a free port, data in a temp dir.

    ``options``: the server's options, the embedded store's by default.
    Its ``uri`` writes as the embedded store does (``journal=true``: every write
    durable, the batched writer syncing once per batch); ``journal=False``
    measures without that (what durability costs).
    """

    def __init__(self, journal: bool = True, options: tuple[str, ...] = SERVER_OPTIONS) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="lc-bench-db-")
        self.port = free_port()
        self.process = subprocess.Popen(
            secantus_command(self.port, str(Path(self.tmp.name) / "db"), options),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "secantusd")
        self.uri = f"mongodb://127.0.0.1:{self.port}/?directConnection=true" + ("&journal=true" if journal else "")

    def stop(self) -> None:
        stop_process(self.process)
        self.tmp.cleanup()


def run_workers(command: list[str], workers: int, log_dir: Path) -> tuple[float, list[str]]:
    """Start ``workers`` copies of ``command`` together; the wall time until the last exits, and their logs.

    A worker that fails stops the benchmark with the end of its log.
    """
    started = time.monotonic()
    processes = []
    for n in range(workers):
        with (log_dir / f"worker{n}.log").open("wb") as log:
            processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT))
    for n, process in enumerate(processes):
        if process.wait(timeout=3600) != 0:
            sys.exit(f"worker {n} failed:\n{(log_dir / f'worker{n}.log').read_text()[-3000:]}")
    wall = time.monotonic() - started
    return wall, [(log_dir / f"worker{n}.log").read_text(errors="replace") for n in range(workers)]


def write_results(name: str, summary: Any) -> None:
    """Keep a run's figures as ``benchmarks/results/<name>.json``."""
    out = PROJECT_ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2))


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_note() -> str:
    return f"{os.cpu_count()} cores, 1-minute load {os.getloadavg()[0]:.1f} at start"


def scrapy_stat(output: str, name: str) -> float | None:
    """A number from the stats Scrapy logs when a crawl ends (``'name': value``)."""
    match = re.search(rf"'{re.escape(name)}': ([0-9.]+)", output)
    return float(match.group(1)) if match else None


def crawl_and_write_stats(settings: Any, spider: Any, out: Path, **spider_kwargs: Any) -> None:
    """Run one crawl of ``spider`` in this process and write its stats to ``out`` as JSON.

    Stats gain ``linkcrawler/bench/last_response_time`` (when the last answer came: what
    follows is the crawl's writing and closing). The ``run_crawl`` modules call it.
    """
    import json
    from datetime import UTC, datetime

    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(spider)

    def response_received(**_: Any) -> None:
        crawler.stats.set_value("linkcrawler/bench/last_response_time", datetime.now(UTC))

    crawler.signals.connect(response_received, signal=signals.response_received)
    process.crawl(crawler, **spider_kwargs)
    process.start()
    stats = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
             for key, value in crawler.stats.get_stats().items()}
    out.write_text(json.dumps(stats, indent=1, sort_keys=True))
