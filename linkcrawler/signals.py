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
