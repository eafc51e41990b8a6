"""robots.txt per RFC 9309, seen from a crawl: 4xx allows, 5xx and unreachable disallow."""

from __future__ import annotations

import itertools
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import scrapy

from linkcrawler.middlewares.robots import (
    MAX_ROBOTS_REDIRECTS,
    ROBOTS_SERVER_ERROR_AS_ABSENT,
    RobotsDisallowed,
    RobotsUnavailable,
)
from linkcrawler.web.outcome import classify_failure, error_kind
from tests.crawling import run_spider
from tests.fixtures.web import MockServerFactory
from tests.mockserver import MockServer


class PagesSpider(scrapy.Spider):
    name = "pages"

    def __init__(self, urls: list[str], meta: dict[str, dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.extra_meta = meta or {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            meta = {"handle_httpstatus_all": True, **self.extra_meta.get(url, {})}
            yield scrapy.Request(url, errback=self.failed, meta=meta)

    def parse(self, response: scrapy.http.Response) -> Any:
        yield {"url": response.url, "outcome": response.status}

    def failed(self, failure: Any) -> Any:
        yield {"url": failure.request.url, "outcome": failure.value}


def outcomes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["url"].rsplit("/", 1)[-1]: item["outcome"] for item in items}


def crawl(server: MockServer, names: list[str]) -> Any:
    return run_spider(PagesSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0},
                      urls=[server.url(f"/{name}") for name in names])


@pytest_twisted.inlineCallbacks
def test_every_request_waiting_for_robots_txt_obeys_it(site_dir: Path, mockserver: MockServer) -> None:
    # Scrapy 2.19's own middleware lets all but the first of the requests that
    # waited together for robots.txt through; ours must refuse every one.
    (site_dir / "robots.txt").write_text("User-agent: *\nDisallow: /p\n")
    names = [f"p{i}.html" for i in range(8)]
    for name in names:
        (site_dir / name).write_text("<html></html>")
    result = yield crawl(mockserver, names)
    found = outcomes(result.items)
    assert set(found) == set(names)
    assert all(isinstance(outcome, RobotsDisallowed) for outcome in found.values())
    assert not any(path.startswith("/p") for path in mockserver.hits())


@pytest.mark.parametrize(("robots_status", "allowed"), [(404, True), (410, True), (500, False), (503, False)])
@pytest_twisted.inlineCallbacks
def test_robots_txt_errors(site_dir: Path, mockserver: MockServer, robots_status: int, allowed: bool) -> None:
    (site_dir / "robots.txt.meta.json").write_text(f'{{"status": {robots_status}}}')
    (site_dir / "page.html").write_text("<html></html>")
    result = yield crawl(mockserver, ["page.html"])
    outcome = outcomes(result.items)["page.html"]
    if allowed:
        assert outcome == 200
    else:
        assert isinstance(outcome, RobotsDisallowed)
        assert f"HTTP {robots_status}" in outcome.reason


@pytest_twisted.inlineCallbacks
def test_unreachable_robots_txt_disallows_for_now(site_dir: Path, mockserver: MockServer) -> None:
    (site_dir / "robots.txt.meta.json").write_text('{"drop": true}')
    (site_dir / "page.html").write_text("<html></html>")
    result = yield crawl(mockserver, ["page.html"])
    outcome = outcomes(result.items)["page.html"]
    assert isinstance(outcome, RobotsDisallowed)
    assert "robots.txt unreachable" in outcome.reason
    assert "/page.html" not in mockserver.hits()


# --- an unreachable host: the host's failure, not a robots decision --------------------------


def closed_port_url(path: str) -> str:
    """A URL on 127.0.0.1 at a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@pytest_twisted.inlineCallbacks
def test_robots_txt_of_a_host_that_does_not_answer_names_the_host_failure() -> None:
    url = closed_port_url("/page.html")
    result = yield run_spider(PagesSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0},
                              urls=[url])
    outcome = outcomes(result.items)["page.html"]
    assert isinstance(outcome, RobotsUnavailable)
    assert "robots.txt unreachable (connection refused)" in outcome.reason
    # What every spider's classifier (the site audit's error_kind too) makes of it.
    assert error_kind(outcome) == "connection_refused"
    assert classify_failure(outcome).cause == "connection_refused"


@pytest.mark.parametrize("robots_status", [500, 503])
@pytest_twisted.inlineCallbacks
def test_robots_txt_server_error_is_not_fetched_unless_asked(
    site_dir: Path, mockserver: MockServer, robots_status: int
) -> None:
    (site_dir / "robots.txt.meta.json").write_text(f'{{"status": {robots_status}}}')
    (site_dir / "page.html").write_text("<html></html>")
    (site_dir / "asked.html").write_text("<html></html>")
    result = yield run_spider(
        PagesSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0},
        urls=[mockserver.url("/page.html"), mockserver.url("/asked.html")],
        meta={mockserver.url("/asked.html"): {ROBOTS_SERVER_ERROR_AS_ABSENT: True}},
    )
    found = outcomes(result.items)
    assert isinstance(found["page.html"], RobotsUnavailable)
    assert classify_failure(found["page.html"]).cause == "robots_server_error"
    assert error_kind(found["page.html"]) == "robots_disallowed"
    assert found["asked.html"] == 200
    assert "/page.html" not in mockserver.hits()


# --- robots.txt's own redirects ---------------------------------------------------------------


def redirect(site_dir: Path, path: str, location: str, status: int = 301) -> None:
    (site_dir / f"{path.lstrip('/')}.meta.json").write_text(
        json.dumps({"status": status, "headers": {"Location": location}})
    )


@pytest_twisted.inlineCallbacks
def test_robots_txt_redirect_to_another_host_is_followed(
    site_dir: Path, mockserver: MockServer, mockserver_factory: MockServerFactory, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    other = mockserver_factory(host="127.0.0.2", site_dir=other_dir)
    redirect(site_dir, "robots.txt", other.url("/robots.txt"))
    (site_dir / "private").mkdir()
    (site_dir / "private" / "page.html").write_text("<html></html>")
    (site_dir / "open.html").write_text("<html></html>")
    # The spider's own redirect settings do not matter for robots.txt.
    result = yield run_spider(
        PagesSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 0, "REDIRECT_ENABLED": False},
        urls=[mockserver.url("/private/page.html"), mockserver.url("/open.html")],
    )
    found = outcomes(result.items)
    assert isinstance(found["page.html"], RobotsDisallowed)
    assert not isinstance(found["page.html"], RobotsUnavailable)
    assert found["open.html"] == 200
    assert "/private/page.html" not in mockserver.hits()
    assert other.hits() == {"/robots.txt": 1}


@pytest.mark.parametrize(("redirects", "obeyed"), [(5, True), (6, False)])
@pytest_twisted.inlineCallbacks
def test_robots_txt_follows_five_redirects_and_no_more(
    site_dir: Path, mockserver: MockServer, redirects: int, obeyed: bool
) -> None:
    # robots.txt -> /r1.txt -> ... -> /r<redirects>.txt, which disallows the page.
    names = ["robots.txt", *(f"r{i}.txt" for i in range(1, redirects + 1))]
    for here, there in itertools.pairwise(names):
        redirect(site_dir, here, f"/{there}")
    (site_dir / names[-1]).write_text("User-agent: *\nDisallow: /page.html\n")
    (site_dir / "page.html").write_text("<html></html>")
    result = yield crawl(mockserver, ["page.html"])
    outcome = outcomes(result.items)["page.html"]
    hits = mockserver.hits()
    if obeyed:
        assert isinstance(outcome, RobotsDisallowed)
        assert "/page.html" not in hits
    else:
        # RFC 9309 2.3.1.2: past five redirects robots.txt is unavailable: all allowed.
        assert outcome == 200
        assert f"/{names[-1]}" not in hits
    assert all(hits.get(f"/{name}") == 1 for name in names[:-1])


@pytest_twisted.inlineCallbacks
def test_robots_txt_redirect_loop_is_unavailable(site_dir: Path, mockserver: MockServer) -> None:
    redirect(site_dir, "robots.txt", "/loop/a")
    (site_dir / "page.html").write_text("<html></html>")
    result = yield crawl(mockserver, ["page.html"])
    assert outcomes(result.items)["page.html"] == 200
    hits = mockserver.hits()
    assert hits["/robots.txt"] == 1
    assert 1 <= hits["/loop/a"] + hits["/loop/b"] <= MAX_ROBOTS_REDIRECTS


@pytest_twisted.inlineCallbacks
def test_robots_txt_redirect_is_judged_by_the_address_guard(site_dir: Path, mockserver: MockServer) -> None:
    # Allowed for the first host only: the redirect to 127.0.0.2 is refused, so the
    # host has no robots.txt we may read (all allowed).
    redirect(site_dir, "robots.txt", "http://127.0.0.2:9/robots.txt")
    (site_dir / "page.html").write_text("<html></html>")
    result = yield run_spider(
        PagesSpider, {"LINKCRAWLER_ALLOWED_NETWORKS": ["127.0.0.1/32"], "RETRY_TIMES": 0},
        urls=[mockserver.url("/page.html")],
    )
    assert outcomes(result.items)["page.html"] == 200
    assert result.stats["robotstxt/redirect_refused"] == 1


# --- logs -------------------------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_robots_txt_timeout_is_one_line_without_traceback(
    site_dir: Path, mockserver: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    (site_dir / "robots.txt.meta.json").write_text('{"delay": 5}')
    (site_dir / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    (site_dir / "page.html").write_text("<html></html>")
    caplog.set_level(logging.INFO)
    result = yield run_spider(
        PagesSpider, {"LINKCRAWLER_ALLOW_PRIVATE_ADDRESSES": True, "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 1},
        urls=[mockserver.url("/page.html")],
    )
    assert "Traceback" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)
    # Retried once, and no "Gave up retrying" ERROR from Scrapy's RetryMiddleware.
    assert mockserver.hits()["/robots.txt"] == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    outcome = outcomes(result.items)["page.html"]
    assert isinstance(outcome, RobotsUnavailable)
    assert error_kind(outcome) == "timeout"
    lines = [r for r in caplog.records if "robots.txt" in r.getMessage() and r.name.startswith("linkcrawler")]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert "timed out" in lines[0].getMessage()
