"""``scrapy opportunities [--min-score N] [-o FILE.csv]``: open broken-link opportunities, best first."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from linkcrawler.cli import StoreCommand
from linkcrawler.contacts.lookup import best_contacts
from linkcrawler.exporters import write_csv
from linkcrawler.prospects.store import OPPORTUNITIES
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.text import printable, squash

CSV_FIELDS = [
    "score", "page_url", "page_title", "page_domain", "link_url", "anchor_text", "context", "broken_reason",
    "http_status", "linked_from_pages", "suggested_target", "suggestion_score", "wayback_url", "contact_name",
    "contact_email", "score_reasons", "first_seen", "last_checked", "id",
]


def opportunity_rows(db: Any, min_score: int = 0, limit: int = 0) -> list[dict[str, Any]]:
    """Open opportunities at or above ``min_score``, best first, each with its page's best known contact."""
    cursor = db[OPPORTUNITIES].find({"status": "open", "score": {"$gte": min_score}}).sort(
        [("score", -1), ("linked_from_pages", -1), ("page_url", 1), ("link_url", 1)])
    if limit:
        cursor = cursor.limit(limit)
    rows = list(cursor)
    contacts = best_contacts(db, {row.get("page_domain") or "" for row in rows} - {""})
    for row in rows:
        contact = contacts.get(row.get("page_domain") or "") or {}
        row["id"] = row["_id"]
        row["contact_name"] = contact.get("name")
        row["contact_email"] = contact.get("email")
        row["score_reasons"] = "; ".join(row.get("score_reasons") or ())
    return rows


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--min-score N] [--limit N] [-o FILE.csv]"

    def short_desc(self) -> str:
        return "Open broken-link opportunities found by scrapy crawl prospects, best first"

    def long_desc(self) -> str:
        return (
            "Lists the open opportunities (a prospect page linking to a dead URL) by score, with the dead "
            "link, why it is broken, our page to offer in its place and the page's best known contact. "
            "-o FILE.csv writes every field, safe to open in a spreadsheet."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--min-score", type=int, default=0, metavar="N", help="only scores of at least N")
        parser.add_argument("--limit", type=int, default=0, metavar="N", help="at most N (0: all)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write them as CSV")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        ensure_indexes(store.db, [OPPORTUNITIES])
        rows = opportunity_rows(store.db, opts.min_score, opts.limit)
        counts = {doc["_id"]: doc["n"] for doc in store.db[OPPORTUNITIES].aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}
        total = store.db[OPPORTUNITIES].count_documents({"status": "open", "score": {"$gte": opts.min_score}})
        print(f"{total} open opportunit{'y' if total == 1 else 'ies'}"
              + (f" scoring {opts.min_score} or more" if opts.min_score else "")
              + (f" (the best {len(rows)} below)" if len(rows) < total else "")
              + "".join(f"; {counts[s]} {s}" for s in ("fixed", "won") if counts.get(s)))
        for row in rows:
            print(f"{row['score']:>3}  {printable(row['page_url'])}")
            print(f"     dead link: {printable(row['link_url'])} ({row['broken_reason']}) "
                  f"anchor {printable(squash(row.get('anchor_text') or '', 80))!r}"
                  + (f", cited by {row['linked_from_pages']} pages" if row.get("linked_from_pages", 1) > 1 else ""))
            if row.get("suggested_target"):
                print(f"     offer: {printable(row['suggested_target'])} (match {row['suggestion_score']:.2f})")
            if row.get("contact_email") or row.get("contact_name"):
                print(f"     contact: {printable(str(row.get('contact_name') or ''))} "
                      f"{printable(str(row.get('contact_email') or ''))}".rstrip())
        if opts.output:
            with open(Path(opts.output), "w", newline="", encoding="utf-8") as out:
                write_csv(out, CSV_FIELDS, rows)
            print(f"written to {opts.output}")
