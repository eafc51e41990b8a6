"""ReliableQueue: the request queue a distributed crawl shares through Redis, losing nothing.

A worker that takes a request does not remove it from Redis: the request moves,
atomically, from the shared queue into that worker's *in-flight* hash, and leaves
it only when the worker acknowledges it (the request was processed and what it
produced was stored). A worker that dies with requests in flight leaves them
there; :class:`~linkcrawler.distributed.workers.WorkerRegistry` gives them back to the queue
once the worker's heartbeat has expired. Delivery is therefore *at least once*:
a request may be processed twice after a worker died, never zero times, so what
a request writes must be idempotent (linkcrawler's writes are).

Keys, with ``K`` = ``<LINKCRAWLER_REDIS_PREFIX>:<spider name>``:

``K:requests``
    sorted set of waiting entries, lowest score first (score = -priority). An
    entry is a 16-hex-digit sequence number (first in, first out among equal
    priorities, and no two entries alike) followed by the serialized request
    (scrapy-redis's: a pickle of ``Request.to_dict()``).
``K:requests:seq``
    the sequence counter.
``K:inflight:<worker>``
    hash: entry -> score, for each entry the worker took and has not acknowledged.
``K:dupefilter``
    fingerprints of the requests scheduled in the current run (scrapy-redis's
    duplicate filter, emptied when a new run starts: see :mod:`linkcrawler.distributed.workers`).
``K:run:<id>:task:<name>``
    who does the run's task ``name`` (a worker id, or ``/done``): work done
    once per run, such as the report of a distributed site audit.
``K:start_seen``
    fingerprints of the start requests enqueued in the current run: every
    worker reads the spider's start requests, each is enqueued once per run,
    even with ``dont_filter``.

Every method is one round trip (a Lua script where several keys change
together), so a connection lost half-way never leaves a request in two places
or in none. The methods raise redis-py's errors: the scheduler decides what an
outage means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import redis
from scrapy import Request, Spider
from scrapy_redis.queue import Base  # scrapy-redis ships no type hints (ignore_missing_imports)

#: Length of the sequence-number prefix of an entry.
SEQ_WIDTH = 16

# Enqueue requests (unless the run already has them), then take entries.
# ARGV[1]: how many entries to take; then five values per request to enqueue:
# fingerprint, apply the duplicate filter (0/1), start request (0/1: enqueued
# once per run), score, serialized request. Returns {outcomes, entries taken}.
_PUT_AND_TAKE = """
local outcomes = {}
for i = 2, #ARGV, 5 do
  local outcome = 1
  if ARGV[i + 2] == '1' and redis.call('SADD', KEYS[3], ARGV[i]) == 0 then
    outcome = 0
  elseif ARGV[i + 1] == '1' and redis.call('SADD', KEYS[2], ARGV[i]) == 0 then
    outcome = -1
  else
    local seq = redis.call('INCR', KEYS[4])
    redis.call('ZADD', KEYS[1], ARGV[i + 3], string.format('%016x', seq) .. ARGV[i + 4])
  end
  table.insert(outcomes, outcome)
end
local taken = {}
local count = tonumber(ARGV[1])
if count > 0 then
  local entries = redis.call('ZRANGE', KEYS[1], 0, count - 1, 'WITHSCORES')
  for j = 1, #entries, 2 do
    redis.call('ZREM', KEYS[1], entries[j])
    redis.call('HSET', KEYS[5], entries[j], entries[j + 1])
    table.insert(taken, entries[j])
  end
end
return {outcomes, taken}
"""

# Give entries back to the queue (those still in flight; the others were
# acknowledged or reclaimed meanwhile).
_REQUEUE = """
local moved = 0
for i = 1, #ARGV do
  local score = redis.call('HGET', KEYS[2], ARGV[i])
  if score then
    redis.call('ZADD', KEYS[1], score, ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved
"""

# Give every in-flight entry of a hash back to the queue.
_REQUEUE_ALL = """
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  redis.call('ZADD', KEYS[1], entries[i + 1], entries[i])
end
redis.call('DEL', KEYS[2])
return #entries / 2
"""


@dataclass(frozen=True)
class CrawlKeys:
    """The Redis keys of one spider's shared crawl (see the module docstring)."""

    base: str

    @classmethod
    def for_spider(cls, prefix: str, spider_name: str) -> CrawlKeys:
        return cls(f"{prefix}:{spider_name}")

    @property
    def queue(self) -> str:
        return f"{self.base}:requests"

    @property
    def sequence(self) -> str:
        return f"{self.base}:requests:seq"

    @property
    def dupefilter(self) -> str:
        return f"{self.base}:dupefilter"

    @property
    def start_seen(self) -> str:
        return f"{self.base}:start_seen"

    @property
    def inflight_prefix(self) -> str:
        return f"{self.base}:inflight:"

    def inflight(self, worker: str) -> str:
        return self.inflight_prefix + worker

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    @property
    def heartbeat_prefix(self) -> str:
        return f"{self.base}:worker:"

    def heartbeat(self, worker: str) -> str:
        return self.heartbeat_prefix + worker

    @property
    def seeding(self) -> str:
        return f"{self.base}:seeding"

    @property
    def run(self) -> str:
        return f"{self.base}:run"

    def run_ended(self, run_id: str) -> str:
        return f"{self.base}:run:{run_id}:ended"

    def task(self, run_id: str, name: str) -> str:
        return f"{self.base}:run:{run_id}:task:{name}"


class PendingPut(NamedTuple):
    """A request ready to be enqueued (:meth:`ReliableQueue.prepare`)."""

    fingerprint: str
    filtered: int
    start: int
    score: int
    payload: bytes


class Outcome:
    """What :meth:`ReliableQueue.put` (or :meth:`ReliableQueue.put_and_take`) did with a request."""

    ENQUEUED = 1
    #: A start request another worker (or this one) already enqueued in this run.
    ALREADY_SEEDED = 0
    #: Filtered by the duplicate filter.
    DUPLICATE = -1


class ReliableQueue(Base):  # type: ignore[misc]  # scrapy-redis is untyped
    """The shared queue seen by one worker: push, take, acknowledge, give back.

    Built on scrapy-redis's queue base for the serialization of requests
    (``SCHEDULER_SERIALIZER``, pickle by default).
    """

    def __init__(
        self,
        server: redis.Redis,
        spider: Spider,
        keys: CrawlKeys,
        worker: str,
        serializer: Any = None,
    ) -> None:
        super().__init__(server, spider, keys.queue, serializer)
        self.keys = keys
        self.worker = worker
        self.inflight_key = keys.inflight(worker)
        self._put_and_take = server.register_script(_PUT_AND_TAKE)
        self._requeue = server.register_script(_REQUEUE)
        self._requeue_all = server.register_script(_REQUEUE_ALL)

    def __len__(self) -> int:
        """Entries waiting in the queue (not those in flight)."""
        return int(self.server.zcard(self.keys.queue))

    def prepare(self, request: Request, fingerprint: str, *, start: bool = False) -> PendingPut:
        """What :meth:`put_and_take` needs to enqueue ``request`` (serialized now: a request
        that cannot be serialized fails here, in the code that scheduled it).

        ``start`` marks a request read from the spider's start requests: it is
        enqueued once per run whichever worker reads it first, even with
        ``dont_filter``. Otherwise the duplicate filter applies unless the
        request has ``dont_filter``.
        """
        return PendingPut(fingerprint, int(not request.dont_filter), int(start), -request.priority,
                          self._encode_request(request))

    def put_and_take(self, puts: Sequence[PendingPut], count: int) -> tuple[list[int], list[bytes]]:
        """Enqueue ``puts``, then take up to ``count`` entries, in one round trip.

        Returns an :class:`Outcome` per put, and the entries taken (first
        first), which stay in this worker's in-flight hash until acknowledged.
        Never blocks: the scheduler calls it on the reactor thread.
        """
        args: list[Any] = [count]
        for put in puts:
            args.extend(put)
        outcomes, taken = self._put_and_take(
            keys=[self.keys.queue, self.keys.dupefilter, self.keys.start_seen, self.keys.sequence, self.inflight_key],
            args=args,
        )
        return [int(outcome) for outcome in outcomes], list(taken)

    def put(self, request: Request, fingerprint: str, *, start: bool = False) -> int:
        """Enqueue one request; an :class:`Outcome` value."""
        return self.put_and_take([self.prepare(request, fingerprint, start=start)], 0)[0][0]

    def take(self, count: int = 1) -> list[bytes]:
        """Take up to ``count`` entries (see :meth:`put_and_take`); read them with :meth:`decode`."""
        return self.put_and_take([], count)[1]

    def decode(self, entry: bytes) -> Request:
        """The request an entry holds (its callbacks looked up on the spider)."""
        request: Request = self._decode_request(entry[SEQ_WIDTH:])
        return request

    def ack(self, entries: Sequence[bytes]) -> int:
        """Forget entries this worker has finished with; how many were still in flight."""
        if not entries:
            return 0
        return int(self.server.hdel(self.inflight_key, *entries))

    def requeue(self, entries: Iterable[bytes]) -> int:
        """Give entries this worker took back to the queue; how many went back."""
        entries = list(entries)
        if not entries:
            return 0
        return int(self._requeue(keys=[self.keys.queue, self.inflight_key], args=entries))

    def requeue_all(self) -> int:
        """Give everything this worker has in flight back to the queue."""
        return int(self._requeue_all(keys=[self.keys.queue, self.inflight_key]))

    def in_flight(self) -> list[bytes]:
        """The entries Redis counts as in flight with this worker."""
        return list(self.server.hkeys(self.inflight_key))

    def clear(self) -> None:
        """Drop the waiting entries (not the in-flight ones)."""
        self.server.delete(self.keys.queue)
