"""The one module that touches Scrapy's private engine API; checked against Scrapy 2.19.0.

The Redis scheduler needs two things Scrapy offers no public API for:

- which requests the engine took and has not finished with (downloading, in
  the callback or errback, or their items in the item pipelines): a request
  is acknowledged in Redis only once it left this set. Scrapy 2.19 keeps it in
  ``ExecutionEngine._slot.inprogress``;
- making the engine ask the scheduler for requests now (work arrived from
  Redis) rather than at its next idle check, 5 seconds away:
  ``ExecutionEngine._slot.nextcall.schedule()``.

:meth:`EngineAccess.check` fails at the scheduler's ``open`` when this Scrapy
has neither, with a message naming the version checked. On a Scrapy upgrade,
read ``scrapy/core/engine.py`` (``_Slot``, ``_start_scheduled_requests``,
``_handle_downloader_output``), make sure both still mean the same, then update
:data:`CHECKED_AGAINST`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import scrapy

from linkcrawler.exceptions import ConfigurationError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.engine import ExecutionEngine

#: The Scrapy version whose private engine API this module was checked against.
CHECKED_AGAINST = "2.19.0"


class EngineAccess:
    """What the Redis scheduler reads from and asks of Scrapy's engine (see the module docstring)."""

    def __init__(self, engine: ExecutionEngine | None) -> None:
        self.engine = engine

    def check(self) -> None:
        """Raise :class:`~linkcrawler.exceptions.ConfigurationError` unless the engine has what is needed.

        Call it once the engine's slot exists: from the scheduler's ``open``.
        """
        slot = getattr(self.engine, "_slot", None)
        if slot is None or not isinstance(getattr(slot, "inprogress", None), set) or not hasattr(slot, "nextcall"):
            raise ConfigurationError(
                f"the Redis scheduler (REDIS_URL) needs the engine's in-progress requests "
                f"(ExecutionEngine._slot.inprogress and _slot.nextcall, checked against Scrapy {CHECKED_AGAINST}), "
                f"which Scrapy {scrapy.__version__} does not have: use Scrapy {CHECKED_AGAINST} or unset REDIS_URL"
            )

    def in_progress(self) -> set[Request]:
        """Requests the engine took and has not finished (download, callback, item pipelines).

        Empty once the engine has closed the spider.
        """
        slot = getattr(self.engine, "_slot", None)
        in_progress: set[Request] = slot.inprogress if slot is not None else set()
        return in_progress

    def wake(self) -> None:
        """Have the engine ask the scheduler for requests at its next turn (no-op once closed)."""
        slot = getattr(self.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()
