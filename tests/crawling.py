"""Run a spider in-process, in the test's reactor, and collect what it scraped.

    @pytest_twisted.inlineCallbacks
    def test_something(mockserver):
        result = yield run_spider(MySpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True}, url=...)
        assert result.items == [...]
        assert result.stats["downloader/response_count"] == 1

Scrapy 2.19 starts a spider from its async ``start()`` method only: a spider
defining ``start_requests()`` alone sends the ``start_urls`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler, load_object

if TYPE_CHECKING:
    from scrapy import Spider
    from twisted.internet.defer import Deferred

#: Overrides every test crawl gets unless the caller sets them.
TEST_DEFAULTS: dict[str, Any] = {
    "LOG_LEVEL": "INFO",
    # No MongoDB needed unless a test asks for the pipelines.
    "ITEM_PIPELINES": {},
    # Tests only reach the servers they start: never an HTTP proxy named by the environment.
    "HTTPPROXY_ENABLED": False,
}


@dataclass(eq=False)
class CrawlResult:
    """What one crawl produced."""

    crawler: Crawler
    items: list[Any] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    # Connected to the item_scraped signal; a method of this object so the
    # dispatcher's weak reference lives as long as the result does.
    def item_scraped(self, item: Any) -> None:
        self.items.append(item)


def crawl_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's settings with the test defaults, then ``overrides``, at 'cmdline' priority.

    The module is set explicitly rather than found through ``scrapy.cfg``,
    which depends on the directory pytest runs from.
    """
    settings = Settings()
    settings.setmodule("linkcrawler.settings", priority="project")
    settings.setdict({**TEST_DEFAULTS, **(overrides or {})}, priority="cmdline")
    return settings


def run_spider(
    spidercls: type[Spider], settings: dict[str, Any] | None = None, **spider_kwargs: Any
) -> Deferred[CrawlResult]:
    """Crawl with ``spidercls`` and fire with a :class:`CrawlResult` once the spider closed.

    ``settings`` override the project's (see :func:`crawl_settings`);
    ``spider_kwargs`` are passed to the spider.
    """
    runner = CrawlerRunner(crawl_settings(settings))
    _install_resolver(runner)
    crawler = runner.create_crawler(spidercls)
    result = CrawlResult(crawler)
    crawler.signals.connect(result.item_scraped, signal=signals.item_scraped)
    deferred = runner.crawl(crawler, **spider_kwargs)

    def finished(_: object) -> CrawlResult:
        assert crawler.stats is not None
        result.stats = crawler.stats.get_stats()
        return result

    return deferred.addCallback(finished)


def _install_resolver(runner: CrawlerRunner) -> None:
    """Install the DNS resolver ``scrapy crawl`` installs.

    CrawlerProcess does this when it sets up the reactor; CrawlerRunner leaves
    the reactor as it is. Without it a test would resolve names with Twisted's
    default resolver rather than the one the crawler uses in production.
    """
    from twisted.internet import reactor

    resolver_class = load_object(runner.settings["TWISTED_DNS_RESOLVER"])
    # Scrapy passes its CrawlerProcess here too: the resolvers only read .settings.
    resolver = build_from_crawler(resolver_class, runner, reactor=reactor)  # type: ignore[call-overload]
    resolver.install_on_reactor()
