"""Spider arguments: checked at start, a bad one is one line naming it and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkcrawler.exceptions import ConfigurationError
from linkcrawler.spiders.arguments import SpiderArguments, flag, http_url, integer
from linkcrawler.spiders.backlinks import BacklinksSpider
from linkcrawler.spiders.site_audit import SiteAuditSpider
from tests.test_cli import scrapy

ARGS = SpiderArguments("demo", http_url("start_url", required=True), integer("limit", minimum=1),
                       flag("deep", default=True))


def test_values_are_converted_and_defaulted() -> None:
    assert ARGS.parse({"start_url": "HTTP://Example.com", "limit": "5", "deep": "off"}) == {
        "start_url": "http://example.com/", "limit": 5, "deep": False}
    assert ARGS.parse({"start_url": "https://example.com/"}) == {
        "start_url": "https://example.com/", "limit": None, "deep": True}
    # From a script: Python values, not strings.
    assert ARGS.parse({"start_url": "https://example.com/", "limit": 3, "deep": False})["limit"] == 3


@pytest.mark.parametrize(("given", "message"), [
    ({}, "demo: -a start_url is required: expected an absolute http(s) URL"),
    ({"start_url": "notaurl"}, "demo: -a start_url='notaurl' is not valid: expected an absolute http(s) URL"),
    ({"start_url": "http://e.com/", "limit": "abc"}, "-a limit='abc' is not valid: expected a whole number >= 1"),
    ({"start_url": "http://e.com/", "limit": "0"}, "-a limit='0' is not valid: expected a whole number >= 1"),
    ({"start_url": "http://e.com/", "limit": True}, "-a limit=True is not valid"),
    ({"start_url": "http://e.com/", "deep": "maybe"}, "-a deep='maybe' is not valid: expected 1, true, yes, on"),
    ({"start_url": "http://e.com/", "depth": "2"}, "demo: unknown argument 'depth'; it takes: -a start_url=, -a limit="),
])
def test_bad_values_say_what_is_expected(given: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ARGS.parse(given)
    assert message in str(raised.value)


def test_scrapy_and_scrapyd_arguments_pass_through() -> None:
    assert ARGS.parse({"start_url": "http://e.com/", "_job": "abc123"})["start_url"] == "http://e.com/"
    spider = BacklinksSpider(_job="abc123", limit="2", all="yes")
    assert (spider._job, spider.page_limit, spider.check_all) == ("abc123", 2, True)


def test_spiders_keep_their_defaults() -> None:
    spider = BacklinksSpider()
    assert (spider.page_limit, spider.check_all) == (None, False)
    audit = SiteAuditSpider(start_url="http://example.com")
    assert (audit.start_url, audit._max_pages_arg, audit._max_depth_arg, audit.obey_robots) == (
        "http://example.com/", None, None, True)


@pytest.mark.parametrize(("arguments", "named", "expected"), [
    (["backlinks", "-a", "limit=abc"], "-a limit='abc'", "expected a whole number >= 0"),
    (["backlinks", "-a", "limit=-1"], "-a limit='-1'", "expected a whole number >= 0"),
    (["backlinks", "-a", "al=1"], "unknown argument 'al'", "it takes: -a all=, -a limit="),
    (["site_audit", "-a", "start_url=http://127.0.0.1:9/", "-a", "max_pages=abc"], "-a max_pages='abc'",
     "expected a whole number >= 0"),
    (["site_audit"], "-a start_url is required", "expected an absolute http(s) URL"),
    (["site_audit", "-a", "start_url=notaurl"], "-a start_url='notaurl'", "expected an absolute http(s) URL"),
    (["site_audit", "-a", "start_url=http://127.0.0.1:9/", "-a", "obey_robots=maybe"], "-a obey_robots='maybe'",
     "expected 1, true, yes, on or 0, false, no, off"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_scrapy_crawl_refuses_a_bad_argument_in_one_line(arguments: list[str], named: str, expected: str,
                                                         data_dir: Path) -> None:
    done = scrapy("crawl", *arguments, env={"MONGO_URI": "", "LINKCRAWLER_DATA_DIR": str(data_dir)})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert output.splitlines() == [output.strip()], output
    assert named in output and expected in output, output
    assert "Traceback" not in output
    # Refused before anything started: no embedded store either.
    assert not (data_dir / "server.json").exists()


def test_a_configuration_error_while_the_spider_is_built_is_one_line(data_dir: Path) -> None:
    # site_audit refuses a bad LINKCRAWLER_AUDIT_DENY pattern in from_crawler, after Scrapy's set-up.
    done = scrapy("crawl", "site_audit", "-a", "start_url=http://127.0.0.1:9/", "-s", "LINKCRAWLER_AUDIT_DENY=(",
                  "-s", "LOG_LEVEL=WARNING", env={"MONGO_URI": "", "LINKCRAWLER_DATA_DIR": str(data_dir)})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "never retrieved" not in output, output
    assert output.strip().splitlines()[-1].startswith("error: LINKCRAWLER_AUDIT_DENY: "), output
