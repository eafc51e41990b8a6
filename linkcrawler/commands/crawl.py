"""``scrapy crawl``, with the store checked before anything starts.

Scrapy's own command, plus one step first: a crawl that writes to MongoDB opens
the store before the crawler is built. A MongoDB that does not answer (or a
``MONGO_URI`` that is not valid) ends the command there with one line on stderr
and exit code 2, instead of a crawl that starts, logs its set-up and fails in
the engine. The store stays open for the whole crawl, so its components share
the client (and the embedded server starts once).
"""

from __future__ import annotations

import argparse
import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError

from linkcrawler.cli import EXIT_FAILURE, exit_on_store_error
from linkcrawler.store import Store, open_store
from linkcrawler.store.connection import STORE_UNAVAILABLE, writes_to_store

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    store: Store | None = None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # Here, before the crawler process exists: it would log its set-up first.
        if args and writes_to_store(self.settings):
            with exit_on_store_error():
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
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            if self.store is not None:
                store, self.store = self.store, None
                store.close()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats is not None and crawler.stats.get_value("finish_reason") == STORE_UNAVAILABLE:
            self.exitcode = EXIT_FAILURE
