"""deploy.py --wait reads each job's outcome from its log: a crashed job fails the command."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.scrapyd import PASSWORD, PROJECT_ROOT, USERNAME, ScrapydProcess, _clean_environment, deploy
from tests.mockserver import MockServer

_spec = importlib.util.spec_from_file_location("deploy_script", PROJECT_ROOT / "deploy" / "deploy.py")
assert _spec is not None and _spec.loader is not None
deploy_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deploy_script)

FINISHED = "2026-01-01 [scrapy.statscollectors] INFO: Dumping Scrapy stats:\n{'finish_reason': 'finished',\n 'item_scraped_count': 3}\n"


def test_a_finished_crawl_is_ok() -> None:
    assert deploy_script.job_outcome(FINISHED) is None


@pytest.mark.parametrize(("log", "reason"), [
    (None, "no log"),
    ("2026-01-01 [scrapy.utils.log] INFO: Scrapy 2.19.0 started\n", "never closed"),
    (FINISHED.replace("'finished'", "'store_unavailable'"), "finish_reason 'store_unavailable'"),
    (FINISHED.replace("'finished'", "'shutdown'"), "finish_reason 'shutdown'"),
    ("2026-01-01 [scrapy.core.scraper] ERROR: Spider error processing <GET http://x/>\n"
     "Traceback (most recent call last):\n  File \"x.py\", line 1, in parse\nKeyError: 'price'\n" + FINISHED,
     "Spider error processing <GET http://x/> KeyError: 'price'"),
])
def test_a_job_that_did_not_do_its_job_failed(log: str | None, reason: str) -> None:
    outcome = deploy_script.job_outcome(log)
    assert outcome is not None and reason in outcome


def test_an_error_line_without_a_traceback_is_not_a_failure() -> None:
    # A 404 logged at ERROR by a middleware is what a link checker is for, not a crash.
    assert deploy_script.job_outcome("2026-01-01 [x] ERROR: Gave up retrying <GET http://x/>\n" + FINISHED) is None


@pytest.mark.slow
def test_wait_names_the_job_that_crashed_and_exits_non_zero(
    scrapyd_factory: Callable[..., ScrapydProcess], mockserver: MockServer, site_dir: Path, mongo_uri: str,
    mongo_db_name: str,
) -> None:
    (site_dir / "index.html").write_text("<html><body><a href='/a.html'>A</a></body></html>")
    (site_dir / "a.html").write_text("<html><body>A</body></html>")
    node = scrapyd_factory()
    deploy([node], "--version", "r1")
    command = [sys.executable, str(PROJECT_ROOT / "deploy" / "deploy.py"), "--json", "--node", node.url,
               "--no-deploy", "--schedule", "site_audit", "--wait", "--timeout", "180",
               "-s", f"MONGO_URI={mongo_uri}", "-s", f"MONGO_DATABASE={mongo_db_name}",
               "-s", "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES=1", "-s", "LINKCRAWLER_AUDIT_CHECK_EXTERNAL=0"]
    env = _clean_environment(Path(os.environ.get("HOME", "/tmp"))) | {
        "SCRAPYD_USERNAME": USERNAME, "SCRAPYD_PASSWORD": PASSWORD}

    ok = subprocess.run([*command, "-a", f"start_url={mockserver.url('/')}"],
                        capture_output=True, text=True, env=env, timeout=240, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "every job finished" in ok.stderr
    assert [job["outcome"] for job in json.loads(ok.stdout)["jobs"]] == ["ok"]

    crashed = subprocess.run([*command, "-a", "start_url=not-a-url"],
                             capture_output=True, text=True, env=env, timeout=240, check=False)
    assert crashed.returncode == 1
    job = json.loads(crashed.stdout)["jobs"][0]
    assert job["outcome"] == "failed"
    assert f"job {job['job']} on {node.url} failed:" in crashed.stderr
    assert "start_url='not-a-url' is not valid: expected an absolute http(s) URL" in crashed.stderr
    assert "every job finished" not in crashed.stderr
