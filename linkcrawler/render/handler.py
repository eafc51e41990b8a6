"""The rendering download handler: scrapy-playwright's, with the address guard on every browser request.

A rendered page makes its own requests (scripts, images, XHR, frames): each is
checked like the crawler's own (:class:`~linkcrawler.middlewares.address_guard.AddressGuardMiddleware`),
its host resolved off the event loop (``getaddrinfo`` runs in a thread) and
aborted when an address is loopback, private or otherwise non-public, unless
``LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES`` (or ``LINKCRAWLER_ALLOWED_NETWORKS``)
allows it. Schemes that reach no web host (``file:``, ``chrome:``, ``ftp:``...)
are aborted; ``data:``, ``blob:`` and ``about:`` stay in the browser. Images,
media and fonts are not fetched at all: they cannot put a link on a page. Each
refusal is counted (``linkcrawler/render/refused_address``) and logged.

Requests without ``meta["playwright"]`` go to Scrapy's HTTP/1.1 handler, as
scrapy-playwright does for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from linkcrawler import defaults
from linkcrawler.middlewares.address_guard import IPNetwork, host_refusal, parse_networks
from linkcrawler.web.text import printable

logger = logging.getLogger(__name__)

_IN_BROWSER = frozenset({"data", "blob", "about"})
_GUARDED = frozenset({"http", "https", "ws", "wss"})
#: What cannot put a link on a page: not fetched (the render is only about links).
_NOT_NEEDED = frozenset({"image", "media", "font"})


class BrowserRequestGuard:
    """Decides, for each request a rendered page makes, whether it is aborted."""

    def __init__(self, allow_private: bool, allowed_networks: Sequence[IPNetwork] = (), stats: Any = None) -> None:
        self.allow_private = allow_private
        self.allowed_networks = list(allowed_networks)
        self.stats = stats
        #: host -> the kind of address that forbids it (None: allowed), for the crawl.
        self._verdicts: dict[str, str | None] = {}

    async def should_abort(self, request: Any) -> bool:
        """``True`` to abort the browser's request (a Playwright ``Request``)."""
        url = request.url
        scheme = url.split(":", 1)[0].lower()
        if scheme in _IN_BROWSER:
            return False
        if scheme not in _GUARDED:
            self._count("linkcrawler/render/refused_scheme")
            logger.info("render: refused a %s: request from a rendered page (%s)", printable(scheme)[:20],
                        printable(url)[:200])
            return True
        if getattr(request, "resource_type", None) in _NOT_NEEDED:
            return True
        if self.allow_private:
            return False
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._verdicts:
            self._verdicts[host] = await self._refusal(host)
        kind = self._verdicts[host]
        if kind is None:
            return False
        self._count("linkcrawler/render/refused_address")
        self._count(f"linkcrawler/render/refused_address/{kind}")
        logger.info("render: refused %s (%s address) requested by a rendered page", printable(url)[:200], kind)
        return True

    async def _refusal(self, host: str) -> str | None:
        # The address guard's own rule; a name that does not resolve is not refused:
        # the browser's request fails by itself.
        refused = await host_refusal(host.strip("[]"), self.allowed_networks)
        return refused[1] if refused is not None else None

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)


class RenderDownloadHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]  # untyped package
    """scrapy-playwright's handler whose browser requests pass :class:`BrowserRequestGuard`."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.guard = BrowserRequestGuard(
            settings.getbool("LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES", defaults.LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES),
            parse_networks(settings.getlist("LINKCRAWLER_ALLOWED_NETWORKS", defaults.LINKCRAWLER_ALLOWED_NETWORKS)),
            crawler.stats,
        )
        self.abort_request = self.guard.should_abort
        self._started = False
        self._start_lock = asyncio.Lock()

    async def _maybe_launch_in_thread(self) -> None:
        # scrapy-playwright starts Playwright's driver when the engine starts; a
        # crawl that renders nothing should not pay for it: started on the first render.
        return None

    def _engine_started(self) -> None:  # the pre-2.14 signal handler
        return None

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        if not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._launch()
                    self._started = True
        response: Response = await super()._download_request(request, spider)
        return response
