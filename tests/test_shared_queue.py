"""REDIS_URL moves scheduling to Redis: two processes then share one queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import redis

from tests.mockserver import MockServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SPIDER = PROJECT_ROOT / "tests" / "spiders" / "shared_fetch.py"


def start_worker(mockserver: MockServer, redis_url: str | None, out: Path) -> subprocess.Popen[bytes]:
    settings = ["-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1", "-s", "ITEM_PIPELINES={}",
                "-s", "LOG_LEVEL=INFO", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "CONCURRENT_REQUESTS=4"]
    if redis_url:
        settings += ["-s", f"REDIS_URL={redis_url}"]
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "runspider", str(SPIDER), "-a", f"base={mockserver.url('/')}",
         "-o", f"{out}:jsonlines", *settings],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def finish(worker: subprocess.Popen[bytes]) -> str:
    output, _ = worker.communicate(timeout=120)
    log = output.decode(errors="replace")
    assert worker.returncode == 0, log[-3000:]
    return log


def read_items(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_two_processes_share_one_redis_queue(mockserver: MockServer, redis_url: str, tmp_path: Path) -> None:
    outs = [tmp_path / "worker1.jsonl", tmp_path / "worker2.jsonl"]
    workers = [start_worker(mockserver, redis_url, out) for out in outs]
    logs = [finish(worker) for worker in workers]

    items = [read_items(out) for out in outs]
    urls = [{item["url"] for item in worker_items} for worker_items in items]
    assert all(urls), f"a worker fetched nothing: {[len(u) for u in urls]}"
    assert not urls[0] & urls[1], "a page was fetched by both workers"
    assert len(urls[0] | urls[1]) == 40
    page_hits = {path: n for path, n in mockserver.hits().items() if path.startswith("/delay")}
    assert len(page_hits) == 40 and set(page_hits.values()) == {1}
    assert all("shared through Redis" in log for log in logs)
    # The queue was persisted and is empty; the seen fingerprints are in Redis.
    server = redis.Redis.from_url(redis_url)
    assert server.scard("linkcrawler:shared_fetch:dupefilter") == 40


def test_without_redis_url_each_process_crawls_alone(mockserver: MockServer, tmp_path: Path) -> None:
    out = tmp_path / "alone.jsonl"
    log = finish(start_worker(mockserver, None, out))
    assert len(read_items(out)) == 40
    assert "shared through Redis" not in log
