"""Waiting on a condition, not on the clock: the suite must hold on a busy machine.

A fixed ``sleep`` or a tight deadline passes on an idle laptop and fails when
the other core is busy. Tests wait until what they expect is true, with a
deadline generous enough that only a real failure reaches it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

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


async def wait_until_async(predicate: Callable[[], T], timeout: float = GENEROUS, interval: float = 0.05,
                           message: str | None = None) -> T:
    """:func:`wait_until` for a coroutine: the event loop keeps running while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout:.0f}s: {predicate!r}")
        await asyncio.sleep(interval)
