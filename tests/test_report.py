"""``scrapy linkreport``: one HTML file that opens offline, with charts that draw and third-party text escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pymongo
import pytest

from linkcrawler.audit.store import referring_domains
from linkcrawler.report.html import build_report, collect
from tests.report_data import HOSTILE, populate

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


def scrapy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=PROJECT_ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


def test_report_shows_every_section_and_escapes_third_party_text(mongo_db: pymongo.database.Database) -> None:
    populate(mongo_db, NOW)
    data = collect(mongo_db, NOW)
    assert data.total == 300 and sum(data.classes.values()) == 300
    assert data.classes["lost"] == sum(data.lost_by_status.values()) == mongo_db.backlinks.count_documents(
        {"status": {"$in": ["removed", "page_gone", "redirected", "unreachable"]}})
    # The most valuable lost links come first, each with a Wayback link.
    priorities = [link["priority"] for link in data.lost_top]
    assert priorities == sorted(priorities, reverse=True) and len(data.lost_top) == 50
    assert all(link["wayback_url"].startswith("https://web.archive.org/web/") for link in data.lost_top)
    assert data.referring_total == len(mongo_db.backlinks.distinct(
        "source_domain", {"status": {"$nin": ["removed", "page_gone", "redirected", "unreachable"]}}))
    assert data.audit["pages"] == mongo_db.pages.count_documents({}) and data.audit["chains"]
    assert set(data.others) == {"mentions", "opportunities", "toxicity", "outreach"}
    # Most-linked pages counted by toplinked's rule (audit.store.referring_domains), ranked in MongoDB.
    expected = sorted(referring_domains(mongo_db), key=lambda r: (-r["domains"], -r["backlinks"], r["_id"]))[:50]
    assert [(p["url"], p["domains"], p["backlinks"]) for p in data.most_linked] == [
        (r["_id"], r["domains"], r["backlinks"]) for r in expected]
    assert {p["health"] for p in data.most_linked} >= {"ok", "broken", "redirect"}
    assert data.others["outreach"]["funnel"][:5] == [("todo", 3), ("contacted", 3), ("followed_up", 3),
                                                      ("replied", 3), ("won", 3)]
    # The weekly states end where the backlinks are now.
    weeks = collect(mongo_db, NOW).charts["over_time"]
    assert "<polyline" in weeks

    html = build_report(mongo_db, NOW)
    tree = lxml.html.fromstring(html)
    # The hostile strings are text, never markup: no script, no element with a src or an event handler.
    assert tree.xpath("//script | //img | //iframe | //link | //*[@src] | //*[@onerror]") == []
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert '<script>alert("x")</script>' in tree.text_content()
    # In the charts too (a lost link's reason is a bar's label).
    assert any("<script>" in t.text_content() for t in tree.xpath("//svg//text"))
    assert "\x1b" not in html
    assert [s.get("id") for s in tree.xpath("//section")] == [
        "overview", "lost", "domains", "pages", "audit", "mentions", "opportunities", "toxicity", "outreach"]
    # Nothing to fetch: no stylesheet, script, image or font from elsewhere.
    assert "@import" not in html and "url(" not in html


def test_an_empty_database_gives_a_report_too(mongo_db: pymongo.database.Database) -> None:
    html = build_report(mongo_db, NOW)
    assert "no data yet" in html and "No lost links." in html and 'id="mentions"' not in html


def test_linkreport_needs_an_output(mongo_uri: str, mongo_db_name: str) -> None:
    done = scrapy("linkreport", env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name})
    assert done.returncode == 2
    assert done.stderr.strip() == "error: say where to write the report: scrapy linkreport -o report.html"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
@pytest.mark.parametrize("width", [1200, 390], ids=["desktop", "phone"])
def test_report_opens_offline_in_chromium(mongo_db: pymongo.database.Database, mongo_uri: str, mongo_db_name: str,
                                          tmp_path: Path, width: int) -> None:
    populate(mongo_db, NOW)
    report = tmp_path / "out" / "report.html"
    done = scrapy("linkreport", "-o", str(report), env={"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name,
                                                         "LINKCRAWLER_NOW": NOW.isoformat()})
    assert done.returncode == 0, done.stderr
    assert f"report written to {report}" in done.stdout
    screenshot = tmp_path / f"report-{width}.png"
    # Playwright's sync API runs its own event loop: in a process of its own, away from the test's reactor.
    browser = subprocess.run([sys.executable, "-m", "tests.browser_check", str(report), str(screenshot),
                              "--width", str(width)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)
    assert browser.returncode == 0, browser.stderr
    seen = json.loads(browser.stdout)
    assert seen["requests"] == [report.resolve().as_uri()]
    assert seen["blocked"] == [] and seen["failed"] == []
    assert seen["console_errors"] == [] and seen["page_errors"] == []
    assert seen["scripts"] == 0
    assert len(seen["charts"]) == 10
    for chart in seen["charts"]:
        assert chart["children"] > 0 and chart["texts"] > 0, chart
        assert 0 < chart["width"] <= width and chart["height"] > 20, chart
    # Readable on a phone: the page itself never scrolls sideways (wide tables scroll in their box).
    assert seen["scroll_width"] <= width
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot of the report: {screenshot}")
    assert HOSTILE not in report.read_text(encoding="utf-8")


def test_lost_links_take_the_archived_copy_from_their_lost_event(mongo_db: pymongo.database.Database) -> None:
    from linkcrawler.backlinks.events import event_key
    from linkcrawler.report.queries import most_valuable_lost

    gone = datetime(2026, 10, 1, tzinfo=timezone.utc)
    mongo_db.backlinks.insert_many([
        {"_id": "a", "source_url": "https://a.example/", "target_url": "https://our.example/", "status": "removed",
         "priority": 90, "last_changed": NOW, "state_version": 2},
        {"_id": "b", "source_url": "https://b.example/", "target_url": "https://our.example/", "status": "page_gone",
         "priority": 80, "last_changed": NOW, "state_version": 1},
    ])
    archived = "https://web.archive.org/web/20261001000000/https://a.example/"
    mongo_db.link_events.insert_many([
        {"_id": event_key("a", 0), "type": "new", "backlink_id": "a", "detected_at": gone, "wayback_url": None},
        {"_id": event_key("a", 1), "type": "lost", "backlink_id": "a", "detected_at": gone, "wayback_url": archived},
        {"_id": event_key("a", 2), "type": "changed", "backlink_id": "a", "detected_at": NOW, "wayback_url": None},
        # Another link's lost event is not this one's.
        {"_id": event_key("b", 1), "type": "lost", "backlink_id": "b", "detected_at": gone,
         "wayback_url": "https://web.archive.org/web/2026/https://b.example/"},
    ])
    lost = {doc["_id"]: doc["wayback_url"] for doc in most_valuable_lost(mongo_db)}
    assert lost == {"a": archived, "b": "https://web.archive.org/web/2026/https://b.example/"}
