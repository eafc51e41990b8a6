"""Whether pages are rendered in a browser, and the Scrapy settings that make it so.

``LINKCRAWLER_RENDER``: ``never``, ``confirm`` (render before a link is recorded
``removed``, and pages that look script-built), ``always`` (every page). Unset:
``confirm`` when chromium is installed (``LINKCRAWLER_CHROMIUM_PATH``), else
``never``. Asked for and missing, it is ``never`` too: :func:`render_mode` says
why in one line, which the spider logs.

Only a spider that renders installs the browser's download handler
(:func:`playwright_settings`): the other spiders, and the plain requests of
that spider (the handler passes them to Scrapy's HTTP/1.1 handler), pay nothing.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any

from linkcrawler import defaults
from linkcrawler.exceptions import ConfigurationError

__all__ = ["RenderMode", "playwright_settings", "render_mode"]

HANDLER = "linkcrawler.render.handler.RenderDownloadHandler"
#: The browser context the renders share (one browser, one context per crawl).
CONTEXT = "render"


class RenderMode(StrEnum):
    NEVER = "never"
    CONFIRM = "confirm"
    ALWAYS = "always"


def chromium_available(path: str) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def render_mode(settings: Any) -> tuple[RenderMode, str | None]:
    """The mode the settings ask for and the machine allows, and why it is off when it is.

    ``ConfigurationError`` for a value other than never, confirm, always.
    """
    raw = settings.get("LINKCRAWLER_RENDER", defaults.LINKCRAWLER_RENDER)
    path = settings.get("LINKCRAWLER_CHROMIUM_PATH", defaults.LINKCRAWLER_CHROMIUM_PATH) or ""
    if raw in (None, ""):
        if chromium_available(path):
            return RenderMode.CONFIRM, None
        return RenderMode.NEVER, (
            f"rendering off: no chromium at {path} (LINKCRAWLER_CHROMIUM_PATH); links inserted by scripts "
            "are not confirmed (apt-get install chromium)"
        )
    try:
        mode = RenderMode(str(raw).strip().lower())
    except ValueError:
        raise ConfigurationError(
            f"LINKCRAWLER_RENDER={raw!r}: expected one of never, confirm, always"
        ) from None
    if mode is not RenderMode.NEVER and not chromium_available(path):
        return RenderMode.NEVER, (
            f"rendering off: LINKCRAWLER_RENDER={mode.value} but there is no chromium at {path} "
            "(LINKCRAWLER_CHROMIUM_PATH; apt-get install chromium)"
        )
    return mode, None


def playwright_settings(settings: Any) -> dict[str, Any]:
    """The settings that install the rendering download handler (for http and https).

    One chromium for the crawl, launched on the first render (never downloaded:
    ``executable_path``), one context, downloads refused.
    """
    handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
    handlers |= {"http": HANDLER, "https": HANDLER}
    timeout_ms = 1000 * settings.getfloat("LINKCRAWLER_RENDER_TIMEOUT", defaults.LINKCRAWLER_RENDER_TIMEOUT)
    return {
        "DOWNLOAD_HANDLERS": handlers,
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": settings.get("LINKCRAWLER_CHROMIUM_PATH", defaults.LINKCRAWLER_CHROMIUM_PATH),
            "headless": True,
            "timeout": timeout_ms * 2,
            # No first-run tasks, no extensions, no sandbox-less warnings in containers.
            "args": ["--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-sync", "--no-default-browser-check"],
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, min(8, settings.getint("CONCURRENT_REQUESTS", 16))),
        "PLAYWRIGHT_CONTEXTS": {},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        # The page's own requests carry the browser's headers, ours only on the page itself.
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": "scrapy_playwright.headers.use_scrapy_headers",
    }


def context_kwargs() -> dict[str, Any]:
    """The browser context of the renders: no downloads, no service workers."""
    return {"accept_downloads": False, "service_workers": "block", "java_script_enabled": True}
