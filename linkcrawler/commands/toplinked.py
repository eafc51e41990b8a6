"""``scrapy toplinked``: the owned pages with the most referring domains, and those that broke.

The pages backlinks point to are the ones to protect. Each is listed with its
referring domains (distinct ``source_domain`` of its backlinks that still exist)
and what it answered in the last ``site_audit`` (``--check``: what it answers now).
A page that does not answer 200 is flagged; one that is broken (4xx, 5xx, a failure,
a loop) is an alert: printed before the table, and the exit code is 1.
``--check`` fetches as the spiders do (:func:`linkcrawler.web.fetch.fetch_chains`):
the address guard and robots.txt on every redirect hop, the project's ``USER_AGENT``;
a page they keep us from is "not checked", not an alert.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkcrawler.audit.findings import page_health
from linkcrawler.audit.store import PAGES, referring_domains
from linkcrawler.cli import StoreCommand
from linkcrawler.exporters import write_csv
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.fetch import FetchedChain, fetch_chains
from linkcrawler.web.text import printable

#: Exit code when a most-linked page is broken.
EXIT_ALERT = 1
DEFAULT_LIMIT = 50


def checked_page(chain: FetchedChain) -> dict[str, Any]:
    """What a page answers now, as the table reads it: its status, and where its redirects end."""
    return {"status": chain.status, "final_status": chain.final_status, "final_url": chain.final_url,
            "reason": chain.reason}


class Command(StoreCommand):
    # --check fetches through the project's downloader stack (web/fetch.py).
    requires_crawler_process = True

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
            assert self.settings is not None
            chains = fetch_chains(urls, self.settings, self.crawler_process)
            pages = {url: checked_page(chain) for url, chain in chains.items()}
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
                "health": health, "reason": (page or {}).get("reason") or "",
            })
        alerts = [r for r in table if r["health"] == "broken"]
        for r in alerts:
            print(f"ALERT {printable(r['url'])} has {r['referring_domains']} referring domain(s) and answers {r['status']}")
        if alerts:
            print()
        print(f"{'rank':>4}  {'domains':>7}  {'links':>6}  {'status':<18}  url")
        for r in table:
            not_checked = f"  (not checked: {r['reason']})" if r["reason"] else "  (not checked)"
            flag = {"broken": "  <- BROKEN", "redirect": f"  -> {r['final_url']}",
                    "unknown": "  (not audited)" if r["status"] == "" else not_checked}.get(r["health"], "")
            print(f"{r['rank']:>4}  {r['referring_domains']:>7}  {r['backlinks']:>6}  {r['status']!s:<18}  "
                  f"{printable(r['url'])}{printable(flag)}")
        if not table:
            print("no backlinks known: import some with scrapy importlinks FILE")
        if opts.output:
            with open(Path(opts.output), "w", newline="", encoding="utf-8") as out:
                write_csv(out, ["rank", "url", "referring_domains", "backlinks", "status", "final_url", "health"], table)
        if alerts:
            self.exitcode = EXIT_ALERT
