"""``scrapy toplinked``: the owned pages with the most referring domains, and those that broke.

The pages backlinks point to are the ones to protect. Each is listed with its
referring domains (distinct ``source_domain`` of its backlinks that still exist)
and what it answered in the last ``site_audit`` (``--check``: what it answers now).
A page that does not answer 200 is flagged; one that is broken (4xx, 5xx, a failure,
a loop) is an alert: printed before the table, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from linkcrawler.audit.findings import page_health
from linkcrawler.audit.store import PAGES, referring_domains
from linkcrawler.cli import StoreCommand
from linkcrawler.commands.redirectmap import fetch_once
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.redirects import REDIRECT_STATUSES
from linkcrawler.web.text import printable

#: Exit code when a most-linked page is broken.
EXIT_ALERT = 1
DEFAULT_LIMIT = 50


def check_now(url: str) -> dict[str, Any]:
    """What ``url`` answers now: status, and for a redirect where it ends (up to 10 hops)."""
    status, location = fetch_once(url)
    final_url, final_status, current = url, status, url
    for _ in range(10):
        if not (isinstance(final_status, int) and final_status in REDIRECT_STATUSES and location):
            break
        current = urljoin(current, location)
        final_status, location = fetch_once(current)
        final_url = current
    return {"status": status, "final_status": final_status, "final_url": final_url}


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--site HOST] [--limit N] [--check] [-o FILE.csv]"

    def short_desc(self) -> str:
        return "List owned pages by referring domains; alert on those that do not answer 200"

    def long_desc(self) -> str:
        return (
            "Ranks the pages backlinks point to by referring domains (backlinks in a lost state do "
            "not count) and shows what each answered in the last site_audit (with --check: what it "
            "answers now). Broken pages are alerts, printed first; the exit code is then 1."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", metavar="HOST", help="only pages of this host[:port]")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                            help=f"pages listed (default {DEFAULT_LIMIT}; 0: all)")
        parser.add_argument("--check", action="store_true", help="fetch each page now instead of using the last audit")
        parser.add_argument("-o", "--output", metavar="FILE", help="also write the list as CSV")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        ensure_indexes(store.db, ["pages", "backlinks"])
        rows = [row for row in referring_domains(store.db)
                if not opts.site or urlsplit(row["_id"]).netloc == opts.site]
        rows.sort(key=lambda r: (-r["domains"], -r["backlinks"], r["_id"]))
        if opts.limit > 0:
            rows = rows[: opts.limit]
        urls = [row["_id"] for row in rows]
        if opts.check:
            with ThreadPoolExecutor(max_workers=8) as pool:
                pages = dict(zip(urls, pool.map(check_now, urls)))
        else:
            pages = {doc["url"]: doc for doc in store.db[PAGES].find(
                {"url": {"$in": urls}}, {"url": 1, "status": 1, "final_status": 1, "final_url": 1})}
        table = []
        for rank, row in enumerate(rows, 1):
            page = pages.get(row["_id"])
            status = page.get("status") if page else None
            final_status = page.get("final_status") if page else None
            health = page_health(status, final_status)
            table.append({
                "rank": rank, "url": row["_id"], "referring_domains": row["domains"], "backlinks": row["backlinks"],
                "status": "" if status is None else status, "final_url": (page or {}).get("final_url") or "",
                "health": health,
            })
        alerts = [r for r in table if r["health"] == "broken"]
        for r in alerts:
            print(f"ALERT {printable(r['url'])} has {r['referring_domains']} referring domain(s) and answers {r['status']}")
        if alerts:
            print()
        print(f"{'rank':>4}  {'domains':>7}  {'links':>6}  {'status':<18}  url")
        for r in table:
            flag = {"broken": "  <- BROKEN", "redirect": f"  -> {r['final_url']}",
                    "unknown": "  (not audited)" if r["status"] == "" else "  (not checked)"}.get(r["health"], "")
            print(f"{r['rank']:>4}  {r['referring_domains']:>7}  {r['backlinks']:>6}  {str(r['status']):<18}  "
                  f"{printable(r['url'])}{printable(flag)}")
        if not table:
            print("no backlinks known: import some with scrapy importlinks FILE")
        if opts.output:
            with open(Path(opts.output), "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, ["rank", "url", "referring_domains", "backlinks", "status", "final_url", "health"])
                writer.writeheader()
                writer.writerows(table)
        if alerts:
            self.exitcode = EXIT_ALERT
