"""``scrapy importlinks FILE...``: load backlink exports into ``backlinks``.

``scrapy importlinks --competitor DOMAIN FILE...`` loads a competitor's export into
``competitor_links`` instead (the link gap: :mod:`linkcrawler.prospects.linkgap`).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pymongo.database import Database
from scrapy.exceptions import UsageError

from linkcrawler.backlinks.items import backlink_id
from linkcrawler.backlinks.store import BACKLINKS, EVENTS, new_backlink_documents, new_backlink_ops
from linkcrawler.cli import StoreCommand, report_error
from linkcrawler.clock import Clock
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.imports import ImportRow, RowError, read_export
from linkcrawler.prospects.linkgap import competitor_domain, competitor_link_op
from linkcrawler.prospects.store import COMPETITOR_LINKS
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.reads import find_by_ids
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


@dataclass
class BatchResult:
    """What writing one batch of rows did."""

    new: int = 0
    #: Rows of links known before (in the store, or earlier in the batch).
    known: int = 0
    unwritten: list[tuple[WriteOp, str]] = field(default_factory=list)


def store_rows(db: Database[dict[str, Any]], rows: list[ImportRow], found_at: datetime, how: str) -> BatchResult:
    """Make the links of ``rows`` known: insert those not known yet with their ``new`` event.

    The same outcome as writing :func:`new_backlink_ops` for every row (a known link
    keeps its state; its authority and ``imported_from`` are refreshed) at a fraction
    of the cost: the known links of the batch are read first, new links are plain
    inserts, and a known link is written only when the row changes something, so a
    re-import writes nothing. Events are written before their backlinks: a run that
    dies in between leaves an event whose backlink the next import inserts.
    """
    ids = [backlink_id(row.source_url, row.target_url) for row in rows]
    known = _known_backlinks(db, list(dict.fromkeys(ids)))
    documents: dict[str, dict[str, Any]] = {}
    events: list[WriteOp] = []
    refreshes: list[WriteOp] = []
    for row, link_id in zip(rows, ids, strict=True):
        if link_id in documents:  # twice in one batch: the later row refreshes, as an upsert would
            if row.authority is not None:
                documents[link_id]["authority"] = row.authority
            if row.toxicity is not None:
                documents[link_id]["import_toxicity"] = row.toxicity
            if row.expires_at is not None:
                documents[link_id]["expires_at"] = row.expires_at
        elif link_id in known:
            authority, formats, toxicity, expires_at = known[link_id]
            if ((row.authority is not None and row.authority != authority) or row.source_format not in formats
                    or (row.toxicity is not None and row.toxicity != toxicity)
                    or (row.expires_at is not None and row.expires_at != expires_at)):
                refreshes.append(_upsert(row, found_at, how))
                known[link_id] = (row.authority if row.authority is not None else authority,
                                  [*formats, row.source_format],
                                  row.toxicity if row.toxicity is not None else toxicity,
                                  row.expires_at or expires_at)
        else:
            document, event = new_backlink_documents(
                row.source_url, row.target_url, found_at, how, anchor_text=row.anchor_text,
                authority=row.authority, first_seen=row.first_seen, imported_from=row.source_format,
                extra=_extra(row),
            )
            documents[link_id] = document
            events.append(WriteOp.insert_once(EVENTS, event, phase=0))
    result = BatchResult()
    written, failed = write_batch(db, events)
    result.new = len(events) - written.already_there - len(failed)
    result.known = len(rows) - len(events) + written.already_there
    result.unwritten += failed
    for op, _ in failed:  # no backlink without its event: the next import retries both
        documents.pop(op.document["backlink_id"] if op.document else "", None)
    inserts = [WriteOp.insert_once(BACKLINKS, document) for document in documents.values()]
    written, failed = write_batch(db, inserts + refreshes)
    result.unwritten += failed
    if written.already_there:
        # Another import inserted some of these links since they were looked up: apply
        # this file's refresh to them the way an upsert would (a no-op on the rest).
        raced = {document["_id"] for document in documents.values()}
        ops = [_upsert(row, found_at, how) for row, link_id in zip(rows, ids, strict=True) if link_id in raced]
        result.unwritten += write_batch(db, ops)[1]
    return result


def _known_backlinks(db: Database[dict[str, Any]], ids: list[str]) -> dict[str, tuple[Any, list[str], Any, Any]]:
    """(authority, imported_from, import_toxicity, expires_at) of those of ``ids`` that are known backlinks."""
    known: dict[str, tuple[Any, list[str], Any, Any]] = {}
    fields = {"authority": 1, "imported_from": 1, "import_toxicity": 1, "expires_at": 1}
    for document in find_by_ids(db[BACKLINKS], ids, fields):
        known[document["_id"]] = (document.get("authority"), list(document.get("imported_from") or []),
                                  document.get("import_toxicity"), document.get("expires_at"))
    return known


def _extra(row: ImportRow) -> dict[str, Any] | None:
    """What an import row carries beyond the link itself, kept on the backlink: its end
    (``expires_at``) and a toxicity score the export gave (``import_toxicity``, toxic audit)."""
    extra: dict[str, Any] = {}
    if row.expires_at is not None:
        extra["expires_at"] = row.expires_at
    if row.toxicity is not None:
        extra["import_toxicity"] = row.toxicity
    return extra or None


def _upsert(row: ImportRow, found_at: datetime, how: str) -> WriteOp:
    return new_backlink_ops(
        row.source_url, row.target_url, found_at, how, anchor_text=row.anchor_text,
        authority=row.authority, first_seen=row.first_seen, imported_from=row.source_format,
        extra=_extra(row),
    )[-1]


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--target URL] FILE... | --competitor DOMAIN FILE..."

    def short_desc(self) -> str:
        return "Load backlink exports (Ahrefs, SEMrush, Search Console, Majestic, CSV) into backlinks"

    def long_desc(self) -> str:
        return (
            "Reads each export, recognises its format from the header, and stores every link "
            "not known yet as a backlink in state 'pending' with a 'new' event. Importing the "
            "same file twice changes nothing. Rows that cannot be read are reported with their "
            "line number and skipped; they never stop the rest. Search Console's link exports "
            "name only the linking pages: give the page they link to with --target. With "
            "--competitor DOMAIN the export is a competitor's: its links go to competitor_links "
            "(for scrapy linkgap), not to backlinks."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--target", metavar="URL", help="the linked page, for exports that do not name it (Search Console)")
        parser.add_argument("--competitor", metavar="DOMAIN",
                            help="the export is this competitor's backlinks: load it into competitor_links")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not args:
            raise UsageError("name at least one export file", print_help=False)
        if opts.competitor is not None:
            try:
                opts.competitor = competitor_domain(opts.competitor)
            except ValueError as exc:
                raise UsageError(f"--competitor: {exc}", print_help=False) from None

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        if opts.competitor is not None:
            self.import_competitor(store, args, opts.competitor, opts.target)
            return
        ensure_indexes(store.db, ["backlinks", "link_events"])
        report = ImportReport()
        failed_files = 0
        for name in args:
            try:
                self.import_file(store, Path(name), opts.target, report)
            except (OSError, LinkcrawlerError) as exc:
                failed_files += 1
                report_error(str(exc), self.settings)
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
        now = Clock.from_settings(self.settings).now()
        # One batch is written in a thread while the next is read: the store and the
        # parsing overlap, and no more than two batches are ever held.
        with read_export(path, default_target=target) as reader, ThreadPoolExecutor(1) as writer:
            print(f"{path}: {reader.label}", file=sys.stderr)
            how = f"imported from {reader.label}"
            batch: list[ImportRow] = []
            writing: Future[BatchResult] | None = None
            for row in reader:
                if isinstance(row, RowError):
                    report.bad_row(path, row)
                    continue
                report.rows += 1
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    self.written(writing, report)
                    writing, batch = writer.submit(store_rows, store.db, batch, now, how), []
                    report.progress(path, reader.bytes_read, reader.total_bytes)
            self.written(writing, report)
            if batch:
                self.written(writer.submit(store_rows, store.db, batch, now, how), report)
            report.progress(path, reader.total_bytes, reader.total_bytes, force=True)

    def import_competitor(self, store: Store, names: list[str], competitor: str, target: str | None) -> None:
        """Load competitors' exports into ``competitor_links`` (idempotent upserts, in batches)."""
        ensure_indexes(store.db, [COMPETITOR_LINKS])
        now = Clock.from_settings(self.settings).now()
        report = ImportReport()
        failed_files = 0
        for name in names:
            path = Path(name)
            try:
                if not path.is_file():
                    raise LinkcrawlerError(f"{path}: no such file")
                with read_export(path, default_target=target) as reader:
                    print(f"{path}: {reader.label} of {competitor}", file=sys.stderr)
                    batch: list[WriteOp] = []
                    for row in reader:
                        if isinstance(row, RowError):
                            report.bad_row(path, row)
                            continue
                        report.rows += 1
                        batch.append(competitor_link_op(competitor, row, now))
                        if len(batch) >= BATCH_ROWS:
                            self.write_competitor_batch(store, batch, report)
                            batch = []
                            report.progress(path, reader.bytes_read, reader.total_bytes)
                    self.write_competitor_batch(store, batch, report)
            except (OSError, LinkcrawlerError) as exc:
                failed_files += 1
                report_error(str(exc), self.settings)
        print(f"imported {report.rows:,} rows of {competitor}'s backlinks into competitor_links: "
              f"{report.bad:,} bad rows skipped" + (f", {report.unwritten:,} not written" if report.unwritten else ""))
        if failed_files or report.unwritten:
            self.exitcode = 2

    @staticmethod
    def write_competitor_batch(store: Store, batch: list[WriteOp], report: ImportReport) -> None:
        if not batch:
            return
        _, failed = write_batch(store.db, batch)
        if failed:
            report.unwritten += len(failed)
            raise LinkcrawlerError(f"{len(failed)} writes failed, first: {failed[0][1]}")

    @staticmethod
    def written(writing: Future[BatchResult] | None, report: ImportReport) -> None:
        """Wait for the batch being written; count it."""
        if writing is None:
            return
        result = writing.result()
        report.new += result.new
        report.known += result.known
        if result.unwritten:
            report.unwritten += len(result.unwritten)
            raise LinkcrawlerError(f"{len(result.unwritten)} writes failed, first: {result.unwritten[0][1]}")
