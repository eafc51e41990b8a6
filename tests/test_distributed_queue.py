"""The shared queue and the worker registry, against a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from scrapy import Request, Spider

from linkcrawler.distributed.queue import CrawlKeys, Outcome, ReliableQueue
from linkcrawler.distributed.workers import WorkerRegistry
from tests.waiting import wait_until

KEYS = CrawlKeys.for_spider("test", "spider")


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def make_queue(server: redis.Redis, worker: str) -> ReliableQueue:
    return ReliableQueue(server, Spider(name="spider"), KEYS, worker)


def make_registry(server: redis.Redis, worker: str, ttl: float = 30) -> WorkerRegistry:
    return WorkerRegistry(server, KEYS, worker, ttl=ttl, run_ttl=3600)


def put(queue: ReliableQueue, url: str, *, priority: int = 0, dont_filter: bool = False, start: bool = False) -> int:
    return queue.put(Request(url, priority=priority, dont_filter=dont_filter), url, start=start)


def take_url(queue: ReliableQueue) -> str | None:
    entries = queue.take()
    return queue.decode(entries[0]).url if entries else None


def test_higher_priority_first_then_first_in_first_out(server: redis.Redis) -> None:
    queue = make_queue(server, "w1")
    for url in ("http://a/1", "http://a/2", "http://a/3"):
        put(queue, url)
    put(queue, "http://a/urgent", priority=10)
    put(queue, "http://a/later", priority=-1)
    assert [take_url(queue) for _ in range(6)] == [
        "http://a/urgent", "http://a/1", "http://a/2", "http://a/3", "http://a/later", None,
    ]


def test_taken_requests_stay_in_flight_until_acknowledged(server: redis.Redis) -> None:
    queue = make_queue(server, "w1")
    put(queue, "http://a/1")
    put(queue, "http://a/2")
    first, second = queue.take(2)
    assert len(queue) == 0
    assert set(queue.in_flight()) == {first, second}
    assert queue.ack([first]) == 1
    assert queue.in_flight() == [second]
    # Given back, it is taken again (by anyone), with its priority.
    assert queue.requeue([second, first]) == 1
    assert queue.in_flight() == []
    assert take_url(queue) == "http://a/2"


def test_duplicates_are_filtered_unless_dont_filter(server: redis.Redis) -> None:
    queue = make_queue(server, "w1")
    assert put(queue, "http://a/1") == Outcome.ENQUEUED
    assert put(queue, "http://a/1") == Outcome.DUPLICATE
    assert put(queue, "http://a/1", dont_filter=True) == Outcome.ENQUEUED
    assert len(queue) == 2


def test_a_start_request_is_enqueued_once_per_run_even_with_dont_filter(server: redis.Redis) -> None:
    worker1, worker2 = make_queue(server, "w1"), make_queue(server, "w2")
    assert put(worker1, "http://a/page", dont_filter=True, start=True) == Outcome.ENQUEUED
    assert put(worker2, "http://a/page", dont_filter=True, start=True) == Outcome.ALREADY_SEEDED
    # Not a start request (a redirect hop, a retry): dont_filter is honoured.
    assert put(worker2, "http://a/page", dont_filter=True) == Outcome.ENQUEUED
    assert len(worker1) == 2


def test_a_dead_workers_requests_go_back_to_the_queue(server: redis.Redis) -> None:
    # A heartbeat of a few seconds: long enough to still be there when checked below on
    # a busy machine; the test then waits for it to expire (on a condition, not a sleep).
    alive, dying = make_registry(server, "alive"), make_registry(server, "dying", ttl=3)
    alive.join()
    dying.join()
    dying_queue = make_queue(server, "dying")
    for i in range(3):
        put(dying_queue, f"http://a/{i}")
    assert len(dying_queue.take(2)) == 2
    assert alive.reap() == {}  # its heartbeat is still there
    # "dying" stops beating: once its heartbeat expires, what it held goes back.
    assert wait_until(alive.reap) == {"dying": 2}
    assert server.hlen(KEYS.inflight("dying")) == 0
    assert server.smembers(KEYS.workers) == {b"alive"}
    queue = make_queue(server, "alive")
    assert sorted(take_url(queue) or "" for _ in range(3)) == ["http://a/0", "http://a/1", "http://a/2"]


def test_a_worker_back_after_being_reaped_registers_again(server: redis.Redis) -> None:
    reaper, away = make_registry(server, "reaper"), make_registry(server, "away", ttl=1)
    reaper.join()
    away.join()
    assert wait_until(reaper.reap) == {"away": 0}
    away.heartbeat()
    assert server.smembers(KEYS.workers) == {b"reaper", b"away"}


def test_status_counts_work_anywhere_in_the_crawl(server: redis.Redis) -> None:
    me, other = make_registry(server, "me"), make_registry(server, "other")
    me.join()
    other.join()
    assert me.status().seeding_elsewhere == 1
    other.done_seeding()
    assert me.status().drained
    other_queue = make_queue(server, "other")
    put(other_queue, "http://a/1")
    put(other_queue, "http://a/2")
    assert (me.status().queued, me.status().drained) == (2, False)
    assert other_queue.take()
    status = me.status()
    assert (status.queued, status.in_flight_elsewhere, status.live_workers) == (1, 1, 2)
    other_queue.take()
    other_queue.ack(other_queue.in_flight())
    assert me.status().drained


def test_a_run_ends_with_its_last_work_and_the_next_run_starts_clean(server: redis.Redis) -> None:
    first, second = make_registry(server, "first"), make_registry(server, "second")
    assert first.join() == "started"
    assert second.join() == "joined"
    assert second.run_id == first.run_id
    queue = make_queue(server, "first")
    put(queue, "http://a/1")
    put(queue, "http://a/seed", start=True)
    first.done_seeding()
    second.done_seeding()
    assert queue.take()
    assert first.leave() is False  # what it held went back: the run goes on
    assert len(queue) == 2
    second_queue = make_queue(server, "second")
    second_queue.ack(second_queue.take(5))
    assert second.leave() is True
    assert not server.exists(KEYS.run)
    # A new run empties the previous one's duplicate filter and start requests.
    third = make_registry(server, "third")
    assert third.join() == "started"
    assert third.run_id != first.run_id
    queue = make_queue(server, "third")
    assert put(queue, "http://a/1") == Outcome.ENQUEUED
    assert put(queue, "http://a/seed", start=True) == Outcome.ENQUEUED


def test_a_run_does_not_end_while_another_worker_is_seeding_or_holds_work(server: redis.Redis) -> None:
    done, seeding = make_registry(server, "done"), make_registry(server, "seeding")
    done.join()
    seeding.join()
    done.done_seeding()
    assert done.leave() is False
    assert server.get(KEYS.run) == seeding.run_id.encode()  # type: ignore[union-attr]


def test_a_named_run_that_ended_is_not_started_again(server: redis.Redis) -> None:
    worker = make_registry(server, "w1")
    assert worker.join("2026-11-24") == "started"
    worker.done_seeding()
    assert worker.leave() is True
    late = make_registry(server, "late")
    assert late.join("2026-11-24") == "ended"
    assert not server.sismember(KEYS.workers, "late")
    assert late.join("2026-11-25") == "started"


def test_run_keys_expire_so_the_duplicate_filter_cannot_grow_forever(server: redis.Redis) -> None:
    worker = make_registry(server, "w1")
    worker.join()
    put(make_queue(server, "w1"), "http://a/1", start=True)
    worker.heartbeat()
    for key in (KEYS.run, KEYS.dupefilter, KEYS.start_seen, KEYS.workers):
        assert 0 < server.ttl(key) <= 3600, key
    assert 0 < server.ttl(KEYS.heartbeat("w1")) <= 30

