"""The requests a worker took from Redis, until it may acknowledge them.

An entry taken from the shared queue stays in the worker's in-flight hash in
Redis until acknowledged, which may happen once its request is *done*: it left
the engine (callback or errback run, every item it yielded through the item
pipelines) and, when a pipeline announces what it stored
(:data:`linkcrawler.signals.items_stored`), those items are stored too.

Pure bookkeeping: the engine's in-progress requests and the clock are given.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

from scrapy import Request


class TakenRequests:
    """Entries handed to the engine, then finished, then due for acknowledgement."""

    def __init__(self) -> None:
        #: Entries handed to the engine and not finished yet.
        self.taken: dict[bytes, Request] = {}
        # Finished entries, with when they were seen finished, oldest first.
        self._finished: deque[tuple[float, bytes]] = deque()
        self._wait_for_storage = False
        self._stored_upto = float("-inf")

    def __len__(self) -> int:
        """Entries taken and not yet due (in the engine, or waiting for their items to be stored)."""
        return len(self.taken) + len(self._finished)

    def take(self, entry: bytes, request: Request) -> None:
        """``request``, read from ``entry``, goes to the engine."""
        self.taken[entry] = request

    def collect(self, in_progress: Collection[Request], now: float) -> None:
        """Note as finished, at ``now``, the taken requests no longer ``in_progress`` in the engine."""
        for entry, request in list(self.taken.items()):
            if request not in in_progress:
                del self.taken[entry]
                self._finished.append((now, entry))

    def stored(self, upto: float) -> None:
        """A pipeline stored every item it was given before ``upto``: from now on, acknowledgements wait for it."""
        self._wait_for_storage = True
        self._stored_upto = max(self._stored_upto, upto)

    def due(self) -> list[bytes]:
        """Take the finished entries that may be acknowledged now (their items stored, when that is known)."""
        due = []
        while self._finished and (not self._wait_for_storage or self._finished[0][0] <= self._stored_upto):
            due.append(self._finished.popleft()[1])
        return due

    def all_finished(self) -> list[bytes]:
        """Take every finished entry, stored or not (at close: the item pipelines have closed, so stored)."""
        entries = [entry for _, entry in self._finished]
        self._finished.clear()
        return entries

    def known(self) -> set[bytes]:
        """Every entry this worker still has (in the engine or finished)."""
        return set(self.taken) | {entry for _, entry in self._finished}
