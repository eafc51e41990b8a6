"""toxicaudit and disavow over a real store: the roll-up, decisions kept across re-audits,
the merge, and every file version with its diff."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pymongo

from linkcrawler.backlinks.store import new_backlink_ops
from linkcrawler.store.indexes import ensure_indexes
from linkcrawler.store.writer import write_batch
from linkcrawler.toxicity.disavow import entry_lines
from linkcrawler.toxicity.items import LinkingPageFacts
from linkcrawler.toxicity.page import page_facts
from linkcrawler.toxicity.store import linking_page_ops
from linkcrawler.web.page import analyze_page
from tests.test_cli import scrapy

OUR = "https://our.example/shoes"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
PROSE = ("We tested twelve pairs over three months of road and trail running, and kept notes on comfort, grip "
         "and wear. The editors compared prices in several shops and asked readers which pairs lasted longest. ") * 3


def html(body: str, head: str = "") -> str:
    return f"<html><head><title>A page</title>{head}</head><body>{body}</body></html>"


def known(db: pymongo.database.Database, source: str, anchor: str | None, page: str | None) -> None:
    """A backlink from ``source`` with ``anchor``; ``page``: the HTML the spider saw there (None: never checked)."""
    assert not write_batch(db, new_backlink_ops(source, OUR, NOW, "test import", anchor_text=anchor))[1]
    if page is not None:
        analysis = analyze_page(source, page.encode(), {"Content-Type": "text/html"}, targets=[OUR])
        item = LinkingPageFacts(page_facts(source, analysis, [OUR]), NOW)
        assert not write_batch(db, linking_page_ops(item))[1]


def link(anchor: str) -> str:
    return f'<a href="{OUR}">{anchor}</a>'


def populate(db: pymongo.database.Database) -> None:
    ensure_indexes(db)
    hidden = html(f"<p>Casino slots and roulette, free spins and jackpot at the online casino.</p>"
                  f'<div style="display:none">{link("cheap running shoes")}</div>')
    known(db, "http://spam-casino.xyz/bonus", "cheap running shoes", hidden)
    benign = html(f"<p>{PROSE}</p><p>Read {link('their review')}.</p>")
    for i in range(8):
        known(db, f"https://blog{i}.example.org/post", f"review {i}", benign)
    thin = html(f"<p>Great shoes: {link('cheap running shoes')}</p>")
    for name in ("net-one.com", "net-two.com", "net-three.com"):
        known(db, f"http://www.{name}/shoes", "cheap running shoes", thin)
    known(db, "https://never-checked.example.net/p", "shoes", None)


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = scrapy(*args, env=env)
    return done.returncode, done.stdout, done.stderr


def test_audit_decisions_and_disavow_versions(mongo_uri: str, mongo_db_name: str,
                                              mongo_db: pymongo.database.Database, tmp_path: Path) -> None:
    populate(mongo_db)
    resolve = {"www.net-one.com": "198.51.100.1", "www.net-two.com": "198.51.100.2",
               "www.net-three.com": "198.51.100.3", "spam-casino.xyz": "192.0.2.10",
               "never-checked.example.net": "192.0.2.77",
               **{f"blog{i}.example.org": "203.0.113.5" for i in range(8)}}
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_NOW": NOW.isoformat(),
           "LINKCRAWLER_MONEY_TERMS": "cheap running shoes", "LINKCRAWLER_TOXIC_RESOLVE": json.dumps(resolve)}

    code, out, err = run(env, "toxicaudit")
    assert code == 0, err
    docs = {doc["_id"]: doc for doc in mongo_db.toxicity.find()}
    assert set(docs) == {"spam-casino.xyz", "example.org", "net-one.com", "net-two.com", "net-three.com",
                         "example.net"}
    spam = docs["spam-casino.xyz"]
    assert {s["name"] for s in spam["signals"]} >= {"hidden_link", "poison_words", "abused_tld",
                                                    "exact_match_anchor", "anchor_over_optimisation"}
    assert spam["verdict"] == "toxic" and spam["score"] == 100 and spam["decision"] is None
    assert spam["links"] == 1 and spam["scored_at"] == NOW
    assert all(set(s) == {"name", "weight", "evidence"} for s in spam["signals"])
    net = docs["net-two.com"]
    assert {s["name"] for s in net["signals"]} == {"link_network", "thin_content", "exact_match_anchor",
                                                   "anchor_over_optimisation"}
    assert "198.51.100.0/24 with 2 other linking domain(s): net-one.com, net-three.com" in next(
        s["evidence"] for s in net["signals"] if s["name"] == "link_network")
    assert net["verdict"] == "toxic"
    # Eight pages of one registrable domain on one address are not a network (one domain).
    assert docs["example.org"]["verdict"] == "ok" and docs["example.org"]["links"] == 8
    never = docs["example.net"]
    assert never["unchecked_pages"] == 1 and never["checked_pages"] == 0
    assert "1 linking page(s) never read (not checked yet" in out
    assert "toxicaudit: 6 linking domain(s): 4 toxic, 0 to review, 2 ok" in out

    code, out, err = run(env, "toxicaudit", "--keep", "www.net-one.com", "--disavow", "https://blog3.example.org/x")
    assert code == 0, err
    assert "decision keep: net-one.com" in out and "decision disavow: example.org" in out
    code, out, err = run({**env, "LINKCRAWLER_TOXIC_WEIGHTS": '{"link_network": 0}'}, "toxicaudit")
    assert code == 0, err
    docs = {doc["_id"]: doc for doc in mongo_db.toxicity.find()}
    assert docs["net-one.com"]["decision"] == "keep" and docs["example.org"]["decision"] == "disavow"
    assert "link_network" not in {s["name"] for s in docs["net-one.com"]["signals"]}  # re-scored, decision kept
    assert docs["net-one.com"]["verdict"] == "review"

    code, out, err = run(env, "toxicaudit", "--explain", "SPAM-casino.xyz")
    assert code == 0, err
    assert out.startswith("spam-casino.xyz: score 100, verdict toxic, decision none, 1 link(s) to us")
    assert "+60  hidden_link: the link to https://our.example/shoes is hidden from readers (display:none" in out
    code, _, err = run(env, "toxicaudit", "--explain", "nowhere.example")
    assert code == 2 and "nowhere.example has no toxicity record" in err

    first = tmp_path / "disavow-1.txt"
    code, out, err = run(env, "disavow", "-o", str(first))
    assert code == 0, err
    text = first.read_text()
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "domain:example.org", "domain:spam-casino.xyz"]  # net-* no longer toxic without link_network; kept one out
    assert text.startswith(f"# Disavow file for Google Search Console, written by linkcrawler on {NOW.isoformat()}")
    assert "# How: scrapy disavow: linking domains with verdict toxic (score >= 60)," in text
    code, out, _ = run(env, "disavow", "--check", str(first))
    assert code == 0 and "2 entries (2 domains, 0 URLs), 0 error(s), 0 warning(s): valid" in out

    existing = tmp_path / "submitted.txt"
    existing.write_text("# what we sent in 2025\ndomain:net-one.com\nhttps://old-spam.com/page.html\n"
                        "domain:other-spam.org\nhttps://www.net-one.com/p\n")
    second = tmp_path / "disavow-2.txt"
    code, out, err = run(env, "disavow", "-o", str(second), "--min-score", "40", "--merge", str(existing))
    assert code == 0, err
    entries = [line for line in second.read_text().splitlines() if not line.startswith("#")]
    assert entries == ["domain:example.org", "domain:net-three.com", "domain:net-two.com", "domain:other-spam.org",
                       "domain:spam-casino.xyz", "https://old-spam.com/page.html"]
    assert "removed by a keep decision: domain:net-one.com" in out
    assert "removed by a keep decision: https://www.net-one.com/p" in out
    assert "# Merged with submitted.txt: 2 of its entries kept, 2 removed by a keep decision" in second.read_text()

    versions = list(mongo_db.disavow_versions.find().sort("_id", 1))
    assert len(versions) == 2
    v1, v2 = versions
    assert v1["added"] == ["domain:example.org", "domain:spam-casino.xyz"] and v1["removed"] == []
    assert v2["added"] == ["domain:net-three.com", "domain:net-two.com", "domain:other-spam.org",
                           "https://old-spam.com/page.html"] and v2["removed"] == []
    assert v2["text"] == second.read_text() and v2["domains"] == 5 and v2["urls"] == 1
    assert v2["lines"] == len(second.read_text().splitlines()) and len(v2["sha256"]) == 64
    assert set(v2) >= {"created_at", "lines", "domains", "urls", "added", "removed", "sha256", "text"}

    code, out, err = run(env, "toxicaudit", "--keep", "spam-casino.xyz")
    assert code == 0, err
    third = tmp_path / "disavow-3.txt"
    code, out, err = run(env, "disavow", "-o", str(third))
    assert code == 0, err
    v3 = mongo_db.disavow_versions.find_one({"file": str(third)})
    # The re-audit (default weights) found net-two and net-three toxic again; without --merge the
    # submitted file's entries are not carried over, and the kept domain goes.
    assert v3["added"] == [] and v3["removed"] == ["domain:other-spam.org", "domain:spam-casino.xyz",
                                                   "https://old-spam.com/page.html"]
    assert entry_lines(third.read_text()) == ["domain:example.org", "domain:net-three.com", "domain:net-two.com"]

    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xef\xbb\xbfdomain:a.com\ndomain:a.com/blog\ndomain:a.com\n")
    code, out, _ = run(env, "disavow", "--check", str(bad))
    assert code == 1
    assert f"{bad}:line 1: error: starts with a UTF-8 byte order mark" in out
    assert f"{bad}:line 2: error: 'domain:a.com/blog': path-level domain: entry" in out
    assert f"{bad}:line 3: warning: duplicate of line 1: domain:a.com" in out
    code, _, err = run(env, "disavow", "-o", str(tmp_path / "x.txt"), "--merge", str(bad))
    assert code == 2 and "--merge" in err and "fix them first" in err
    assert not (tmp_path / "x.txt").exists()


def test_imported_toxicity_and_authority_become_signals(mongo_uri: str, mongo_db_name: str,
                                                        mongo_db: pymongo.database.Database, tmp_path: Path) -> None:
    semrush = tmp_path / "semrush-audit.csv"
    semrush.write_text(
        "Source url,Source title,Target url,Anchor,Toxicity score,Page ascore\n"
        f"https://semrushtoxic.com/p,Spam,{OUR},boots,72,3\n"
        f"https://semrushfine.com/p,Fine,{OUR},boots,12,45\n"
    )
    generic = tmp_path / "generic.csv"
    generic.write_text(f"source_url,target_url,anchor_text,authority,toxicity\nhttps://generic.org/a,{OUR},x,50,65\n")
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name, "LINKCRAWLER_NOW": NOW.isoformat(),
           "LINKCRAWLER_TOXIC_RESOLVE": json.dumps({"semrushtoxic.com": "192.0.2.1", "semrushfine.com":
                                                    "192.0.2.200", "generic.org": "198.51.100.7"})}
    code, _, err = run(env, "importlinks", str(semrush), str(generic))
    assert code == 0, err
    scores = {doc["source_domain"]: doc.get("import_toxicity") for doc in mongo_db.backlinks.find()}
    assert scores == {"semrushtoxic.com": 72.0, "semrushfine.com": 12.0, "generic.org": 65.0}
    # A re-import with a new score refreshes it.
    semrush.write_text(semrush.read_text().replace(",12,45", ",61,45"))
    assert run(env, "importlinks", str(semrush))[0] == 0
    assert mongo_db.backlinks.find_one({"source_domain": "semrushfine.com"})["import_toxicity"] == 61.0

    code, _, err = run(env, "toxicaudit")
    assert code == 0, err
    docs = {doc["_id"]: doc for doc in mongo_db.toxicity.find()}
    assert {s["name"] for s in docs["semrushtoxic.com"]["signals"]} == {"import_toxicity", "low_authority"}
    assert "an import scored it 72 of 100 for toxicity" in docs["semrushtoxic.com"]["signals"][0]["evidence"]
    assert {s["name"] for s in docs["generic.org"]["signals"]} == {"import_toxicity"}
    assert docs["semrushtoxic.com"]["unchecked_pages"] == 1
