"""Exactly once per channel: what each channel received is recorded in ``alert_deliveries``.

For each channel, in turn:

1. take the channel's lease (``alert_channels``, one document per channel): two runs
   at once (cron and the end of a crawl) never build the same digest twice; the lease
   of a run that died is taken over at once on the same host (its process is gone),
   after ``LEASE`` elsewhere;
2. a delivery left ``pending`` by a run that died while sending becomes ``in_doubt``:
   the channel may have acknowledged it, so it is *not* sent again (``scrapy alerts
   --resend-in-doubt`` sends it again, on a person's word);
3. the digest holds what matches the rules and is in no ``acknowledged``,
   ``pending`` or ``in_doubt`` delivery of this channel; ``failed`` ones do not
   count, so what a channel missed comes with its next digest;
4. the delivery is written ``pending`` (with every item it stands for) *before*
   sending, then marked ``acknowledged`` once the channel acknowledged it (an SMTP
   server's 250 after DATA, a webhook's 2xx), or ``failed`` with the reason.

A run killed at any point therefore never sends an item twice to a channel that
acknowledged it; the price is that a run killed between step 4's write and the
channel's answer leaves that digest ``in_doubt`` instead of resending it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linkcrawler.alerts.channels import Channel, SendOutcome, send
from linkcrawler.alerts.digest import Digest, build_digest
from linkcrawler.alerts.kinds import KINDS, Entry
from linkcrawler.alerts.rules import AlertRules
from linkcrawler.store.indexes import ensure_indexes

logger = logging.getLogger(__name__)

DELIVERIES = "alert_deliveries"
#: One document per channel: its lease (who is delivering to it now).
CHANNELS = "alert_channels"
#: Most items of one kind one digest stands for; the rest come with the next digest.
MAX_ITEMS_PER_KIND = 10_000
#: How long a run holds a channel: longer than any send takes (Apprise's timeouts are seconds).
LEASE = timedelta(minutes=15)

Sender = Callable[[Channel, Digest], SendOutcome]


class DeliveryStatus(StrEnum):
    """``alert_deliveries.status``."""

    PENDING = "pending"
    """Written before sending; the run is sending it (or died doing so)."""
    ACKNOWLEDGED = "acknowledged"
    """The channel acknowledged it: an SMTP server accepted the message, a webhook answered 2xx."""
    FAILED = "failed"
    """The channel did not acknowledge it (refused, 5xx, timeout): its items come with the next digest."""
    IN_DOUBT = "in_doubt"
    """A run died between writing it and the channel's answer: not sent again unless asked."""


#: Deliveries whose items the channel has (or may have): never sent to it again.
_HELD = [DeliveryStatus.ACKNOWLEDGED.value, DeliveryStatus.PENDING.value, DeliveryStatus.IN_DOUBT.value]


@dataclass
class ChannelReport:
    """What a run did for one channel."""

    channel: Channel
    outcome: str  # "sent", "failed", "nothing new", "busy", "dry run"
    digest: Digest | None = None
    error: str | None = None
    marked_in_doubt: int = 0

    @property
    def items(self) -> int:
        return len(self.digest.entries) if self.digest is not None else 0


def _ref(entry: Entry) -> str:
    return f"{entry.kind}:{entry.ref}"


def delivered_refs(db: Database[dict[str, Any]], channel: str, since: datetime) -> dict[str, set[str]]:
    """Per kind, the refs of the items ``channel`` has (or may have) received among those after ``since``."""
    held: dict[str, set[str]] = {name: set() for name in KINDS}
    query = {"channel": channel, "status": {"$in": _HELD}, "newest_at": {"$gte": since}}
    for doc in db[DELIVERIES].find(query, {"event_ids": 1, "refs": 1}):
        held["link_events"].update(str(i) for i in doc.get("event_ids") or [])
        for ref in doc.get("refs") or []:
            kind, _, key = str(ref).partition(":")
            held.setdefault(kind, set()).add(key)
    return held


def collect(db: Database[dict[str, Any]], rules: AlertRules, now: datetime,
            held: dict[str, set[str]]) -> dict[str, list[Entry]]:
    """Per kind, the entries worth a message that the channel has not received."""
    since = now - rules.lookback
    present = set(db.list_collection_names())
    found: dict[str, list[Entry]] = {}
    for name in rules.kinds:
        kind = KINDS[name]
        if kind.collection not in present:
            continue  # a capability not run yet
        entries: list[Entry] = []
        skip = held.get(name, set())
        for doc in db[kind.collection].find(kind.query(rules, since, now)).sort(kind.sort()):
            entry = kind.entry(doc)
            if entry.ref in skip:
                continue
            entries.append(entry)
            if len(entries) >= MAX_ITEMS_PER_KIND:
                break
        if entries:
            found[name] = entries
    return found


def pending_digest(db: Database[dict[str, Any]], channel: Channel, rules: AlertRules, now: datetime) -> Digest:
    """The digest ``channel`` would receive now (reads only)."""
    held = delivered_refs(db, channel.key, now - rules.lookback)
    return build_digest(collect(db, rules, now, held), rules.max_lines, now)


def run_owner() -> str:
    """Who holds a lease: host, process id and a random part (a process id is reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _owner_is_dead(owner: str) -> bool:
    """Whether the lease's owner was a process of this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _acquire(db: Database[dict[str, Any]], channel: Channel, owner: str, wall: datetime) -> bool:
    lease = {"$set": {"channel_url": channel.display, "lease_owner": owner, "lease_until": wall + LEASE}}
    try:
        db[CHANNELS].update_one(
            {"_id": channel.key, "$or": [{"lease_until": None}, {"lease_until": {"$lt": wall}}]}, lease, upsert=True)
    except DuplicateKeyError:  # another run holds it, or held it and died
        holder = db[CHANNELS].find_one({"_id": channel.key}, {"lease_owner": 1})
        previous = str((holder or {}).get("lease_owner") or "")
        if not previous or not _owner_is_dead(previous):
            return False
        taken = db[CHANNELS].update_one({"_id": channel.key, "lease_owner": previous}, lease)
        return taken.modified_count == 1
    return True


def _release(db: Database[dict[str, Any]], channel: Channel, owner: str) -> None:
    db[CHANNELS].update_one({"_id": channel.key, "lease_owner": owner}, {"$set": {"lease_until": None}})


def _delivery_document(channel: Channel, digest: Digest, wall: datetime) -> dict[str, Any]:
    times = [e.when for e in digest.entries if isinstance(e.when, datetime)]
    return {
        "_id": uuid.uuid4().hex,
        "channel": channel.key,
        "channel_url": channel.display,
        "status": DeliveryStatus.PENDING.value,
        "event_ids": [e.ref for e in digest.entries if e.kind == "link_events"],
        "refs": [_ref(e) for e in digest.entries if e.kind != "link_events"],
        "items": len(digest.entries),
        "subject": digest.subject,
        "created_at": wall,
        "sent_at": None,
        "newest_at": max(times) if times else digest.generated_at,
        "error": None,
    }


def resend_in_doubt(db: Database[dict[str, Any]]) -> int:
    """Make every ``in_doubt`` delivery ``failed``, so its items are sent again; how many."""
    done = db[DELIVERIES].update_many(
        {"status": DeliveryStatus.IN_DOUBT.value},
        {"$set": {"status": DeliveryStatus.FAILED.value, "error": "in doubt; sent again on request"}})
    return done.modified_count


def deliver(
    db: Database[dict[str, Any]],
    channels: Iterable[Channel],
    rules: AlertRules,
    now: datetime,
    *,
    sender: Sender = send,
    dry_run: bool = False,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> list[ChannelReport]:
    """Send each channel the digest of what it has not received (see the module doc).

    ``now`` decides which items are recent enough (``LINKCRAWLER_NOW``); leases and
    ``sent_at`` use the wall clock. ``dry_run`` builds each digest and writes nothing.
    """
    reports = []
    if not dry_run:
        ensure_indexes(db, [DELIVERIES])
    owner = run_owner()
    for channel in channels:
        if dry_run:
            reports.append(ChannelReport(channel, "dry run", pending_digest(db, channel, rules, now)))
            continue
        if not _acquire(db, channel, owner, wall_clock()):
            logger.warning("alerts: another run is delivering to %s; skipped", channel.display)
            reports.append(ChannelReport(channel, "busy"))
            continue
        try:
            reports.append(_deliver_one(db, channel, rules, now, sender, wall_clock))
        finally:
            _release(db, channel, owner)
    return reports


def _deliver_one(db: Database[dict[str, Any]], channel: Channel, rules: AlertRules, now: datetime,
                 sender: Sender, wall_clock: Callable[[], datetime]) -> ChannelReport:
    left = db[DELIVERIES].update_many(
        {"channel": channel.key, "status": DeliveryStatus.PENDING.value},
        {"$set": {"status": DeliveryStatus.IN_DOUBT.value, "in_doubt_since": wall_clock()}})
    if left.modified_count:
        logger.warning("alerts: %d delivery(ies) to %s were interrupted while sending; they are in doubt and not "
                       "sent again (scrapy alerts --resend-in-doubt sends them)", left.modified_count, channel.display)
    digest = pending_digest(db, channel, rules, now)
    if digest.empty:
        return ChannelReport(channel, "nothing new", digest, marked_in_doubt=left.modified_count)
    document = _delivery_document(channel, digest, wall_clock())
    db[DELIVERIES].insert_one(document)
    outcome = sender(channel, digest)
    if outcome.ok:
        db[DELIVERIES].update_one({"_id": document["_id"]}, {"$set": {
            "status": DeliveryStatus.ACKNOWLEDGED.value, "sent_at": wall_clock()}})
        logger.info("alerts: %d item(s) delivered to %s", len(digest.entries), channel.display)
        return ChannelReport(channel, "sent", digest, marked_in_doubt=left.modified_count)
    db[DELIVERIES].update_one({"_id": document["_id"]}, {"$set": {
        "status": DeliveryStatus.FAILED.value, "error": outcome.error, "failed_at": wall_clock()}})
    logger.warning("alerts: delivery to %s failed (%s); it is retried by the next run", channel.display, outcome.error)
    return ChannelReport(channel, "failed", digest, error=outcome.error, marked_in_doubt=left.modified_count)
