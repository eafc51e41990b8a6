"""The scheduler: Scrapy's own for one process, a shared and reliable one in Redis when ``REDIS_URL`` is set.

The choice is made per crawl, from the crawl's settings, so ``-s REDIS_URL=...``
switches it as well as the environment variable does.

With Redis, every process crawling the same spider (on one machine or on many
Scrapyd nodes) schedules into, de-duplicates against and takes from one queue
(:mod:`linkcrawler.queues`), and nothing a worker took is lost if it dies or
loses Redis for a while:

- a request taken stays in the worker's in-flight list in Redis until it is
  *done*: it left the engine (the callback or errback ran, and every item it
  yielded went through the item pipelines; requests it yielded are already
  queued), and, when a pipeline announces stored items
  (:data:`linkcrawler.signals.items_stored`), those items are stored;
- a worker whose heartbeat expires (``SCHEDULER_WORKER_TTL``) is reaped by the
  others: what it had in flight goes back to the queue (:mod:`linkcrawler.workers`);
- a worker that loses Redis keeps what it was doing, keeps the requests it
  schedules and the acknowledgements it owes in memory, backs off, reconnects
  (probing from a thread, never blocking the reactor) and catches up; the
  spider is kept open meanwhile;
- start requests are enqueued once per run whichever worker reads them (every
  worker runs the spider's ``start()``), and a worker stays open while other
  workers may still produce work, then closes once the crawl has been drained
  for ``SCHEDULER_IDLE_BEFORE_CLOSE`` seconds.

Redis calls made on the reactor thread are single round trips to a nearby
server (a Lua script where several keys change together); none blocks waiting
for work. Requests scheduled are sent with the next round trip (taking the next
requests, or the acknowledgements every ``ACK_INTERVAL``): the duplicate filter
answers then, so ``enqueue_request`` always says yes and duplicates are counted
(``dupefilter/filtered``) without a ``request_dropped`` signal.

Stats (``linkcrawler/scheduler/...``): ``run`` and ``worker`` (ids), ``acknowledged``, ``reclaimed`` (requests of
dead workers queued again), ``requeued`` (taken but never received), ``start_already_enqueued``
(start requests another worker enqueued first), ``redis_outages``,
``deferred_enqueues`` (scheduled while Redis was unreachable), ``unreadable``.

What a spider can ask of it (request meta keys, spider attributes, signals):

- ``meta["linkcrawler_local"] = True``: the request stays in this worker (it is
  never written to Redis, so never handed to another worker nor de-duplicated);
- ``meta["linkcrawler_fingerprint"]``: the duplicate filter's key for the
  request, instead of Scrapy's request fingerprint (the spider's own notion of
  "the same URL");
- ``spider.shared_crawl_name``: the crawl's name in Redis when it is not the
  spider's name (site_audit: one crawl per audited site);
- :data:`linkcrawler.signals.shared_run_joined` and
  :data:`linkcrawler.signals.shared_run_drained`, with :meth:`RedisScheduler.hold_run`,
  :meth:`RedisScheduler.release_run` and :meth:`RedisScheduler.claim_task`: work
  done once per run when the shared crawl is over.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy import Request, Spider, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.core.scheduler import Scheduler as ScrapyScheduler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.asyncio import call_later, create_looping_call, run_in_thread
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler

from linkcrawler import defaults
from linkcrawler import signals as linkcrawler_signals
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.queues import CrawlKeys, Outcome, PendingPut, ReliableQueue
from linkcrawler.store.connection import mask_uri
from linkcrawler.workers import WorkerRegistry, new_worker_id

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall, CallLaterResult
    from twisted.internet.task import LoopingCall
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Requests sent to Redis in one script call at most.
PUT_BATCH = 200
#: After finding the queue empty, seconds before asking Redis again (unless
#: this worker enqueued something meanwhile).
EMPTY_RECHECK = 0.1
#: How often finished requests are acknowledged (seconds).
ACK_INTERVAL = 0.5
#: How often an idle worker looks at the shared crawl again (the engine's own
#: idle loop runs every 5 seconds).
IDLE_POLL = 1.0
#: How often a worker kept open by a shared_run_drained handler asks it again.
TASK_POLL = 0.2
#: Back-off between attempts to reach a lost Redis (seconds, doubling).
RECONNECT_BACKOFF = (0.25, 2.0)

#: Meta key set on a start request once it went through the per-run start check,
#: so that its retries and redirects are not taken for new start requests.
SEEDED_META = "_linkcrawler_seeded"

#: Meta key of a request that stays in this worker (never written to Redis).
LOCAL_META = "linkcrawler_local"
#: Meta key of a request's duplicate-filter key, when the spider gives one.
FINGERPRINT_META = "linkcrawler_fingerprint"

#: Errors that mean "Redis cannot be reached now" (BusyLoadingError, a server
#: still loading its data after a restart, is a ConnectionError).
OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.ReadOnlyError)


def connect_redis(url: str, timeout: float = defaults.SCHEDULER_REDIS_TIMEOUT) -> redis.Redis:
    """A client for ``url`` that answers, or ``ConfigurationError`` naming the URL.

    Commands are not retried by the client (redis-py retries with sleeps by
    default, which would block the reactor): the scheduler handles outages.
    """
    try:
        server = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 0),
        )
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigurationError(f"cannot reach Redis at REDIS_URL {mask_uri(url)}: {exc}") from exc
    return server


class _Unavailable(Exception):
    """Redis cannot be reached right now (the scheduler is waiting for it)."""


class RedisScheduler(BaseScheduler):
    """The shared, reliable scheduler of a distributed crawl (see the module docstring)."""

    def __init__(
        self,
        crawler: Crawler,
        server: redis.Redis,
        *,
        prefix: str = defaults.LINKCRAWLER_REDIS_PREFIX,
        worker_ttl: float = defaults.SCHEDULER_WORKER_TTL,
        run_ttl: float = defaults.SCHEDULER_RUN_TTL,
        run_id: str | None = None,
        idle_before_close: float = 5.0,
        prefetch: int = defaults.SCHEDULER_PREFETCH,
        serializer: Any = None,
    ) -> None:
        self.crawler = crawler
        self.server = server
        self.stats = crawler.stats
        self.prefix = prefix
        self.worker_ttl = worker_ttl
        self.run_ttl = run_ttl
        self.run_id = run_id
        self.idle_before_close = idle_before_close
        if prefetch < 1:
            raise ConfigurationError(f"SCHEDULER_PREFETCH must be at least 1, got {prefetch}")
        self.prefetch = prefetch
        self.serializer = serializer
        self.worker = new_worker_id()
        self.queue: ReliableQueue | None = None
        self.registry: WorkerRegistry | None = None
        self.spider: Spider | None = None
        self._joined = False
        self._closed = False
        # Entries taken from Redis and not handed to the engine yet.
        self._prefetched: deque[bytes] = deque()
        self._empty_until = 0.0
        # Entries handed to the engine and not finished yet.
        self._taken: dict[bytes, Request] = {}
        # Finished entries (with when they were seen finished) waiting for their items to be stored.
        self._finished: deque[tuple[float, bytes]] = deque()
        # Entries to acknowledge at the next chance, and requests to enqueue (Redis was unreachable).
        self._to_ack: list[bytes] = []
        self._to_put: list[PendingPut] = []
        self._hold_until_stored = False
        self._stored_upto = float("-inf")
        self._offline_since: float | None = None
        self._backoff = RECONNECT_BACKOFF[0]
        self._probe: CallLaterResult | None = None
        self._wake: CallLaterResult | None = None
        self._wake_pending = False
        self._reap_after = 0.0
        self._drained_since: float | None = None
        self._run_over_logged = False
        self._timers: list[AsyncioLoopingCall | LoopingCall] = []
        # Requests that stay in this worker (LOCAL_META), and whether it holds the run open.
        self._local: deque[Request] = deque()
        self._held = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        settings = crawler.settings
        server = connect_redis(
            settings["REDIS_URL"], settings.getfloat("SCHEDULER_REDIS_TIMEOUT", defaults.SCHEDULER_REDIS_TIMEOUT)
        )
        serializer = settings.get("SCHEDULER_SERIALIZER")
        if isinstance(serializer, str):
            serializer = importlib.import_module(serializer)
        scheduler = cls(
            crawler,
            server,
            prefix=settings.get("LINKCRAWLER_REDIS_PREFIX") or defaults.LINKCRAWLER_REDIS_PREFIX,
            worker_ttl=settings.getfloat("SCHEDULER_WORKER_TTL", defaults.SCHEDULER_WORKER_TTL),
            run_ttl=settings.getfloat("SCHEDULER_RUN_TTL", defaults.SCHEDULER_RUN_TTL),
            run_id=settings.get("SCHEDULER_RUN_ID") or None,
            idle_before_close=settings.getfloat("SCHEDULER_IDLE_BEFORE_CLOSE", defaults.SCHEDULER_IDLE_BEFORE_CLOSE),
            prefetch=settings.getint("SCHEDULER_PREFETCH", defaults.SCHEDULER_PREFETCH),
            serializer=serializer,
        )
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.items_stored, signal=linkcrawler_signals.items_stored)
        return scheduler

    # --- the scheduler interface ------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self._check_engine()
        keys = CrawlKeys.for_spider(self.prefix, getattr(spider, "shared_crawl_name", None) or spider.name)
        self.queue = ReliableQueue(self.server, spider, keys, self.worker, self.serializer)
        self.registry = WorkerRegistry(
            self.server, keys, self.worker, ttl=self.worker_ttl, run_ttl=self.run_ttl,
            info={"spider": spider.name, "job": getattr(spider, "_job", None)},
        )
        status = self.registry.join(self.run_id)
        if status == "ended":
            logger.info("scheduler: run %s of %s is already over, nothing to do", self.registry.run_id, spider.name)
            raise CloseSpider("finished")
        self._joined = True
        if self.stats is not None:
            # In the run's stats (and the ``runs`` document): which shared run, which worker.
            self.stats.set_value("linkcrawler/scheduler/run", self.registry.run_id)
            self.stats.set_value("linkcrawler/scheduler/worker", self.worker)
        logger.info(
            "scheduler: shared through Redis, queue %s (%s run %s as worker %s; %d requests waiting)",
            self.queue.key, status, self.registry.run_id, self.worker, len(self.queue),
        )
        self._reap()
        for function, interval in ((self._sweep, ACK_INTERVAL), (self._heartbeat, self.worker_ttl / 3)):
            timer = create_looping_call(self._guarded, function)
            timer.start(interval, now=False)
            self._timers.append(timer)
        self.crawler.signals.send_catch_log(
            signal=linkcrawler_signals.shared_run_joined, run_id=self.registry.run_id, scheduler=self
        )

    def close(self, reason: str) -> None:
        self._closed = True
        for timer in self._timers:
            if timer.running:
                timer.stop()
        for call in (self._probe, self._wake):
            if call is not None:
                call.cancel()
        if not self._joined:
            return
        assert self.registry is not None
        # The engine has finished every request it took and the item pipelines
        # are closed: whatever they were given is stored.
        self._collect_finished()
        self._to_ack.extend(entry for _, entry in self._finished)
        self._finished.clear()
        self.registry.seeding = False
        if self._offline_since is not None and not self._reconnect_now():
            logger.warning(
                "scheduler: closing without Redis: %d requests taken will be handed out again once this "
                "worker's heartbeat expires (%d new requests are not recorded: they come back with them)",
                len(self._to_ack) + len(self._taken), len(self._to_put),
            )
            return
        try:
            if not self._commit():
                raise _Unavailable
            ended = self._call(self.registry.leave)
        except _Unavailable:
            logger.warning("scheduler: Redis lost while closing; what this worker held is handed out again later")
            return
        logger.info(
            "scheduler: worker %s left run %s%s", self.worker, self.registry.run_id, ", which is over" if ended else ""
        )

    def has_pending_requests(self) -> bool:
        if self._offline_since is not None or self._to_put or self._prefetched or self._local:
            return True  # work may remain: keep the engine from going idle
        if self.queue is None:
            return False
        try:
            return bool(self._call(len, self.queue))
        except _Unavailable:
            return True

    def enqueue_request(self, request: Request) -> bool:
        """Queue ``request`` for Redis; it is sent with the next round trip (at most ``ACK_INTERVAL`` later).

        Always True: whether the run already had the request is known once it is
        sent (counted in ``dupefilter/filtered``), so no ``request_dropped`` signal
        is sent for duplicates.
        """
        assert self.queue is not None
        if request.meta.get(LOCAL_META):
            self._local.append(request)
            self._inc("scheduler/enqueued/local")
            return True
        start = bool(request.meta.get("is_start_request")) and not request.meta.get(SEEDED_META)
        if start:
            request.meta[SEEDED_META] = True
        fingerprint = request.meta.get(FINGERPRINT_META) or self.crawler.request_fingerprinter.fingerprint(  # type: ignore[union-attr]
            request).hex()
        self._to_put.append(self.queue.prepare(request, fingerprint, start=start))
        if self._offline_since is not None:
            self._inc("linkcrawler/scheduler/deferred_enqueues")
        return True

    def next_request(self) -> Request | None:
        if self.queue is None:
            return None
        if self._local:
            self._inc("scheduler/dequeued/local")
            return self._local.popleft()
        while True:
            if not self._prefetched and not self._fetch():
                return None
            entry = self._prefetched.popleft()
            try:
                request = self.queue.decode(entry)
            except Exception:
                # A request queued by another version of the spider, say: it can
                # never be processed, keeping it would only block the run's end.
                logger.exception("scheduler: dropping a queued request that cannot be read back")
                self._inc("linkcrawler/scheduler/unreadable")
                self._to_ack.append(entry)
                continue
            self._taken[entry] = request
            self._inc("scheduler/dequeued/redis")
            return request

    def _fetch(self) -> bool:
        """Send the queued requests and take the next entries, in one round trip.

        A few entries at a time (``SCHEDULER_PREFETCH``): they are this worker's
        from then on, handed out again only if it dies.
        """
        # The engine asks again as soon as it has room: after an empty answer,
        # wait a little (or for a request of this worker's) before asking Redis.
        if self._offline_since is not None or (not self._to_put and time.monotonic() < self._empty_until):
            return False
        wanted = self._room()
        try:
            entries = self._send_puts(wanted)
        except _Unavailable:
            return False
        if len(entries) < wanted:  # the queue is empty now
            self._empty_until = time.monotonic() + EMPTY_RECHECK
        self._prefetched.extend(entries)
        return bool(entries)

    def _room(self) -> int:
        """How many entries to take: no more than the downloader can start now (others may need them)."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        if downloader is None or downloader.total_concurrency <= 0:
            return self.prefetch
        return max(1, min(self.prefetch, downloader.total_concurrency - len(downloader.active)))

    def _send_puts(self, take: int = 0) -> list[bytes]:
        """Send the queued requests (in batches), taking ``take`` entries with the last batch."""
        assert self.queue is not None
        while True:
            batch = self._to_put[:PUT_BATCH]
            last = len(batch) == len(self._to_put)
            outcomes, entries = self._call(self.queue.put_and_take, batch, take if last else 0)
            del self._to_put[:len(batch)]
            for outcome in outcomes:
                self._count_put(outcome)
            if last:
                return entries

    def _count_put(self, outcome: int) -> None:
        if outcome == Outcome.ENQUEUED:
            self._inc("scheduler/enqueued/redis")
            self._empty_until = 0.0
        elif outcome == Outcome.ALREADY_SEEDED:
            self._inc("linkcrawler/scheduler/start_already_enqueued")
        else:
            self._inc("dupefilter/filtered")

    # --- signals ------------------------------------------------------------------

    def spider_idle(self) -> None:
        """Keep the spider open while the shared crawl may still have work for it."""
        if not self._joined or self._closed:
            return
        assert self.registry is not None
        if self.registry.seeding and not self._held:
            # The engine goes idle only once start() is exhausted.
            self.registry.seeding = False
            try:
                self._call(self.registry.done_seeding)
            except _Unavailable:
                pass  # the next heartbeat says it
        if self._offline_since is not None:
            self._drained_since = None
            raise DontCloseSpider
        try:
            self._reconcile()
            status = self._call(self.registry.status)
        except _Unavailable:
            raise DontCloseSpider from None
        if not status.drained or self._to_put:
            self._drained_since = None
            self._look_again(0 if status.queued else IDLE_POLL)
            raise DontCloseSpider
        now = time.monotonic()
        if self._drained_since is None:
            self._drained_since = now
        waited = now - self._drained_since
        if waited < self.idle_before_close:
            self._look_again(min(IDLE_POLL, self.idle_before_close - waited))
            raise DontCloseSpider
        responses = self.crawler.signals.send_catch_log(signal=linkcrawler_signals.shared_run_drained, scheduler=self)
        if any(result is True for _, result in responses):
            self._look_again(TASK_POLL)
            raise DontCloseSpider

    # --- work done once per run ---------------------------------------------------

    def hold_run(self) -> None:
        """Keep the run open, and the other workers in it, until :meth:`release_run`.

        The other workers wait as they do for one still reading its start
        requests; if this one dies, its heartbeat expires and they go on.
        """
        assert self.registry is not None
        self._held = True
        self.registry.seeding = True
        try:
            self._call(self.registry.heartbeat)
        except _Unavailable:
            pass  # the next heartbeat says it

    def release_run(self) -> None:
        """Let the run end once drained (see :meth:`hold_run`)."""
        assert self.registry is not None
        self._held = False
        self.registry.seeding = False
        try:
            self._call(self.registry.done_seeding)
        except _Unavailable:
            pass

    def claim_task(self, name: str) -> int | None:
        """Claim the run's task ``name`` for this worker: 1 (it is this worker's), 0 (a live worker has it), -1 (done).

        A task whose worker died (its heartbeat expired) can be claimed again.
        ``None``: Redis cannot be reached now (ask again later).
        """
        assert self.registry is not None
        try:
            return int(self._call(self.registry.claim, name))
        except _Unavailable:
            return None

    def finish_task(self, name: str) -> None:
        """The run's task ``name`` is done: nobody claims it again in this run."""
        assert self.registry is not None
        try:
            self._call(self.registry.finish, name)
        except _Unavailable:
            logger.warning("scheduler: Redis lost while marking %s done", name)

    def items_stored(self, upto: float) -> None:
        """A pipeline stored every item it was given before ``upto``."""
        self._hold_until_stored = True
        self._stored_upto = max(self._stored_upto, upto)

    # --- requests in and out ------------------------------------------------------

    def _collect_finished(self) -> None:
        """Move the entries whose request left the engine to the finished ones."""
        if not self._taken:
            return
        in_progress = self._in_progress()
        now = time.monotonic()
        for entry, request in list(self._taken.items()):
            if request not in in_progress:
                del self._taken[entry]
                self._finished.append((now, entry))

    def _sweep(self) -> None:
        """Acknowledge what is finished (and stored, when a pipeline says so)."""
        self._collect_finished()
        while self._finished and (not self._hold_until_stored or self._finished[0][0] <= self._stored_upto):
            self._to_ack.append(self._finished.popleft()[1])
        self._commit()

    def _commit(self) -> bool:
        """Send the deferred enqueues, then the acknowledgements; True when nothing is left to send.

        Enqueues go first: a request is acknowledged only once the requests it
        produced are in the queue.
        """
        if self._offline_since is not None or self.queue is None:
            return False
        try:
            if self._to_put:
                self._send_puts()
            if self._to_ack:
                self._call(self.queue.ack, self._to_ack)
                self._inc("linkcrawler/scheduler/acknowledged", len(self._to_ack))
                self._to_ack = []
        except _Unavailable:
            return False
        return True

    def _reconcile(self) -> None:
        """Hand back entries Redis counts as in flight here that this worker does not know.

        A reply lost with the connection can leave one there (taken by the
        script, never received): nobody would process it.
        """
        assert self.queue is not None
        known = set(self._taken) | set(self._prefetched) | {entry for _, entry in self._finished} | set(self._to_ack)
        unknown = [entry for entry in self._call(self.queue.in_flight) if entry not in known]
        if unknown:
            moved = self._call(self.queue.requeue, unknown)
            self._inc("linkcrawler/scheduler/requeued", moved)
            logger.info("scheduler: %d requests taken but never received went back to the queue", moved)

    # --- liveness -----------------------------------------------------------------

    def _heartbeat(self) -> None:
        if self._offline_since is not None or self.registry is None:
            return
        try:
            current = self._call(self.registry.heartbeat)
        except _Unavailable:
            return
        if current is not None and current != self.registry.run_id and not self._run_over_logged:
            # (None: another worker ended the run, which this one is about to see too.)
            self._run_over_logged = True
            logger.warning(
                "scheduler: run %s is no longer the current one in Redis (now: %s); finishing what this worker has",
                self.registry.run_id, current,
            )
        if time.monotonic() >= self._reap_after:
            self._reap()

    def _reap(self) -> None:
        assert self.registry is not None
        try:
            reaped = self._call(self.registry.reap)
        except _Unavailable:
            return
        for worker, count in reaped.items():
            logger.warning("scheduler: worker %s stopped answering; its %d requests in flight are queued again",
                           worker, count)
            self._inc("linkcrawler/scheduler/reclaimed", count)
        if any(reaped.values()):
            self._wake_engine()

    # --- Redis outages ------------------------------------------------------------

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``, or ``_Unavailable`` (and waiting for Redis) if it cannot be reached."""
        if self._offline_since is not None:
            raise _Unavailable
        try:
            return function(*args, **kwargs)
        except OUTAGE_ERRORS as exc:
            self._lost(exc)
            raise _Unavailable from exc

    def _lost(self, exc: Exception) -> None:
        self._offline_since = time.monotonic()
        self._backoff = RECONNECT_BACKOFF[0]
        self._inc("linkcrawler/scheduler/redis_outages")
        logger.warning(
            "scheduler: Redis unreachable (%s: %s); waiting for it, keeping the %d requests in progress",
            type(exc).__name__, exc, len(self._taken),
        )
        if not self._closed:
            self._probe = call_later(self._backoff, self._probe_redis)

    def _probe_redis(self) -> None:
        # In a thread: connecting to an unreachable host can take the whole timeout.
        probe = deferred_from_coro(run_in_thread(self.server.ping))
        probe.addCallbacks(self._redis_back, self._still_lost)

    def _still_lost(self, failure: Failure) -> None:
        if self._closed:
            return
        self._backoff = min(self._backoff * 2, RECONNECT_BACKOFF[1])
        self._probe = call_later(self._backoff, self._probe_redis)

    def _redis_back(self, _: object = None) -> None:
        if self._closed or self._offline_since is None:
            return
        outage = time.monotonic() - self._offline_since
        self._offline_since = None
        self._probe = None
        # Heartbeats may have expired during the outage: give the other workers
        # the time to beat again before taking them for dead.
        self._reap_after = time.monotonic() + self.worker_ttl
        logger.info(
            "scheduler: Redis is back after %.1fs; sending %d requests and %d acknowledgements kept meanwhile",
            outage, len(self._to_put), len(self._to_ack),
        )
        try:
            assert self.registry is not None
            self._call(self.registry.heartbeat)
            self._reconcile()
        except _Unavailable:
            return
        self._commit()
        self._wake_engine()

    def _reconnect_now(self) -> bool:
        """One last attempt at Redis, at close (blocking for at most the client's timeout)."""
        try:
            self.server.ping()
        except redis.RedisError:
            return False
        self._offline_since = None
        return True

    # --- the engine ---------------------------------------------------------------

    def _check_engine(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is None or not hasattr(slot, "inprogress") or not hasattr(slot, "nextcall"):
            raise ConfigurationError(
                "the Redis scheduler needs the engine's in-progress requests (Scrapy 2.19's "
                "ExecutionEngine._slot.inprogress), which this Scrapy version does not have"
            )

    def _in_progress(self) -> set[Request]:
        """Requests the engine took and has not finished (download, callback, item pipelines).

        Scrapy has no public signal for "this request is completely processed";
        its engine keeps them in this set from download to the end of scraping.
        """
        slot = getattr(self.crawler.engine, "_slot", None)
        return slot.inprogress if slot is not None else set()  # type: ignore[no-any-return]

    def _look_again(self, delay: float) -> None:
        """Have the engine look at the scheduler again in ``delay`` seconds (its own idle loop waits 5)."""
        if not self._wake_pending:
            self._wake_pending = True
            self._wake = call_later(delay, self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        if not self._closed:
            self._wake_engine()

    def _wake_engine(self) -> None:
        self._empty_until = 0.0
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    # --- helpers ------------------------------------------------------------------

    def _guarded(self, function: Any) -> None:
        # A looping call stops at its first exception: a bug must not stop the heartbeat.
        try:
            function()
        except Exception:
            logger.exception("scheduler: %s failed", getattr(function, "__name__", function))

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)


class SchedulerSelector(BaseScheduler):
    """The ``SCHEDULER`` of the project: builds the right scheduler for the crawl."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BaseScheduler:  # type: ignore[override]
        if crawler.settings.get("REDIS_URL"):
            return RedisScheduler.from_crawler(crawler)
        return build_from_crawler(ScrapyScheduler, crawler)
