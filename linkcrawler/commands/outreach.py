"""``scrapy outreach list|due|mark ID STATUS [--note TEXT]|export -o FILE.csv``: the one outreach queue.

Every run first syncs the queue with what the crawls found
(:func:`linkcrawler.contacts.outreach_store.sync_outreach`): new tasks, and tasks the
facts moved (a recovered link wins its reclaim task).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from linkcrawler.cli import StoreCommand
from linkcrawler.clock import Clock
from linkcrawler.contacts.outreach import OPEN_STATUSES
from linkcrawler.contacts.outreach_store import (
    EXPORT_FIELDS,
    due_tasks,
    export_rows,
    list_tasks,
    mark_task,
    outreach_settings,
    sync_outreach,
)
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.exporters import write_csv
from linkcrawler.store import Store
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.web.text import printable

ACTIONS = ("list", "due", "mark", "export")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def _short(value: Any, width: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Command(StoreCommand):
    def syntax(self) -> str:
        return "list [--all] | due | mark ID STATUS [--note TEXT] | export -o FILE.csv [--all]"

    def short_desc(self) -> str:
        return "The outreach queue: who to contact, why, and what happened"

    def long_desc(self) -> str:
        return (
            "list: open tasks, best first (--all: every task). due: tasks whose follow-up is due. "
            "mark ID STATUS: todo -> contacted -> followed_up -> replied -> won | declined | closed, with "
            "an optional --note. export -o FILE.csv: a mail-merge ready CSV (name, email, page, our URL, "
            "the reason in words) of the open tasks. Every run first brings the queue up to date with "
            "what the crawls found."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--note", metavar="TEXT", help="mark: a note kept with the task")
        parser.add_argument("-o", "--output", metavar="FILE", help="export: the CSV file to write ('-': stdout)")
        parser.add_argument("--all", action="store_true", help="list/export: finished tasks too")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        action = args[0] if args else "list"
        if action not in ACTIONS:
            raise ConfigurationError(f"outreach: unknown action {action!r}: expected one of {', '.join(ACTIONS)}")
        if action == "mark" and len(args) != 3:
            raise ConfigurationError("outreach mark: expected an ID and a STATUS (scrapy outreach mark ID STATUS)")
        if action == "export" and not opts.output:
            raise ConfigurationError("outreach export: -o FILE.csv is required")
        db = store.db
        ensure_indexes(db, ["outreach", "contacts"])
        now = Clock.from_settings(self.settings).now()
        settings = outreach_settings(self.settings)
        report = sync_outreach(db, now, settings)
        if action == "list":
            statuses = None if opts.all else [s.value for s in OPEN_STATUSES]
            tasks = list_tasks(db, statuses)
            print(f"{len(tasks)} {'' if opts.all else 'open '}outreach task(s); this sync: {report.summary()}")
            self.print_tasks(db, tasks)
        elif action == "due":
            tasks = due_tasks(db, now)
            print(f"{len(tasks)} follow-up(s) due")
            self.print_tasks(db, tasks)
        elif action == "mark":
            task = mark_task(db, args[1], args[2], now, settings.follow_up_days, opts.note)
            due = f", follow-up due {_when(task.get('follow_up_due'))}" if task.get("follow_up_due") else ""
            print(f"{task['_id']} is {task['status']}{due}")
        else:
            statuses = None if opts.all else [s.value for s in OPEN_STATUSES]
            tasks = list_tasks(db, statuses)
            rows = export_rows(db, tasks)
            if opts.output == "-":
                count = write_csv(sys.stdout, EXPORT_FIELDS, rows)
            else:
                with open(Path(opts.output), "w", newline="", encoding="utf-8") as out:
                    count = write_csv(out, EXPORT_FIELDS, rows)
            print(f"{count} task(s) written to {opts.output}", file=sys.stderr if opts.output == "-" else sys.stdout)

    @staticmethod
    def print_tasks(db: Any, tasks: Iterable[dict[str, Any]]) -> None:
        tasks = list(tasks)
        rows = list(export_rows(db, tasks))
        for task, row in zip(tasks, rows, strict=True):
            who = " ".join(part for part in (row["name"], f"<{row['email']}>" if row["email"] else "") if part)
            print(f"  {row['id']}  {row['status']:<11} {row['kind']:<18} priority {row['priority'] or 0:>3}  "
                  f"{printable(_short(row['domain'], 30))}  {printable(_short(who, 50)) or '(no contact yet)'}")
            print(f"      {printable(_short(row['page'], 90))}")
            print(f"      {printable(_short(row['reason'], 120))}")
            if row["follow_up_due"]:
                print(f"      follow-up due {_when(row['follow_up_due'])}")
            history = task.get("history") or []
            if len(history) > 1:
                print(f"      last: {printable(_short(_history_line(history[-1]), 120))}")
        if not rows:
            print("  none")


def _history_line(entry: dict[str, Any]) -> str:
    cause = entry.get("cause") or {}
    why = f" ({cause.get('what')}: {cause.get('collection')} {cause.get('id')})" if cause else ""
    by = "by the crawl" if entry.get("by") == "crawl" else "by hand"
    note = f": {entry['note']}" if entry.get("note") else ""
    kind = entry.get("kind")
    moved = f"{kind['from']} -> {kind['to']}" if isinstance(kind, dict) else f"{entry.get('from')} -> {entry.get('to')}"
    return f"{_when(entry.get('at'))} {moved} {by}{why}{note}"
