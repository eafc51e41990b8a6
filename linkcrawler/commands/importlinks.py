"""``scrapy importlinks FILE...``: load backlink exports into ``backlinks``."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from scrapy.exceptions import UsageError

from linkcrawler.backlinks.store import EVENTS, new_backlink_ops
from linkcrawler.cli import StoreCommand
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.imports import ImportRow, RowError, read_export
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import WriteOp, write_batch

#: Rows written per bulk write.
BATCH_ROWS = 1000
#: Bad rows printed one by one; the rest are counted.
SHOWN_ERRORS = 50
PROGRESS_EVERY = 2.0


class ImportReport:
    """Counts, bad rows and progress of one import, printed as it goes."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self.out = out
        self.rows = self.new = self.known = self.bad = self.unwritten = 0
        self._last_progress = time.monotonic()

    def bad_row(self, path: Path, error: RowError) -> None:
        self.bad += 1
        if self.bad <= SHOWN_ERRORS:
            print(f"{path}:{error.line}: skipped: {error.reason}", file=self.out)
        elif self.bad == SHOWN_ERRORS + 1:
            print(f"{path}: more bad rows follow; only their count is shown", file=self.out)

    def progress(self, path: Path, done: int, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY:
            return
        self._last_progress = now
        share = f"{100 * done / total:.0f}%" if total else "?"
        print(f"{path}: {share} read, {self.rows:,} rows ({self.new:,} new, {self.bad:,} bad)", file=self.out)


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--target URL] FILE..."

    def short_desc(self) -> str:
        return "Load backlink exports (Ahrefs, SEMrush, Search Console, Majestic, CSV) into backlinks"

    def long_desc(self) -> str:
        return (
            "Reads each export, recognises its format from the header, and stores every link "
            "not known yet as a backlink in state 'pending' with a 'new' event. Importing the "
            "same file twice changes nothing. Rows that cannot be read are reported with their "
            "line number and skipped; they never stop the rest. Search Console's link exports "
            "name only the linking pages: give the page they link to with --target."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--target", metavar="URL", help="the linked page, for exports that do not name it (Search Console)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not args:
            raise UsageError("name at least one export file", print_help=False)

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        ensure_indexes(store.db, ["backlinks", "link_events"])
        report = ImportReport()
        failed_files = 0
        for name in args:
            try:
                self.import_file(store, Path(name), opts.target, report)
            except (OSError, LinkcrawlerError) as exc:
                failed_files += 1
                print(f"error: {exc}", file=sys.stderr)
        print(
            f"imported {report.rows:,} rows: {report.new:,} new backlinks, "
            f"{report.known:,} already known, {report.bad:,} bad rows skipped"
            + (f", {report.unwritten:,} not written (see the log)" if report.unwritten else "")
        )
        if failed_files or report.unwritten:
            self.exitcode = 2

    def import_file(self, store: Store, path: Path, target: str | None, report: ImportReport) -> None:
        if not path.is_file():
            raise LinkcrawlerError(f"{path}: no such file")
        now = datetime.now(timezone.utc)
        with read_export(path, default_target=target) as reader:
            print(f"{path}: {reader.label}", file=sys.stderr)
            batch: list[WriteOp] = []
            for row in reader:
                if isinstance(row, RowError):
                    report.bad_row(path, row)
                    continue
                report.rows += 1
                batch.extend(self.row_ops(row, now, reader.label))
                if len(batch) >= 2 * BATCH_ROWS:
                    self.write(store, batch, report)
                    batch = []
                    report.progress(path, reader.bytes_read, reader.total_bytes)
            self.write(store, batch, report)
            report.progress(path, reader.total_bytes, reader.total_bytes, force=True)

    @staticmethod
    def row_ops(row: ImportRow, now: datetime, label: str) -> list[WriteOp]:
        return new_backlink_ops(
            row.source_url,
            row.target_url,
            now,
            f"imported from {label}",
            anchor_text=row.anchor_text,
            authority=row.authority,
            first_seen=row.first_seen,
            imported_from=row.source_format,
        )

    @staticmethod
    def write(store: Store, batch: list[WriteOp], report: ImportReport) -> None:
        if not batch:
            return
        result, failed = write_batch(store.db, batch)
        events = sum(1 for op in batch if op.collection == EVENTS)
        # Every row has one "new" event insert: one already there means a known link.
        report.known += result.already_there
        report.new += events - result.already_there - sum(1 for op, _ in failed if op.collection == EVENTS)
        if failed:
            report.unwritten += len(failed)
            raise LinkcrawlerError(f"{len(failed)} writes failed, first: {failed[0][1]}")
