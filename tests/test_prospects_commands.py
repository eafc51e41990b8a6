"""scrapy importlinks --competitor, scrapy linkgap and scrapy opportunities, run as a user runs them."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pymongo

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.imports.urllist import UrlEntry, read_url_list
from linkcrawler.prospects.items import OpportunityItem
from linkcrawler.prospects.linkgap import competitor_domain, link_gap
from linkcrawler.prospects.store import opportunity_ops
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from tests.test_cli import scrapy

NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)

# An Ahrefs CSV export of rival-a.com's backlinks, and a SEMrush one of rival-b.com's.
RIVAL_A = """Referring page title,Referring page URL,Domain rating,UR,Target URL,Anchor,Type,Nofollow,First seen
Tools,https://toolsblog.com/best-seo-tools,71,20,https://rival-a.com/,Rival A,text,false,2024-01-01
Tools 2,https://toolsblog.com/more-tools,71,18,https://rival-a.com/x,Rival A,text,false,2024-01-01
Forum,https://forum.net/thread/1,35,10,https://rival-a.com/,rival,text,false,2024-01-01
Ours too,https://alreadylinks.org/list,60,10,https://rival-a.com/,rival,text,false,2024-01-01
Only A,https://onlya.io/page,90,10,https://rival-a.com/,rival,text,false,2024-01-01
"""
RIVAL_B = """Page ascore,Source title,Source url,Target url,Anchor,Nofollow,Sitewide,First seen,Last seen
55,Tools,https://toolsblog.com/best-seo-tools,https://rival-b.com/,Rival B,false,false,2024-01-01,2026-11-01
30,Forum,https://forum.net/thread/2,https://rival-b.com/,B,false,false,2024-01-01,2026-11-01
60,Ours,https://alreadylinks.org/list,https://rival-b.com/,B,false,false,2024-01-01,2026-11-01
"""


def test_link_gap_from_two_competitor_exports(tmp_path: Path, mongo_uri: str, mongo_db_name: str,
                                              mongo_db: pymongo.database.Database) -> None:
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_OWN_DOMAINS": "our.com"}
    (tmp_path / "a.csv").write_text(RIVAL_A)
    (tmp_path / "b.csv").write_text(RIVAL_B)
    # A site that already links to us is no gap.
    ensure_indexes(mongo_db)
    write_batch(mongo_db, new_backlink_ops("https://alreadylinks.org/list", "https://our.com/", NOW, "test"))

    first = scrapy("importlinks", "--competitor", "https://www.Rival-A.com/", str(tmp_path / "a.csv"), env=env)
    assert first.returncode == 0, first.stderr
    assert "imported 5 rows of rival-a.com's backlinks" in first.stdout
    assert scrapy("importlinks", "--competitor", "rival-b.com", str(tmp_path / "b.csv"), env=env).returncode == 0
    again = scrapy("importlinks", "--competitor", "rival-b.com", str(tmp_path / "b.csv"), env=env)
    assert again.returncode == 0
    assert mongo_db.competitor_links.count_documents({}) == 8  # idempotent
    assert mongo_db.backlinks.count_documents({}) == 1  # never into backlinks
    doc = mongo_db.competitor_links.find_one({"competitor": "rival-a.com", "source_url": "https://forum.net/thread/1"})
    assert doc is not None and doc["source_domain"] == "forum.net" and doc["authority"] == 35
    assert doc["anchor_text"] == "rival" and doc["target_url"] == "https://rival-a.com/" and doc["imported_at"]

    out = tmp_path / "gap.csv"
    gap = scrapy("linkgap", "--min-competitors", "2", "-o", str(out), env=env)
    assert gap.returncode == 0, gap.stderr
    assert "2 referring domain(s) link to at least 2 of 2 competitor(s)" in gap.stdout
    rows = list(csv.DictReader(out.read_text().splitlines()))
    # toolsblog.com (authority 71) before forum.net (35); alreadylinks.org links to us; onlya.io to one rival.
    assert [(row["domain"], row["rank"]) for row in rows] == [
        ("toolsblog.com", "1"), ("toolsblog.com", "1"), ("forum.net", "2"), ("forum.net", "2")]
    entries = [e for e in read_url_list(str(out)) if isinstance(e, UrlEntry)]
    assert [e.url for e in entries] == [row["url"] for row in rows]
    assert entries[0].fields["authority"] == "71.0"

    text = tmp_path / "gap.txt"
    assert scrapy("linkgap", "--min-competitors", "1", "-o", str(text), env=env).returncode == 0
    urls = [e.url for e in read_url_list(str(text)) if isinstance(e, UrlEntry)]
    assert urls[-1] == "https://onlya.io/page"  # one rival: after those of two, whatever its authority
    assert "https://alreadylinks.org/list" not in urls


def test_link_gap_ranking_rules() -> None:
    links = [
        {"competitor": "a.com", "source_url": "https://x.com/1", "source_domain": "x.com", "authority": 10},
        {"competitor": "b.com", "source_url": "https://x.com/2", "source_domain": "x.com"},
        {"competitor": "c.com", "source_url": "https://x.com/2", "source_domain": "x.com"},
        {"competitor": "a.com", "source_url": "https://y.com/1", "source_domain": "y.com", "authority": 80},
        {"competitor": "b.com", "source_url": "https://y.com/1", "source_domain": "y.com"},
        {"competitor": "a.com", "source_url": "https://b.com/links", "source_domain": "b.com"},
        {"competitor": "c.com", "source_url": "https://b.com/links", "source_domain": "b.com"},
        {"competitor": "a.com", "source_url": "https://blog.our.com/", "source_domain": "blog.our.com"},
        {"competitor": "b.com", "source_url": "https://blog.our.com/", "source_domain": "blog.our.com"},
    ]
    gaps = link_gap(links, linking_to_us=set(), own_domains=["our.com"], min_competitors=2)
    # three rivals beat two; a competitor is no prospect; nor is our own site.
    assert [(g.domain, len(g.competitors)) for g in gaps] == [("x.com", 3), ("y.com", 2)]


def test_opportunities_best_first_with_contacts_and_a_safe_csv(tmp_path: Path, mongo_uri: str, mongo_db_name: str,
                                                               mongo_db: pymongo.database.Database) -> None:
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name}
    ensure_indexes(mongo_db)

    def opportunity(page: str, score: int, anchor: str = "guide") -> OpportunityItem:
        return OpportunityItem(
            page_url=page, page_domain="toolsblog.com", page_title="=HYPERLINK(\"http://evil\")", link_url=f"{page}-dead",
            anchor_text=anchor, context="Read the guide.", broken_reason="http_404", http_status=404,
            linked_from_pages=1, wayback_url="https://web.archive.org/web/*/x", suggested_target=None,
            suggestion_score=None, score=score, score_reasons=["site authority 70 (from the import): +21"],
            last_checked=NOW)

    ops = [op for item in (opportunity("https://toolsblog.com/a", 40), opportunity("https://toolsblog.com/b", 80,
                                                                                   "@SUM(1+1)"),
                           opportunity("https://toolsblog.com/c", 10)) for op in opportunity_ops(item)]
    write_batch(mongo_db, ops)
    mongo_db.opportunities.update_one({"page_url": "https://toolsblog.com/c"}, {"$set": {"status": "fixed"}})
    mongo_db.contacts.insert_many([
        {"domain": "toolsblog.com", "key": "email:ann@toolsblog.com", "name": "Ann", "email": "ann@toolsblog.com",
         "confidence": 0.9},
        {"domain": "toolsblog.com", "key": "email:bob@toolsblog.com", "name": "Bob", "email": "bob@toolsblog.com",
         "confidence": 0.4},
    ])
    out = tmp_path / "opps.csv"
    result = scrapy("opportunities", "--min-score", "20", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "2 open opportunities scoring 20 or more; 1 fixed" in result.stdout
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [row["page_url"] for row in rows] == ["https://toolsblog.com/b", "https://toolsblog.com/a"]
    assert rows[0]["anchor_text"] == "'@SUM(1+1)" and rows[0]["page_title"].startswith("'=HYPERLINK")
    assert (rows[0]["contact_name"], rows[0]["contact_email"]) == ("Ann", "ann@toolsblog.com")
    assert rows[0]["score_reasons"] == "site authority 70 (from the import): +21"
    assert rows[0]["broken_reason"] == "http_404" and rows[0]["score"] == "80"


def test_competitor_domain_and_bad_input(tmp_path: Path, mongo_uri: str, mongo_db_name: str) -> None:
    assert competitor_domain("https://www.Rival.co.uk/path") == "rival.co.uk"
    assert competitor_domain("blog.rival.com") == "rival.com"
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name}
    bad = scrapy("importlinks", "--competitor", "not a domain", str(tmp_path / "x.csv"), env=env)
    assert bad.returncode == 2 and "--competitor" in bad.stderr
    missing = scrapy("importlinks", "--competitor", "rival.com", str(tmp_path / "missing.csv"), env=env)
    assert missing.returncode == 2 and "missing.csv: no such file" in missing.stderr
    empty = scrapy("linkgap", env=env)
    assert empty.returncode == 0 and "no competitor links" in empty.stdout
