"""Losing Redis for a while: what a worker keeps meanwhile, and how it finds Redis again.

A worker that cannot reach Redis goes on with what it has (the requests it
took), and keeps in an :class:`Outbox` what it owes Redis: the requests it
schedules and the acknowledgements of those it finished. :class:`RedisOutage`
notes the loss, then probes Redis from a thread (connecting to an unreachable
host can take the whole socket timeout, which must not block the reactor),
backing off from ``RECONNECT_BACKOFF[0]`` to ``RECONNECT_BACKOFF[1]`` seconds,
and calls back once Redis answers, so that the scheduler catches up: it sends
the outbox, enqueues first (a request is acknowledged only once the requests it
produced are queued).

Nothing here knows about Scrapy's engine or the scheduler's state: the parts
take plain callables and a queue, and are tested alone against a real Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from scrapy.utils.asyncio import call_later, run_in_thread
from scrapy.utils.defer import deferred_from_coro

from linkcrawler.exceptions import LinkcrawlerError

if TYPE_CHECKING:
    from scrapy.utils.asyncio import CallLaterResult
    from twisted.python.failure import Failure

    from linkcrawler.distributed.queue import PendingPut, ReliableQueue

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Errors that mean "Redis cannot be reached now" (BusyLoadingError, a server
#: still loading its data after a restart, is a ConnectionError).
OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.ReadOnlyError)

#: Back-off between attempts to reach a lost Redis (seconds: the first, then doubling up to the second).
RECONNECT_BACKOFF = (0.25, 2.0)

#: Requests sent to Redis in one script call at most.
PUT_BATCH = 200


class RedisUnavailable(LinkcrawlerError):
    """Redis cannot be reached right now (:class:`RedisOutage` is waiting for it).

    Raised by :meth:`RedisOutage.call`; the scheduler catches it, it never
    reaches Scrapy.
    """


class Backoff:
    """Delays between attempts: ``first``, then doubling, never more than ``longest``.

    The arithmetic is redis-py's :class:`~redis.backoff.ExponentialBackoff`; this
    keeps the count of failures and checks the bounds.
    """

    def __init__(self, first: float, longest: float) -> None:
        if not 0 < first <= longest:
            raise ValueError(f"back-off delays must satisfy 0 < first <= longest, got {first} and {longest}")
        self.first = first
        self.longest = longest
        self._delays = ExponentialBackoff(cap=longest, base=first)
        self._failures = 0
        self.delay = first

    def reset(self) -> float:
        """Start over: the first delay."""
        self._failures = 0
        self.delay = self._delays.compute(0)
        return self.delay

    def next(self) -> float:
        """The delay after one more failed attempt."""
        self._failures += 1
        self.delay = self._delays.compute(self._failures)
        return self.delay


class Outbox:
    """What this worker owes Redis: requests to enqueue and entries to acknowledge.

    Filled between round trips, and for as long as Redis cannot be reached;
    what was sent leaves it, what was not stays for the next attempt.
    """

    def __init__(self, batch: int = PUT_BATCH) -> None:
        if batch < 1:
            raise ValueError(f"the batch size must be at least 1, got {batch}")
        self.batch = batch
        self.puts: list[PendingPut] = []
        self.acks: list[bytes] = []

    def __len__(self) -> int:
        return len(self.puts) + len(self.acks)

    def send_puts(self, queue: ReliableQueue, take: int, counted: Callable[[int], None]) -> list[bytes]:
        """Send the requests to enqueue, ``batch`` at a time, taking ``take`` entries with the last batch.

        ``counted`` is called with each request's :class:`~linkcrawler.distributed.queue.Outcome`
        as soon as its batch is in Redis. Returns the entries taken. Raises
        redis-py's errors: a batch not sent stays here.
        """
        while True:
            batch = self.puts[:self.batch]
            last = len(batch) == len(self.puts)
            outcomes, entries = queue.put_and_take(batch, take if last else 0)
            del self.puts[:len(batch)]
            for outcome in outcomes:
                counted(outcome)
            if last:
                return entries

    def send_acks(self, queue: ReliableQueue) -> int:
        """Acknowledge the finished entries; how many were sent. Raises redis-py's errors (nothing is lost then)."""
        count = len(self.acks)
        if count:
            queue.ack(self.acks)
            self.acks = []
        return count


class RedisOutage:
    """Whether Redis can be reached and, while it cannot, probing it until it answers.

    ``ping`` is a blocking call that raises while Redis is unreachable (the
    client's ``ping``); it runs in a thread. ``on_lost(exc)`` is called when a
    call finds Redis gone, ``on_back(seconds)`` once a probe succeeds, with how
    long it was away (on the reactor thread).
    """

    def __init__(
        self,
        ping: Callable[[], object],
        *,
        on_back: Callable[[float], None],
        on_lost: Callable[[Exception], None] | None = None,
        backoff: tuple[float, float] = RECONNECT_BACKOFF,
    ) -> None:
        self.ping = ping
        self.on_back = on_back
        self.on_lost = on_lost
        self.backoff = Backoff(*backoff)
        #: When Redis was found unreachable (``time.monotonic()``), None while it answers.
        self.since: float | None = None
        self.outages = 0
        self.closed = False
        self._probe: CallLaterResult | None = None

    @property
    def offline(self) -> bool:
        return self.since is not None

    def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)``; :class:`RedisUnavailable` while Redis cannot be reached.

        An outage error from ``function`` starts the outage (and the probing).
        """
        if self.since is not None:
            raise RedisUnavailable
        try:
            return function(*args, **kwargs)
        except OUTAGE_ERRORS as exc:
            self.lost(exc)
            raise RedisUnavailable from exc

    def lost(self, exc: Exception) -> None:
        """Redis did not answer: wait for it, probing."""
        self.since = time.monotonic()
        self.outages += 1
        if self.on_lost is not None:
            self.on_lost(exc)
        if not self.closed:
            self._probe = call_later(self.backoff.reset(), self._probe_redis)

    def reconnect_now(self) -> bool:
        """One last, blocking attempt (for at most the client's timeout): True if Redis answers.

        For when the reactor is about to stop (the scheduler closing); the
        caller catches up itself (``on_back`` is not called).
        """
        if self.since is None:
            return True
        try:
            self.ping()
        except redis.RedisError:
            return False
        self.since = None
        return True

    def close(self) -> None:
        """Stop probing."""
        self.closed = True
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None

    def _probe_redis(self) -> None:
        probe = deferred_from_coro(run_in_thread(self.ping))
        probe.addCallbacks(self._redis_back, self._still_lost)

    def _still_lost(self, failure: Failure) -> None:
        if self.closed:
            return
        logger.debug("scheduler: Redis still unreachable: %s", failure.getErrorMessage())
        self._probe = call_later(self.backoff.next(), self._probe_redis)

    def _redis_back(self, _: object = None) -> None:
        if self.closed or self.since is None:
            return
        outage = time.monotonic() - self.since
        self.since = None
        self._probe = None
        self.on_back(outage)
