"""Signals linkcrawler's components send, beside Scrapy's own (``scrapy.signals``).

Connect to them with ``crawler.signals.connect(handler, signal=items_stored)``.
"""

from __future__ import annotations

#: Sent by an item pipeline that buffers its writes, with ``upto`` (a
#: :func:`time.monotonic` value): every item whose ``process_item`` returned
#: before ``upto`` is now stored for good (written, or kept in a spill file).
#: A pipeline that sends it should send it once when it opens, then after each
#: flush, and with the current time whenever it has nothing buffered.
#:
#: The Redis scheduler acknowledges a request only once the items it produced
#: are stored, when it has received this signal at least once in the crawl; a
#: worker killed before that loses nothing, its requests being handed out again.
items_stored = object()

#: Sent by the Redis scheduler once this worker joined a shared run, with
#: ``run_id`` and ``scheduler`` (:class:`~linkcrawler.distributed.scheduler.RedisScheduler`).
shared_run_joined = object()

#: Sent by the Redis scheduler when the shared run is over for this worker
#: (nothing queued, nothing in flight anywhere, for ``SCHEDULER_IDLE_BEFORE_CLOSE``
#: seconds), with ``scheduler``, just before it lets the worker close. A handler
#: returning ``True`` keeps the worker open: it has more to do (it may schedule
#: requests meanwhile); it is asked again every 0.2 s. With
#: ``scheduler.hold_run()`` it keeps the other workers in the run too, until
#: ``scheduler.release_run()``, and ``scheduler.claim_task(name)`` makes sure one
#: worker of the run does a task (the report of a distributed site audit).
shared_run_drained = object()
