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
from typing import Any

from scrapy.commands import ScrapyCommand

from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store import Store, open_store

logger = logging.getLogger(__name__)

#: The exit code of a command that could not do its job (bad input, no database).
EXIT_FAILURE = 2


@contextlib.contextmanager
def exit_on_store_error() -> Iterator[None]:
    """A ``LinkcrawlerError`` inside ends the process: one line on stderr, ``EXIT_FAILURE``.

    For the steps before Scrapy's machinery runs, where nothing else would catch it.
    """
    try:
        yield
    except LinkcrawlerError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = EXIT_FAILURE
        finally:
            if store is not None:
                store.close()

    @abstractmethod
    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> Any:
        """Do the command's work; raise ``LinkcrawlerError`` for a clean failure."""
