"""``scrapy crawl SPIDER -o FILE`` as a user runs it: one clean row per link, page or finding."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pymongo

from tests.fixtures.services import free_port
from tests.mockserver import MockServer
from tests.test_cli import scrapy

LINKING_PAGE = """<html><head><title>Links</title></head><body>
<p><a href="http://our.test/" rel="nofollow ugc">Our site</a> and <a href="http://our.test/new">new one</a></p>
</body></html>"""


def _env(mongo_uri: str, db: str) -> dict[str, str]:
    return {"MONGO_URI": mongo_uri, "MONGO_DATABASE": db, "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "1",
            "LINKCRAWLER_OWN_DOMAINS": "our.test"}


def test_backlinks_export_one_row_per_link(tmp_path: Path, site_dir: Path, mockserver: MockServer,
                                           mongo_uri: str, mongo_db_name: str,
                                           mongo_db: pymongo.database.Database) -> None:
    (site_dir / "page.html").write_text(LINKING_PAGE)
    page, gone = mockserver.url("/page.html"), mockserver.url("/status/404")
    export = tmp_path / "export.csv"
    export.write_text("source_url,target_url\n"
                      f"{page},http://our.test/\n{gone},http://our.test/\n{gone},http://our.test/other\n")
    env = _env(mongo_uri, mongo_db_name)
    assert scrapy("importlinks", str(export), env=env).returncode == 0

    out_csv, out_jsonl = tmp_path / "links.csv", tmp_path / "links.jsonl"
    done = scrapy("crawl", "backlinks", "-a", "all=1", "-o", str(out_csv), "-o", str(out_jsonl), env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    with out_csv.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # Three known links and one new link found on the page: one row each.
    assert sorted((r["source_url"], r["target_url"], r["status"]) for r in rows) == sorted([
        (page, "http://our.test/", "nofollow"),
        (page, "http://our.test/new", "pending"),
        (gone, "http://our.test/", "page_gone"),
        (gone, "http://our.test/other", "page_gone"),
    ])
    assert {r["event"] for r in rows if r["status"] == "page_gone"} == {"lost"}
    assert [r["event"] for r in rows if r["status"] == "pending"] == ["new"]
    assert {r["record"] for r in rows} == {"backlinks"}
    nofollow = next(r for r in rows if r["source_url"] == page and r["target_url"] == "http://our.test/")
    assert nofollow["rel"] == "nofollow ugc" and nofollow["anchor_text"] == "Our site"
    assert nofollow["http_status"] == "200" and nofollow["previous_status"] == "pending"
    text = out_csv.read_text(encoding="utf-8")
    for leak in ("WriteOp", "datetime.datetime", "{'", "BacklinkUpdate", "KnownLink"):
        assert leak not in text
    assert list(rows[0]) == ["record", "source_url", "target_url", "status", "previous_status", "status_reason",
                             "event", "http_status", "final_url", "redirect_chain", "anchor_text", "rel",
                             "consecutive_failures", "priority", "last_checked"]

    lines = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4
    assert all(set(line) >= {"record", "source_url", "target_url", "status"} for line in lines)
    assert not any("ops" in line or "updates" in line or "collection" in line for line in lines)
    # What was exported is what was stored.
    stored = {(d["source_url"], d["target_url"]): d["status"] for d in mongo_db.backlinks.find()}
    assert {(line["source_url"], line["target_url"]): line["status"] for line in lines} == stored


def test_site_audit_export_pages_and_findings(tmp_path: Path, site_dir: Path, mockserver: MockServer,
                                              mongo_uri: str, mongo_db_name: str) -> None:
    (site_dir / "index.html").write_text(
        '<html><head><title>Home</title></head><body><a href="/a.html">a</a> <a href="/missing.html">m</a>'
        f' <a href="http://127.0.0.1:{free_port()}/x">dead</a></body></html>')
    (site_dir / "a.html").write_text("<html><head><title>A</title></head><body>ok</body></html>")
    out = tmp_path / "audit.jsonl"
    done = scrapy("crawl", "site_audit", "-a", f"start_url={mockserver.url('/index.html')}", "-o", str(out),
                  env=_env(mongo_uri, mongo_db_name))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    records = {line["record"] for line in lines}
    assert records == {"pages", "broken_links"}
    pages = {line["url"]: line for line in lines if line["record"] == "pages"}
    assert pages[mockserver.url("/index.html")]["title"] == "Home"
    assert pages[mockserver.url("/missing.html")]["status"] == 404
    broken = {(line["link_url"], line["kind"], line["status"]) for line in lines if line["record"] == "broken_links"}
    assert (mockserver.url("/missing.html"), "internal", 404) in broken
    assert any(kind == "external" and status == "connection_refused" for _, kind, status in broken)


def test_csv_cells_that_start_like_a_formula_are_written_as_text(tmp_path):
    import csv as _csv

    from linkcrawler.exporters import spreadsheet_safe, write_csv

    assert spreadsheet_safe("=HYPERLINK(\"http://evil\")") == "'=HYPERLINK(\"http://evil\")"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("https://example.com/") == "https://example.com/"
    assert spreadsheet_safe(-3) == -3
    path = tmp_path / "out.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        rows = [{"url": "https://a.example/", "anchor": "+1 555", "rel": ["nofollow", "ugc"]}]
        assert write_csv(out, ["url", "anchor", "rel"], rows) == 1
    with open(path, newline="", encoding="utf-8") as back:
        assert list(_csv.reader(back)) == [["url", "anchor", "rel"], ["https://a.example/", "'+1 555", "nofollow ugc"]]
