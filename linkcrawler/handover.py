"""Handing items to the engine outside a callback, without a network request.

Items leave a spider through a callback. Work done after the crawl (a site
audit's totals, a shared report) has no response to answer, so it sends
:func:`handover_request`: a request to the ``handover:`` scheme, which
:class:`HandoverDownloadHandler` answers at once with an empty response, and
whose callback yields the items. No host is contacted (before, the audit sent
a HEAD request to the site's robots.txt to carry them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.http import Response
from twisted.python.failure import Failure

__all__ = ["SCHEME", "HandoverDownloadHandler", "handed_over", "handover_request"]

#: The scheme of handover requests (``DOWNLOAD_HANDLERS`` maps it to the handler).
SCHEME = "handover"
_META = "linkcrawler_handover"
_counter = itertools.count()


class HandoverDownloadHandler(BaseDownloadHandler):
    """Answers every ``handover:`` request with an empty 200 response, at once."""

    async def download_request(self, request: Request) -> Response:
        return Response(url=request.url, status=200, request=request)


def handover_request(items: list[Any], meta: dict[str, Any] | None = None) -> Request:
    """A request whose callback (:func:`handed_over`) yields ``items``."""
    return Request(
        f"{SCHEME}://linkcrawler/{next(_counter)}",
        callback=handed_over,
        errback=handed_over,
        dont_filter=True,
        meta={**(meta or {}), _META: items, "dont_obey_robotstxt": True, "dont_retry": True},
    )


def handed_over(response_or_failure: Response | Failure) -> Iterator[Any]:
    """The callback (and errback) of a handover request: its items."""
    # A Failure from the downloader carries the request too.
    request: Request | None = getattr(response_or_failure, "request", None)
    if request is not None:
        yield from request.meta.pop(_META, [])
