"""What ``scrapy linkstatus`` shows: counts, the links that matter, recent events, under filters.

Counts come from MongoDB (``$group``, ``count_documents``), so every matching link
is counted even when only a few are listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from linkcrawler.backlinks.status import ALL_STATUSES, LOST_STATUSES, StatusClass, status_class
from linkcrawler.backlinks.store import due_filter
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.web.urls import registrable_domain

Db = Database[dict[str, Any]]
_CLASSES = {c.value: [s.value for s in ALL_STATUSES if status_class(s) is c] for c in StatusClass}


def parse_statuses(value: str | None) -> list[str]:
    """``--status``: statuses or classes (``lost``, ``degraded``...), comma-separated; ``ConfigurationError`` if unknown."""
    if not value:
        return []
    found: dict[str, None] = {}
    for word in (w.strip().lower() for w in value.split(",")):
        if not word:
            continue
        if word in _CLASSES:
            found.update(dict.fromkeys(_CLASSES[word]))
        elif word in {s.value for s in ALL_STATUSES}:
            found[word] = None
        else:
            known = ", ".join([*(s.value for s in ALL_STATUSES), *_CLASSES])
            raise ConfigurationError(f"--status: unknown status {word!r} (known: {known})")
    return list(found)


@dataclass(frozen=True)
class StatusFilter:
    """The filters of ``linkstatus``: statuses, our page (a URL, or a prefix ending in ``*``), linking domain, since."""

    statuses: tuple[str, ...] = ()
    target: str | None = None
    domain: str | None = None
    since: datetime | None = None

    def _target(self) -> dict[str, Any]:
        if not self.target:
            return {}
        if self.target.endswith("*"):
            return {"target_url": {"$regex": "^" + re.escape(self.target[:-1])}}
        return {"target_url": self.target}

    def _domain(self) -> dict[str, Any]:
        if not self.domain:
            return {}
        host = self.domain.strip().lower().rstrip(".")
        return {"source_domain": registrable_domain(host) or host}

    def backlinks(self) -> dict[str, Any]:
        """The query of the links these filters leave (any status)."""
        return {**self._target(), **self._domain()}

    def listed(self) -> dict[str, Any]:
        """The query of the links listed: the chosen statuses (default: the lost ones), changed since ``since``."""
        statuses = list(self.statuses) or [s.value for s in LOST_STATUSES]
        query = {**self.backlinks(), "status": {"$in": statuses}}
        if self.since is not None:
            query["last_changed"] = {"$gte": self.since}
        return query

    def events(self) -> dict[str, Any]:
        query: dict[str, Any] = {"type": {"$ne": "new"}, **self._target()}
        if self.domain:
            # Events carry no domain: match the linking page's host on the domain or a subdomain of it.
            domain = self._domain()["source_domain"]
            query["source_url"] = {"$regex": r"^[a-z][a-z0-9+.-]*://([^/@]*@)?([^/:]*\.)?" + re.escape(domain) + r"(:|/|$)",
                                   "$options": "i"}
        if self.statuses:
            query["to_status"] = {"$in": list(self.statuses)}
        if self.since is not None:
            query["detected_at"] = {"$gte": self.since}
        return query


def status_summary(db: Db, filters: StatusFilter, now: datetime, recheck_after: timedelta,
                   limit: int) -> dict[str, Any]:
    """Everything linkstatus prints, as plain data (the JSON of ``--format json``)."""
    match = filters.backlinks()
    pipeline: list[dict[str, Any]] = [{"$match": match}] if match else []
    pipeline.append({"$group": {"_id": "$status", "n": {"$sum": 1}}})
    counts = {str(row["_id"]): row["n"] for row in db.backlinks.aggregate(pipeline)}
    by_status = {s.value: counts[s.value] for s in ALL_STATUSES if counts.get(s.value)}
    by_class = {c: sum(by_status.get(s, 0) for s in statuses) for c, statuses in _CLASSES.items()}
    listed_query = filters.listed()
    listed_total = db.backlinks.count_documents(listed_query)
    listed = list(db.backlinks.find(listed_query, {
        "source_url": 1, "target_url": 1, "status": 1, "status_reason": 1, "priority": 1, "authority": 1,
        "last_changed": 1, "source_domain": 1,
    }).sort([("priority", -1), ("authority", -1), ("last_changed", -1), ("_id", 1)]).limit(limit))
    events_query = filters.events()
    events = list(db.link_events.find(events_query, {
        "type": 1, "source_url": 1, "target_url": 1, "from_status": 1, "to_status": 1, "reason": 1,
        "detected_at": 1, "priority": 1, "wayback_url": 1,
    }).sort([("detected_at", -1), ("_id", -1)]).limit(limit))
    last_run = next(iter(db.runs.find({"spider": "backlinks"}, {"stats": 0}).sort("started_at", -1).limit(1)), None)
    due = db.backlinks.count_documents({"$and": [due_filter(now, recheck_after), match]} if match
                                       else due_filter(now, recheck_after))
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_class": by_class,
        "due_now": due,
        "last_run": {k: last_run.get(k) for k in ("started_at", "finished_at", "finish_reason")} if last_run else None,
        "listed_statuses": list(filters.statuses) or [s.value for s in LOST_STATUSES],
        "listed_total": listed_total,
        "listed": [{k: v for k, v in doc.items() if k != "_id"} for doc in listed],
        "events": [{"id": str(doc.pop("_id")), **doc} for doc in events],
        "events_total": db.link_events.count_documents(events_query),
    }
