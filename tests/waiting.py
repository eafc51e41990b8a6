"""Waiting on a condition, not on the clock: the suite must hold on a busy machine.

A fixed ``sleep`` or a tight deadline passes on an idle laptop and fails when
the other core is busy. Tests wait until what they expect is true, with a
deadline generous enough that only a real failure reaches it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from twisted.internet import defer, task

T = TypeVar("T")

#: Seconds a test waits for something that normally takes a fraction of one.
GENEROUS = 30.0


def wait_until(predicate: Callable[[], T], timeout: float = GENEROUS, interval: float = 0.05,
               message: str | None = None) -> T:
    """Call ``predicate`` until it returns something true; return that, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout:.0f}s: {predicate!r}")
        time.sleep(interval)


def wait_until_deferred(predicate: Callable[[], T], timeout: float = GENEROUS, interval: float = 0.05,
                        message: str | None = None) -> defer.Deferred[T]:
    """:func:`wait_until` for a test on the reactor: it keeps running (timers, probes) while the test waits."""
    from twisted.internet import reactor

    @defer.inlineCallbacks
    def waiting() -> Generator[defer.Deferred[Any], Any, T]:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(message or f"condition not met within {timeout:.0f}s: {predicate!r}")
            yield task.deferLater(reactor, interval, lambda: None)

    return waiting()
