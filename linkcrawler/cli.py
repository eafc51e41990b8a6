"""What linkcrawler's own commands share: the store, clean errors, exit codes.

It lives outside ``linkcrawler.commands`` because Scrapy instantiates every command
class it finds in that package.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from abc import abstractmethod
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.settings import BaseSettings

from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store import Store, open_store
from linkcrawler.web.text import printable

logger = logging.getLogger(__name__)

#: The exit code of a command that could not do its job (bad input, no database).
EXIT_FAILURE = 2


def report_error(message: str, settings: BaseSettings | None = None) -> None:
    """One ``error:`` line on stderr, and in ``LOG_FILE`` when one is set.

    Scrapyd runs a crawl with ``-s LOG_FILE=...`` and shows that file as the job's
    log: an error that stops the crawl before Scrapy's logging starts must be
    there too (``deploy.py --wait`` reads it).
    """
    print(f"error: {message}", file=sys.stderr)
    log_file = settings.get("LOG_FILE") if settings is not None else None
    if log_file:
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        with contextlib.suppress(OSError), open(log_file, "a", encoding="utf-8") as log:
            log.write(f"{stamp} [linkcrawler] ERROR: {printable(message)}\n")


@contextlib.contextmanager
def exit_on_store_error(settings: BaseSettings | None = None) -> Iterator[None]:
    """A ``LinkcrawlerError`` inside ends the process: one line on stderr (and in ``LOG_FILE``), ``EXIT_FAILURE``.

    For the steps before Scrapy's machinery runs, where nothing else would catch it.
    """
    try:
        yield
    except LinkcrawlerError as exc:
        report_error(str(exc), settings)
        sys.exit(EXIT_FAILURE)


class StoreCommand(ScrapyCommand):
    """A command that works on the store; subclasses implement :meth:`run_with_store`."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        store: Store | None = None
        try:
            store = open_store(self.settings)
            self.run_with_store(store, args, opts)
        except LinkcrawlerError as exc:
            report_error(str(exc), self.settings)
            self.exitcode = EXIT_FAILURE
        finally:
            if store is not None:
                store.close()

    @abstractmethod
    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> Any:
        """Do the command's work; raise ``LinkcrawlerError`` for a clean failure."""
