"""The outreach queue's model: statuses, what a person may move by hand, and the registry of kinds.

One queue for every way. A **kind** says where its candidates come from and which
facts move its tasks (:class:`Kind`); :data:`KINDS` is the explicit registry, and
:func:`kind_named` refuses an unknown name. A new way of finding someone to write
to adds one kind here (the sync in :mod:`linkcrawler.contacts.outreach_store` runs
every kind the same way); nothing else changes.

Statuses: ``todo -> contacted -> followed_up -> replied -> won | declined | closed``
(:data:`MANUAL_TRANSITIONS` lists every move a person may make; ``won``, ``declined``
and ``closed`` are final). The crawl moves tasks too (:class:`Move`): each automatic
move names the fact that caused it (an event or a document) and is keyed by it, so
a replayed sync never applies it twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bson import ObjectId
from pymongo.database import Database

from linkcrawler.backlinks.events import event_key, lost_priority
from linkcrawler.backlinks.status import LOST_STATUSES, Status
from linkcrawler.exceptions import LinkcrawlerError
from linkcrawler.store.reads import find_by_ids
from linkcrawler.web.links import NOT_FOLLOWED_RELS
from linkcrawler.web.text import squash
from linkcrawler.web.urls import host_of, registrable_domain

__all__ = [
    "KINDS",
    "MANUAL_TRANSITIONS",
    "OPEN_STATUSES",
    "Candidate",
    "Cause",
    "InvalidTransition",
    "Kind",
    "Move",
    "OutreachSettings",
    "TaskStatus",
    "UnknownKind",
    "UnknownTask",
    "check_transition",
    "kind_named",
    "link_value",
]

OUTREACH = "outreach"
EVENTS = "link_events"
BACKLINKS = "backlinks"
MENTIONS = "mentions"
OPPORTUNITIES = "opportunities"


class TaskStatus(StrEnum):
    """``outreach.status``."""

    TODO = "todo"
    CONTACTED = "contacted"
    FOLLOWED_UP = "followed_up"
    REPLIED = "replied"
    WON = "won"
    DECLINED = "declined"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({TaskStatus.TODO, TaskStatus.CONTACTED, TaskStatus.FOLLOWED_UP, TaskStatus.REPLIED})
FINAL_STATUSES = frozenset({TaskStatus.WON, TaskStatus.DECLINED, TaskStatus.CLOSED})

#: What a person may mark, from each status. A second follow-up is ``followed_up`` again.
MANUAL_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.TODO: frozenset({TaskStatus.CONTACTED}) | FINAL_STATUSES,
    TaskStatus.CONTACTED: frozenset({TaskStatus.FOLLOWED_UP, TaskStatus.REPLIED}) | FINAL_STATUSES,
    TaskStatus.FOLLOWED_UP: frozenset({TaskStatus.FOLLOWED_UP, TaskStatus.REPLIED}) | FINAL_STATUSES,
    TaskStatus.REPLIED: FINAL_STATUSES,
    TaskStatus.WON: frozenset(),
    TaskStatus.DECLINED: frozenset(),
    TaskStatus.CLOSED: frozenset(),
}


class UnknownTask(LinkcrawlerError):
    """No outreach task has that id."""


class InvalidTransition(LinkcrawlerError):
    """A status a task cannot move to from where it is."""


class UnknownKind(LinkcrawlerError):
    """A kind name no registered kind has."""


def check_transition(current: str, wanted: str) -> TaskStatus:
    """``wanted`` as a status a person may move a task in ``current`` to; :class:`InvalidTransition` if not."""
    try:
        target = TaskStatus(wanted)
    except ValueError:
        names = ", ".join(s.value for s in TaskStatus)
        raise InvalidTransition(f"unknown status {wanted!r}: expected one of {names}") from None
    allowed = MANUAL_TRANSITIONS[TaskStatus(current)]
    if target not in allowed:
        if not allowed:
            raise InvalidTransition(f"the task is {current}, which is final: it cannot become {wanted}")
        options = ", ".join(sorted(s.value for s in allowed))
        raise InvalidTransition(f"a task that is {current} cannot become {wanted} (it can become: {options})")
    return target


@dataclass(frozen=True, slots=True)
class OutreachSettings:
    min_priority: int = 50
    cooldown_days: float = 90.0
    follow_up_days: float = 7.0
    thank_you_days: float = 30.0


@dataclass(frozen=True, slots=True)
class Cause:
    """The fact behind a task or a move: a document of ``collection`` (an event, a mention...)."""

    collection: str
    id: str
    what: str
    """In words: ``lost``, ``recovered``, ``reclaimed``, ``won``..."""

    def document(self) -> dict[str, str]:
        return {"collection": self.collection, "id": self.id, "what": self.what}


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something worth a task of ``kind``: ``ref`` (the thing) on ``page_url`` of ``domain``."""

    kind: str
    ref: str
    domain: str
    page_url: str
    target_url: str | None
    priority: int
    reason: str
    cause: Cause
    since_version: int | None = None
    """For a backlink: its ``state_version`` when the task was made; older events do not move the task."""


@dataclass(frozen=True, slots=True)
class Move:
    """An automatic move of the open task ``task_id``: to ``status`` (and ``kind``, for a conversion)."""

    task_id: str
    status: TaskStatus
    cause: Cause
    note: str
    kind: str | None = None
    """Set when the task turns into another kind (a thank-you whose link was lost)."""
    priority: int | None = None
    reason: str | None = None

    @property
    def key(self) -> str:
        """The history key that makes this move happen once: what moved, because of which fact."""
        return f"{self.status.value}:{self.kind or ''}:{self.cause.collection}/{self.cause.id}"


class Kind(Protocol):
    """One kind of outreach task: where its candidates come from, and what moves its tasks."""

    name: str
    #: What the ask is, in words, for a listing and the mail-merge CSV.
    label: str

    def candidates(self, db: Database[Any], settings: OutreachSettings, now: datetime) -> Iterable[Candidate]:
        """What deserves a task now (tasks that exist already are left out by the sync)."""
        ...

    def moves(self, db: Database[Any], tasks: list[dict[str, Any]]) -> Iterable[Move]:
        """The automatic moves of these open tasks of this kind."""
        ...


def link_value(authority: float | None, rel: Iterable[str] | None) -> int:
    """What a live link is worth, 0-100: the priority it would have if it were lost (removed)."""
    followed = NOT_FOLLOWED_RELS.isdisjoint(rel or ())
    return lost_priority(authority, followed, Status.REMOVED)


def domain_of(url: str) -> str:
    return registrable_domain(host_of(url))


def event_version(event_id: str) -> int:
    """The backlink state version an event id (``<backlink id>:<version>``) names."""
    try:
        return int(event_id.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return -1


_LOST = [status.value for status in LOST_STATUSES]
#: What the moves read of an event. They scan the events of one type and pick their tasks' links:
#: on the embedded server an ``$in`` of thousands of ids costs far more than that scan (measured).
_EVENT_FIELDS = {"backlink_id": 1, "reason": 1, "priority": 1, "source_url": 1, "target_url": 1, "to_status": 1}


class ReclaimLostLink:
    """A valuable link was lost (a ``lost`` event at or above the threshold): ask for it back.

    Won when the link comes back (a ``recovered`` event later than the loss).
    """

    name = "reclaim_lost_link"
    label = "ask to restore a lost link"

    def candidates(self, db: Database[Any], settings: OutreachSettings, now: datetime) -> Iterator[Candidate]:
        latest: dict[str, dict[str, Any]] = {}
        for event in db[EVENTS].find({"type": "lost", "priority": {"$gte": settings.min_priority}}):
            known = latest.get(event["backlink_id"])
            if known is None or event_version(event["_id"]) > event_version(known["_id"]):
                latest[event["backlink_id"]] = event
        if not latest:
            return
        still_lost = {doc["_id"] for doc in find_by_ids(db[BACKLINKS], latest, {"status": 1})
                      if doc.get("status") in _LOST}
        for link_id, event in latest.items():
            if link_id not in still_lost:
                continue
            yield Candidate(
                kind=self.name, ref=link_id, domain=domain_of(event["source_url"]), page_url=event["source_url"],
                target_url=event["target_url"], priority=int(event.get("priority") or 0),
                reason=lost_reason(event), cause=Cause(EVENTS, str(event["_id"]), "lost"),
            )

    def moves(self, db: Database[Any], tasks: list[dict[str, Any]]) -> Iterator[Move]:
        by_ref = {task["ref"]: task for task in tasks}
        if not by_ref:
            return
        for event in db[EVENTS].find({"type": "recovered"}, _EVENT_FIELDS):
            task = by_ref.get(event["backlink_id"])
            if task is None:
                continue
            if event_version(event["_id"]) <= event_version(str((task.get("cause") or {}).get("id", ""))):
                continue  # a recovery from before the loss this task is about
            yield Move(task["_id"], TaskStatus.WON, Cause(EVENTS, str(event["_id"]), "recovered"),
                       f"the link is back: {squash(str(event.get('reason') or ''), 200)}".rstrip(": "))


def lost_reason(event: Mapping[str, Any]) -> str:
    why = squash(str(event.get("reason") or event.get("to_status") or "lost"), 200)
    return f"the page no longer links to {event['target_url']} ({event.get('to_status')}: {why})"


class ThankYou:
    """A valuable new link (a ``new`` event whose link is live and worth at least the threshold): say thanks.

    Only while the link is new: first seen (by an import's "First seen", else when
    linkcrawler first saw it) within ``LINKCRAWLER_THANK_YOU_DAYS``. Importing a
    profile of links that are years old thanks nobody for them.

    A thank-you nobody has sent yet (``todo``) whose link is then lost turns into a
    ``reclaim_lost_link`` (or is closed, when the domain already has an open one).
    """

    name = "thank_you"
    label = "thank for a new link"

    def candidates(self, db: Database[Any], settings: OutreachSettings, now: datetime) -> Iterator[Candidate]:
        # Every backlink has its ``new`` event, ``<id>:0`` (backlinks/store.py): no need to read the events.
        since = now - timedelta(days=settings.thank_you_days)
        for link in db[BACKLINKS].find(_worth_query(settings.min_priority, since),
                                       {"source_url": 1, "target_url": 1, "authority": 1, "rel": 1,
                                        "anchor_text": 1, "state_version": 1}):
            value = link_value(link.get("authority"), link.get("rel"))
            if value < settings.min_priority:
                continue
            anchor = squash(str(link.get("anchor_text") or ""), 80)
            yield Candidate(
                kind=self.name, ref=link["_id"], domain=domain_of(link["source_url"]), page_url=link["source_url"],
                target_url=link["target_url"], priority=value,
                reason=f"the page links to {link['target_url']}" + (f' ("{anchor}")' if anchor else ""),
                cause=Cause(EVENTS, event_key(link["_id"], 0), "new"),
                since_version=int(link.get("state_version") or 0),
            )

    def moves(self, db: Database[Any], tasks: list[dict[str, Any]]) -> Iterator[Move]:
        unsent = {task["ref"]: task for task in tasks if task["status"] == TaskStatus.TODO}
        if not unsent:
            return
        for event in db[EVENTS].find({"type": "lost"}, _EVENT_FIELDS).sort("_id", 1):
            task = unsent.get(event["backlink_id"])
            if task is None or event_version(event["_id"]) <= int(task.get("since_version") or 0):
                continue  # a loss from before the link was live again: the thanks are still due
            del unsent[event["backlink_id"]]
            yield Move(task["_id"], TaskStatus.TODO, Cause(EVENTS, str(event["_id"]), "lost"),
                       "the link was lost before anyone thanked: ask for it back instead",
                       kind=ReclaimLostLink.name, priority=int(event.get("priority") or task.get("priority") or 0),
                       reason=lost_reason(event))


def _worth_query(min_priority: int, since: datetime) -> dict[str, Any]:
    """Live links first seen since ``since`` that can be worth ``min_priority`` (:func:`link_value`,
    checked exactly after).

    A live link is followed, so its value is ``25 + 0.75 * authority`` (authority unknown: 50):
    the server leaves out the links whose authority is too low, without sending them.
    """
    query: dict[str, Any] = {"status": Status.LIVE.value, "first_seen": {"$gte": since}}
    lowest = (min_priority - 1 - 100 * 0.25) / 0.75
    if lowest > 0:
        query["$or"] = [{"authority": {"$gte": lowest}}, {"authority": None}]
    return query


def document_priority(doc: Mapping[str, Any], default: int) -> int:
    for name in ("priority", "score"):
        value = doc.get(name)
        if isinstance(value, (int, float)):
            return int(value)
    return default


#: Mention statuses that end its ask: nothing left to link.
_MENTION_GONE = {"removed": "the mention is gone from the page", "page_gone": "the page is gone"}


class ReclaimMention:
    """An unlinked mention of the brand (``mentions``, status ``unlinked``): ask for the link.

    Its priority is the mention's ``priority`` (else ``score``); a mention without
    either counts as at the threshold. Won when the mention gets ``reclaimed_at``; closed
    when the mention is ``removed`` or its page is gone (``page_gone``).
    """

    name = "reclaim_mention"
    label = "ask to link a mention"

    def candidates(self, db: Database[Any], settings: OutreachSettings, now: datetime) -> Iterator[Candidate]:
        for mention in db[MENTIONS].find({"status": "unlinked", "reclaimed_at": None}):
            priority = document_priority(mention, settings.min_priority)
            if priority < settings.min_priority or not mention.get("page_url"):
                continue
            said = squash(str(mention.get("matched_text") or mention.get("term") or ""), 80)
            yield Candidate(
                kind=self.name, ref=str(mention["_id"]),
                domain=str(mention.get("page_domain") or domain_of(mention["page_url"])),
                page_url=mention["page_url"], target_url=mention.get("link_url"), priority=priority,
                reason=f'the page mentions "{said}" without a link' if said else "the page mentions us without a link",
                cause=Cause(MENTIONS, str(mention["_id"]), "unlinked"),
            )

    def moves(self, db: Database[Any], tasks: list[dict[str, Any]]) -> Iterator[Move]:
        refs = {task["ref"]: task for task in tasks}
        if not refs:
            return
        for mention in find_by_ids(db[MENTIONS], _id_forms(refs)):
            if mention.get("reclaimed_at") is None and mention.get("status") not in _MENTION_GONE:
                continue
            task = refs[str(mention["_id"])]
            if mention.get("reclaimed_at") is not None:
                yield Move(task["_id"], TaskStatus.WON, Cause(MENTIONS, str(mention["_id"]), "reclaimed"),
                           "the mention became a link")
            else:
                status = str(mention["status"])
                yield Move(task["_id"], TaskStatus.CLOSED, Cause(MENTIONS, str(mention["_id"]), status),
                           _MENTION_GONE[status])


class BrokenLinkOffer:
    """A prospect page links to a dead URL (``opportunities``, status ``open``, ``score`` at or above
    the threshold): offer our page instead. Won when the opportunity is ``won``; closed when ``fixed``
    (the page dropped the dead link without linking to us)."""

    name = "broken_link_offer"
    label = "offer a replacement for a dead link"

    def candidates(self, db: Database[Any], settings: OutreachSettings, now: datetime) -> Iterator[Candidate]:
        for opportunity in db[OPPORTUNITIES].find({"status": "open"}):
            priority = document_priority(opportunity, 0)
            if priority < settings.min_priority or not opportunity.get("page_url"):
                continue
            dead = opportunity.get("link_url") or "a dead page"
            why = opportunity.get("broken_reason") or "broken"
            yield Candidate(
                kind=self.name, ref=str(opportunity["_id"]),
                domain=str(opportunity.get("page_domain") or domain_of(opportunity["page_url"])),
                page_url=opportunity["page_url"], target_url=opportunity.get("suggested_target"), priority=priority,
                reason=f"the page links to {dead} ({why}); offer our page instead",
                cause=Cause(OPPORTUNITIES, str(opportunity["_id"]), "open"),
            )

    def moves(self, db: Database[Any], tasks: list[dict[str, Any]]) -> Iterator[Move]:
        refs = {task["ref"]: task for task in tasks}
        if not refs:
            return
        for opportunity in find_by_ids(db[OPPORTUNITIES], _id_forms(refs)):
            if opportunity.get("status") not in ("won", "fixed"):
                continue
            task = refs[str(opportunity["_id"])]
            if opportunity["status"] == "won":
                yield Move(task["_id"], TaskStatus.WON, Cause(OPPORTUNITIES, str(opportunity["_id"]), "won"),
                           "the page now links to our site")
            else:
                yield Move(task["_id"], TaskStatus.CLOSED, Cause(OPPORTUNITIES, str(opportunity["_id"]), "fixed"),
                           "the page no longer links to the dead URL, nor to us")


def _id_forms(refs: Iterable[str]) -> list[Any]:
    """The ``_id`` values refs may stand for: the string, and the ObjectId a 24-hex string may be
    (another tool may key its documents either way; a ref is always stored as a string)."""
    forms: list[Any] = []
    for ref in refs:
        forms.append(ref)
        if ObjectId.is_valid(ref):
            forms.append(ObjectId(ref))
    return forms


#: Every kind, by name. Moves run in this order, before any task is created.
KINDS: Mapping[str, Kind] = {
    kind.name: kind for kind in (ReclaimLostLink(), ThankYou(), ReclaimMention(), BrokenLinkOffer())
}


def kind_named(name: str) -> Kind:
    """The registered kind called ``name``; :class:`UnknownKind` if there is none."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown outreach kind {name!r}: expected one of {', '.join(KINDS)}") from None


def task_label(task: Mapping[str, Any]) -> str:
    kind = KINDS.get(str(task.get("kind")))
    return kind.label if kind is not None else str(task.get("kind"))


def describe(task: Mapping[str, Any]) -> str:
    """The reason for the ask, in words (mail-merge CSV, listings)."""
    return f"{task_label(task)}: {task.get('reason') or ''}".rstrip(": ")
