"""Losing Redis: the outbox, the back-off, and finding Redis again, against a real Redis stopped and restarted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
import redis
from scrapy import Request, Spider
from twisted.internet import reactor
from twisted.internet.task import deferLater

from linkcrawler.distributed.connection import connect_redis
from linkcrawler.distributed.outage import Backoff, Outbox, RedisOutage, RedisUnavailable
from linkcrawler.distributed.queue import CrawlKeys, Outcome, ReliableQueue
from tests.fixtures.services import RedisProcess
from tests.waiting import wait_until_deferred

KEYS = CrawlKeys.for_spider("test", "spider")


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A Redis of this test's own, to stop and start again (on the same port)."""
    server = RedisProcess()
    yield server
    server.stop()


@pytest.fixture
def client(own_redis: RedisProcess) -> Iterator[redis.Redis]:
    server = connect_redis(own_redis.url, timeout=1)
    yield server
    server.close()


def make_queue(server: redis.Redis) -> ReliableQueue:
    return ReliableQueue(server, Spider(name="spider"), KEYS, "w1")


def sleep(seconds: float) -> Any:
    return deferLater(reactor, seconds, lambda: None)


def test_backoff_doubles_up_to_the_longest_and_starts_over() -> None:
    backoff = Backoff(0.25, 2.0)
    assert backoff.reset() == 0.25
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert backoff.reset() == 0.25
    with pytest.raises(ValueError, match="first <= longest"):
        Backoff(3, 2)


def test_outbox_sends_in_batches_taking_with_the_last(client: redis.Redis) -> None:
    queue = make_queue(client)
    outbox = Outbox(batch=2)
    outbox.puts = [queue.prepare(Request(f"http://a/{i}"), f"http://a/{i}") for i in range(5)]
    outbox.puts.append(queue.prepare(Request("http://a/0"), "http://a/0"))  # a duplicate
    outcomes: list[int] = []
    taken = outbox.send_puts(queue, 3, outcomes.append)
    assert outcomes == [Outcome.ENQUEUED] * 5 + [Outcome.DUPLICATE]
    assert [queue.decode(entry).url for entry in taken] == ["http://a/0", "http://a/1", "http://a/2"]
    assert outbox.puts == [] and len(queue) == 2
    outbox.acks = taken[:2]
    assert outbox.send_acks(queue) == 2
    assert outbox.acks == [] and queue.in_flight() == taken[2:]


def test_outbox_keeps_what_redis_did_not_get(own_redis: RedisProcess, client: redis.Redis) -> None:
    queue = make_queue(client)
    outbox = Outbox(batch=2)
    puts = [queue.prepare(Request(f"http://a/{i}"), f"http://a/{i}") for i in range(3)]
    outbox.puts = list(puts)
    outbox.acks = [b"0000000000000001entry"]
    own_redis.stop()
    with pytest.raises(redis.ConnectionError):
        outbox.send_puts(queue, 0, lambda outcome: None)
    with pytest.raises(redis.ConnectionError):
        outbox.send_acks(queue)
    assert outbox.puts == puts and len(outbox.acks) == 1 and len(outbox) == 4
    own_redis.start()
    assert outbox.send_puts(queue, 0, lambda outcome: None) == []
    assert len(queue) == 3 and outbox.puts == []


@pytest_twisted.inlineCallbacks
def test_an_outage_is_noticed_probed_with_backoff_and_its_end_reported(
    own_redis: RedisProcess, client: redis.Redis
) -> Any:
    lost: list[Exception] = []
    back: list[float] = []
    outage = RedisOutage(client.ping, on_back=back.append, on_lost=lost.append, backoff=(0.05, 0.2))
    assert outage.call(client.set, "key", "value") is True
    own_redis.stop()
    stopped = time.monotonic()
    with pytest.raises(RedisUnavailable):
        outage.call(client.get, "key")
    assert outage.offline and outage.outages == 1
    assert isinstance(lost[0], redis.ConnectionError)
    # While offline, nothing reaches Redis: the call is refused at once.
    called: list[str] = []
    with pytest.raises(RedisUnavailable):
        outage.call(called.append, "not sent")
    assert called == []
    yield wait_until_deferred(lambda: outage.backoff.delay == 0.2,
                              message="the probes should have backed off to the longest delay")
    assert outage.offline and back == []
    away = time.monotonic() - stopped
    own_redis.start()
    yield wait_until_deferred(lambda: back, message="the end of the outage was not reported")
    assert not outage.offline
    assert len(back) == 1 and away <= back[0] <= time.monotonic() - stopped  # how long it was away
    assert outage.call(client.get, "key") is None  # (this Redis keeps nothing across a restart)
    assert lost == lost[:1], "one outage, reported once"
    outage.close()


@pytest_twisted.inlineCallbacks
def test_closed_it_stops_probing(own_redis: RedisProcess, client: redis.Redis) -> Any:
    back: list[float] = []
    outage = RedisOutage(client.ping, on_back=back.append, backoff=(0.05, 0.1))
    own_redis.stop()
    with pytest.raises(RedisUnavailable):
        outage.call(client.ping)
    outage.close()
    own_redis.start()
    yield sleep(0.5)
    assert back == [] and outage.offline
    # At close, one last blocking attempt tells whether Redis is there.
    assert outage.reconnect_now() and not outage.offline


def test_reconnect_now_fails_while_redis_is_down(own_redis: RedisProcess, client: redis.Redis) -> None:
    outage = RedisOutage(client.ping, on_back=lambda seconds: None)
    outage.close()
    own_redis.stop()
    with pytest.raises(RedisUnavailable):
        outage.call(client.ping)
    assert not outage.reconnect_now() and outage.offline
