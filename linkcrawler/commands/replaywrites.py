"""``scrapy replaywrites FILE...``: write what the writer could not write and kept aside."""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.exceptions import UsageError

from linkcrawler.cli import StoreCommand
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store import Store
from linkcrawler.store.writer import replay_spill


class Command(StoreCommand):
    def syntax(self) -> str:
        return "FILE..."

    def short_desc(self) -> str:
        return "Write to MongoDB the operations a crawl kept in an unwritten-*.jsonl file"

    def long_desc(self) -> str:
        return (
            "When MongoDB stays unreachable past the writer's retries, a crawl keeps the "
            "writes it could not send in LINKCRAWLER_DATA_DIR/unwritten-*.jsonl. This "
            "command sends them; every write is idempotent, so replaying twice is harmless. "
            "A file is removed once all its writes are in; what fails again stays in it."
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not args:
            raise UsageError("name at least one unwritten-*.jsonl file", print_help=False)

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        for name in args:
            path = Path(name)
            if not path.is_file():
                raise LinkcrawlerError(f"{path}: no such file")
            result = replay_spill(store.db, path)
            left = f"; {result.spilled} still failing, kept in {path}" if result.spilled else ""
            print(f"{path}: {result.written} written, {result.already_there} already there{left}")
