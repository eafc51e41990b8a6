"""``scrapy crawl``, with the spider's arguments and the store checked before anything starts.

Scrapy's own command, plus two steps first: the spider's arguments (``-a``) are
checked against what it declares (:mod:`linkcrawler.spiders.arguments`), and a
crawl that writes to MongoDB opens the store before the crawler is built. A bad
argument, a MongoDB that does not answer (or a ``MONGO_URI`` that is not valid)
ends the command there with one line on stderr and exit code 2, instead of a
crawl that starts, logs its set-up and fails in the engine with a traceback. A
``LinkcrawlerError`` that still comes out of the crawl (a spider refusing its
settings in ``from_crawler``) is one line and exit code 2 too. The store stays
open for the whole crawl, so its components share the client (and the embedded
server starts once).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from linkcrawler.cli import EXIT_FAILURE, exit_on_store_error, report_error
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.spiders.arguments import spider_arguments
from linkcrawler.store import Store, open_store
from linkcrawler.store.connection import STORE_UNAVAILABLE, writes_to_store

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    store: Store | None = None
    #: A LinkcrawlerError that ended the crawl, reported as one line after it.
    failure: LinkcrawlerError | None = None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # Here, before the crawler process exists: it would log its set-up first.
        if len(args) == 1:
            with exit_on_store_error(self.settings):
                self.check_arguments(args[0], opts.spargs)
        if args and writes_to_store(self.settings):
            with exit_on_store_error(self.settings):
                self.store = open_store(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError(
                "give one spider name" if not args
                else "running 'scrapy crawl' with more than one spider is not supported"
            )
        assert self.crawler_process is not None
        try:
            if self.store is not None:
                logger.info("MongoDB: using %s, database %r", self.store.display_uri, self.store.database_name)
            crawler: Crawler = self._create_crawler(args[0])
            self.watch(self.crawler_process.crawl(crawler, **opts.spargs))
            self.crawler_process.start()
        finally:
            if self.store is not None:
                store, self.store = self.store, None
                store.close()
        if self.failure is not None:
            report_error(str(self.failure), self.settings)
            self.exitcode = EXIT_FAILURE
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats is not None and crawler.stats.get_value("finish_reason") == STORE_UNAVAILABLE:
            self.exitcode = EXIT_FAILURE

    def check_arguments(self, spider_name: str, spargs: dict[str, Any]) -> None:
        """Parse ``-a`` arguments as the spider will: ``ConfigurationError`` says what is wrong."""
        assert self.settings is not None
        try:
            spidercls = get_spider_loader(self.settings).load(spider_name)
        except KeyError:
            return  # Scrapy's own "Spider not found" follows
        arguments = spider_arguments(spidercls)
        if arguments is not None:
            arguments.parse(spargs)

    def watch(self, crawl: Any) -> None:
        """Keep a ``LinkcrawlerError`` that ends ``crawl`` (a Task or a Deferred) for one line.

        Any other exception is left to be reported as Scrapy reports it.
        """
        if isinstance(crawl, asyncio.Future):
            crawl.add_done_callback(self._crawl_done)
        elif isinstance(crawl, Deferred):
            crawl.addErrback(self._crawl_failed)

    def _crawl_done(self, task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: asyncio no longer logs it at exit
        if isinstance(exc, LinkcrawlerError):
            self.failure = exc
        elif exc is not None:
            task.get_loop().call_exception_handler(
                {"message": "Task exception was never retrieved", "exception": exc, "future": task}
            )

    def _crawl_failed(self, failure: Failure) -> Failure | None:
        if isinstance(failure.value, LinkcrawlerError):
            self.failure = failure.value
            return None
        return failure
