"""AlertsOnClose: deliver the alert digests when a backlinks crawl finishes (``LINKCRAWLER_ALERT_ON_CLOSE``).

The same delivery as ``scrapy alerts``, in a thread (pymongo and SMTP block), after
the item pipelines have flushed their writes (Scrapy closes them before it sends
``spider_closed``). Whatever goes wrong is logged: alerts never fail the crawl.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import run_in_thread

from linkcrawler import defaults
from linkcrawler.clock import Clock
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store import open_store
from linkcrawler.store.connection import writes_to_store
from linkcrawler.web.text import printable

if TYPE_CHECKING:
    from linkcrawler.alerts.channels import Channel
    from linkcrawler.alerts.delivery import ChannelReport
    from linkcrawler.alerts.rules import AlertRules

logger = logging.getLogger(__name__)

#: The spiders whose end triggers a delivery.
SPIDERS = ("backlinks",)


def deliver_alerts(settings: BaseSettings, channels: list[Channel], rules: AlertRules) -> list[ChannelReport]:
    """Open the store, deliver, close it: blocking, for a thread."""
    from linkcrawler.alerts.delivery import deliver

    store = open_store(settings)
    try:
        return deliver(store.db, channels, rules, Clock.from_settings(settings).now())
    finally:
        store.close()


class AlertsOnClose:
    """Extension: ``scrapy alerts`` when a backlinks crawl closes."""

    def __init__(self, settings: BaseSettings, channels: list[Channel], rules: AlertRules) -> None:
        self.settings = settings
        self.channels = channels
        self.rules = rules

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AlertsOnClose:
        settings = crawler.settings
        if not settings.getbool("LINKCRAWLER_ALERT_ON_CLOSE", defaults.LINKCRAWLER_ALERT_ON_CLOSE):
            raise NotConfigured("LINKCRAWLER_ALERT_ON_CLOSE is off")
        if not writes_to_store(settings):
            raise NotConfigured("the crawl writes nothing to MongoDB")
        # Apprise and jinja2 load only when alerts are on: every crawl loads this extension.
        from linkcrawler.alerts.channels import parse_channels
        from linkcrawler.alerts.rules import AlertRules

        try:
            channels = parse_channels(settings.get("LINKCRAWLER_ALERT_URLS"))
            rules = AlertRules.from_settings(settings)
        except LinkcrawlerError as exc:
            logger.error("alerts after the crawl are off: %s", exc)
            raise NotConfigured(str(exc)) from exc
        if not channels:
            logger.warning("LINKCRAWLER_ALERT_ON_CLOSE is on but LINKCRAWLER_ALERT_URLS names no channel")
            raise NotConfigured("no LINKCRAWLER_ALERT_URLS")
        extension = cls(settings, channels, rules)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if spider.name not in SPIDERS:
            return
        try:
            reports = await run_in_thread(deliver_alerts, self.settings, self.channels, self.rules)
        except Exception as exc:  # alerts never fail the crawl
            logger.error("alerts after the crawl failed: %s", printable(f"{type(exc).__name__}: {exc}"))
            return
        for report in reports:
            log = logger.warning if report.outcome == "failed" else logger.info
            log("alerts: %s: %s, %d item(s)%s", printable(report.channel.display), report.outcome, report.items,
                f" ({printable(report.error)})" if report.error else "")
