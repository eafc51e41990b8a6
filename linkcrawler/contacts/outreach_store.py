"""The ``outreach`` collection: the sync that creates and moves tasks, and a person's marks.

:func:`sync_outreach` runs every kind of :data:`~linkcrawler.contacts.outreach.KINDS`:

1. **Moves first.** Each kind reads the facts about its open tasks (a ``recovered``
   event, a mention's ``reclaimed_at``, an opportunity ``won``...) and moves them. A
   move is one conditional update: it applies only while the task is open and its
   ``history`` has no entry with the move's key (what moved, because of which
   fact), so a replayed sync, or two syncs at once, apply it exactly once.
2. **Then new tasks**, best priority first, one per (thing, kind): ``_id`` derives
   from (kind, ref), and (``kind``, ``ref``) is unique.

   - *One open ask per (domain, kind)*: an open task carries ``open_key``
     (``<domain> <kind>``), unique where present, removed when the task ends; the
     database refuses a second one, so concurrent syncs cannot both create it.
   - *Cooldown*: a domain with a task marked ``contacted`` within
     ``LINKCRAWLER_OUTREACH_COOLDOWN_DAYS`` gets no new task of any kind.

   A candidate held back either way is **not created**; it is not forgotten
   either: every sync looks at the candidates again, so it becomes a task once the
   open ask ends or the cooldown passes, if it is still worth one then (a lost link
   that came back meanwhile is not). :class:`SyncReport` counts what was held back.
3. Open tasks without a contact get the domain's best one (``contacts``), so a
   ``contacts`` crawl after the task was made fills it in.

Times come from the caller (``linkcrawler.clock``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from linkcrawler import defaults
from linkcrawler.contacts.lookup import best_contacts
from linkcrawler.contacts.outreach import (
    FINAL_STATUSES,
    KINDS,
    OPEN_STATUSES,
    OUTREACH,
    Candidate,
    Move,
    OutreachSettings,
    TaskStatus,
    UnknownTask,
    check_transition,
    describe,
)
from linkcrawler.store.reads import find_by_ids
from linkcrawler.store.writer import DUPLICATE_KEY
from linkcrawler.web.text import squash

logger = logging.getLogger(__name__)

__all__ = ["SyncReport", "due_tasks", "export_rows", "mark_task", "outreach_settings", "sync_outreach", "task_id"]

_OPEN = [status.value for status in OPEN_STATUSES]
NOTE_CHARS = 2000


def outreach_settings(settings: Any) -> OutreachSettings:
    """The outreach settings from Scrapy settings (or anything with typed getters)."""
    return OutreachSettings(
        min_priority=settings.getint("LINKCRAWLER_OUTREACH_MIN_PRIORITY", defaults.LINKCRAWLER_OUTREACH_MIN_PRIORITY),
        cooldown_days=settings.getfloat("LINKCRAWLER_OUTREACH_COOLDOWN_DAYS",
                                        defaults.LINKCRAWLER_OUTREACH_COOLDOWN_DAYS),
        follow_up_days=settings.getfloat("LINKCRAWLER_FOLLOW_UP_DAYS", defaults.LINKCRAWLER_FOLLOW_UP_DAYS),
        thank_you_days=settings.getfloat("LINKCRAWLER_THANK_YOU_DAYS", defaults.LINKCRAWLER_THANK_YOU_DAYS),
    )


def task_id(kind: str, ref: str) -> str:
    """The ``_id`` of the task of ``kind`` about ``ref``: short enough to type in ``outreach mark``."""
    return hashlib.sha1(f"{kind}\n{ref}".encode()).hexdigest()[:10]


def open_key(domain: str, kind: str) -> str:
    return f"{domain} {kind}"


@dataclass
class SyncReport:
    """What one sync did."""

    created: int = 0
    moved: int = 0
    held_open: int = 0
    """Candidates not created: their domain has an open task of the same kind."""
    held_cooldown: int = 0
    """Candidates not created: their domain was contacted within the cooldown."""
    contacts_filled: int = 0
    created_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Kinds whose moves or candidates could not be read (the others went on)."""

    def summary(self) -> str:
        text = (f"{self.created} task(s) created, {self.moved} moved, held back: {self.held_open} "
                f"(an open ask of the same kind for the domain), {self.held_cooldown} (domain contacted "
                f"within the cooldown)")
        return text + "".join(f"; failed: {error}" for error in self.errors)


def sync_outreach(db: Database[Any], now: datetime, settings: OutreachSettings | Any) -> SyncReport:
    """Create the tasks the facts call for and move the tasks the facts moved (idempotent)."""
    if not isinstance(settings, OutreachSettings):
        settings = outreach_settings(settings)
    report = SyncReport()
    for kind in KINDS.values():
        tasks = list(db[OUTREACH].find({"kind": kind.name, "status": {"$in": _OPEN}}))
        with _isolated(kind.name, "moves", report):
            for move in kind.moves(db, tasks):
                if apply_move(db, move, now):
                    report.moved += 1
    candidates: list[Candidate] = []
    for kind in KINDS.values():
        with _isolated(kind.name, "candidates", report):
            candidates.extend(kind.candidates(db, settings, now))
    _create(db, candidates, now, settings, report)
    report.contacts_filled = _fill_contacts(db)
    if report.created or report.moved:
        logger.info("outreach: %s", report.summary())
    return report


@contextlib.contextmanager
def _isolated(kind: str, part: str, report: SyncReport) -> Iterator[None]:
    """One kind's broken input (a malformed document another tool wrote) does not stop the others."""
    try:
        yield
    except PyMongoError:
        raise  # the database itself: nothing else will work either
    except Exception as exc:
        report.errors.append(f"{kind} {part}: {type(exc).__name__}: {squash(str(exc), 200)}")
        logger.warning("outreach: the %s of %s failed and were skipped: %r", part, kind, exc)


def _history(now: datetime, from_status: str | None, to_status: str, by: str, note: str,
             cause: dict[str, str] | None, key: str) -> dict[str, Any]:
    return {"at": now, "from": from_status, "to": to_status, "by": by, "note": note, "cause": cause, "key": key}


def apply_move(db: Database[Any], move: Move, now: datetime) -> bool:
    """Apply one automatic move, once: False when it was applied before or the task is no longer open."""
    task = db[OUTREACH].find_one({"_id": move.task_id})
    if task is None or task["status"] not in _OPEN:
        return False
    entry = _history(now, task["status"], move.status.value, "crawl", move.note, move.cause.document(), move.key)
    update: dict[str, Any] = {"$set": {"status": move.status.value}, "$push": {"history": entry}}
    condition = {"_id": move.task_id, "status": task["status"], "history.key": {"$ne": move.key}}
    if move.status in FINAL_STATUSES:
        update["$set"].update(_ending(move.status, now))
        update["$unset"] = {"open_key": ""}
    if move.kind is not None and move.kind != task["kind"]:
        entry["kind"] = {"from": task["kind"], "to": move.kind}
        return _convert(db, task, move, entry, condition, now)
    return db[OUTREACH].update_one(condition, update).modified_count == 1


def _ending(status: TaskStatus, now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"closed_at": now, "follow_up_due": None}
    if status is TaskStatus.WON:
        fields["won_at"] = now
    return fields


def _convert(db: Database[Any], task: dict[str, Any], move: Move, entry: dict[str, Any],
             condition: dict[str, Any], now: datetime) -> bool:
    """Turn ``task`` into another kind; closed instead when its domain already has an open task of that kind."""
    assert move.kind is not None
    converted: dict[str, Any] = {
        "kind": move.kind, "status": move.status.value, "cause": move.cause.document(),
        "open_key": open_key(task["domain"], move.kind),
    }
    if move.priority is not None:
        converted["priority"] = move.priority
    if move.reason is not None:
        converted["reason"] = move.reason
    try:
        done = db[OUTREACH].update_one(condition, {"$set": converted, "$push": {"history": entry}})
        return done.modified_count == 1
    except DuplicateKeyError:
        pass
    # The domain already has an open ask of that kind (or the thing has a task of it): this one ends here.
    other = db[OUTREACH].find_one({"open_key": open_key(task["domain"], move.kind)}, {"_id": 1}) or \
        db[OUTREACH].find_one({"kind": move.kind, "ref": task["ref"]}, {"_id": 1})
    note = f"{move.note}; task {other['_id'] if other else '?'} already asks that of the domain"
    closing = {**entry, "to": TaskStatus.CLOSED.value, "note": note}
    update = {"$set": {"status": TaskStatus.CLOSED.value, **_ending(TaskStatus.CLOSED, now)},
              "$unset": {"open_key": ""}, "$push": {"history": closing}}
    return db[OUTREACH].update_one(condition, update).modified_count == 1


def _create(db: Database[Any], candidates: list[Candidate], now: datetime, settings: OutreachSettings,
            report: SyncReport) -> None:
    if not candidates:
        return
    # One pass over the queue (far smaller than what feeds it) beats an $in of every candidate.
    known = {(doc["kind"], doc["ref"]) for doc in db[OUTREACH].find({}, {"kind": 1, "ref": 1, "_id": 0})}
    fresh = [c for c in candidates if (c.kind, c.ref) not in known]
    if not fresh:
        return
    since = now - timedelta(days=settings.cooldown_days)
    cooling = set(db[OUTREACH].distinct("domain", {"contacted_at": {"$gte": since}}))
    taken = set(db[OUTREACH].distinct("open_key", {"open_key": {"$exists": True}}))
    fresh.sort(key=lambda c: (-c.priority, c.kind, c.ref))
    chosen: list[Candidate] = []
    for candidate in fresh:
        if candidate.domain in cooling:
            report.held_cooldown += 1
        elif open_key(candidate.domain, candidate.kind) in taken:
            report.held_open += 1
        else:
            taken.add(open_key(candidate.domain, candidate.kind))
            chosen.append(candidate)
    if not chosen:
        return
    contacts = best_contacts(db, {c.domain for c in chosen})
    documents = [new_task(c, now, contacts.get(c.domain)) for c in chosen]
    refused: set[int] = set()
    try:
        db[OUTREACH].insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        # Another sync got there first (the same task, or an open ask of the domain): the database decides.
        for error in exc.details.get("writeErrors", []):
            if error.get("code") != DUPLICATE_KEY:
                raise
            refused.add(error["index"])
            if "open_key" in str(error.get("keyPattern") or error.get("errmsg", "")):
                report.held_open += 1
    for index, document in enumerate(documents):
        if index not in refused:
            report.created += 1
            report.created_ids.append(document["_id"])


def new_task(candidate: Candidate, now: datetime, contact: dict[str, Any] | None) -> dict[str, Any]:
    """The ``outreach`` document of a new task (status ``todo``)."""
    document = {
        "_id": task_id(candidate.kind, candidate.ref),
        "kind": candidate.kind,
        "ref": candidate.ref,
        "domain": candidate.domain,
        "page_url": candidate.page_url,
        "target_url": candidate.target_url,
        "contact_id": contact["_id"] if contact else None,
        "priority": candidate.priority,
        "reason": candidate.reason,
        "cause": candidate.cause.document(),
        "status": TaskStatus.TODO.value,
        "open_key": open_key(candidate.domain, candidate.kind),
        "created_at": now,
        "contacted_at": None,
        "follow_up_due": None,
        "won_at": None,
        "closed_at": None,
        "notes": [],
        "history": [_history(now, None, TaskStatus.TODO.value, "crawl", f"created: {candidate.reason}",
                             candidate.cause.document(), "created")],
    }
    if candidate.since_version is not None:
        document["since_version"] = candidate.since_version
    return document


def _fill_contacts(db: Database[Any]) -> int:
    # Only the domains that have contacts at all: most tasks wait for a contacts crawl.
    known = set(db["contacts"].distinct("domain"))
    if not known:
        return 0
    missing = list(db[OUTREACH].find({"status": {"$in": _OPEN}, "contact_id": None}, {"domain": 1}))
    contacts = best_contacts(db, {task["domain"] for task in missing} & known)
    filled = 0
    for task in missing:
        contact = contacts.get(task["domain"])
        if contact is not None:
            filled += db[OUTREACH].update_one({"_id": task["_id"], "contact_id": None},
                                              {"$set": {"contact_id": contact["_id"]}}).modified_count
    return filled


def mark_task(db: Database[Any], identifier: str, status: str, now: datetime, follow_up_days: float,
              note: str | None = None) -> dict[str, Any]:
    """A person's move of a task (``outreach mark``): checked, recorded in ``history``; the task after it.

    ``contacted`` and ``followed_up`` set ``follow_up_due`` (now + ``follow_up_days``);
    ``contacted`` also sets ``contacted_at`` (which starts the domain's cooldown).
    """
    task = db[OUTREACH].find_one({"_id": identifier})
    if task is None:
        raise UnknownTask(f"no outreach task {identifier!r} (see: scrapy outreach list)")
    target = check_transition(task["status"], status)
    text = squash(note, NOTE_CHARS) if note else ""
    fields: dict[str, Any] = {"status": target.value}
    if target in (TaskStatus.CONTACTED, TaskStatus.FOLLOWED_UP):
        fields["follow_up_due"] = now + timedelta(days=follow_up_days)
    if target is TaskStatus.CONTACTED:
        fields["contacted_at"] = now
    if target is TaskStatus.REPLIED:
        fields["follow_up_due"] = None
    update: dict[str, Any] = {"$set": fields,
                              "$push": {"history": _history(now, task["status"], target.value, "hand", text, None,
                                                            f"hand:{len(task.get('history') or [])}")}}
    if target in FINAL_STATUSES:
        fields.update(_ending(target, now))
        update["$unset"] = {"open_key": ""}
    if text:
        update["$push"]["notes"] = {"at": now, "text": text}
    done = db[OUTREACH].find_one_and_update({"_id": identifier, "status": task["status"]}, update,
                                            return_document=ReturnDocument.AFTER)
    if done is None:  # moved meanwhile (by the crawl): say so rather than overwrite it
        raise UnknownTask(f"task {identifier} changed while it was being marked; look again (scrapy outreach list)")
    return dict(done)


def due_tasks(db: Database[Any], now: datetime) -> list[dict[str, Any]]:
    """Open tasks waiting for a reply whose ``follow_up_due`` has passed, the longest overdue first."""
    query = {"status": {"$in": [TaskStatus.CONTACTED.value, TaskStatus.FOLLOWED_UP.value]},
             "follow_up_due": {"$lte": now}}
    return list(db[OUTREACH].find(query).sort([("follow_up_due", 1), ("_id", 1)]))


def list_tasks(db: Database[Any], statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
    query = {"status": {"$in": list(statuses)}} if statuses is not None else {}
    return list(db[OUTREACH].find(query).sort([("priority", -1), ("created_at", 1), ("_id", 1)]))


#: The columns of ``outreach export`` (mail-merge ready).
EXPORT_FIELDS = ("id", "name", "email", "page", "our_url", "reason", "kind", "status", "priority", "domain",
                 "follow_up_due", "contact_confidence")


def export_rows(db: Database[Any], tasks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One mail-merge row per task: who (the task's contact, else the domain's best), where, why."""
    ids = [task["contact_id"] for task in tasks if task.get("contact_id")]
    by_id = {doc["_id"]: doc for doc in find_by_ids(db["contacts"], ids)}
    best = best_contacts(db, {task["domain"] for task in tasks if task.get("contact_id") not in by_id})
    for task in tasks:
        contact = by_id.get(task.get("contact_id")) or best.get(task["domain"]) or {}
        yield {
            "id": task["_id"], "name": contact.get("name") or "", "email": contact.get("email") or "",
            "page": task.get("page_url"), "our_url": task.get("target_url") or "", "reason": describe(task),
            "kind": task["kind"], "status": task["status"], "priority": task.get("priority"),
            "domain": task["domain"], "follow_up_due": task.get("follow_up_due"),
            "contact_confidence": contact.get("confidence"),
        }
