"""deploy/deploy.py against a real Scrapyd: the egg it builds, and a node that refuses strangers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.fixtures.scrapyd import PROJECT, PROJECT_ROOT, ScrapydProcess, deploy

pytestmark = pytest.mark.slow


def test_the_egg_carries_the_project_and_the_node_refuses_strangers(
    scrapyd_factory: Callable[..., ScrapydProcess],
) -> None:
    node = scrapyd_factory()
    assert node.status_without_credentials() == 401

    report = deploy([node], "--version", "r1")

    assert report["version"] == "r1"
    assert node.api(f"listversions.json?project={PROJECT}")["versions"] == ["r1"]
    # Scrapyd lists the spiders by running ``scrapy list`` on the egg alone
    # (its processes have no PYTHONPATH): the packages are all in it.
    assert {"backlinks", "site_audit"} <= set(node.api(f"listspiders.json?project={PROJECT}")["spiders"])
    assert not (PROJECT_ROOT / "setup.py").exists(), "the egg must be built outside the working tree"


def test_wrong_credentials_fail_the_deployment_with_the_reason(
    scrapyd_factory: Callable[..., ScrapydProcess],
) -> None:
    node = scrapyd_factory()
    env = {**os.environ, "SCRAPYD_USERNAME": "linkcrawler", "SCRAPYD_PASSWORD": "wrong"}
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "deploy" / "deploy.py"), "--node", node.url, "--no-deploy",
         "--schedule", "backlinks"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert done.returncode == 1
    assert "error:" in done.stderr and "401" in done.stderr
