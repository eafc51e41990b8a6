"""``scrapy linkgap [--min-competitors N] [-o FILE]``: sites linking to competitors and not to us."""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.exceptions import UsageError

from linkcrawler.cli import StoreCommand
from linkcrawler.exporters import write_csv
from linkcrawler.prospects.linkgap import gap_rows, link_gap
from linkcrawler.prospects.store import COMPETITOR_LINKS
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.text import printable

#: The columns of ``-o FILE.csv``: ``url`` first, a valid ``prospects -a urls=`` list.
CSV_FIELDS = ["url", "rank", "domain", "competitor_count", "competitors", "authority", "linking_pages"]


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--min-competitors N] [--pages-per-domain N] [-o FILE]"

    def short_desc(self) -> str:
        return "Referring domains that link to at least N competitors and not to us, ranked"

    def long_desc(self) -> str:
        return (
            "Reads the competitors' backlinks loaded with 'scrapy importlinks --competitor DOMAIN FILE' "
            "and lists the referring domains that link to at least N of them (default 2) and to none of our "
            "sites (known backlinks), most competitors first, then by authority. -o FILE.csv writes one row "
            "per linking page with a url column, any other name a plain list of URLs: both are valid "
            "input for 'scrapy crawl prospects -a urls=FILE'."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--min-competitors", type=int, default=2, metavar="N",
                            help="link to at least N competitors (default 2)")
        parser.add_argument("--pages-per-domain", type=int, default=5, metavar="N",
                            help="linking pages kept per domain (default 5)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write the linking pages (CSV, or a URL list)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if opts.min_competitors < 1 or opts.pages_per_domain < 1:
            raise UsageError("--min-competitors and --pages-per-domain must be at least 1", print_help=False)

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        db = store.db
        ensure_indexes(db, [COMPETITOR_LINKS, "backlinks"])
        competitors = sorted(db[COMPETITOR_LINKS].distinct("competitor"))
        if not competitors:
            print("no competitor links: load a competitor's export with scrapy importlinks --competitor DOMAIN FILE")
            return
        linking_to_us = set(db["backlinks"].distinct("source_domain"))
        own = self.settings.getlist("LINKCRAWLER_OWN_DOMAINS") or db["backlinks"].distinct("target_domain")
        links = db[COMPETITOR_LINKS].find({}, {"competitor": 1, "source_url": 1, "source_domain": 1, "authority": 1})
        gaps = link_gap(links, linking_to_us, own, opts.min_competitors)
        print(f"{len(gaps)} referring domain(s) link to at least {opts.min_competitors} of {len(competitors)} "
              f"competitor(s) ({', '.join(competitors)}) and not to us")
        if gaps:
            print(f"{'rank':>4}  {'rivals':>6}  {'auth':>5}  {'pages':>5}  domain")
        for rank, gap in enumerate(gaps, 1):
            authority = "" if gap.authority is None else f"{gap.authority:g}"
            print(f"{rank:>4}  {len(gap.competitors):>6}  {authority:>5}  {len(gap.pages):>5}  {printable(gap.domain)}"
                  f"  ({', '.join(sorted(gap.competitors))})")
        if opts.output:
            rows = gap_rows(gaps, opts.pages_per_domain)
            path = Path(opts.output)
            with open(path, "w", newline="", encoding="utf-8") as out:
                if path.suffix.lower() == ".csv":
                    write_csv(out, CSV_FIELDS, rows)
                else:
                    out.write("# linkcrawler linkgap: linking pages of referring domains that link to competitors, "
                              "not to us (scrapy crawl prospects -a urls=FILE)\n")
                    out.writelines(f"{row['url']}\n" for row in rows)
            print(f"{len(rows)} linking page(s) written to {path}")
