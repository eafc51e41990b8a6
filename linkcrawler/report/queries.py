"""What the report shows, aggregated in MongoDB: ``$group`` pipelines, every list capped.

Each function reads one thing and returns plain, small data (at most a few hundred
rows whatever the size of the collections), so the report stays a few hundred KB at
200,000 backlinks and a million events. A collection that does not exist (a
capability not run yet) gives an empty result.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo.database import Database

from linkcrawler.audit.findings import page_health
from linkcrawler.audit.store import BROKEN_LINKS, LOST_BACKLINK_STATUSES, PAGES, REDIRECTED_LINKS
from linkcrawler.backlinks.events import event_key, wayback_url
from linkcrawler.backlinks.status import ALL_STATUSES, LOST_STATUSES, StatusClass, as_status, status_class
from linkcrawler.store.reads import find_by_ids

Db = Database[dict[str, Any]]

#: Rows of each table.
TABLE_ROWS = 50
#: Weeks drawn in the time charts.
WEEKS = 52
LOST = [s.value for s in LOST_STATUSES]
CLASSES = [StatusClass.LIVE.value, StatusClass.DEGRADED.value, StatusClass.LOST.value, StatusClass.UNKNOWN.value]
OUTREACH_FUNNEL = ["todo", "contacted", "followed_up", "replied", "won", "declined", "closed"]


def _week(field: str) -> dict[str, Any]:
    return {"$dateTrunc": {"date": field, "unit": "week", "startOfWeek": "monday"}}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _counts(db: Db, collection: str, field: str, match: dict[str, Any] | None = None) -> dict[str, int]:
    pipeline: list[dict[str, Any]] = [{"$match": match}] if match else []
    pipeline.append({"$group": {"_id": f"${field}", "n": {"$sum": 1}}})
    return {str(row["_id"]): row["n"] for row in db[collection].aggregate(pipeline)}


def status_counts(db: Db) -> dict[str, int]:
    """Backlinks per status, in the contract's order (statuses with none left out)."""
    found = _counts(db, "backlinks", "status")
    return {s.value: found[s.value] for s in ALL_STATUSES if found.get(s.value)}


def _class_of(status: Any) -> str:
    try:
        return status_class(as_status(str(status))).value
    except ValueError:
        return StatusClass.UNKNOWN.value


def status_over_time(db: Db, weeks: int = WEEKS) -> tuple[list[datetime], dict[str, list[int]]]:
    """Backlinks per class at the end of each week, from their ``history``.

    MongoDB counts the transitions (previous status -> status) per week; the weekly
    totals are their running sum. A link enters the chart with its oldest kept
    history entry (``history`` is capped).
    """
    pipeline: list[dict[str, Any]] = [
        {"$match": {"history.0": {"$exists": True}}},
        {"$project": {"pairs": {"$zip": {"inputs": [
            {"$concatArrays": [{"$literal": [None]}, {"$map": {"input": "$history", "in": "$$this.status"}}]},
            "$history",
        ]}}}},
        {"$unwind": "$pairs"},
        {"$project": {"from": {"$arrayElemAt": ["$pairs", 0]}, "to": {"$arrayElemAt": ["$pairs", 1]}}},
        {"$match": {"to.at": {"$type": "date"}}},
        {"$group": {"_id": {"week": _week("$to.at"), "from": "$from", "to": "$to.status"}, "n": {"$sum": 1}}},
    ]
    delta: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CLASSES, 0))
    for row in db.backlinks.aggregate(pipeline, allowDiskUse=True):
        key = row["_id"]
        week = _aware(key["week"])
        before = _class_of(key["from"]) if key.get("from") is not None else None
        after = _class_of(key["to"])
        if before == after:
            continue
        if before is not None:
            delta[week][before] -= row["n"]
        delta[week][after] += row["n"]
    if not delta:
        return [], {}
    first, last = min(delta), max(delta)
    labels: list[datetime] = []
    totals: dict[str, list[int]] = {c: [] for c in CLASSES}
    running = dict.fromkeys(CLASSES, 0)
    week = first
    while week <= last:
        for c in CLASSES:
            running[c] += delta.get(week, {}).get(c, 0)
            totals[c].append(running[c])
        labels.append(week)
        week += timedelta(days=7)
    return labels[-weeks:], {c: v[-weeks:] for c, v in totals.items()}


def events_per_week(db: Db, types: tuple[str, ...] = ("new", "lost", "recovered"),
                    weeks: int = WEEKS) -> tuple[list[datetime], dict[str, list[int]]]:
    """``link_events`` of each type per week (the last ``weeks`` weeks that have any)."""
    pipeline = [
        {"$match": {"type": {"$in": list(types)}, "detected_at": {"$type": "date"}}},
        {"$group": {"_id": {"week": _week("$detected_at"), "type": "$type"}, "n": {"$sum": 1}}},
    ]
    per: dict[datetime, dict[str, int]] = defaultdict(dict)
    for row in db.link_events.aggregate(pipeline, allowDiskUse=True):
        per[_aware(row["_id"]["week"])][row["_id"]["type"]] = row["n"]
    if not per:
        return [], {}
    labels = []
    week, last = max(per) - timedelta(days=7 * (weeks - 1)), max(per)
    week = max(week, min(per))
    while week <= last:
        labels.append(week)
        week += timedelta(days=7)
    return labels, {t: [per.get(w, {}).get(t, 0) for w in labels] for t in types}


def lost_reasons(db: Db, limit: int = 15) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Lost backlinks per status, and the most frequent ``status_reason`` among them."""
    by_status = _counts(db, "backlinks", "status", {"status": {"$in": LOST}})
    pipeline: list[dict[str, Any]] = [
        {"$match": {"status": {"$in": LOST}}},
        {"$group": {"_id": {"$ifNull": ["$status_reason", "$status"]}, "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
        {"$limit": limit},
    ]
    reasons = [(str(row["_id"]), row["n"]) for row in db.backlinks.aggregate(pipeline)]
    return dict(sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0]))), reasons


def most_valuable_lost(db: Db, limit: int = TABLE_ROWS) -> list[dict[str, Any]]:
    """The lost backlinks that mattered most, with why and where a copy of the page is."""
    docs = list(db.backlinks.find(
        {"status": {"$in": LOST}},
        {"source_url": 1, "target_url": 1, "status": 1, "status_reason": 1, "priority": 1, "authority": 1,
         "last_changed": 1, "anchor_text": 1, "state_version": 1},
    ).sort([("priority", -1), ("authority", -1), ("last_changed", -1), ("_id", 1)]).limit(limit))
    archived = {}
    # A link's events have the keys event_key(link, 0..state_version): looked up by
    # _id, without an index on backlink_id (which every event insert would pay).
    keys = [event_key(d["_id"], version) for d in docs for version in range(int(d.get("state_version") or 0) + 1)]
    lost = [event for event in find_by_ids(db.link_events, keys, {"type": 1, "backlink_id": 1, "wayback_url": 1,
                                                                   "detected_at": 1}) if event.get("type") == "lost"]
    # Oldest first, so that the latest lost event of a link is the one kept.
    for event in sorted(lost, key=lambda event: (event.get("detected_at") is not None, event.get("detected_at") or 0)):
        if event.get("wayback_url"):
            archived[event["backlink_id"]] = event["wayback_url"]
    for doc in docs:
        when = doc.get("last_changed")
        doc["wayback_url"] = archived.get(doc["_id"]) or wayback_url(
            doc["source_url"], when if isinstance(when, datetime) else None)
    return docs


def referring_domain_counts(db: Db, limit: int = TABLE_ROWS) -> tuple[int, list[dict[str, Any]]]:
    """How many domains link to us (lost links left out), and the top ones with their links."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"status": {"$nin": LOST}}},
        {"$group": {"_id": "$source_domain", "links": {"$sum": 1},
                    "live": {"$sum": {"$cond": [{"$eq": ["$status", "live"]}, 1, 0]}}}},
        {"$facet": {
            "total": [{"$count": "n"}],
            "top": [{"$sort": {"links": -1, "_id": 1}}, {"$limit": limit}],
        }},
    ]
    result: dict[str, Any] = next(db.backlinks.aggregate(pipeline, allowDiskUse=True), {"total": [], "top": []})
    total = result["total"][0]["n"] if result["total"] else 0
    return total, [{"domain": r["_id"], "links": r["links"], "live": r["live"]} for r in result["top"]]


def most_linked_pages(db: Db, limit: int = TABLE_ROWS) -> list[dict[str, Any]]:
    """Our pages by referring domains, with their health in the last audit (as ``scrapy toplinked``).

    Counted by the rule of :func:`linkcrawler.audit.store.referring_domains` (lost links
    do not count, nor links without a domain), but ranked and cut in MongoDB, and
    without the anchor texts that function gathers for the redirect map: at 200,000
    backlinks that set alone took minutes.
    """
    pipeline: list[dict[str, Any]] = [
        {"$match": {"status": {"$nin": list(LOST_BACKLINK_STATUSES)}}},
        {"$group": {"_id": {"target": "$target_url", "domain": "$source_domain"}, "n": {"$sum": 1}}},
        {"$group": {"_id": "$_id.target", "backlinks": {"$sum": "$n"},
                    "domains": {"$sum": {"$cond": [{"$in": [{"$ifNull": ["$_id.domain", ""]}, [""]]}, 0, 1]}}}},
        {"$sort": {"domains": -1, "backlinks": -1, "_id": 1}},
        {"$limit": limit},
    ]
    rows = list(db.backlinks.aggregate(pipeline, allowDiskUse=True))
    pages = {doc["url"]: doc for doc in db[PAGES].find(
        {"url": {"$in": [r["_id"] for r in rows]}}, {"url": 1, "status": 1, "final_status": 1, "final_url": 1})}
    table = []
    for row in rows:
        page = pages.get(row["_id"]) or {}
        table.append({"url": row["_id"], "domains": row["domains"], "backlinks": row["backlinks"],
                      "status": page.get("status"), "final_url": page.get("final_url"),
                      "health": page_health(page.get("status"), page.get("final_status"))})
    return table


def site_audit(db: Db, limit: int = TABLE_ROWS) -> dict[str, Any]:
    """The last site audit: pages per status, broken links (by link, with how many pages carry each), chains, loops."""
    present = set(db.list_collection_names())
    audit: dict[str, Any] = {"pages": 0, "statuses": {}, "broken": [], "broken_total": 0, "chains": [],
                             "redirected_total": 0}
    if PAGES in present:
        audit["statuses"] = dict(sorted(_counts(db, PAGES, "status").items(), key=lambda kv: -kv[1]))
        audit["pages"] = sum(audit["statuses"].values())
        audit["chains"] = list(db[PAGES].find(
            {"$or": [{"redirect_loop": True}, {"redirect_chain.2": {"$exists": True}}]},
            {"url": 1, "redirect_chain": 1, "redirect_loop": 1, "final_url": 1}).sort("url", 1).limit(limit))
    if BROKEN_LINKS in present:
        pipeline: list[dict[str, Any]] = [
            {"$group": {"_id": "$link_url", "pages": {"$sum": 1}, "status": {"$first": "$status"},
                        "kind": {"$first": "$kind"}, "example": {"$min": "$page_url"}}},
            {"$facet": {"total": [{"$count": "n"}],
                        "top": [{"$sort": {"pages": -1, "_id": 1}}, {"$limit": limit}]}},
        ]
        result: dict[str, Any] = next(db[BROKEN_LINKS].aggregate(pipeline, allowDiskUse=True),
                                      {"total": [], "top": []})
        audit["broken_total"] = result["total"][0]["n"] if result["total"] else 0
        audit["broken"] = result["top"]
    if REDIRECTED_LINKS in present:
        audit["redirected_total"] = db[REDIRECTED_LINKS].estimated_document_count()
    return audit


def _top(db: Db, collection: str, match: dict[str, Any], sort: list[tuple[str, int]], fields: list[str],
         limit: int) -> list[dict[str, Any]]:
    return list(db[collection].find(match, dict.fromkeys(fields, 1)).sort(sort).limit(limit))


def other_ways(db: Db, limit: int = 20) -> dict[str, Any]:
    """Mentions, opportunities, toxicity and outreach, each only when its collection has data."""
    present = set(db.list_collection_names())
    found: dict[str, Any] = {}
    if "mentions" in present and db.mentions.estimated_document_count():
        found["mentions"] = {
            "statuses": _counts(db, "mentions", "status"),
            "top": _top(db, "mentions", {"status": "unlinked"}, [("first_seen", -1), ("_id", 1)],
                        ["page_url", "page_domain", "matched_text", "term", "context", "first_seen"], limit),
        }
    if "opportunities" in present and db.opportunities.estimated_document_count():
        found["opportunities"] = {
            "statuses": _counts(db, "opportunities", "status"),
            "top": _top(db, "opportunities", {"status": "open"}, [("score", -1), ("_id", 1)],
                        ["page_url", "link_url", "broken_reason", "score", "suggested_target", "wayback_url"], limit),
        }
    if "toxicity" in present and db.toxicity.estimated_document_count():
        found["toxicity"] = {
            "verdicts": _counts(db, "toxicity", "verdict"),
            "top": _top(db, "toxicity", {"verdict": {"$in": ["toxic", "review"]}}, [("score", -1), ("_id", 1)],
                        ["domain", "score", "verdict", "signals", "links", "decision"], limit),
        }
    if "outreach" in present and db.outreach.estimated_document_count():
        statuses = _counts(db, "outreach", "status")
        found["outreach"] = {"funnel": [(s, statuses.get(s, 0)) for s in OUTREACH_FUNNEL],
                             "kinds": _counts(db, "outreach", "kind")}
    return found


def last_runs(db: Db) -> dict[str, datetime]:
    """When each spider last finished (``runs``)."""
    pipeline = [{"$group": {"_id": "$spider", "last": {"$max": "$finished_at"}}}]
    return {str(r["_id"]): r["last"] for r in db.runs.aggregate(pipeline) if r.get("last")}
