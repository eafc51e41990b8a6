"""Batched, retried, idempotent bulk writes to MongoDB, off the reactor thread.

Producers (item pipelines) :meth:`BulkWriter.add` :class:`WriteOp` values; the
writer swaps its buffer out when it holds ``batch_size`` operations (or when
:meth:`BulkWriter.flush` is called) and sends the batch with one ``bulk_write``
per collection, in a thread. Batches are written one after another, in order.

Every operation is idempotent: updates are upserts on a natural key backed by a
unique index, inserts carry a deterministic ``_id`` (a duplicate key on insert
means "already written", or, for :meth:`WriteOp.insert_else_set`, "set its fields
instead"). So a batch whose first attempt failed half-way can be
sent again whole. A transient failure (a dropped connection, a timeout, a
primary stepping down, a write conflict) is retried with backoff; operations
that still cannot be written are appended to a spill file and reported, never
dropped: :func:`replay_spill` writes them later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from bson import json_util
from pymongo import InsertOne, UpdateMany, UpdateOne, WriteConcern
from pymongo.database import Database
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
)
from scrapy.utils.asyncio import run_in_thread
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from linkcrawler import defaults

logger = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
#: Server error codes that mean "try again": network, elections, shutdown, conflicts.
TRANSIENT_CODES = frozenset(
    {6, 7, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 64, 50}
)


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One idempotent write: an upsert-style update on a key, or an insert with a fixed ``_id``."""

    collection: str
    kind: Literal["update", "insert", "update_many", "insert_else_set"]
    filter: dict[str, Any] = field(default_factory=dict)
    update: dict[str, Any] | list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    upsert: bool = True
    #: Lower phases of a batch are written first. Events go before the state
    #: they describe, so a crawl that dies between the two leaves a state that
    #: is re-derived (and its event recognised as written) on the next run,
    #: never a state change whose event was lost.
    phase: int = 1

    @classmethod
    def upsert_on(cls, collection: str, key: dict[str, Any], update: dict[str, Any], phase: int = 1) -> WriteOp:
        return cls(collection, "update", filter=key, update=update, upsert=True, phase=phase)

    @classmethod
    def update_if(cls, collection: str, condition: dict[str, Any], update: dict[str, Any]) -> WriteOp:
        """An update that applies only while ``condition`` matches (never creates a document)."""
        return cls(collection, "update", filter=condition, update=update, upsert=False)

    @classmethod
    def update_at_version(cls, collection: str, doc_id: Any, version: int, update: dict[str, Any]) -> WriteOp:
        """An update of document ``doc_id`` that applies only while its ``state_version`` is ``version``.

        The compare-and-set of a change of state: of two checks that read one
        version, only the first write lands (see :func:`at_version`).
        """
        return cls.update_if(collection, at_version(doc_id, version), update)

    @classmethod
    def update_all(cls, collection: str, condition: dict[str, Any], update: dict[str, Any], phase: int = 1) -> WriteOp:
        """One update of every document ``condition`` matches (never creates one): idempotent with ``$set``."""
        return cls(collection, "update_many", filter=condition, update=update, upsert=False, phase=phase)

    @classmethod
    def insert_once(cls, collection: str, document: dict[str, Any], phase: int = 1) -> WriteOp:
        if "_id" not in document:
            raise ValueError("insert_once needs a deterministic _id so that a retry cannot duplicate it")
        return cls(collection, "insert", document=document, phase=phase)

    @classmethod
    def insert_else_set(cls, collection: str, document: dict[str, Any], phase: int = 1) -> WriteOp:
        """``document`` written whole: inserted, or, when its ``_id`` is taken, its fields ``$set`` there.

        What ``upsert_on(collection, {"_id": ...}, {"$set": fields})`` does, for a
        document that is usually new: an insert costs the embedded server a sixth
        of an upsert that inserts (0.05 against 0.31-0.37 ms, measured), and a
        document already there costs one refused insert more (:meth:`as_set`).
        """
        if "_id" not in document:
            raise ValueError("insert_else_set needs the document's _id")
        return cls(collection, "insert_else_set", document=document, phase=phase)

    @property
    def reach(self) -> int:
        """How many documents it may write, as far as its filter tells: one, or the
        length of the ``$in`` list an ``update_all`` matches on (at least one)."""
        if self.kind != "update_many":
            return 1
        return max(1, sum(len(cond["$in"]) for cond in self.filter.values()
                          if isinstance(cond, dict) and isinstance(cond.get("$in"), list)))

    def as_set(self) -> WriteOp:
        """The upsert an ``insert_else_set`` becomes when its ``_id`` is taken."""
        assert self.document is not None
        fields = {name: value for name, value in self.document.items() if name != "_id"}
        return WriteOp.upsert_on(self.collection, {"_id": self.document["_id"]}, {"$set": fields}, phase=self.phase)

    def to_pymongo(self) -> InsertOne[Any] | UpdateOne | UpdateMany:
        if self.kind in ("insert", "insert_else_set"):
            return InsertOne(self.document)
        if self.update is None:
            raise ValueError(f"an update of {self.collection} without an update document")
        if self.kind == "update_many":
            return UpdateMany(self.filter, self.update, upsert=False)
        return UpdateOne(self.filter, self.update, upsert=self.upsert)

    def to_json(self) -> str:
        return json_util.dumps(
            {"collection": self.collection, "kind": self.kind, "filter": self.filter,
             "update": self.update, "document": self.document, "upsert": self.upsert, "phase": self.phase},
            json_options=json_util.CANONICAL_JSON_OPTIONS,
        )

    @classmethod
    def from_json(cls, line: str) -> WriteOp:
        data = json_util.loads(line)
        return cls(data["collection"], data["kind"], data["filter"], data["update"],
                   data["document"], data["upsert"], data.get("phase", 1))


def at_version(doc_id: Any, version: int) -> dict[str, Any]:
    """The filter of document ``doc_id`` while its ``state_version`` is ``version``.

    The version is compared as ``{"$not": {"$ne": version}}``, which matches
    exactly the documents ``{"state_version": version}`` matches (a scalar equal to
    it, an array holding it; a missing field matches neither), and MongoDB serves
    both through the ``_id`` index. The embedded server (SecantusDB) does not: for a
    filter of more than one field it first tries an index for every equality and
    range clause, reading its index catalog for each, before it looks the ``_id``
    up; a clause no index can serve skips those tries. Measured on a first check of
    20,000 backlinks: the tries were a fifth of the server's CPU
    (benchmarks/backlinks/README.md).
    """
    return {"_id": doc_id, "state_version": {"$not": {"$ne": version}}}


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionFailure):  # AutoReconnect, NetworkTimeout, NotPrimaryError...
        return True
    if isinstance(exc, OperationFailure) and not isinstance(exc, BulkWriteError):
        return exc.code in TRANSIENT_CODES or exc.has_error_label("RetryableWriteError")
    return False


@dataclass
class WriteResult:
    written: int = 0
    already_there: int = 0
    spilled: int = 0
    #: Bulk writes sent, and how many of them were retries of a transient failure.
    attempts: int = 0
    retries: int = 0


#: Documents per bulk write of one collection (:attr:`WriteOp.reach`): a batch far
#: bigger than ``MONGO_BATCH_SIZE`` (the totals of a site audit: one update of up to
#: 50 pages per inlink count) is written in slices, so its progress can be told.
WRITE_SLICE = 500


def _slices(ops: list[WriteOp], reach: int) -> Iterator[list[WriteOp]]:
    """``ops`` in order, in lists that write at most ``reach`` documents (or one operation)."""
    piece: list[WriteOp] = []
    total = 0
    for op in ops:
        if piece and total + op.reach > reach:
            yield piece
            piece, total = [], 0
        piece.append(op)
        total += op.reach
    if piece:
        yield piece


def write_batch(
    db: Database[dict[str, Any]],
    ops: Sequence[WriteOp],
    retries: int = defaults.MONGO_WRITE_RETRIES,
    backoff: float = defaults.MONGO_RETRY_BACKOFF,
    backoff_max: float = defaults.MONGO_RETRY_BACKOFF_MAX,
    sleep: Callable[[float], None] = time.sleep,
    max_reach: int = WRITE_SLICE,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[WriteResult, list[tuple[WriteOp, str]]]:
    """Write ``ops`` (blocking: call it in a thread), retrying what failed transiently.

    Each collection's operations (of one phase) are bulk writes of at most
    ``max_reach`` documents (:attr:`WriteOp.reach`), one after the other; the ones that failed
    transiently are written again, with tenacity's exponential back-off
    (``backoff``, doubling, at most ``backoff_max``), up to ``retries`` times.
    ``progress(done, total)`` is called after each bulk write with the number of
    ``ops`` dealt with so far (written, already there or failed).

    Returns the counts and the operations that could not be written, with why.
    """
    result = WriteResult()
    failed: list[tuple[WriteOp, str]] = []
    groups: dict[tuple[int, str], list[WriteOp]] = defaultdict(list)
    for op in ops:
        groups[op.phase, op.collection].append(op)
    slices = [
        (collection, piece)
        for (_, collection), group in sorted(groups.items(), key=lambda item: item[0][0])
        for piece in _slices(group, max_reach)
    ]
    done_ops = 0
    for collection, pending in slices:
        done_ops += len(pending)

        def log_retry(state: RetryCallState, collection: str = collection) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            if isinstance(error, _Transient) and state.next_action is not None:
                logger.warning(
                    "MongoDB: %d write(s) to %s failed (%s); retry %d/%d in %.1fs",
                    len(error.ops), collection, error.ops[0][1], state.attempt_number, retries,
                    state.next_action.sleep,
                )

        retrying = Retrying(
            stop=stop_after_attempt(retries + 1),
            wait=wait_exponential(multiplier=backoff, max=backoff_max),
            retry=retry_if_exception_type(_Transient),
            before_sleep=log_retry,
            sleep=sleep,
            reraise=True,
        )
        while pending:
            # The inserts of insert_else_set whose _id was taken come back as their
            # updates, written before the next phase.
            taken: list[WriteOp] = []
            try:
                for attempt in retrying:
                    with attempt:
                        result.attempts += 1
                        result.retries += attempt.retry_state.attempt_number > 1
                        retry, permanent, done, dup, instead = _attempt(db, collection, pending)
                        result.written += done
                        result.already_there += dup
                        failed.extend(permanent)
                        taken += instead
                        if retry:
                            pending = [op for op, _ in retry]
                            raise _Transient(retry)
            except _Transient as exc:
                tries = attempt.retry_state.attempt_number
                failed.extend((op, f"still failing after {tries} attempts: {why}") for op, why in exc.ops)
            pending = taken
        if progress is not None:
            progress(done_ops, len(ops))
    if _journaled(db) and result.written + result.already_there:
        _sync(db)
    result.spilled = len(failed)
    return result, failed


#: The collection of the one document whose journaled update ends a batch.
SYNC_COLLECTION = "linkcrawler_sync"


def _journaled(db: Database[dict[str, Any]]) -> bool:
    return bool(db.write_concern.document.get("j"))


def _sync(db: Database[dict[str, Any]]) -> None:
    """Group commit: one journaled write makes every write before it durable.

    The batch's statements were sent without ``j`` (each would otherwise wait for
    its own fsync); the server's log is one sequence, so syncing it up to this
    write syncs them all. Only then is the batch acknowledged.
    """
    db[SYNC_COLLECTION].update_one({"_id": "writer"}, {"$inc": {"batches": 1}}, upsert=True)


class _Transient(Exception):
    """Some writes of a batch failed in a way worth retrying (tenacity retries on it)."""

    def __init__(self, ops: list[tuple[WriteOp, str]]) -> None:
        super().__init__(f"{len(ops)} write(s) to retry")
        self.ops = ops


def _attempt(
    db: Database[dict[str, Any]], collection: str, ops: list[WriteOp]
) -> tuple[list[tuple[WriteOp, str]], list[tuple[WriteOp, str]], int, int, list[WriteOp]]:
    """One bulk write: (to retry, permanently failed, written, already there, to write as updates instead)."""
    try:
        target = db[collection]
        if _journaled(db):
            # Synced once for the whole batch, by write_batch's last write (_sync).
            target = target.with_options(write_concern=WriteConcern(w=db.write_concern.document.get("w", 1), j=False))
        target.bulk_write([op.to_pymongo() for op in ops], ordered=False)
        return [], [], len(ops), 0, []
    except BulkWriteError as exc:
        retry: list[tuple[WriteOp, str]] = []
        permanent: list[tuple[WriteOp, str]] = []
        already_there = 0
        instead: list[WriteOp] = []
        for error in exc.details.get("writeErrors", []):
            op, code, message = ops[error["index"]], error.get("code"), error.get("errmsg", "")
            if code == DUPLICATE_KEY and op.kind == "insert_else_set":
                instead.append(op.as_set())
            elif code == DUPLICATE_KEY and op.kind == "insert":
                already_there += 1  # written by an earlier attempt or an earlier run
            elif code == DUPLICATE_KEY or code in TRANSIENT_CODES:
                # A duplicate key on an upsert is two upserts racing: the retry updates.
                retry.append((op, f"code {code}: {message}"))
            else:
                permanent.append((op, f"code {code}: {message}"))
        if exc.details.get("writeConcernErrors"):
            failed_indexes = {e["index"] for e in exc.details.get("writeErrors", [])}
            retry.extend((op, "write concern error") for i, op in enumerate(ops) if i not in failed_indexes)
        failed_count = len(retry) + len(permanent) + already_there + len(instead)
        return retry, permanent, len(ops) - failed_count, already_there, instead
    except PyMongoError as exc:
        if _is_transient(exc):
            return [(op, f"{type(exc).__name__}: {exc}") for op in ops], [], 0, 0, []
        return [], [(op, f"{type(exc).__name__}: {exc}") for op in ops], 0, 0, []


def replay_spill(db: Database[dict[str, Any]], path: str | Path) -> WriteResult:
    """Write the operations of a spill file; those that fail again stay in it."""
    path = Path(path)
    ops = [WriteOp.from_json(line) for line in path.read_text().splitlines() if line.strip()]
    result, failed = write_batch(db, ops)
    if failed:
        path.write_text("".join(op.to_json() + "\n" for op, _ in failed))
    else:
        path.unlink()
    return result


class _ProgressLog:
    """``write_batch``'s ``progress``: logs how far a batch is, every ``every`` seconds once it
    has taken that long (the totals of a large site audit: minutes of writes after the last
    response), and how long it took when it did; nothing when ``every`` is 0."""

    def __init__(self, total: int, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.every = every
        self.clock = clock
        self.started = self.last = clock()

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.every > 0 and done < total and now - self.last >= self.every:
            self.last = now
            logger.info("MongoDB: writing a batch of %s operation(s): %s done (%d%%) in %.0fs",
                        f"{total:,}", f"{done:,}", 100 * done // max(1, total), now - self.started)

    def finished(self) -> None:
        took = self.clock() - self.started
        if self.every > 0 and took >= self.every:
            logger.info("MongoDB: wrote a batch of %s operation(s) in %.1fs", f"{self.total:,}", took)


class BulkWriter:
    """Buffers :class:`WriteOp` values and writes them in batches, in a thread, in order."""

    def __init__(
        self,
        db: Database[dict[str, Any]],
        batch_size: int = defaults.MONGO_BATCH_SIZE,
        retries: int = defaults.MONGO_WRITE_RETRIES,
        backoff: float = defaults.MONGO_RETRY_BACKOFF,
        backoff_max: float = defaults.MONGO_RETRY_BACKOFF_MAX,
        spill_dir: str | Path = defaults.LINKCRAWLER_DATA_DIR,
        stats: Any = None,
        progress_interval: float = defaults.LINKCRAWLER_PROGRESS_INTERVAL,
    ) -> None:
        self.db = db
        self.progress_interval = progress_interval
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.spill_dir = Path(spill_dir)
        self.stats = stats
        self._buffer: list[WriteOp] = []
        self._lock = asyncio.Lock()
        self._in_flight = 0
        self.spill_file: Path | None = None

    async def add(self, ops: Iterable[WriteOp]) -> None:
        """Buffer ``ops``; when the buffer is full, send it before returning.

        Awaiting it in ``process_item`` gives back-pressure: when MongoDB is
        slower than the crawl, items wait instead of piling up in memory.
        """
        self._buffer.extend(ops)
        if len(self._buffer) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        """Send what is buffered now; returns when it (and every earlier batch) is written."""
        batch, self._buffer = self._buffer, []
        self._in_flight += len(batch)
        try:
            async with self._lock:
                if batch:
                    await self._write(batch)
        finally:
            self._in_flight -= len(batch)

    async def close(self) -> None:
        """Write everything still buffered; returns when all is written (or spilled)."""
        await self.flush()

    @property
    def pending(self) -> int:
        """Operations buffered or being written."""
        return len(self._buffer) + self._in_flight

    async def _write(self, batch: list[WriteOp]) -> None:
        progress = _ProgressLog(len(batch), self.progress_interval)
        try:
            result, failed = await run_in_thread(
                write_batch, self.db, batch, self.retries, self.backoff, self.backoff_max, progress=progress,
            )
            progress.finished()
        except Exception as exc:  # a bug must not lose the batch either
            logger.exception("MongoDB: writing a batch of %d failed unexpectedly", len(batch))
            result, failed = WriteResult(spilled=len(batch)), [(op, repr(exc)) for op in batch]
        self._count("linkcrawler/mongo/batches")
        self._count("linkcrawler/mongo/written", result.written)
        self._count("linkcrawler/mongo/already_written", result.already_there)
        self._count("linkcrawler/mongo/retries", result.retries)
        if failed:
            await run_in_thread(self._spill, failed)

    def _spill(self, failed: list[tuple[WriteOp, str]]) -> None:
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        if self.spill_file is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            self.spill_file = self.spill_dir / f"unwritten-{stamp}.jsonl"
        with open(self.spill_file, "a", encoding="utf-8") as spill:
            for op, _ in failed:
                spill.write(op.to_json() + "\n")
        self._count("linkcrawler/mongo/spilled", len(failed))
        logger.error(
            "MongoDB: %d write(s) could not be written (first: %s); kept in %s, "
            "write them later with: scrapy replaywrites %s",
            len(failed), failed[0][1], self.spill_file, self.spill_file,
        )

    def _count(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)
