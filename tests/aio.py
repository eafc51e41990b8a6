"""Run an ``async def`` test as an asyncio task on the Twisted asyncio reactor.

pytest-twisted runs coroutines as Twisted coroutines, which cannot await asyncio
futures (``asyncio.to_thread``, ``asyncio.Lock``); Scrapy runs component
coroutines as asyncio tasks. This decorator does what Scrapy does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest_twisted
from scrapy.utils.defer import deferred_from_coro


def asyncio_test(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., Any]:
    @functools.wraps(test)
    async def run_as_asyncio_task(*args: Any, **kwargs: Any) -> None:
        await deferred_from_coro(test(*args, **kwargs))

    return pytest_twisted.ensureDeferred(run_as_asyncio_task)
