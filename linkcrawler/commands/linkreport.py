"""``scrapy linkreport -o FILE.html``: the link profile as one self-contained HTML file with charts."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from linkcrawler.cli import StoreCommand
from linkcrawler.clock import Clock
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.report.html import build_report
from linkcrawler.store import Store


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Command(StoreCommand):
    def syntax(self) -> str:
        return "-o FILE.html [--title TEXT]"

    def short_desc(self) -> str:
        return "Write the link profile report: one HTML file with charts that opens offline"

    def long_desc(self) -> str:
        return (
            "Backlinks by state over time, new and lost links per week, lost links by reason and the most "
            "valuable ones (with Wayback Machine copies), referring domains, most-linked pages and their "
            "health, the site audit's broken links and redirect chains, and mentions, opportunities, toxic "
            "domains and outreach when those exist. One file, no script, nothing fetched when it opens."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE.html", help="where to write the report")
        parser.add_argument("--title", default="Link profile", help="the report's title")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if not opts.output:
            raise ConfigurationError("say where to write the report: scrapy linkreport -o report.html")
        now = Clock.from_settings(self.settings).now()
        html = build_report(store.db, now, opts.title, f"{store.display_uri}, database {store.database_name!r}")
        path = Path(opts.output)
        write_atomically(path, html)
        print(f"report written to {path.resolve()} ({len(html.encode()) / 1024:,.0f} KB)")
