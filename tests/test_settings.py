"""The project's settings: from the environment, overridable, safe to import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted
import scrapy

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
