"""``scrapy linkstatus``: totals, the last run, what is due, filters and machine-readable output."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymongo

from tests.report_data import populate

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOST = ["removed", "page_gone", "redirected", "unreachable"]


def linkstatus(*args: str, uri: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", "linkstatus", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, "MONGO_URI": uri, "MONGO_DATABASE": name, "LINKCRAWLER_NOW": NOW.isoformat()},
                          capture_output=True, text=True, timeout=120)


def test_totals_last_run_due_and_filters(mongo_db: pymongo.database.Database, mongo_uri: str,
                                         mongo_db_name: str) -> None:
    populate(mongo_db, NOW, others=False)
    lost = mongo_db.backlinks.count_documents({"status": {"$in": LOST}})
    due = mongo_db.backlinks.count_documents({"last_checked": {"$lt": NOW - timedelta(hours=24)}})
    assert lost > 20 and 0 < due < 300

    done = linkstatus(uri=mongo_uri, name=mongo_db_name)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("300 backlinks in ")
    assert f"{lost} lost" in out and f"lost links, most valuable first (20 of {lost} shown)" in out
    assert "last backlinks run: started 2026-11-30 11:30:00, finished 2026-11-30 11:55:00 (finished)" in out
    assert f"due for a check now: {due}" in out
    events_part = out.split("recent events")[1]
    assert " -> https://our.example/page/" in events_part.splitlines()[1]  # the target URL is on the event line

    # Filters: a status (or a class), our page (exact or prefix), the linking domain, since when.
    nofollow = linkstatus("--status", "nofollow", "--limit", "500", uri=mongo_uri, name=mongo_db_name).stdout
    count = mongo_db.backlinks.count_documents({"status": "nofollow"})
    assert f"links in nofollow, most valuable first ({count} of {count} shown)" in nofollow

    target = "https://our.example/page/3"
    exact = json.loads(linkstatus("--target", target, "--status", "lost,live,degraded", "--format", "json", "--limit",
                                  "1000", uri=mongo_uri, name=mongo_db_name).stdout)
    assert {d["target_url"] for d in exact["listed"]} == {target}
    assert exact["total"] == mongo_db.backlinks.count_documents({"target_url": target})
    prefix = json.loads(linkstatus("--target", "https://our.example/page/1*", "--format", "json",
                                   uri=mongo_uri, name=mongo_db_name).stdout)
    assert prefix["total"] == mongo_db.backlinks.count_documents({"target_url": {"$regex": "^https://our.example/page/1"}})

    domain = json.loads(linkstatus("--domain", "Site3.Example", "--format", "json", "--limit", "100",
                                   uri=mongo_uri, name=mongo_db_name).stdout)
    assert domain["total"] == mongo_db.backlinks.count_documents({"source_domain": "site3.example"}) > 0
    assert all("//site3.example/" in e["source_url"] for e in domain["events"]) and domain["events"]

    since = datetime(2026, 10, 31, tzinfo=timezone.utc)
    recent = json.loads(linkstatus("--since", "2026-10-31", "--format", "json", "--limit", "1000",
                                   uri=mongo_uri, name=mongo_db_name).stdout)
    assert recent["listed_total"] == mongo_db.backlinks.count_documents(
        {"status": {"$in": LOST}, "last_changed": {"$gte": since}})
    assert recent["events_total"] == mongo_db.link_events.count_documents(
        {"type": {"$ne": "new"}, "detected_at": {"$gte": since}})
    assert all(e["detected_at"] >= since.isoformat() for e in recent["events"])


def test_csv_and_json_for_scripts(mongo_db: pymongo.database.Database, mongo_uri: str, mongo_db_name: str) -> None:
    populate(mongo_db, NOW, others=False)
    as_json = json.loads(linkstatus("--format", "json", uri=mongo_uri, name=mongo_db_name).stdout)
    assert as_json["total"] == 300 and sum(as_json["by_status"].values()) == 300
    assert as_json["last_run"]["finish_reason"] == "finished"
    rows = list(csv.DictReader(io.StringIO(linkstatus("--format", "csv", uri=mongo_uri, name=mongo_db_name).stdout)))
    counts = {r["status"]: int(r["count"]) for r in rows if r["record"] == "count"}
    assert counts == as_json["by_status"]
    assert sum(r["record"] == "link" for r in rows) == 20 and sum(r["record"] == "event" for r in rows) == 20
    # A hostile reason cannot become a spreadsheet formula or break the table.
    assert all(not r["reason"].startswith(("=", "+", "@")) for r in rows)


def test_bad_filters_are_one_clear_error(mongo_uri: str, mongo_db_name: str) -> None:
    bad = linkstatus("--status", "lost,gone", uri=mongo_uri, name=mongo_db_name)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --status: unknown status 'gone'")
    bad = linkstatus("--since", "last week", uri=mongo_uri, name=mongo_db_name)
    assert bad.returncode == 2 and "--since 'last week' is not an ISO 8601 date" in bad.stderr


def test_crawl_on_an_empty_database_says_to_import_first(mongo_uri: str, mongo_db_name: str) -> None:
    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "backlinks"], cwd=PROJECT_ROOT,
                          env={**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no backlinks known yet: load an export first with scrapy importlinks FILE" in done.stderr


def test_a_host_filters_on_its_registrable_domain() -> None:
    from linkcrawler.report.status import StatusFilter, parse_statuses

    assert StatusFilter(domain="Blog.Example.co.uk.").backlinks() == {"source_domain": "example.co.uk"}
    assert parse_statuses("lost, nofollow") == ["removed", "page_gone", "redirected", "unreachable", "nofollow"]
