"""``scrapy linkstatus``: where the known backlinks stand, and the lost ones that matter most."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import Any

from linkcrawler import defaults
from linkcrawler.backlinks.status import ALL_STATUSES, status_class
from linkcrawler.cli import StoreCommand
from linkcrawler.clock import Clock, parse_now
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.exporters import write_csv
from linkcrawler.report.status import StatusFilter, parse_statuses, status_summary
from linkcrawler.store import Store
from linkcrawler.web.text import printable

CSV_FIELDS = ["record", "status", "count", "type", "from_status", "to_status", "source_url", "target_url",
              "priority", "reason", "when", "wayback_url"]


def _short(value: Any, width: int) -> str:
    text = printable(" ".join(str(value or "").split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "?"


def csv_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per status count, listed link and event, told apart by ``record``."""
    rows: list[dict[str, Any]] = [{"record": "count", "status": s, "count": n} for s, n in summary["by_status"].items()]
    rows += [{"record": "link", "status": d.get("status"), "source_url": d.get("source_url"),
              "target_url": d.get("target_url"), "priority": d.get("priority"), "reason": d.get("status_reason"),
              "when": d.get("last_changed")} for d in summary["listed"]]
    rows += [{"record": "event", "type": e.get("type"), "from_status": e.get("from_status"),
              "to_status": e.get("to_status"), "source_url": e.get("source_url"), "target_url": e.get("target_url"),
              "priority": e.get("priority"), "reason": e.get("reason"), "when": e.get("detected_at"),
              "wayback_url": e.get("wayback_url")} for e in summary["events"]]
    return rows


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--status S,...] [--target URL] [--domain DOMAIN] [--since DATE] [--limit N] [--format table|csv|json]"

    def short_desc(self) -> str:
        return "Print backlink states, the lost links (most valuable first) and recent events"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--limit", type=int, default=20, help="links and events listed (default: 20)")
        parser.add_argument("--status", help="list links in these statuses or classes (default: lost), comma-separated")
        parser.add_argument("--target", metavar="URL", help="only links to this page of ours (URL* : every page under it)")
        parser.add_argument("--domain", help="only links from this linking domain")
        parser.add_argument("--since", metavar="DATE", help="only links changed and events detected since (ISO 8601)")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output (default: table)")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        since = None
        if opts.since:
            try:
                since = parse_now(opts.since)
            except ConfigurationError:
                raise ConfigurationError(f"--since {opts.since!r} is not an ISO 8601 date (like 2026-11-01)") from None
        filters = StatusFilter(tuple(parse_statuses(opts.status)), opts.target, opts.domain, since)
        recheck = timedelta(hours=self.settings.getfloat("LINKCRAWLER_RECHECK_HOURS",
                                                         defaults.LINKCRAWLER_RECHECK_HOURS))
        now = Clock.from_settings(self.settings).now()
        summary = status_summary(store.db, filters, now, recheck, max(0, opts.limit))
        if opts.format == "json":
            json.dump(summary, sys.stdout, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
                      indent=1)
            print()
        elif opts.format == "csv":
            write_csv(sys.stdout, CSV_FIELDS, csv_rows(summary))
        else:
            self.print_table(store, filters, summary)

    def print_table(self, store: Store, filters: StatusFilter, summary: dict[str, Any]) -> None:
        described = [f"{name} {value}" for name, value in (
            ("status", ",".join(filters.statuses)), ("target", filters.target), ("domain", filters.domain),
            ("since", filters.since.isoformat() if filters.since else None)) if value]
        print(f"{summary['total']} backlinks in {store.display_uri}, database {store.database_name!r}"
              + (f" ({printable('; '.join(described))})" if described else ""))
        for status in ALL_STATUSES:
            if summary["by_status"].get(status.value):
                print(f"  {status.value:<14} {summary['by_status'][status.value]:>7}   ({status_class(status).value})")
        classes = summary["by_class"]
        print(f"  total: {classes['live']} live, {classes['degraded']} degraded, {classes['lost']} lost, "
              f"{classes['unknown']} not settled")
        run = summary["last_run"]
        if run:
            print(f"last backlinks run: started {_when(run.get('started_at'))}, finished {_when(run.get('finished_at'))}"
                  f" ({run.get('finish_reason') or 'not finished'})")
        else:
            print("last backlinks run: none recorded (scrapy crawl backlinks)")
        print(f"due for a check now: {summary['due_now']}")

        listed, total = summary["listed"], summary["listed_total"]
        name = "lost links" if not filters.statuses else f"links in {', '.join(summary['listed_statuses'])}"
        print(f"\n{name}, most valuable first ({len(listed)} of {total} shown):")
        if not listed:
            print("  none")
        for doc in listed:
            print(f"  priority {doc.get('priority') or 0:>3}  {doc['status']:<12} {_short(doc['source_url'], 60)}")
            print(f"      -> {_short(doc['target_url'], 60)}   {_short(doc.get('status_reason'), 70)}")

        events = summary["events"]
        print(f"\nrecent events ({len(events)} of {summary['events_total']} shown, 'new' left out):")
        if not events:
            print("  none")
        for event in events:
            print(f"  {_when(event['detected_at'])}  {event['type']:<9} {event['from_status']} -> "
                  f"{event['to_status']:<12} {_short(event['source_url'], 50)} -> {_short(event['target_url'], 50)}")
