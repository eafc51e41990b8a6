"""Two worker processes share a crawl through Redis: one killed, or Redis stopped, and nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pymongo
import pytest
import redis

from linkcrawler.distributed.queue import CrawlKeys
from tests.fixtures.services import RedisProcess, redis_server_binary, wait_for_port
from tests.mockserver import MockServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SPIDER = PROJECT_ROOT / "tests" / "spiders" / "reliable_fetch.py"
KEYS = CrawlKeys.for_spider("linkcrawler", "reliable_fetch")
PAGES = 100
#: Every page has a child page: what a crawl must have stored in the end.
EXPECTED = 2 * PAGES


class PersistentRedis(RedisProcess):
    """A Redis that writes every change to an append-only file, as production's must: it can be restarted."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        super().__init__()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir),
             "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis-server")


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[PersistentRedis]:
    data = tmp_path / "redis"
    data.mkdir()
    server = PersistentRedis(data)
    yield server
    server.stop()


def start_worker(
    mockserver: MockServer, redis_url: str, mongo_uri: str, db_name: str, log: Path
) -> subprocess.Popen[bytes]:
    settings = {
        "REDIS_URL": redis_url, "MONGO_URI": mongo_uri, "MONGO_DATABASE": db_name,
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1", "CONCURRENT_REQUESTS": "8",
        "SCHEDULER_WORKER_TTL": "2", "SCHEDULER_IDLE_BEFORE_CLOSE": "1", "SCHEDULER_REDIS_TIMEOUT": "2",
        # Items wait a while in the buffer: a worker killed loses some, unless
        # their requests were still in flight.
        "RECORD_FLUSH_INTERVAL": "1.5", "LOG_LEVEL": "INFO", "HTTPPROXY_ENABLED": "0",
    }
    args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "scrapy", "runspider", str(SPIDER), "-a", f"base={mockserver.url('/')}",
             "-a", f"count={PAGES}", "-a", "delay=0.2", "-a", "children=1", "-L", "INFO", *args],
            cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.DEVNULL, stderr=out,
        )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def fetched(mockserver: MockServer) -> int:
    return sum(1 for path in mockserver.hits() if path.startswith("/delay"))


def finish(worker: subprocess.Popen[bytes], log: Path) -> str:
    try:
        worker.wait(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    text = log.read_text(errors="replace")
    assert worker.returncode == 0, text[-4000:]
    return text


def assert_everything_stored_and_redis_clean(db: pymongo.database.Database, server: redis.Redis) -> None:
    counts = {doc["_id"]: doc["count"] for doc in db.fetches.find()}
    missing = EXPECTED - len(counts)
    assert missing == 0, f"{missing} pages never stored"
    assert server.zcard(KEYS.queue) == 0
    assert server.keys(KEYS.inflight("*")) == []
    assert not server.exists(KEYS.run), "the run should be over"


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing(
    mockserver: MockServer, redis_url: str, mongo_uri: str, mongo_db_name: str,
    mongo_db: pymongo.database.Database, tmp_path: Path,
) -> None:
    logs = [tmp_path / "victim.log", tmp_path / "survivor.log"]
    victim, survivor = (start_worker(mockserver, redis_url, mongo_uri, mongo_db_name, log) for log in logs)
    server = redis.Redis.from_url(redis_url)
    wait_until(lambda: fetched(mockserver) >= EXPECTED // 2, 60, "half the crawl")
    held = sum(server.hlen(key) for key in server.keys(KEYS.inflight(f"*:{victim.pid}:*")))
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    log = finish(survivor, logs[1])
    assert held > 0, "the victim held nothing when killed: the test proves nothing"
    assert mongo_db.fetches.count_documents({"pids": victim.pid}) > 0, "the victim stored nothing before dying"
    assert "stopped answering" in log
    assert_everything_stored_and_redis_clean(mongo_db, server)
    # Only what the victim held (or had not stored yet) may have been fetched twice.
    twice = mongo_db.fetches.count_documents({"count": {"$gt": 1}})
    assert twice <= held


@pytest.mark.slow
def test_redis_stopped_mid_crawl_loses_nothing(
    mockserver: MockServer, persistent_redis: PersistentRedis, mongo_uri: str, mongo_db_name: str,
    mongo_db: pymongo.database.Database, tmp_path: Path,
) -> None:
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    workers = [start_worker(mockserver, persistent_redis.url, mongo_uri, mongo_db_name, log) for log in logs]
    wait_until(lambda: fetched(mockserver) >= EXPECTED // 3, 60, "a third of the crawl")
    persistent_redis.stop()
    time.sleep(4)  # longer than the workers' heartbeat TTL
    persistent_redis.start()

    texts = [finish(worker, log) for worker, log in zip(workers, logs, strict=True)]
    for text in texts:
        assert "Redis unreachable" in text and "Redis is back" in text
    assert_everything_stored_and_redis_clean(mongo_db, redis.Redis.from_url(persistent_redis.url))
    # The outage stopped no work for good: each page fetched about once.
    assert fetched(mockserver) <= EXPECTED + 2 * 8
