"""``scrapy linkstatus``: where the known backlinks stand, and the lost ones that matter most."""

from __future__ import annotations

import argparse
from typing import Any

from linkcrawler.backlinks.status import ALL_STATUSES, LOST_STATUSES, status_class
from linkcrawler.cli import StoreCommand
from linkcrawler.store import Store


def _short(value: Any, width: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Command(StoreCommand):
    def short_desc(self) -> str:
        return "Print backlink states, the lost links (most valuable first) and recent events"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--limit", type=int, default=20, help="lost links and events shown (default: 20)")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        db = store.db
        counts = {row["_id"]: row["n"] for row in db.backlinks.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}
        total = sum(counts.values())
        print(f"{total} backlinks in {store.display_uri}, database {store.database_name!r}")
        for status in ALL_STATUSES:
            if counts.get(status.value):
                print(f"  {status.value:<14} {counts[status.value]:>7}   ({status_class(status).value})")

        lost = list(
            db.backlinks.find({"status": {"$in": [s.value for s in LOST_STATUSES]}})
            .sort([("priority", -1), ("authority", -1), ("last_changed", -1)])
            .limit(opts.limit)
        )
        print(f"\nlost links, most valuable first ({min(len(lost), opts.limit)} shown):")
        if not lost:
            print("  none")
        for doc in lost:
            print(f"  priority {doc.get('priority') or 0:>3}  {doc['status']:<12} {_short(doc['source_url'], 60)}")
            print(f"      -> {_short(doc['target_url'], 60)}   {_short(doc.get('status_reason'), 70)}")

        events = list(db.link_events.find({"type": {"$ne": "new"}}).sort("detected_at", -1).limit(opts.limit))
        print(f"\nrecent events ({len(events)} shown, 'new' left out):")
        if not events:
            print("  none")
        for event in events:
            when = event["detected_at"].strftime("%Y-%m-%d %H:%M:%S")
            print(f"  {when}  {event['type']:<9} {event['from_status']} -> {event['to_status']:<12} "
                  f"{_short(event['source_url'], 50)}")
