"""``scrapy outreach``: list, due, mark and the mail-merge CSV, run as a user runs them."""

from __future__ import annotations

import csv
from pathlib import Path

import pymongo

from linkcrawler.contacts.extract import Contact, Source
from linkcrawler.contacts.outreach_store import task_id
from linkcrawler.contacts.store import contact_ops
from linkcrawler.store.writer import write_batch
from tests.test_cli import scrapy
from tests.test_outreach import T0, Web


def test_list_mark_due_and_export(mongo_uri: str, mongo_db_name: str, mongo_db: pymongo.database.Database,
                                  tmp_path: Path) -> None:
    web = Web(mongo_db)
    link = web.link("https://blog.site.org/post", authority=90)
    web.event(link, "lost", "page_gone", priority=93)
    contact = Contact(domain="site.org", name="=HYPERLINK(\"http://evil\")", email="jane@site.org",
                      sources=[Source("https://site.org/contact", "mailto")], confidence=0.99)
    assert not write_batch(mongo_db, contact_ops(contact, T0))[1]
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_NOW": "2026-11-01T12:00:00Z"}
    ident = task_id("reclaim_lost_link", link)

    listed = scrapy("outreach", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "1 open outreach task(s); this sync: 1 task(s) created" in listed.stdout
    assert ident in listed.stdout and "reclaim_lost_link" in listed.stdout and "<jane@site.org>" in listed.stdout

    bad = scrapy("outreach", "mark", ident, "replied", env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: a task that is todo cannot become replied (it can become: closed, contacted, declined, won)"]
    unknown = scrapy("outreach", "mark", "0000000000", "contacted", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: no outreach task '0000000000' (see: scrapy outreach list)"
    missing = scrapy("outreach", "mark", ident, env=env)
    assert missing.returncode == 2 and "expected an ID and a STATUS" in missing.stderr

    marked = scrapy("outreach", "mark", ident, "contacted", "--note", "wrote to Jane", env=env)
    assert marked.returncode == 0, marked.stderr
    assert f"{ident} is contacted, follow-up due 2026-11-08" in marked.stdout
    not_yet = scrapy("outreach", "due", env={**env, "LINKCRAWLER_NOW": "2026-11-07T12:00:00Z"})
    assert "0 follow-up(s) due" in not_yet.stdout
    due = scrapy("outreach", "due", env={**env, "LINKCRAWLER_NOW": "2026-11-08T12:00:01Z"})
    assert due.returncode == 0 and "1 follow-up(s) due" in due.stdout and ident in due.stdout

    out = tmp_path / "outreach.csv"
    exported = scrapy("outreach", "export", "-o", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "'=HYPERLINK(\"http://evil\")"  # shown as text, never run as a formula
    assert row["email"] == "jane@site.org" and row["page"] == "https://blog.site.org/post"
    assert row["our_url"] == "https://our.example.net/"
    assert row["reason"].startswith("ask to restore a lost link: the page no longer links to https://our.example.net/")
    assert row["status"] == "contacted" and row["follow_up_due"] == "2026-11-08T12:00:00+00:00"
    no_file = scrapy("outreach", "export", env=env)
    assert no_file.returncode == 2 and "-o FILE.csv is required" in no_file.stderr
    wrong = scrapy("outreach", "send", env=env)
    assert wrong.returncode == 2 and "unknown action 'send'" in wrong.stderr
