"""The report of a crawl shared among workers: made once per run, by one worker, from what all stored.

When the shared crawl is drained (:data:`linkcrawler.signals.shared_run_drained`),
every worker asks :meth:`SharedReport.drained`; one claims the run's ``report``
task and holds the run open, so the others wait and one of them takes over if it
dies. The claimer then

1. waits until what it fetched itself is stored (``items_stored``),
2. builds the report from the stored facts (``build``, in a thread),
3. fetches what no worker fetched, if the build says so, and builds again,
   at most ``max_passes`` times (the last build reports what is still missing
   as failed fetches),
4. hands the report's items to the engine (``send``), waits until they are
   stored, then finishes the task and lets the run end.

The capability supplies ``build``, ``fetch`` and ``send``; this class holds the
state machine alone, so a site audit and a prospect crawl share it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from scrapy.utils.defer import deferred_from_coro

__all__ = ["Built", "RunScheduler", "SharedReport"]

logger = logging.getLogger(__name__)

#: Builds of a report before what is still missing is reported as failed fetches.
MAX_PASSES = 5


class RunScheduler(Protocol):
    """What the report needs of the distributed scheduler (:class:`~linkcrawler.distributed.scheduler.RedisScheduler`)."""

    def claim_task(self, name: str) -> int | None: ...
    def finish_task(self, name: str) -> None: ...
    def hold_run(self) -> None: ...
    def release_run(self) -> None: ...


@dataclass
class Built:
    """One build of the report: its items, or the fetches it misses."""

    items: list[Any] = field(default_factory=list)
    missing: Sequence[Any] = ()


class SharedReport:
    """The once-per-run report's state machine (see the module docstring)."""

    def __init__(
        self,
        name: str,
        build: Callable[[int, bool], Awaitable[Built]],
        fetch: Callable[[Sequence[Any]], None],
        send: Callable[[list[Any]], None],
        max_passes: int = MAX_PASSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.build = build
        self.fetch = fetch
        self.send = send
        self.max_passes = max_passes
        self.clock = clock
        #: ``None`` (not claimed), ``waiting``, ``replaying``, ``sending``, ``done``, ``failed``.
        self.state: str | None = None
        self.passes = 0
        #: When the crawl was found drained by the claimer; the report's time counts from it.
        self.started = 0.0
        #: Seconds from the end of the shared crawl to the report stored (set when done).
        self.seconds: float | None = None
        self._scheduler: RunScheduler | None = None
        self._wait_from = 0.0
        self._stored_upto = float("-inf")

    @property
    def done(self) -> bool:
        return self.state == "done"

    def items_stored(self, upto: float) -> None:
        """Everything handed to the pipelines before ``upto`` (the clock's time) is stored."""
        self._stored_upto = max(self._stored_upto, upto)

    def drained(self, scheduler: RunScheduler) -> bool:
        """The shared crawl is drained: True while this worker has report work left."""
        state = self.state
        if state in ("done", "failed"):
            return False
        if state is None:
            claim = scheduler.claim_task("report")
            if claim is None:
                return True  # Redis is away: ask again once it is back
            if claim != 1:
                return False  # done, or another worker is making it
            scheduler.hold_run()
            self._scheduler = scheduler
            self.started = self.clock()
            self.state = state = "waiting"
            self._wait_from = float("inf")
            logger.info("%s: the shared crawl is over; this worker makes the report", self.name)
        if state == "replaying":
            return True
        # "waiting" (for what was fetched to be stored) or "sending" (the report). The engine
        # is idle: everything this worker scraped went through the item pipelines by now.
        if self._wait_from == float("inf"):
            self._wait_from = self.clock()
        if self._stored_upto < self._wait_from:
            return True
        if state == "sending":
            scheduler.finish_task("report")
            scheduler.release_run()
            self.state = "done"
            self.seconds = self.clock() - self.started
            logger.info("%s: report stored, %.1fs after the shared crawl ended", self.name, self.seconds)
            return False
        self.state = "replaying"
        deferred_from_coro(self._make())
        return True

    async def _make(self) -> None:
        self.passes += 1
        last_pass = self.passes >= self.max_passes
        try:
            built = await self.build(self.passes, last_pass)
        except Exception:
            logger.exception("%s: making the report failed (pass %d)", self.name, self.passes)
            if last_pass:
                logger.error("%s: giving up the report; the stored facts are kept", self.name)
                self.state = "failed"
                assert self._scheduler is not None
                self._scheduler.release_run()
            else:
                self._wait()
            return
        if built.missing:
            self.fetch(built.missing)
            self._wait()
            return
        self.state = "sending"
        self._wait_from = float("inf")
        self.send(built.items)

    def _wait(self) -> None:
        self.state = "waiting"
        self._wait_from = float("inf")
