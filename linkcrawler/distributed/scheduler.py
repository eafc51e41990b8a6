"""The scheduler: Scrapy's own for one process, a shared and reliable one in Redis when ``REDIS_URL`` is set.

The choice is made per crawl, from the crawl's settings, so ``-s REDIS_URL=...``
switches it as well as the environment variable does.

With Redis, every process crawling the same spider (on one machine or on many
Scrapyd nodes) schedules into, de-duplicates against and takes from one queue
(:mod:`~linkcrawler.distributed.queue`), and nothing a worker took is lost if it dies or
loses Redis for a while:

- a request taken stays in the worker's in-flight list in Redis until it is
  *done*: it left the engine (the callback or errback ran, and every item it
  yielded went through the item pipelines; requests it yielded are already
  queued), and, when a pipeline announces stored items
  (:data:`linkcrawler.signals.items_stored`), those items are stored
  (:mod:`~linkcrawler.distributed.inflight`);
- a worker whose heartbeat expires (``SCHEDULER_WORKER_TTL``) is reaped by the
  others: what it had in flight goes back to the queue
  (:mod:`~linkcrawler.distributed.workers`);
- a worker that loses Redis keeps what it was doing, keeps the requests it
  schedules and the acknowledgements it owes in memory, backs off, reconnects
  (probing from a thread, never blocking the reactor) and catches up; the
  spider is kept open meanwhile (:mod:`~linkcrawler.distributed.outage`);
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
  done once per run when the shared crawl is over (:mod:`~linkcrawler.distributed.tasks`).

:class:`RedisScheduler` only coordinates these parts; what it needs of Scrapy's
private engine API is in :mod:`linkcrawler.distributed.engine`, nowhere else.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis
from scrapy import Request, Spider, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.core.scheduler import Scheduler as ScrapyScheduler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.asyncio import call_later, create_looping_call
from scrapy.utils.misc import build_from_crawler

from linkcrawler import defaults
from linkcrawler import signals as linkcrawler_signals
from linkcrawler.distributed.connection import connect_redis
from linkcrawler.distributed.engine import EngineAccess
from linkcrawler.distributed.inflight import TakenRequests
from linkcrawler.distributed.outage import Outbox, RedisOutage, RedisUnavailable
from linkcrawler.distributed.queue import CrawlKeys, Outcome, ReliableQueue
from linkcrawler.distributed.tasks import RunTasks
from linkcrawler.distributed.workers import WorkerRegistry, new_worker_id
from linkcrawler.exceptions import ConfigurationError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall, CallLaterResult
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

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

#: Meta key set on a start request once it went through the per-run start check,
#: so that its retries and redirects are not taken for new start requests.
SEEDED_META = "_linkcrawler_seeded"

#: Meta key of a request that stays in this worker (never written to Redis).
LOCAL_META = "linkcrawler_local"
#: Meta key of a request's duplicate-filter key, when the spider gives one.
FINGERPRINT_META = "linkcrawler_fingerprint"


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
        owns_server: bool = False,
    ) -> None:
        self.crawler = crawler
        self.server = server
        #: Whether :meth:`close` closes ``server`` (it does when :meth:`from_crawler` connected it).
        self.owns_server = owns_server
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
        self.tasks: RunTasks | None = None
        self.spider: Spider | None = None
        self.engine = EngineAccess(None)
        self.outage = RedisOutage(server.ping, on_back=self._redis_back, on_lost=self._redis_lost)
        #: What this worker owes Redis (sent with the next round trip, or once Redis is back).
        self.outbox = Outbox()
        #: What this worker took from Redis and has not acknowledged.
        self.taken = TakenRequests()
        self._joined = False
        self._closed = False
        # Entries taken from Redis and not handed to the engine yet.
        self._prefetched: deque[bytes] = deque()
        self._empty_until = 0.0
        self._wake: CallLaterResult | None = None
        self._wake_pending = False
        self._reap_after = 0.0
        self._drained_since: float | None = None
        self._run_over_logged = False
        self._timers: list[AsyncioLoopingCall | LoopingCall] = []
        # Requests that stay in this worker (LOCAL_META).
        self._local: deque[Request] = deque()

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
            owns_server=True,
        )
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.items_stored, signal=linkcrawler_signals.items_stored)
        return scheduler

    # --- the scheduler interface ------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.engine = EngineAccess(self.crawler.engine)
        self.engine.check()
        keys = CrawlKeys.for_spider(self.prefix, getattr(spider, "shared_crawl_name", None) or spider.name)
        self.queue = ReliableQueue(self.server, spider, keys, self.worker, self.serializer)
        self.registry = registry = WorkerRegistry(
            self.server, keys, self.worker, ttl=self.worker_ttl, run_ttl=self.run_ttl,
            info={"spider": spider.name, "job": getattr(spider, "_job", None)},
        )
        self.tasks = RunTasks(registry)
        status = registry.join(self.run_id)
        if status == "ended":
            logger.info("scheduler: run %s of %s is already over, nothing to do", registry.run_id, spider.name)
            raise CloseSpider("finished")
        self._joined = True
        if self.stats is not None:
            # In the run's stats (and the ``runs`` document): which shared run, which worker.
            self.stats.set_value("linkcrawler/scheduler/run", registry.run_id)
            self.stats.set_value("linkcrawler/scheduler/worker", self.worker)
        logger.info(
            "scheduler: shared through Redis, queue %s (%s run %s as worker %s; %d requests waiting)",
            self.queue.key, status, registry.run_id, self.worker, len(self.queue),
        )
        self._reap()
        for function, interval in ((self._sweep, ACK_INTERVAL), (self._heartbeat, self.worker_ttl / 3)):
            timer = create_looping_call(self._guarded, function)
            timer.start(interval, now=False)
            self._timers.append(timer)
        self.crawler.signals.send_catch_log(
            signal=linkcrawler_signals.shared_run_joined, run_id=registry.run_id, scheduler=self
        )

    def close(self, reason: str) -> None:
        self._closed = True
        for timer in self._timers:
            if timer.running:
                timer.stop()
        self.outage.close()
        if self._wake is not None:
            self._wake.cancel()
        try:
            if self._joined:
                self._leave()
        finally:
            if self.owns_server:
                self.server.close()

    def _leave(self) -> None:
        """Acknowledge what is finished, send what is owed, and leave the run (at close)."""
        assert self.registry is not None
        # The engine has finished every request it took and the item pipelines
        # are closed: whatever they were given is stored.
        self.taken.collect(self.engine.in_progress(), time.monotonic())
        self.outbox.acks.extend(self.taken.all_finished())
        self.registry.seeding = False
        if not self.outage.reconnect_now():
            logger.warning(
                "scheduler: closing without Redis: %d requests taken will be handed out again once this "
                "worker's heartbeat expires (%d new requests are not recorded: they come back with them)",
                len(self.outbox.acks) + len(self.taken), len(self.outbox.puts),
            )
            return
        try:
            if not self._commit():
                raise RedisUnavailable
            ended = self.outage.call(self.registry.leave)
        except RedisUnavailable:
            logger.warning("scheduler: Redis lost while closing; what this worker held is handed out again later")
            return
        logger.info(
            "scheduler: worker %s left run %s%s", self.worker, self.registry.run_id, ", which is over" if ended else ""
        )

    def has_pending_requests(self) -> bool:
        if self.outage.offline or self.outbox.puts or self._prefetched or self._local:
            return True  # work may remain: keep the engine from going idle
        if self.queue is None:
            return False
        try:
            return bool(self.outage.call(len, self.queue))
        except RedisUnavailable:
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
        fingerprint = request.meta.get(FINGERPRINT_META) or self.crawler.request_fingerprinter.fingerprint(
            request).hex()
        self.outbox.puts.append(self.queue.prepare(request, fingerprint, start=start))
        if self.outage.offline:
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
                self.outbox.acks.append(entry)
                continue
            self.taken.take(entry, request)
            self._inc("scheduler/dequeued/redis")
            return request

    # --- signals ------------------------------------------------------------------

    def spider_idle(self) -> None:
        """Keep the spider open while the shared crawl may still have work for it."""
        if not self._joined or self._closed:
            return
        assert self.registry is not None and self.tasks is not None
        if self.registry.seeding and not self.tasks.held:
            # The engine goes idle only once start() is exhausted.
            self.registry.seeding = False
            self._quietly(self.registry.done_seeding)  # (or the next heartbeat says it)
        if self.outage.offline:
            self._drained_since = None
            raise DontCloseSpider
        try:
            self._reconcile()
            status = self.outage.call(self.registry.status)
        except RedisUnavailable:
            raise DontCloseSpider from None
        if not status.drained or self.outbox.puts:
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

    def items_stored(self, upto: float) -> None:
        """A pipeline stored every item it was given before ``upto``."""
        self.taken.stored(upto)

    # --- work done once per run (linkcrawler.distributed.tasks) --------------------

    def hold_run(self) -> None:
        """Keep the run open, and the other workers in it, until :meth:`release_run`.

        The other workers wait as they do for one still reading its start
        requests; if this one dies, its heartbeat expires and they go on.
        """
        assert self.tasks is not None
        self.tasks.hold()
        self._quietly(self.tasks.registry.heartbeat)  # (or the next heartbeat says it)

    def release_run(self) -> None:
        """Let the run end once drained (see :meth:`hold_run`)."""
        assert self.tasks is not None
        self.tasks.release()
        self._quietly(self.tasks.registry.done_seeding)

    def claim_task(self, name: str) -> int | None:
        """Claim the run's task ``name`` for this worker: 1 (it is this worker's), 0 (a live worker has it), -1 (done).

        A task whose worker died (its heartbeat expired) can be claimed again.
        ``None``: Redis cannot be reached now (ask again later).
        """
        assert self.tasks is not None
        try:
            return self.outage.call(self.tasks.claim, name)
        except RedisUnavailable:
            return None

    def finish_task(self, name: str) -> None:
        """The run's task ``name`` is done: nobody claims it again in this run."""
        assert self.tasks is not None
        try:
            self.outage.call(self.tasks.finish, name)
        except RedisUnavailable:
            logger.warning("scheduler: Redis lost while marking %s done", name)

    # --- requests in and out ------------------------------------------------------

    def _fetch(self) -> bool:
        """Send the queued requests and take the next entries, in one round trip.

        A few entries at a time (``SCHEDULER_PREFETCH``): they are this worker's
        from then on, handed out again only if it dies.
        """
        assert self.queue is not None
        # The engine asks again as soon as it has room: after an empty answer,
        # wait a little (or for a request of this worker's) before asking Redis.
        if self.outage.offline or (not self.outbox.puts and time.monotonic() < self._empty_until):
            return False
        wanted = self._room()
        try:
            entries = self.outage.call(self.outbox.send_puts, self.queue, wanted, self._count_put)
        except RedisUnavailable:
            return False
        if len(entries) < wanted:  # the queue is empty now
            self._empty_until = time.monotonic() + EMPTY_RECHECK
        self._prefetched.extend(entries)
        return bool(entries)

    def _room(self) -> int:
        """How many entries to take: no more than the downloader can start now (others may need them)."""
        if self.crawler.engine is None or self.crawler.engine.downloader.total_concurrency <= 0:
            return self.prefetch
        downloader = self.crawler.engine.downloader
        return max(1, min(self.prefetch, downloader.total_concurrency - len(downloader.active)))

    def _count_put(self, outcome: int) -> None:
        if outcome == Outcome.ENQUEUED:
            self._inc("scheduler/enqueued/redis")
            self._empty_until = 0.0
        elif outcome == Outcome.ALREADY_SEEDED:
            self._inc("linkcrawler/scheduler/start_already_enqueued")
        else:
            self._inc("dupefilter/filtered")

    def _sweep(self) -> None:
        """Acknowledge what is finished (and stored, when a pipeline says so)."""
        self.taken.collect(self.engine.in_progress(), time.monotonic())
        self.outbox.acks.extend(self.taken.due())
        self._commit()

    def _commit(self) -> bool:
        """Send the outbox (enqueues first: a request is acknowledged only once the requests
        it produced are queued); True when nothing is left to send."""
        if self.outage.offline or self.queue is None:
            return False
        try:
            if self.outbox.puts:
                self.outage.call(self.outbox.send_puts, self.queue, 0, self._count_put)
            acknowledged = self.outage.call(self.outbox.send_acks, self.queue)
        except RedisUnavailable:
            return False
        self._inc("linkcrawler/scheduler/acknowledged", acknowledged)
        return True

    def _reconcile(self) -> None:
        """Hand back entries Redis counts as in flight here that this worker does not know.

        A reply lost with the connection can leave one there (taken by the
        script, never received): nobody would process it.
        """
        assert self.queue is not None
        known = self.taken.known() | set(self._prefetched) | set(self.outbox.acks)
        unknown = [entry for entry in self.outage.call(self.queue.in_flight) if entry not in known]
        if unknown:
            moved = self.outage.call(self.queue.requeue, unknown)
            self._inc("linkcrawler/scheduler/requeued", moved)
            logger.info("scheduler: %d requests taken but never received went back to the queue", moved)

    # --- liveness (linkcrawler.distributed.workers) --------------------------------

    def _heartbeat(self) -> None:
        if self.outage.offline or self.registry is None:
            return
        try:
            current = self.outage.call(self.registry.heartbeat)
        except RedisUnavailable:
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
            reaped = self.outage.call(self.registry.reap)
        except RedisUnavailable:
            return
        for worker, count in reaped.items():
            logger.warning("scheduler: worker %s stopped answering; its %d requests in flight are queued again",
                           worker, count)
            self._inc("linkcrawler/scheduler/reclaimed", count)
        if any(reaped.values()):
            self._wake_engine()

    # --- Redis outages (linkcrawler.distributed.outage) ----------------------------

    def _redis_lost(self, exc: Exception) -> None:
        self._inc("linkcrawler/scheduler/redis_outages")
        logger.warning(
            "scheduler: Redis unreachable (%s: %s); waiting for it, keeping the %d requests in progress",
            type(exc).__name__, exc, len(self.taken.taken),
        )

    def _redis_back(self, outage: float) -> None:
        """Catch up: say this worker is alive, hand back what Redis holds for it unknowingly, send the outbox."""
        # Heartbeats may have expired during the outage: give the other workers
        # the time to beat again before taking them for dead.
        self._reap_after = time.monotonic() + self.worker_ttl
        logger.info(
            "scheduler: Redis is back after %.1fs; sending %d requests and %d acknowledgements kept meanwhile",
            outage, len(self.outbox.puts), len(self.outbox.acks),
        )
        try:
            assert self.registry is not None
            self.outage.call(self.registry.heartbeat)
            self._reconcile()
        except RedisUnavailable:
            return
        self._commit()
        self._wake_engine()

    # --- the engine (linkcrawler.distributed.engine) -------------------------------

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
        self.engine.wake()

    # --- helpers ------------------------------------------------------------------

    def _quietly(self, function: Callable[[], object]) -> None:
        """``function()`` through the outage guard, for a call whose news the next heartbeat also carries."""
        try:
            self.outage.call(function)
        except RedisUnavailable:
            pass

    def _guarded(self, function: Callable[[], object]) -> None:
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
