"""The project's settings: from the environment, overridable, safe to import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted
import scrapy

from linkcrawler import defaults
from tests.crawling import run_spider

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def scrapy_cmd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_settings_come_from_the_environment_and_s_overrides_them() -> None:
    env = {"MONGO_DATABASE": "from_env", "LINKCRAWLER_LOST_AFTER": "5", "REDIS_URL": "redis://example.invalid:1/0"}
    assert scrapy_cmd("settings", "--get", "MONGO_DATABASE", env=env).stdout.strip() == "from_env"
    assert scrapy_cmd("settings", "--get", "LINKCRAWLER_LOST_AFTER", env=env).stdout.strip() == "5"
    overridden = scrapy_cmd("settings", "--get", "MONGO_DATABASE", "-s", "MONGO_DATABASE=from_cli", env=env)
    assert overridden.stdout.strip() == "from_cli"
    assert scrapy_cmd("settings", "--get", "MONGO_DATABASE", env={"MONGO_DATABASE": ""}).stdout.strip() == "linkcrawler"


DEFAULT_NAMES = sorted(name for name in dir(defaults) if name.isupper() and not name.startswith("_"))

# What a subprocess sees through Scrapy's own loading of the project settings.
READ_SETTINGS = """
import json, sys
from scrapy.utils.project import get_project_settings
s = get_project_settings()
names = json.loads(sys.argv[1])
print(json.dumps({
    "raw": {name: s.get(name) for name in names},
    "int": s.getint("LINKCRAWLER_LOST_AFTER"),
    "float": s.getfloat("MONGO_FLUSH_INTERVAL"),
    "bool_true": s.getbool("LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES"),
    "bool_false": s.getbool("LINKCRAWLER_RECORD_RUNS"),
    "list": s.getlist("LINKCRAWLER_OWN_DOMAINS"),
}, default=str))
"""


def project_settings_in_subprocess(env: dict[str, str]) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if k not in DEFAULT_NAMES}
    done = subprocess.run([sys.executable, "-c", READ_SETTINGS, json.dumps(DEFAULT_NAMES)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120, env={**clean, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_default_is_read_from_the_environment() -> None:
    typed = {
        "LINKCRAWLER_LOST_AFTER": "7",
        "MONGO_FLUSH_INTERVAL": "0.25",
        "LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": "true",
        "LINKCRAWLER_RECORD_RUNS": "0",
        "LINKCRAWLER_OWN_DOMAINS": "a.example,b.example",
    }
    # The settings without a default are settings too.
    assert {"MONGO_URI", "REDIS_URL", "SCHEDULER_RUN_ID"} <= set(DEFAULT_NAMES)
    env = {name: typed.get(name, f"env-{name.lower()}") for name in DEFAULT_NAMES}
    seen = project_settings_in_subprocess(env)
    assert seen["raw"] == env
    assert seen["int"] == 7
    assert seen["float"] == 0.25
    assert seen["bool_true"] is True
    assert seen["bool_false"] is False
    assert seen["list"] == ["a.example", "b.example"]


def test_unset_or_empty_variables_leave_the_defaults() -> None:
    seen = project_settings_in_subprocess({"LINKCRAWLER_LOST_AFTER": "", "MONGO_URI": ""})
    assert seen["raw"] == {name: json.loads(json.dumps(getattr(defaults, name), default=str))
                           for name in DEFAULT_NAMES}
    assert seen["int"] == defaults.LINKCRAWLER_LOST_AFTER
    assert seen["float"] == defaults.MONGO_FLUSH_INTERVAL
    assert seen["bool_true"] is defaults.LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES
    assert seen["bool_false"] is defaults.LINKCRAWLER_RECORD_RUNS
    assert seen["list"] == defaults.LINKCRAWLER_OWN_DOMAINS


def test_scrapy_list_starts_nothing(tmp_path: Path) -> None:
    # Scrapyd runs `scrapy list` on every deploy: no store, no server, no files.
    data_dir = tmp_path / "data"
    done = scrapy_cmd("list", env={"LINKCRAWLER_DATA_DIR": str(data_dir), "MONGO_URI": ""})
    assert done.returncode == 0, done.stderr
    assert "backlinks" in done.stdout.split()
    assert not data_dir.exists()


class FetchSpider(scrapy.Spider):
    name = "fetch"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, errback=self.failed)

    def parse(self, response: scrapy.http.Response) -> Any:
        yield {"fetched": response.url}

    def failed(self, failure: Any) -> Any:
        yield {"failed": type(failure.value).__name__, "message": str(failure.value)}


@pytest_twisted.inlineCallbacks
def test_only_http_and_https_are_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for crawlers")
    for url in (secret.as_uri(), "data:text/plain,hello", "ftp://127.0.0.1/x", "s3://bucket/key"):
        result = yield run_spider(FetchSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True}, url=url)
        assert result.items == [{"failed": "NotSupported", "message": result.items[0]["message"]}], url
