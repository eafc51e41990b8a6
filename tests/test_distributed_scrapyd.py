"""``backlinks`` on two Scrapyd nodes sharing one crawl through Redis, as deployed in production.

Redis, SecantusDB and two ``scrapyd`` daemons run on loopback; ``deploy/deploy.py``
builds the egg and uploads it to both with ``scrapyd-deploy``, then schedules
``backlinks`` on both. Whatever happens to the workers (one killed with SIGKILL,
Redis stopped for a while), the outcome must be the one a single process gets
on the same links: every link verified, the same states, each event once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest
import redis

from linkcrawler import defaults
from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.render.mode import chromium_available
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.fixtures.scrapyd import PROJECT, ScrapydProcess, deploy
from tests.fixtures.services import SecantusProcess
from tests.mockserver import MockServer
from tests.test_distributed_workers import PersistentRedis, persistent_redis

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
OUR = "http://our.test"
PAGES = 1000
LINKS_PER_PAGE = 3
#: What each linking page does; the link's final state follows.
KINDS = ("live", "nofollow", "removed", "page_gone", "redirect")
#: Pages of the crawls a worker or Redis is taken from.
SMALL = 400
#: Seconds each page takes to answer: enough for a crawl to be caught half-way.
DELAY = 0.02

Snapshot = tuple[dict[str, tuple[Any, ...]], list[tuple[Any, ...]]]


def build_site(root: Path) -> list[tuple[str, str]]:
    """Write the linking pages; (path, target) of every known link."""
    known = []
    for i in range(PAGES):
        kind = KINDS[i % len(KINDS)]
        path = f"/p{i}.html"
        targets = [f"{OUR}/t{(i * LINKS_PER_PAGE + j) % 700}" for j in range(LINKS_PER_PAGE)]
        known += [(path, target) for target in targets]
        rel = ' rel="nofollow"' if kind == "nofollow" else ""
        anchors = "" if kind == "removed" else "".join(f'<p><a href="{t}"{rel}>our page</a></p>' for t in targets)
        html = f"<!doctype html><html><head><title>Page {i}</title></head><body>{anchors}</body></html>"
        meta: dict[str, Any] = {"delay": DELAY}
        if kind == "page_gone":
            meta["status"] = 404
        elif kind == "redirect":
            meta |= {"status": 301, "headers": {"Location": f"/moved/p{i}.html"}}
            (root / "moved").mkdir(exist_ok=True)
            (root / "moved" / f"p{i}.html").write_text(html)
        else:
            (root / f"p{i}.html").write_text(html)
        (root / f"p{i}.html.meta.json").write_text(json.dumps(meta))
    return known


def import_links(db: pymongo.database.Database, base: str, known: list[tuple[str, str]]) -> None:
    ensure_indexes(db)
    now = datetime.now(UTC)
    ops = [op for path, target in known for op in new_backlink_ops(base + path, target, now, "test import")]
    _, failed = write_batch(db, ops)
    assert not failed


def snapshot(db: pymongo.database.Database) -> Snapshot:
    """What a user compares: each link's state, and the events."""
    states = {
        doc["_id"]: (doc["status"], doc.get("http_status"), doc.get("final_url"), doc.get("anchor_text"),
                     tuple(doc.get("rel") or ()))
        for doc in db.backlinks.find()
    }
    events = sorted(
        (doc["backlink_id"], doc["type"], doc["from_status"], doc["to_status"]) for doc in db.link_events.find()
    )
    return states, events


def crawl_settings(mongo_uri: str, database: str, data_dir: Path) -> dict[str, str]:
    return {
        "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "LINKCRAWLER_DATA_DIR": str(data_dir),
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1", "LINKCRAWLER_OWN_DOMAINS": "our.test",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "8", "MONGO_FLUSH_INTERVAL": "1", "HTTPPROXY_ENABLED": "0",
    }


class Cluster:
    """The site, the store and two Scrapyd nodes with the egg deployed, shared by this module's tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        site = root / "site"
        site.mkdir()
        self.known = build_site(site)
        self.site = MockServer(site_dir=site)
        self.site.start()
        self.mongo = SecantusProcess()
        self.client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(self.mongo.uri, tz_aware=True)
        self.nodes = [ScrapydProcess(root / f"scrapyd{n}") for n in (1, 2)]
        self.version = deploy(self.nodes)["version"]

    def new_database(self, pages: int = PAGES) -> pymongo.database.Database:
        """A database with the known links of the first ``pages`` pages."""
        db = self.client[f"t_{uuid.uuid4().hex[:12]}"]
        import_links(db, self.site.url("").rstrip("/"), self.known[:pages * LINKS_PER_PAGE])
        return db

    def schedule(self, redis_url: str, db: pymongo.database.Database) -> list[tuple[ScrapydProcess, str]]:
        settings = crawl_settings(self.mongo.uri, db.name, self.root / "data") | {
            "REDIS_URL": redis_url, "SCHEDULER_WORKER_TTL": "3", "SCHEDULER_IDLE_BEFORE_CLOSE": "1",
            "SCHEDULER_REDIS_TIMEOUT": "2",
        }
        arguments = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
        report = deploy(self.nodes, "--no-deploy", "--schedule", "backlinks", *arguments)
        by_url = {node.url: node for node in self.nodes}
        return [(by_url[job["node"]], job["job"]) for job in report["jobs"]]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.client.close()
        self.mongo.stop()
        self.site.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def single_process_outcome(cluster: Cluster) -> Snapshot:
    """The same links checked by one ``scrapy crawl backlinks`` process, without Redis."""
    db = cluster.new_database()
    settings = crawl_settings(cluster.mongo.uri, db.name, cluster.root / "data-single")
    arguments = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "backlinks", *arguments, "-L", "WARNING"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    outcome = snapshot(db)
    cluster.client.drop_database(db.name)
    return outcome


@pytest.fixture
def database(cluster: Cluster) -> Iterator[pymongo.database.Database]:
    db = cluster.new_database()
    cluster.site.reset_hits()
    yield db
    cluster.client.drop_database(db.name)


@pytest.fixture
def small_database(cluster: Cluster) -> Iterator[pymongo.database.Database]:
    """The links of the first pages only: enough to stop a crawl half-way, quicker to check."""
    db = cluster.new_database(SMALL)
    yield db
    cluster.client.drop_database(db.name)


def checked(db: pymongo.database.Database) -> int:
    return db.backlinks.count_documents({"last_checked": {"$ne": None}})


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def wait_for(jobs: list[tuple[ScrapydProcess, str]], timeout: float = 240) -> None:
    for node, job in jobs:
        node.wait_for_jobs([job], timeout=timeout)


def assert_same_outcome(db: pymongo.database.Database, expected: Snapshot) -> None:
    """The states and events ``expected`` has for the links of ``db``."""
    states, events = snapshot(db)
    pending = [link for link, state in states.items() if state[0] == "pending"]
    assert not pending, f"{len(pending)} links never verified"
    assert states == {link: state for link, state in expected[0].items() if link in states}
    expected_events = [event for event in expected[1] if event[0] in states]
    assert events == expected_events, "events differ from a single process's (missing or duplicated)"


def worker_logs(jobs: list[tuple[ScrapydProcess, str]]) -> list[str]:
    return [node.job_log("backlinks", job) for node, job in jobs]


def test_two_scrapyd_nodes_check_every_link_once(
    cluster: Cluster, single_process_outcome: Snapshot, database: pymongo.database.Database, redis_url: str
) -> None:
    assert {node.status_without_credentials() for node in cluster.nodes} == {401}
    for node in cluster.nodes:
        assert node.api(f"listversions.json?project={PROJECT}")["versions"] == [cluster.version]

    jobs = cluster.schedule(redis_url, database)
    wait_for(jobs)

    assert database.backlinks.count_documents({}) == PAGES * LINKS_PER_PAGE
    assert_same_outcome(database, single_process_outcome)
    # Each linking page fetched once, by one node or the other, and both took part.
    pages = {path: n for path, n in cluster.site.hits().items() if path.startswith(("/p", "/moved/"))}
    assert len(pages) == PAGES + PAGES // len(KINDS)
    # A page whose links are gone is fetched once more, by the browser confirming it
    # (LINKCRAWLER_RENDER=confirm, the default where chromium is installed).
    confirmed = {f"/p{i}.html" for i in range(PAGES) if KINDS[i % len(KINDS)] == "removed"}
    if not chromium_available(defaults.LINKCRAWLER_CHROMIUM_PATH):
        confirmed = set()
    assert {path: n for path, n in pages.items() if n != 1} == dict.fromkeys(confirmed, 2)
    logs = worker_logs(jobs)
    for log in logs:
        assert "'finish_reason': 'finished'" in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
    counts = [int(log.split("'linkcrawler/scheduler/acknowledged': ")[1].split(",")[0]) for log in logs]
    assert min(counts) > 0.2 * sum(counts), f"one node did almost nothing: {counts}"
    server = redis.Redis.from_url(redis_url)
    assert server.zcard("linkcrawler:backlinks:requests") == 0
    assert server.keys("linkcrawler:backlinks:inflight:*") == []


def test_a_node_killed_mid_crawl_loses_nothing(
    cluster: Cluster, single_process_outcome: Snapshot, small_database: pymongo.database.Database, redis_url: str
) -> None:
    db = small_database
    jobs = cluster.schedule(redis_url, db)
    victim_node, victim_job = jobs[0]
    wait_until(lambda: checked(db) >= SMALL * LINKS_PER_PAGE // 3, 120, "a third of the links checked")
    running = {job["id"]: job["pid"] for job in victim_node.jobs()["running"]}
    assert victim_job in running, "the first node's job is not running"
    os.kill(running[victim_job], signal.SIGKILL)
    assert checked(db) < SMALL * LINKS_PER_PAGE, "the crawl ended before the kill"

    wait_for(jobs)
    assert_same_outcome(db, single_process_outcome)
    survivor_log = worker_logs(jobs[1:])[0]
    assert "stopped answering" in survivor_log and "'finish_reason': 'finished'" in survivor_log


def test_redis_stopped_mid_crawl_loses_nothing(
    cluster: Cluster, single_process_outcome: Snapshot, small_database: pymongo.database.Database,
    persistent_redis: PersistentRedis,
) -> None:
    db = small_database
    jobs = cluster.schedule(persistent_redis.url, db)
    wait_until(lambda: checked(db) >= SMALL * LINKS_PER_PAGE // 3, 120, "a third of the links checked")
    persistent_redis.stop()
    time.sleep(4)  # longer than the workers' heartbeat TTL
    persistent_redis.start()

    wait_for(jobs)
    assert checked(db) == SMALL * LINKS_PER_PAGE
    assert_same_outcome(db, single_process_outcome)
    for log in worker_logs(jobs):
        assert "Redis unreachable" in log and "Redis is back" in log
        assert "'finish_reason': 'finished'" in log
