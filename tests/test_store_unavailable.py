"""A MongoDB that does not answer: one clear line, a failed exit, no traceback, no password."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted

from linkcrawler.spiders.backlinks import BacklinksSpider
from linkcrawler.store.connection import STORE_UNAVAILABLE
from tests.crawling import run_spider
from tests.fixtures.services import free_port
from tests.mockserver import MockServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds"
PASSWORD = "s3cr3t-pw"

COMMANDS = [
    ["crawl", "backlinks"],
    ["crawl", "site_audit", "-a", "start_url={site}"],
    ["importlinks", str(SEEDS / "generic.csv")],
    ["linkstatus"],
    ["redirectmap", "-o", "{tmp}/rules.conf"],
    ["toplinked"],
    ["alerts"],
    ["linkreport", "-o", "{tmp}/report.html"],
]


@pytest.fixture
def closed_port_uri() -> str:
    # A port nobody listens on: the connection is refused at once.
    return f"mongodb://crawler:{PASSWORD}@127.0.0.1:{free_port()}/linkcrawler"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_fails_with_one_clear_line(command: list[str], closed_port_uri: str, tmp_path: Path,
                                                 mockserver: MockServer) -> None:
    args = [a.format(site=mockserver.url("/"), tmp=tmp_path) for a in command]
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", *args, "-s", "MONGO_CONNECT_TIMEOUT=1",
         "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "MONGO_URI": closed_port_uri, "LINKCRAWLER_DATA_DIR": str(tmp_path / "data")},
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "cannot reach MongoDB at mongodb://crawler:***@127.0.0.1:" in output
    assert "Traceback" not in output
    assert PASSWORD not in output
    assert len(output.splitlines()) <= 3, output
    assert mockserver.hits() == {}


@pytest_twisted.inlineCallbacks
def test_a_crawl_started_without_the_command_closes_at_once(closed_port_uri: str, mockserver: MockServer,
                                                            caplog: pytest.LogCaptureFixture, tmp_path: Path):
    # A script that runs the crawler itself meets the store in the pipeline: the
    # spider is closed before any request, with one error line.
    caplog.set_level(logging.INFO)
    result = yield run_spider(BacklinksSpider, {
        "MONGO_URI": closed_port_uri, "MONGO_CONNECT_TIMEOUT": 1, "LINKCRAWLER_DATA_DIR": str(tmp_path),
        "ITEM_PIPELINES": {"pipelines.mongo.MongoWriterPipeline": 800}, "LINKCRAWLER_RECORD_RUNS": False,
    })
    assert result.stats["finish_reason"] == STORE_UNAVAILABLE
    assert "downloader/request_count" not in result.stats
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "cannot reach MongoDB at mongodb://crawler:***@127.0.0.1:" in errors[0].getMessage()
    assert errors[0].exc_info is None
    assert PASSWORD not in caplog.text
