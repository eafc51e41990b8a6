"""``scrapy mentions``: the brand mentions worth asking to become links, best first."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from linkcrawler.cli import StoreCommand
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.exporters import write_csv
from linkcrawler.mentions.listing import LISTING_FIELDS, load_listing
from linkcrawler.store import Store
from linkcrawler.web.text import squash


def _short(value: Any, width: int) -> str:
    text = squash(str(value or ""))
    return text if len(text) <= width else text[: width - 1] + "…"


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--status unlinked|linked|nofollow|removed|page_gone|error|all] [--limit N] [-o FILE.csv]"

    def short_desc(self) -> str:
        return "List brand mentions (unlinked ones by default), best first, with their contact when known"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--status", default="unlinked", help="mentions in this status (default: unlinked; all: any)")
        parser.add_argument("--limit", type=int, default=50, help="mentions listed (default: 50; 0: all)")
        parser.add_argument("-o", "--output", metavar="FILE", help="also write the list as CSV")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        status = None if opts.status == "all" else opts.status
        try:
            rows = load_listing(store.db, status, max(opts.limit, 0))
        except ValueError as exc:
            raise ConfigurationError(f"mentions: {exc}") from None
        which = "mention(s)" if status is None else f"{status} mention(s)"
        print(f"{len(rows)} {which}, best first:")
        for row in rows:
            contact = row["contact_email"] or row["contact_name"] or "no contact known"
            places = ", ".join(row["prominence"] or []) or "text"
            print(f"  priority {row['priority'] or 0:>3}  {row['status']:<9} {_short(row['page_url'], 70)}")
            print(f"      {row['term']!r} x{row['count'] or 0} ({places}): {_short(row['context'], 90)}")
            print(f"      contact: {_short(contact, 60)}")
            if row["link_url"]:
                print(f"      {row['linked']} link to {_short(row['link_url'], 70)}")
            if row["reclaimed_at"]:
                print(f"      reclaimed {row['reclaimed_at']:%Y-%m-%d %H:%M} (an unlinked mention that became a link;"
                      " now a monitored backlink)")
        if opts.output:
            with open(Path(opts.output), "w", newline="", encoding="utf-8") as out:
                write_csv(out, LISTING_FIELDS, rows)
