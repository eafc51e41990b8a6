"""The commands as a user runs them: separate processes, real stores, a local web server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pymongo

from tests.fixtures.services import embedded_server_pids, free_port, wait_for_server_stopped
from tests.mockserver import MockServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds"


def scrapy(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args], cwd=PROJECT_ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout,
    )


def test_importlinks_is_idempotent_and_reports_bad_rows(mongo_uri: str, mongo_db_name: str,
                                                        mongo_db: pymongo.database.Database) -> None:
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name}
    files = [str(SEEDS / "ahrefs-backlinks-utf16.tsv"), str(SEEDS / "semrush-backlinks.csv"),
             str(SEEDS / "majestic-backlinks.csv"), str(SEEDS / "generic.csv")]
    first = scrapy("importlinks", *files, env=env)
    assert first.returncode == 0, first.stderr
    assert "ahrefs-backlinks-utf16.tsv:4: skipped: source_url 'javascript:void(0)' is not an http(s) URL" in first.stderr
    assert "semrush-backlinks.csv:3: skipped: row has 3 fields, header has 19" in first.stderr
    known = mongo_db.backlinks.count_documents({})
    assert known > 0
    assert f"{known} new backlinks" in first.stdout
    assert mongo_db.link_events.count_documents({"type": "new"}) == known
    snapshot = sorted((d["_id"], d["status"], d.get("authority")) for d in mongo_db.backlinks.find())

    second = scrapy("importlinks", *files, env=env)
    assert second.returncode == 0, second.stderr
    assert "0 new backlinks" in second.stdout and f"{known} already known" in second.stdout
    assert sorted((d["_id"], d["status"], d.get("authority")) for d in mongo_db.backlinks.find()) == snapshot
    assert mongo_db.link_events.count_documents({}) == known


def test_commands_do_not_load_the_content_extractors() -> None:
    """trafilatura and extruct (with bs4) are for the mentions spider: other commands start without them."""
    for command in (["importlinks", "--help"], ["linkstatus", "--help"], ["list"]):
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "scrapy", *command], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        loaded = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
        assert "linkcrawler.web.content" in loaded, command  # the module itself is loaded: only its imports wait
        assert not loaded & {"trafilatura", "extruct", "bs4"}, (command, loaded & {"trafilatura", "extruct", "bs4"})


def test_importlinks_needs_a_target_for_search_console(mongo_uri: str, mongo_db_name: str,
                                                        mongo_db: pymongo.database.Database) -> None:
    env = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db_name}
    gsc = str(SEEDS / "gsc-latest-links.csv")
    refused = scrapy("importlinks", gsc, env=env)
    assert refused.returncode == 2
    assert "--target" in refused.stderr
    done = scrapy("importlinks", "--target", "http://demo.linkcrawler.test/", gsc, env=env)
    assert done.returncode == 0, done.stderr
    assert mongo_db.backlinks.distinct("target_url") == ["http://demo.linkcrawler.test/"]


def test_embedded_default_serves_the_next_command(data_dir: Path) -> None:
    env = {"LINKCRAWLER_DATA_DIR": str(data_dir), "MONGO_URI": ""}
    imported = scrapy("importlinks", str(SEEDS / "generic.csv"), env=env)
    assert imported.returncode == 0, imported.stderr
    new = int(re.search(r"(\d+) new backlinks", imported.stdout).group(1))
    assert new > 0
    wait_for_server_stopped(data_dir)
    status = scrapy("linkstatus", env=env)
    assert status.returncode == 0, status.stderr
    assert f"{new} backlinks in embedded store in {data_dir}" in status.stdout
    assert "pending" in status.stdout


def test_crawl_with_unreachable_mongo_uri_fails_before_fetching(mockserver: MockServer) -> None:
    uri = f"mongodb://crawler:hunter2@127.0.0.1:{free_port()}/linkcrawler"
    done = scrapy("crawl", "backlinks", "-s", "MONGO_CONNECT_TIMEOUT=1",
                  "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1", env={"MONGO_URI": uri})
    assert done.returncode != 0
    assert "cannot reach MongoDB at mongodb://crawler:***@127.0.0.1" in done.stderr
    assert "hunter2" not in done.stderr
    assert mockserver.hits() == {}


def test_demo_runs_the_whole_job_on_the_embedded_default(data_dir: Path) -> None:
    done = scrapy("demo", env={"LINKCRAWLER_DATA_DIR": str(data_dir), "MONGO_URI": ""}, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "9 new backlinks" in out
    # Round one finds the page that is gone and the directory that dropped its link.
    assert "lost      pending -> page_gone" in out
    # Round two: the blog drops its link, the review and the directory come back.
    assert "lost      live -> removed" in out
    assert "recovered nofollow -> live" in out
    assert "recovered removed -> live" in out
    # The own site's audit and the 301 rule for its gone page that has a backlink.
    assert "/our/old-pricing.html [404] (internal), linked from:" in out
    assert "/our/moved.html [301] -> " in out and "/our/features.html [200]" in out
    assert "/our/about.html" in out.split("Pages found only in the sitemap")[1]
    assert "location = /our/old-pricing.html { return 301 /our/pricing.html; }" in out
    # Outreach: the directory's reclaim task, marked contacted between the checks, is won by the second check.
    queue = out.split(". Outreach after the second check")[1]
    directory = queue.split("/directory/listing.html")[0].rsplit("\n", 2)[-2]
    assert " won " in directory and "reclaim_lost_link" in directory
    assert "contacted -> won by the crawl (recovered: link_events" in queue
    assert "thank_you -> reclaim_lost_link by the crawl (lost: link_events" in queue
    assert "Dana Reyes <dana.reyes@linkcrawler-demo.org>" in queue
    # The alert digest it would send, and the report, whose path it prints.
    assert re.search(r"dry run, \d+ item\(s\): linkcrawler: 3 lost, 2 recovered, \d+ opportunity\(ies\), \d+ toxic domain", out)
    report = data_dir / "demo-report.html"
    assert f"Open the report in a browser: {report.resolve().as_uri()}" in out and report.stat().st_size > 5000
    wait_for_server_stopped(data_dir)
